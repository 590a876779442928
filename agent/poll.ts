/**
 * One poll of one device: the checks of checks/index.ts in order, their readings merged.
 * The first failure ends the poll (after "unreachable" there is nothing left to learn),
 * except a refusal of our credentials (auth-failed): the device answered, so it is there
 * and most likely still records; only our watching stopped. It is a degraded reason, the
 * later checks that need credentials are skipped, and those that need none (the
 * unauthenticated GetSystemDateAndTime of `reachable`, ONVIF Core 5.12.1) keep running on
 * every poll, so a device that refuses us and then dies still goes down.
 *
 * An account without live-view rights is refused only by the live-view checks
 * (`Check.liveView`: an RTSP DESCRIBE, a snapshot GET) after `identity` answered in the
 * same poll. Then only those checks wait for their next try: recording, storage and events
 * keep running every poll, so a recorder that stops recording is seen at once, not at the
 * next try of the refused credentials.
 *
 * Many cameras lock an account after a few failed logins (Hikvision, Dahua: five by
 * default, for half an hour), and the account the agent uses may be the one the NVR
 * records with. So the first refused request of a poll ends the checks that need those
 * credentials, and the tries are counted as the device counts them, on the wire: one
 * refused try is at most two failed logins there (a remembered Digest refused, then the
 * fresh challenge answered and refused, onvif/http-exchange.ts; or a UsernameToken alone
 * answered 401, then Digest with a new token refused; a third request follows only a
 * stale=true, which RFC 7616 section 3.3 sends for a right password). A refusal is tried
 * again at the next poll (one may be a glitch); from the second in a row on, at most once
 * per `checks.credentialsRetryS` (30 min by default): at most two tries, four failed
 * logins, in any half hour, under the threshold of five. Between tries the last refusal
 * stands. New credentials in the agent's config (SIGHUP) start a new device, tried at once.
 *
 * The vendor driver's checks (drivers/: Hikvision ISAPI, Dahua CGI) run last, those of the
 * device's driver only (drivers/index.ts chooses it), with the same deadline. Their API
 * keeps users of its own on Hikvision and Dahua firmware, so it may refuse an account that
 * ONVIF accepts: that refusal is a degraded reason of its own ("vendor API refused"), only
 * the driver's checks wait for their next try, spaced out as above (the device's lockout
 * counts those failed logins too), and the ONVIF checks go on every poll. A driver check
 * never takes a device down: ONVIF already said it answers.
 */
import type { DeviceMetricValues } from '../shared/messages/device-metrics.js';
import {
  CERTIFICATE_CODES,
  type Reason,
  type RecordingRef,
} from '../shared/messages/device-state.js';
import {
  CredentialsRefused,
  isCertificateRefusal,
  reasonOf,
  type Check,
  type CheckContext,
  type Identity,
  type Refusal,
} from './checks/types.js';
import { driverOf } from './drivers/index.js';
import type { DriverName } from './drivers/names.js';
import {
  driverMemory,
  isDriverCheck,
  isRecorder,
  type DriverCheckResult,
  type DriverFindings,
  type VendorFindings,
  type VendorName,
} from './drivers/types.js';

/**
 * `recordings`: an NVR's recordings when a check listed them in this poll; `vendor`: what
 * the device's vendor driver found (disks, channels ...), when one of its checks ran.
 */
export type PollResult =
  | {
      ok: true;
      values: DeviceMetricValues;
      identity?: Identity;
      recordings?: RecordingRef[];
      vendor?: VendorFindings;
      degraded: Reason[];
    }
  | {
      ok: false;
      values: DeviceMetricValues;
      identity?: Identity;
      recordings?: RecordingRef[];
      vendor?: VendorFindings;
      failure: Reason;
    };

/** The degraded reason of a refusal: what the device said, and what to do about it. */
export function credentialsRefused(check: Check, failure: Reason): Reason {
  return refusalReason(
    `monitoring credentials rejected (${check.name} check: ${failure.message.slice(0, 600)}). ` +
      `The device answers, so it is not down, but its streams, pictures and recordings go ` +
      `unchecked: update the device's password in the agent config (or its password file), ` +
      `or give the account the rights it lacks`,
  );
}

