/**
 * One poll of one device: the checks of checks/index.ts in order, their readings merged.
 * The first failure ends the poll (after "unreachable" there is nothing left to learn).
 */
import type { DeviceMetricValues } from '../shared/messages/device-metrics.js';
import type { Reason, RecordingRef } from '../shared/messages/device-state.js';
import type { Check, CheckContext, Identity } from './checks/types.js';

/** `recordings`: an NVR's recordings when a check listed them in this poll. */
export type PollResult =
  | {
      ok: true;
      values: DeviceMetricValues;
      identity?: Identity;
      recordings?: RecordingRef[];
      degraded: Reason[];
    }
  | {
      ok: false;
      values: DeviceMetricValues;
      identity?: Identity;
      recordings?: RecordingRef[];
      failure: Reason;
    };

export async function runChecks(
  checks: readonly Check[],
  context: CheckContext,
): Promise<PollResult> {
  const readings: Omit<DeviceMetricValues, 'up'> = {};
  const degraded: Reason[] = [];
  let identity: Identity | undefined;
  let recordings: RecordingRef[] | undefined;
  for (const check of checks) {
    if (check.appliesTo && !check.appliesTo.includes(context.device.kind)) continue;
    if (check.enabled && !check.enabled(context.settings)) continue;
    const result = await check.run(context);
    Object.assign(readings, result.values);
    if (result.identity) identity = result.identity;
    if (result.recordings) recordings = result.recordings;
    if (result.degraded) degraded.push(...result.degraded);
    if (result.failure) {
      // `up` is false for any failure: a device that refuses our credentials cannot be
      // monitored, and the state machine reports it down with that reason.
      return {
        ok: false,
        values: { up: false, ...readings },
        ...(identity ? { identity } : {}),
        ...(recordings ? { recordings } : {}),
        failure: result.failure,
      };
    }
  }
  return {
    ok: true,
    values: { up: true, ...readings },
    ...(identity ? { identity } : {}),
    ...(recordings ? { recordings } : {}),
    degraded,
  };
}
