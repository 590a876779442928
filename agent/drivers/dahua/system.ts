/**
 * Dahua /cgi-bin/magicBox.cgi?action=getSystemInfo and getSoftwareVersion (Dahua HTTP
 * API, MagicBox): the model, serial number and firmware as the device's own API tells
 * them. Asked first among the driver's checks, and at most every SLOW_MS (they do not
 * change between polls; ONVIF's GetDeviceInformation watches for a replaced device every
 * poll): a recorder whose CGI refuses the account shows it at once, with one request, and
 * the model says whether a device is a recorder (deviceClass below; ../types.ts isRecorder)
 * when the agent config does not.
 */
import {
  driverMemory,
  SLOW_MS,
  vendorAttempt,
  type DriverCheck,
  type VendorDeviceInfo,
} from '../types.js';
import { parseSoftwareVersion, parseSystemInfo } from './cgi.js';
import { cgiGet } from './request.js';

export const PATHS = {
  systemInfo: '/cgi-bin/magicBox.cgi?action=getSystemInfo',
  softwareVersion: '/cgi-bin/magicBox.cgi?action=getSoftwareVersion',
} as const;

/**
 * The kind of device a Dahua model name says (getSystemInfo has no class of its own):
 * `DHI-NVR4216-4KS2` an NVR, `DH-XVR5108HS` an XVR, `HCVR5104HS` a DVR (HDCVI recorders),
 * `IPC-HDW2431T` or `SD49225T` a camera (IPC); else the model as given. ../types.ts
 * isRecorder takes NVR, XVR and DVR for recorders.
 */
export function deviceClass(model: string): string {
  if (/nvr/i.test(model)) return 'NVR';
  if (/xvr/i.test(model)) return 'XVR';
  if (/hcvr|dvr/i.test(model)) return 'DVR';
  if (/(^|-)(ipc|sd\d)/i.test(model)) return 'IPC';
  return model;
}

export const system: DriverCheck = {
  name: 'dahua-system',
  driver: 'dahua',
  async run(context) {
    const memory = driverMemory(context.memory);
    if (!memory.due('dahua-system', SLOW_MS, context.now())) {
      return memory.device ? { findings: { device: memory.device } } : {};
    }
    const info = await vendorAttempt(
      `GET ${PATHS.systemInfo}`,
      () => cgiGet(context, PATHS.systemInfo),
      (body) => {
        if (body === null) return {};
        const parsed = parseSystemInfo(body);
        const device: VendorDeviceInfo = {};
        if (parsed.deviceType) {
          device.model = parsed.deviceType;
          device.deviceType = deviceClass(parsed.deviceType);
        }
        if (parsed.serialNumber) device.serialNumber = parsed.serialNumber;
        memory.device = device;
        return { findings: { device } };
      },
    );
    // Refused, failed or lacking: the version is not asked in this poll either, and what
    // was read before is reported as it was.
    if (info.failure || !memory.device) return info;
    if (info.findings?.problems) return { findings: { ...info.findings, device: memory.device } };
    const device = memory.device;
    const version = await vendorAttempt(
      `GET ${PATHS.softwareVersion}`,
      () => cgiGet(context, PATHS.softwareVersion),
      (body) => {
        const firmware = body === null ? null : parseSoftwareVersion(body);
        if (firmware) device.firmwareVersion = firmware;
        return {};
      },
    );
    if (version.failure) return version;
    return { findings: { ...version.findings, device } };
  },
};
