/**
 * Every vendor driver, and which one a device gets (./types.ts says what a driver is).
 * A new driver: a folder beside hikvision/ whose index.ts exports its Driver, added to
 * `drivers` here; its checks then run after the ONVIF checks (../checks/index.ts lists
 * them after its own).
 */
import type { CheckContext } from '../checks/types.js';
import { dahua } from './dahua/index.js';
import { hikvision } from './hikvision/index.js';
import { isDriverName, type DriverName } from './names.js';
import type { Driver, DriverCheck } from './types.js';

/** In the order their recognition is tried. */
export const drivers: readonly Driver[] = [hikvision, dahua];

/** Every driver's checks, each driver's in its own order. */
export const driverChecks: readonly DriverCheck[] = drivers.flatMap((driver) => driver.checks);

/**
 * The driver of a device: the one configured (`driver:` in the agent config; `onvif` means
 * ONVIF checks only), else the first that recognises the manufacturer its ONVIF identity
 * gave, else `onvif`. Without an identity yet (the identity check was refused or has not
 * answered) only a configured driver applies.
 */
export function chooseDriver(
  configured: DriverName | undefined,
  manufacturer: string | undefined,
): DriverName {
  if (configured) return configured;
  if (manufacturer === undefined) return 'onvif';
  return drivers.find((driver) => driver.recognises(manufacturer))?.name ?? 'onvif';
}

/**
 * The device's driver for this poll. `context.device` is the device's entry of the agent
 * config (../agent.ts hands its DeviceConfig whole), whose `driver` is the override; the
 * manufacturer is the identity check's, from this poll or an earlier one.
 */
export function driverOf(context: CheckContext): DriverName {
  const configured = (context.device as { driver?: unknown }).driver;
  return chooseDriver(
    isDriverName(configured) ? configured : undefined,
    context.memory.identity?.manufacturer,
  );
}
