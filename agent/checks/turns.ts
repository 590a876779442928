/**
 * Which channels of a device a poll looks at (checks.channelsPerPoll): the picture and the
 * stream checks of an NVR's 16 or 64 channels take their turns, and so do the recording
 * check's job states (one GetRecordingJobState per job), so each poll costs the recorder,
 * the LAN and the gateway a few channels' snapshots, DESCRIBEs and job states instead of all.
 * Chosen: every channel not looked at yet (a device's first poll, `vigil agent check`, a
 * new channel) and every one whose last look found it wrong (a fault is seen to last or to
 * end at each poll, never carried on an old look), then `perPoll` of the others in turn
 * from where the last poll stopped. A camera's one channel is looked at every poll.
 */
/** Where the next poll's turn starts, per check, kept in the device's memory. */
export interface Turn {
  at: number;
}

/**
 * The channels (or jobs) to look at now; `good(channel)` is the last look's verdict
 * (undefined: never looked at). Advances `turn`.
 */
export function channelsInTurn<T>(
  channels: readonly T[],
  good: (channel: T) => boolean | undefined,
  turn: Turn,
  perPoll: number,
): Set<T> {
  const chosen = new Set(channels.filter((c) => good(c) !== true));
  const count = channels.length;
  if (count === 0) return chosen;
  let taken = 0;
  let at = turn.at % count;
  for (let looked = 0; looked < count && taken < perPoll; looked++) {
    const channel = channels[at]!;
    if (!chosen.has(channel)) {
      chosen.add(channel);
      taken += 1;
    }
    at = (at + 1) % count;
  }
  turn.at = at;
  return chosen;
}
