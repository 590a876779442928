/** What an operation handler may know about the device that answers. */
import type { EventHub, EventMessage } from '../events.js';
import type { FaultEffects } from '../faults.js';
import type { DeviceIdentity } from '../identity.js';
import type { DeviceModel } from '../model.js';
import type { Quirks } from '../personality.js';
import type { Recorder } from '../recording.js';

export interface ServiceContext {
  device: DeviceModel;
  /** Who the device says it is now (replaced and firmware-changed faults change it). */
  identity: DeviceIdentity;
  /** http://HOST:PORT of this device, as clients reach it. */
  httpBase: string;
  /** rtsp://HOST:PORT of the site's stream server. */
  rtspBase: string;
  /** The device clock in ms since the epoch (wall clock plus the device's offset). */
  deviceNow: number;
  /** The device clock's offset against the wall clock, ms. */
  clockOffsetMs: number;
  quirks: Quirks;
  /** HTTP path the request was sent to (a pull point's path carries its id). */
  path: string;
  events: EventHub;
  /** Property events describing the current state (ONVIF Core 9.2.2 "Initialized"). */
  initialEvents(): EventMessage[];
  recorder: Recorder;
  effects: FaultEffects;
  /** Wall clock ms the device last booted. */
  bootTime: number;
}

export const DEVICE_SERVICE_PATH = '/onvif/device_service';
export const MEDIA_SERVICE_PATH = '/onvif/media_service';
export const MEDIA2_SERVICE_PATH = '/onvif/media2_service';
export const EVENTS_SERVICE_PATH = '/onvif/events_service';
/** A pull point's address: this prefix and the subscription id. */
export const PULL_POINT_PATH = '/onvif/pullpoint/';
export const RECORDING_SERVICE_PATH = '/onvif/recording_service';
export const SEARCH_SERVICE_PATH = '/onvif/search_service';
export const SNAPSHOT_PATH = '/snapshot/';
