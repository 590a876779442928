/**
 * Hikvision /ISAPI/System/deviceInfo (XML_DeviceInfo): the model, serial number, firmware
 * and device type (IPCamera, NVR, DVR ...) as the device's own API tells them. Asked first
 * among the driver's checks, and at most every `SLOW_MS` (the identity does not change
 * between polls; ONVIF's GetDeviceInformation watches for a replaced device every poll):
 * a device whose ISAPI is off or refuses the account shows it at once, with one request.
 */
import { driverMemory, SLOW_MS, vendorAttempt, type DriverCheck } from '../types.js';
import { isapiGet, parseDeviceInfo, PATHS } from './isapi.js';

export const deviceInfo: DriverCheck = {
  name: 'hikvision-device-info',
  driver: 'hikvision',
  async run(context) {
    const memory = driverMemory(context.memory);
    if (!memory.due('hikvision-device-info', SLOW_MS, context.now())) {
      return memory.device ? { findings: { device: memory.device } } : {};
    }
    return vendorAttempt(
      `GET ${PATHS.deviceInfo}`,
      () => isapiGet(context, PATHS.deviceInfo),
      (doc) => {
        if (!doc) return {};
        memory.device = parseDeviceInfo(doc);
        return { findings: { device: memory.device } };
      },
    );
  },
};
