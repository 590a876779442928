/**
 * Is the device there, how fast does it answer, and how far off is its clock?
 * tds:GetSystemDateAndTime needs no credentials (ONVIF Core 5.12.1), so this check tells
 * "unreachable" apart from "wrong password".
 */
import { attempt, type Check } from './types.js';

export const reachable: Check = {
  name: 'reachable',
  run: ({ client, signal }) =>
    attempt(
      () => client.clock(signal),
      (clock) => ({
        values: {
          responseMs: Math.round(clock.responseMs * 10) / 10,
          ...(clock.offsetMs !== null ? { clockOffsetS: Math.round(clock.offsetMs) / 1000 } : {}),
        },
      }),
    ),
};
