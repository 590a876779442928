/**
 * Do our credentials still work, and which device is this? tds:GetDeviceInformation
 * (ONVIF Core, section 8.3 System) needs credentials; a NotAuthorized answer means the password was
 * changed. The identity feeds the inventory and replaced-device detection.
 */
import { attempt, type Check } from './types.js';

export const identity: Check = {
  name: 'identity',
  run: ({ client, signal }) =>
    attempt(
      () => client.deviceInformation(signal),
      (info) => ({ identity: info }),
    ),
};
