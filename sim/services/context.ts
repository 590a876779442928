/** What an operation handler may read about the device that answers. */
import type { DeviceModel } from '../model.js';

export interface ServiceContext {
  device: DeviceModel;
  /** http://HOST:PORT of this device, as clients reach it. */
  httpBase: string;
  /** rtsp://HOST:PORT of the site's stream server. */
  rtspBase: string;
  /** The device clock in ms since the epoch (wall clock plus the device's offset). */
  deviceNow: number;
}

export const DEVICE_SERVICE_PATH = '/onvif/device_service';
export const MEDIA_SERVICE_PATH = '/onvif/media_service';
