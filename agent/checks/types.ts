/**
 * What a health check is: one question asked of one device, answered with readings for
 * DeviceMetricValues, the device's identity, and/or a reason it is not healthy. A check
 * holds only its logic; the scheduler adds intervals, timeouts and concurrency (the
 * telegraf split between an input plugin and its running wrapper).
 */
import type { DeviceIdentity } from '../../shared/messages/common.js';
import type { DeviceMetricValues } from '../../shared/messages/device-metrics.js';
import type { Reason } from '../../shared/messages/device-state.js';
import type { Static } from 'typebox';
import { OnvifError, type OnvifClient } from '../onvif/types.js';

export type Identity = Static<typeof DeviceIdentity>;

export interface CheckContext {
  device: { id: string; name: string; kind: 'camera' | 'nvr'; xaddr: string };
  client: OnvifClient;
  /** Aborted when the poll's deadline passes; hand it to every request. */
  signal: AbortSignal;
}

export interface CheckResult {
  /** Readings; `up` is decided by the poll as a whole, not by one check. */
  values?: Omit<Partial<DeviceMetricValues>, 'up'>;
  identity?: Identity;
  /** The device works but something is wrong with it (status degraded). */
  degraded?: Reason[];
  /** The device fails this check (status down once confirmed); later checks are skipped. */
  failure?: Reason;
}

export interface Check {
  /** Unique, stable: it names the check in logs and tests. */
  readonly name: string;
  run(context: CheckContext): Promise<CheckResult>;
}

/**
 * Runs a device request and turns an ONVIF failure into the check's failure reason.
 * Anything else thrown is a bug in the agent, not a device problem, and goes up.
 */
export async function attempt<T>(
  request: () => Promise<T>,
  use: (value: T) => CheckResult,
): Promise<CheckResult> {
  let value: T;
  try {
    value = await request();
  } catch (error) {
    if (error instanceof OnvifError) {
      return { failure: { code: error.kind, message: error.message.slice(0, 1000) } };
    }
    throw error;
  }
  return use(value);
}
