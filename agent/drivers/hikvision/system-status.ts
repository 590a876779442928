/**
 * Hikvision /ISAPI/System/status (XML_DeviceStatus): processor use, uptime and, where the
 * firmware gives one, a temperature; at most every SLOW_MS. Findings only: the device
 * metrics (shared/messages/device-metrics.ts) have no processor or temperature field and
 * nothing in the broker would read one; an overheating recorder already says so through
 * the ONVIF event tns1:Device/HardwareFailure/TemperatureCritical (hardware-failure, the
 * events check). `vigil agent check --json` shows them.
 */
import { type DriverCheck, driverMemory, SLOW_MS, vendorAttempt } from '../types.js';
import { isapiGet, parseSystemStatus, PATHS } from './isapi.js';

export const systemStatus: DriverCheck = {
  name: 'hikvision-system-status',
  driver: 'hikvision',
  async run(context) {
    const memory = driverMemory(context.memory);
    if (!memory.due('hikvision-system-status', SLOW_MS, context.now())) {
      return memory.system ? { findings: { system: memory.system } } : {};
    }
    return vendorAttempt(
      `GET ${PATHS.status}`,
      () => isapiGet(context, PATHS.status),
      (doc) => {
        if (!doc) return {};
        memory.system = parseSystemStatus(doc);
        return { findings: { system: memory.system } };
      },
    );
  },
};
