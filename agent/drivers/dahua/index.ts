/**
 * The Dahua driver: Dahua's HTTP API (CGI, "API of HTTP Protocol Specification"), the
 * HTTP API of Dahua's cameras and recorders, with the device's own account (HTTP Digest).
 * Its checks, in the order a poll runs them (STYLE habit 2: one explicit list; a test
 * fails when a check of this folder is missing here): system info first, one request that
 * shows at once a CGI that refuses the account, and the model that says a recorder; then
 * the disks and the NVR's channels.
 *
 * Recognised by GetDeviceInformation's Manufacturer: Dahua firmware says `Dahua` (`DAHUA`,
 * `Dahua Technology` too). OEM rebrands (Amcrest, Lorex, IMOU and many others) run Dahua
 * firmware with the same CGI but report their own brand, or `General`, which other makers
 * also use; they are not guessed at: set `driver: dahua` for such a device in the agent
 * config (docs/DRIVERS.md).
 */
import type { Driver } from '../types.js';
import { channels } from './channels.js';
import { storage } from './storage.js';
import { system } from './system.js';

export const dahua: Driver = {
  name: 'dahua',
  recognises: (manufacturer) => /^\s*dahua\b/i.test(manufacturer),
  checks: [system, storage, channels],
};
