/**
 * The names of the agent's drivers, as the agent config accepts them (`driver:` of a
 * device, agent/config.ts) and as agent/drivers/ implements them. `onvif` is no vendor
 * driver: ONVIF checks only. A leaf module, so the config and the drivers share the one
 * list without importing each other.
 */
export const DRIVER_NAMES = ['onvif', 'hikvision', 'dahua'] as const;

export type DriverName = (typeof DRIVER_NAMES)[number];

export function isDriverName(value: unknown): value is DriverName {
  return typeof value === 'string' && (DRIVER_NAMES as readonly string[]).includes(value);
}
