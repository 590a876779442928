/**
 * Is the device there, how fast does it answer, and how far off is its clock?
 * tds:GetSystemDateAndTime needs no credentials (ONVIF Core 5.12.1), so this check tells
 * "unreachable" apart from "wrong password", and keeps running while the device refuses
 * our credentials (../poll.ts). A device that demands credentials even for it (against
 * 5.12.1) has answered all the same: it is there, with no clock reading, and `identity`
 * tells whether our credentials work. The offset is the device's UTC date-time fields
 * (ONVIF Core 8.3.11) against the wall-clock time halfway through the round trip
 * (onvif/date-time.ts). Beyond `checks.clockDriftS` (default 5 s) the device is degraded
 * (clock-drift): its recordings are mistimed and its tokens may be refused. Slower than
 * `checks.slowResponseMs`: degraded (slow-response).
 *
 * Where the liveness probe runs (CheckContext.confirmAfterMs), a poll that is not already
 * confirming a failure asks this question twice if it must: once the first request is
 * overdue by the probe's deadline (1 s), a second, separate request goes out, and the
 * first answer of either is the answer. Left unanswered to their own deadlines (5 s
 * each), the two requests are the missed question and its confirming look, and the device
 * is down at once (`openingUnanswered`, ../agent.ts), dated from the first. Each was given
 * the whole request deadline, so a device slow but there (even 4 s) answers both and is
 * never called down, and a stall shorter than the second request's deadline is answered
 * by it. Without the second request, a hang met by a poll instead of a probe waited out
 * the deadline, a recheck and a second deadline: a ticket 11 to 14 s after the hang
 * began; with it, at most the probe's phase + 1 s + 5 s (bench:detect, issue 13).
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { OnvifError, type DeviceClock, type OnvifClient } from '../onvif/types.js';
import { answered, attempt, isCertificateRefusal, type Check } from './types.js';

/** What one request of the question ended with. */
type Outcome = { clock: DeviceClock | null } | { error: unknown; unanswered: boolean };

/**
 * One request of GetSystemDateAndTime. The device answered without a clock reading (it
 * wants credentials for it): it is there, and `identity` judges the credentials (a null
 * clock). A refused certificate stays the failure that ends the poll (../poll.ts).
 */
async function ask(client: OnvifClient, signal: AbortSignal): Promise<Outcome> {
  try {
    return { clock: await client.clock(signal) };
  } catch (error) {
    if (answered(error) && !isCertificateRefusal(error)) return { clock: null };
    const unanswered = error instanceof OnvifError && error.kind === 'timeout' && !signal.aborted;
    return { error, unanswered };
  }
}

/** Whether an outcome settles the question: an answer, or a failure that no wait changes. */
const decisive = (o: Outcome): boolean => 'clock' in o || !o.unanswered;

/**
 * The question, asked a second time once the first request is `confirmAfterMs` overdue
 * (see the file's comment). Resolves with the first answer; else with the first request's
 * error, `confirmed` when both requests went unanswered to their deadlines.
 */
async function askClock(
  client: OnvifClient,
  signal: AbortSignal,
  confirmAfterMs: number | undefined,
): Promise<{ clock: DeviceClock | null } | { error: unknown; confirmed: boolean }> {
  const done = new AbortController();
  const asking = AbortSignal.any([signal, done.signal]);
  try {
    const first = ask(client, asking);
    if (confirmAfterMs === undefined) {
      const outcome = await first;
      return 'clock' in outcome ? outcome : { error: outcome.error, confirmed: false };
    }
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), confirmAfterMs);
    });
    const early = await Promise.race([first, overdue]);
    clearTimeout(timer);
    if (early !== null) {
      return 'clock' in early ? early : { error: early.error, confirmed: false };
    }
    const second = ask(client, asking);
    // The first decisive outcome of either request; else both timed out.
    const settled = await new Promise<Outcome | null>((resolve) => {
      let left = 2;
      for (const request of [first, second]) {
        void request.then((outcome) => {
          if (decisive(outcome)) resolve(outcome);
          else if (--left === 0) resolve(null);
        });
      }
    });
    if (settled !== null) {
      return 'clock' in settled ? settled : { error: settled.error, confirmed: false };
    }
    const outcome = await first;
    const said = outcome && 'error' in outcome ? String((outcome.error as Error).message) : '';
    return {
      error: new OnvifError(
        'timeout',
        `${said || 'no answer in time'}; asked again on a second request after ${confirmAfterMs} ms, no answer to it either`,
      ),
      confirmed: true,
    };
  } finally {
    // The request still waiting (the loser of the two) is not needed any more.
    done.abort();
  }
}

export const reachable: Check = {
  name: 'reachable',
  withoutCredentials: true,
  run: ({ client, signal, settings, memory, confirmAfterMs }) =>
    attempt(
      async () => {
        memory.openingUnanswered = null;
        const askedAt = new Date();
        const asked = await askClock(client, signal, confirmAfterMs);
        if ('clock' in asked) return asked.clock;
        // Both requests went unanswered to their deadlines (not a cancelled poll).
        if (asked.confirmed) memory.openingUnanswered = askedAt;
        throw asked.error;
      },
      (clock) => {
        if (clock === null) return {};
        const degraded: Reason[] = [];
        if (clock.offsetMs !== null) {
          memory.offsetMs = clock.offsetMs;
          const driftS = Math.abs(clock.offsetMs) / 1000;
          if (driftS > settings.clockDriftS) {
            degraded.push({
              code: 'clock-drift',
              message: `the device clock is ${(clock.offsetMs / 1000).toFixed(1)} s off the gateway clock (limit ${settings.clockDriftS} s); check its NTP settings`,
            });
          }
        }
        if (clock.responseMs > settings.slowResponseMs) {
          degraded.push({
            code: 'slow-response',
            message: `GetSystemDateAndTime took ${Math.round(clock.responseMs)} ms (limit ${settings.slowResponseMs} ms)`,
          });
        }
        return {
          values: {
            responseMs: Math.round(clock.responseMs * 10) / 10,
            ...(clock.offsetMs !== null ? { clockOffsetS: Math.round(clock.offsetMs) / 1000 } : {}),
          },
          degraded,
        };
      },
    ),
};
