/**
 * One poll of one device: the checks of checks/index.ts in order, their readings merged.
 * The first failure ends the poll (after "unreachable" there is nothing left to learn).
 */
import type { DeviceMetricValues } from '../shared/messages/device-metrics.js';
import type { Reason } from '../shared/messages/device-state.js';
import type { Check, CheckContext, Identity } from './checks/types.js';

export type PollResult =
  | { ok: true; values: DeviceMetricValues; identity?: Identity; degraded: Reason[] }
  | { ok: false; values: DeviceMetricValues; identity?: Identity; failure: Reason };

export async function runChecks(
  checks: readonly Check[],
  context: CheckContext,
): Promise<PollResult> {
  const readings: Omit<DeviceMetricValues, 'up'> = {};
  const degraded: Reason[] = [];
  let identity: Identity | undefined;
  for (const check of checks) {
    if (check.appliesTo && !check.appliesTo.includes(context.device.kind)) continue;
    if (check.enabled && !check.enabled(context.settings)) continue;
    const result = await check.run(context);
    Object.assign(readings, result.values);
    if (result.identity) identity = result.identity;
    if (result.degraded) degraded.push(...result.degraded);
    if (result.failure) {
      // `up` is false for any failure: a device that refuses our credentials cannot be
      // monitored, and the state machine reports it down with that reason.
      const values = { up: false, ...readings };
      return identity
        ? { ok: false, values, identity, failure: result.failure }
        : { ok: false, values, failure: result.failure };
    }
  }
  const values = { up: true, ...readings };
  return identity ? { ok: true, values, identity, degraded } : { ok: true, values, degraded };
}
