/**
 * NVR retention, measured (ONVIF Profile G, Recording Search): how many days of footage
 * each recording (one per camera channel) still holds, the device's now minus the oldest
 * data it keeps, and the least of them as `retentionDays`. The contract promises the
 * site's `retentionGoalDays`; a recorder whose disks are too small for its cameras'
 * bitrate overwrites early, and nobody notices until the footage is asked for and gone.
 *
 * Where the start comes from: FindRecordings and GetRecordingSearchResults, per recording
 * its EarliestRecording and its tracks' DataFrom (ONVIF Recording Search Service
 * Specification, "RecordingInformation Structure": "the date and time of the oldest data in
 * the recording"; "TrackInformation Structure": "the start date and time of the oldest
 * recorded data in the track", and a track without data is not listed). Not
 * GetRecordingSummary: its DataFrom is one figure for the whole device (the oldest channel,
 * which hides the shortest one), and it is where budget recorders say 1970-01-01.
 *
 * The 1970 quirk (docs/ONVIF.md): some recorders give 1970-01-01T00:00:00Z, the Unix epoch,
 * for a start they do not know; taken at its word that is some 20,000 days kept. A start
 * before 2000 or after the device's now is no start: a recording counts with its earliest
 * plausible start (one whose EarliestRecording says 1970 may still give its tracks'
 * DataFrom), and a recording with none, or without data, counts for nothing. A recorder
 * with no plausible start at all sends no `retentionDays`: the inspection report then shows
 * no retention for it rather than a wrong one.
 *
 * Device time: the starts are the device's clock, so the age is taken against the device's
 * now (the gateway's now plus the offset the reachable check measured), and a recorder whose
 * clock is years off still reads the days it keeps.
 *
 * Hourly, not every poll: retention moves by the day, and the search lists every recording.
 * Measured at the device's first poll, then once an hour (DeviceMemory.retentionMeasuredAt);
 * a poll in between sends nothing for it. A failed search (the recording check reports it,
 * from its own search in the same poll) is tried again after RETRY_MS.
 *
 * No degraded reason here: the agent does not know the site's goal. The broker compares the
 * reading with the site's retentionGoalDays, one home for that rule
 * (broker/detect/rules/retention-short.ts).
 */
import type { RecordingInfo } from '../onvif/types.js';
import { degradeOnFailure, type Check } from './types.js';

const DAY_MS = 86_400_000;
/** How often retention is measured: it moves by the day. */
export const RETENTION_EVERY_MS = 3_600_000;
/** After a failed search, the next try. */
export const RETENTION_RETRY_MS = 300_000;
/** Before this instant a start is a placeholder (the epoch, a clock never set), not data. */
const PLAUSIBLE_FROM = Date.UTC(2000, 0, 1);
/** RecordingStatus of a recording being deleted: nothing left to count. */
const GONE = new Set(['removing', 'removed']);

/**
 * Days of footage a recording keeps at `deviceNow` (device time, ms): from its earliest
 * plausible start; null when it gives none (no data, the 1970 quirk, a start in the future).
 */
export function keptDays(recording: RecordingInfo, deviceNow: number): number | null {
  if (GONE.has(recording.status.toLowerCase())) return null;
  let earliest = Infinity;
  for (const start of recording.starts ?? []) {
    const at = start.getTime();
    if (at >= PLAUSIBLE_FROM && at <= deviceNow) earliest = Math.min(earliest, at);
  }
  return Number.isFinite(earliest) ? (deviceNow - earliest) / DAY_MS : null;
}

/**
 * The least days kept of the recordings, to a tenth of a day (a measurement off by the
 * second never reads as a day short); null when none of them gives a plausible start.
 */
export function retentionDays(
  recordings: readonly RecordingInfo[],
  deviceNow: number,
): number | null {
  let least: number | null = null;
  for (const recording of recordings) {
    const days = keptDays(recording, deviceNow);
    if (days !== null && (least === null || days < least)) least = days;
  }
  return least === null ? null : Math.round(least * 10) / 10;
}

export const retention: Check = {
  name: 'retention',
  appliesTo: ['nvr'],
  async run({ client, signal, memory, now }) {
    const at = now();
    const last = memory.retentionMeasuredAt;
    // A gateway clock set back (at < last) measures again instead of waiting for it.
    if (last !== null && at >= last && at - last < RETENTION_EVERY_MS) return {};
    // Refused credentials or certificates end the check as the poll handles them
    // (./types.ts); any other failure is reported by the recording check, whose search
    // failed the same way in this poll, so here it only waits for the next try.
    const asked = await degradeOnFailure('recording-stopped', () => client.recordings(signal));
    if ('reason' in asked) {
      memory.retentionMeasuredAt = at - RETENTION_EVERY_MS + RETENTION_RETRY_MS;
      return {};
    }
    memory.retentionMeasuredAt = at;
    // A recorder without a search service (null) has nothing to measure.
    const days = asked.value === null ? null : retentionDays(asked.value, at + memory.offsetMs);
    return days === null ? {} : { values: { retentionDays: days } };
  },
};
