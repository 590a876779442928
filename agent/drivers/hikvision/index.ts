/**
 * The Hikvision driver: ISAPI (Intelligent Security API), the HTTP API of Hikvision's
 * cameras and recorders, with the device's own account (HTTP Digest). Its checks, in the
 * order a poll runs them (STYLE habit 2: one explicit list; a test fails when a check of
 * this folder is missing here): device info first, one request that shows at once an ISAPI
 * switched off or an account it refuses; then the disks, the system status, the NVR's
 * channels.
 *
 * Recognised by GetDeviceInformation's Manufacturer: Hikvision firmware says `HIKVISION`
 * (any case, `Hikvision Digital Technology` too), its own HiWatch line `HiWatch`. OEM
 * rebrands (LTS, Annke, and many others) run Hikvision firmware with ISAPI but report their
 * own brand, which other makers also use; they are not guessed at: set `driver: hikvision`
 * for such a device in the agent config (docs/DRIVERS.md).
 */
import type { Driver } from '../types.js';
import { channels } from './channels.js';
import { deviceInfo } from './device-info.js';
import { storage } from './storage.js';
import { systemStatus } from './system-status.js';

export const hikvision: Driver = {
  name: 'hikvision',
  recognises: (manufacturer) => /^\s*(hik\s*vision|hiwatch)\b/i.test(manufacturer),
  checks: [deviceInfo, storage, systemStatus, channels],
};
