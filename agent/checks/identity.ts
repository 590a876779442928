/**
 * Do our credentials still work, and which device is this? tds:GetDeviceInformation
 * (ONVIF Core 8.3 System) needs credentials: a NotAuthorized answer means the password
 * was changed or the account lacks rights (degraded, auth-failed: the device answered;
 * ../poll.ts skips the other credentialed checks and spaces out the next tries). The
 * identity feeds the inventory; compared with the last one seen at this address, a new
 * serial number means the device was replaced, a new firmware version that it was
 * updated. Both are reported as degraded reasons for one hour (device-replaced,
 * firmware-changed): a state change the NOC sees at once.
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { attempt, type Check } from './types.js';

/** How long an inventory event stays among the device's reasons. */
export const INVENTORY_EVENT_MS = 60 * 60 * 1000;

export const identity: Check = {
  name: 'identity',
  run: ({ client, signal, memory, now }) =>
    attempt(
      () => client.deviceInformation(signal),
      (info) => {
        const before = memory.identity;
        const at = now();
        if (before && before.serialNumber !== info.serialNumber) {
          memory.inventoryEvents.push({
            reason: {
              code: 'device-replaced',
              message: `serial number ${before.serialNumber} became ${info.serialNumber} (${info.manufacturer} ${info.model}): the device at this address was replaced`,
            },
            until: at + INVENTORY_EVENT_MS,
          });
        } else if (before && before.firmwareVersion !== info.firmwareVersion) {
          memory.inventoryEvents.push({
            reason: {
              code: 'firmware-changed',
              message: `firmware ${before.firmwareVersion} became ${info.firmwareVersion}`,
            },
            until: at + INVENTORY_EVENT_MS,
          });
        }
        memory.identity = info;
        memory.inventoryEvents = memory.inventoryEvents.filter((e) => e.until > at);
        const degraded: Reason[] = memory.inventoryEvents.map((e) => e.reason);
        return { identity: info, degraded };
      },
    ),
};
