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
 * The question is the liveness probe's too (../liveness.ts), asked first in the poll,
 * before anything of ours loads the device. Left unanswered to the request deadline
 * (5 s), it was left unanswered past the probe's (1 s): the device missed a probe and then
 * its confirming look, so ../agent.ts counts it as both failures (`openingUnanswered`) and
 * the device is down at once, as when a probe had found it. Without that, a hang met by a
 * poll instead of a probe waited a recheck and another full deadline: a ticket 11 to 14 s
 * after the hang began instead of at most 8 (bench:detect, issue 13). A device that
 * answers late, even after 4 s, is not counted at all.
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { OnvifError } from '../onvif/types.js';
import { answered, attempt, isCertificateRefusal, type Check } from './types.js';

export const reachable: Check = {
  name: 'reachable',
  withoutCredentials: true,
  run: ({ client, signal, settings, memory }) =>
    attempt(
      async () => {
        const askedAt = new Date();
        memory.openingUnanswered = null;
        try {
          return await client.clock(signal);
        } catch (error) {
          // The device answered without a clock reading (it wants credentials for it): it
          // is there, and `identity` judges the credentials. A refused certificate stays
          // the failure that ends the poll (../poll.ts): nothing more is asked of it.
          if (answered(error) && !isCertificateRefusal(error)) return null;
          // Its own deadline passed, not the poll's (a cancelled poll proves nothing).
          if (error instanceof OnvifError && error.kind === 'timeout' && !signal.aborted) {
            memory.openingUnanswered = askedAt;
          }
          throw error;
        }
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