/** The degraded reason of a live-view refusal after the account worked in the same poll. */
export function liveViewRefused(check: Check, failure: Reason): Reason {
  return refusalReason(
    `live view refused to the monitoring account (${check.name} check: ${failure.message.slice(0, 600)}). ` +
      `The account works for ONVIF, so recordings, storage and events are still checked, ` +
      `but streams and pictures go unchecked: give the account live-view (media) rights on ` +
      `the device`,
  );
}

/**
 * The degraded reason of a vendor API that refuses the agent: the ONVIF account, or the
 * device's own one set under `vendor:` (the inner message says which and what to do).
 */
export function vendorRefused(check: Check, failure: Reason): Reason {
  return refusalReason(
    `the device's own API refused the agent (${check.name} check: ${failure.message.slice(0, 700)}). ` +
      `ONVIF still answers the monitoring account, so the device is watched, but its disks and channels go unchecked`,
  );
}

/** Adds a driver check's findings to the poll's: lists replace, problems add up. */
function addFindings(into: DriverFindings, found: DriverFindings): void {
  const { problems, ...rest } = found;
  Object.assign(into, rest);
  if (problems) into.problems = [...(into.problems ?? []), ...problems];
}

function refusalReason(message: string): Reason {
  return { code: 'auth-failed', message: message.slice(0, 1000) };
}

/** Remembers a refusal and when to try the credentials again (see the file's comment). */
function nextRefusal(
  before: Refusal | null,
  reason: Reason,
  now: number,
  context: CheckContext,
): Refusal {
  const tries = (before?.tries ?? 0) + 1;
  // The first refusal: the next poll tries again (due half an interval from now, so the
  // next poll, jittered, takes it). From the second in a row on: not before
  // credentialsRetryS, never early, so that no window of that length holds three tries.
  const waitMs =
    tries < 2 ? (context.intervalS * 1000) / 2 : context.settings.credentialsRetryS * 1000;
  return { reason, tries, retryAt: now + waitMs };
}

/** The reason that stands for this poll while a refusal waits for its next try. */
function waiting(refusal: Refusal | null, now: number): Reason | null {
  return refusal && now < refusal.retryAt ? refusal.reason : null;
}

export async function runChecks(
  checks: readonly Check[],
  context: CheckContext,
): Promise<PollResult> {
  const { memory } = context;
  const readings: Omit<DeviceMetricValues, 'up'> = {};
  const degraded: Reason[] = [];
  let identity: Identity | undefined;
  let recordings: RecordingRef[] | undefined;
  // Waiting to try the credentials again: the last refusal stands for this poll.
  let refused = waiting(memory.refused, context.now());
  let liveViewRefusal = waiting(memory.liveViewRefused, context.now());
  let vendorRefusal = waiting(driverMemory(memory).refused, context.now());
  let triedCredentials = false;
  let triedLiveView = false;
  let triedVendor = false;
  // The device's driver, chosen when its first check comes (after `identity` has answered).
  let driver: DriverName | undefined;
  let vendor: VendorFindings | undefined;
  // A credentialed check answered in this poll (`identity`): the account works, so a
  // refusal in a live-view check is about that right alone.
  let accountWorks = false;
  for (const check of checks) {
    if (check.appliesTo && !check.appliesTo.includes(context.device.kind)) continue;
    if (check.enabled && !check.enabled(context.settings)) continue;
    if (refused && !check.withoutCredentials) continue;
    if (liveViewRefusal && check.liveView) continue;
    if (isDriverCheck(check)) {
      driver ??= driverOf(context);
      if (check.driver !== driver || vendorRefusal) continue;
    }
    let result: DriverCheckResult;
    try {
      result = await check.run(context);
    } catch (error) {
      // A refusal in the middle of a check (a stream's DESCRIBE, a snapshot): its readings
      // of the channels before are dropped with it, as a failure's would be. So is a
      // certificate refused mid-poll: no request more goes to that device.
      if (isCertificateRefusal(error)) result = { failure: reasonOf(error) };
      else if (error instanceof CredentialsRefused) result = { failure: error.reason };
      else throw error;
    }
    if (isDriverCheck(check)) {
      triedVendor = true;
      if (result.findings) addFindings((vendor ??= { driver: check.driver }), result.findings);
      if (result.failure?.code === 'auth-failed') {
        // The vendor API's own users (see the file's comment): only the driver's checks wait.
        vendorRefusal = vendorRefused(check, result.failure);
        const { refused: before } = driverMemory(memory);
        driverMemory(memory).refused = nextRefusal(before, vendorRefusal, context.now(), context);
        continue;
      }
      const { failure, ...rest } = result;
      if (failure && !CERTIFICATE_CODES.includes(failure.code)) {
        // Never down for what a vendor API says: ONVIF answered in this poll.
        result = { ...rest, degraded: [...(rest.degraded ?? []), failure] };
      }
    }
    if (!check.withoutCredentials) triedCredentials = true;
    if (check.liveView) triedLiveView = true;
    Object.assign(readings, result.values);
    if (result.identity) identity = result.identity;
    if (result.recordings) recordings = result.recordings;
    if (result.degraded) degraded.push(...result.degraded);
    if (result.failure?.code === 'auth-failed' && !check.withoutCredentials) {
      const now = context.now();
      if (check.liveView && accountWorks) {
        liveViewRefusal = liveViewRefused(check, result.failure);
        memory.liveViewRefused = nextRefusal(memory.liveViewRefused, liveViewRefusal, now, context);
      } else {
        refused = credentialsRefused(check, result.failure);
        memory.refused = nextRefusal(memory.refused, refused, now, context);
      }
      continue;
    }
    if (!check.withoutCredentials && !check.liveView && !result.failure) accountWorks = true;
    // An HTTPS certificate the agent refuses: the device answered the handshake, so it is
    // degraded with that reason, not down; nothing more is asked of it.
    if (result.failure && CERTIFICATE_CODES.includes(result.failure.code)) {
      return {
        ok: true,
        values: { up: true, ...readings },
        ...(identity ? { identity } : {}),
        ...(recordings ? { recordings } : {}),
        ...(vendor ? { vendor } : {}),
        degraded: [...degraded, result.failure],
      };
    }
    if (result.failure) {
      // `up` is false for any other failure: the device does not answer as it should.
      return {
        ok: false,
        values: { up: false, ...readings },
        ...(identity ? { identity } : {}),
        ...(recordings ? { recordings } : {}),
        ...(vendor ? { vendor } : {}),
        failure: result.failure,
      };
    }
  }
  if (refused) {
    // Refused whole: what the live-view checks would say is not known this poll.
    degraded.unshift(refused);
  } else {
    if (triedCredentials) memory.refused = null;
    if (liveViewRefusal) degraded.unshift(liveViewRefusal);
    else if (triedLiveView) memory.liveViewRefused = null;
    // A refusal waiting for its next try stands while the device still has that driver
    // (the config may have been set to `driver: onvif` since, and reloaded).
    const vendorApplies = (driver ?? driverOf(context)) !== 'onvif';
    if (vendorRefusal && vendorApplies) {
      // Only a recorder's vendor API tells what ONVIF does not (disks, IP channels): on a
      // camera a refusal costs nothing watched, so it is a finding, not a ticket (review-b
      // #7: one "credentials rejected" ticket per camera of a site with ISAPI locked down).
      if (isRecorder(context)) degraded.push(vendorRefusal);
      else {
        // vendorApplies: the device's driver is a vendor's.
        vendor ??= { driver: (driver ?? driverOf(context)) as VendorName };
        vendor.problems = [...(vendor.problems ?? []), vendorRefusal.message];
      }
    } else if (triedVendor || !vendorApplies) driverMemory(memory).refused = null;
  }
  return {
    ok: true,
    values: { up: true, ...readings },
    ...(identity ? { identity } : {}),
    ...(recordings ? { recordings } : {}),
    ...(vendor ? { vendor } : {}),
    degraded,
  };
}
