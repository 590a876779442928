/**
 * NVR retention, measured (ONVIF Profile G, Recording Search): how many days of footage a
 * full recorder keeps before it overwrites, as `retentionDays`. The contract promises the
 * site's `retentionGoalDays`; a recorder whose disks are too small for its cameras'
 * bitrate overwrites early, and nobody notices until the footage is asked for and gone.
 *
 * Retention is the limit a recorder reaches by overwriting, not the age of its oldest
 * recording. A recording (one per camera channel) whose oldest data has not been
 * overwritten yet is still filling: a camera added an hour ago, or every channel of a
 * recorder installed last week, whose age says only "at least this much". Recorders
 * overwrite their oldest footage, across channels or per channel quota, so a young
 * channel says nothing about what the disks keep. What the device shows of it: an
 * overwritten recording's oldest start moves forward between two measurements (data was
 * deleted from its beginning: overwritten, or expired by the recorder's own keep-at-most
 * setting, which is as much a limit). So each measurement compares every recording's
 * start with the last one (DeviceMemory.retentionStarts, by recording token): a recording
 * seen moving forward by at least MOVED_MS is overwriting from then on, and
 * `retentionDays` is the least kept days of the overwriting recordings only. While no
 * recording is overwriting (a new recorder, still filling) it is absent: no reading, no
 * ticket and no advice to add storage to a recorder that is not full. A start that moves
 * back (older data than before: a recording recreated, a disk with old footage put in)
 * is learned anew, and so is one that jumps past the last measurement (a disk formatted or
 * replaced, a recording deleted: all its footage gone at once, the recorder fills again).
 *
 * A recorder set not to overwrite (it stops recording when full) never shows a moving
 * start: it sends no retention, and its stop is the recording check's (recording-stopped).
 *
 * Not the vendor API's fullness (`storageUsedPct`): full says nothing of overwriting (see
 * above), a fullest-disk share reads 100 while the next disks are still empty, and it
 * comes from a driver check that runs after this one, on recorders with a driver only. The
 * moving start is the direct evidence, on every Profile G recorder.
 *
 * After an agent restart (the memory is gone) the first measurement cannot tell: every
 * recording is new to it. The next one is then taken at the next poll instead of an hour
 * later (one search more), which decides for a recorder whose start moves smoothly; a
 * recorder that overwrites in larger pieces (a file of minutes to an hour per channel) is
 * decided at a following hourly measurement. Meanwhile nothing is sent, and the broker
 * leaves an open retention ticket as it is. A recording listed for the first time (a
 * camera added) asks for the same early second look.
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
 * Measured at the device's first poll, then once an hour (DeviceMemory.retentionMeasuredAt),
 * with the early second look above; a poll in between sends nothing for it. A failed
 * search (the recording check reports it, from its own search in the same poll) is tried
 * again after RETRY_MS.
 *
 * No degraded reason here: the agent does not know the site's goal. The broker compares the
 * reading with the site's retentionGoalDays, one home for that rule
 * (broker/detect/rules/retention-short.ts).
 */
import type { RecordingInfo } from '../onvif/types.js';
import { degradeOnFailure, type Check, type KnownStart } from './types.js';

const DAY_MS = 86_400_000;
/** How often retention is measured: it moves by the day. */
export const RETENTION_EVERY_MS = 3_600_000;
/** After a failed search, the next try. */
export const RETENTION_RETRY_MS = 300_000;
/** Before this instant a start is a placeholder (the epoch, a clock never set), not data. */
const PLAUSIBLE_FROM = Date.UTC(2000, 0, 1);
/**
 * How far a recording's oldest start must move forward to count as overwritten: a second,
 * the resolution of the xs:dateTime most recorders give, so a start that reads the same
 * with or without its fraction is no movement.
 */
export const MOVED_MS = 1000;
/** RecordingStatus of a recording being deleted: nothing left to count. */
const GONE = new Set(['removing', 'removed']);

/**
 * A recording's earliest plausible start (device time, ms): null when it gives none (no
 * data, the 1970 quirk, a start in the future, a recording being deleted).
 */
export function earliestStart(recording: RecordingInfo, deviceNow: number): number | null {
  if (GONE.has(recording.status.toLowerCase())) return null;
  let earliest = Infinity;
  for (const start of recording.starts ?? []) {
    const at = start.getTime();
    if (at >= PLAUSIBLE_FROM && at <= deviceNow) earliest = Math.min(earliest, at);
  }
  return Number.isFinite(earliest) ? earliest : null;
}

/**
 * Days of footage a recording keeps at `deviceNow` (device time, ms): from its earliest
 * plausible start; null when it gives none.
 */
export function keptDays(recording: RecordingInfo, deviceNow: number): number | null {
  const earliest = earliestStart(recording, deviceNow);
  return earliest === null ? null : (deviceNow - earliest) / DAY_MS;
}

/** What a measurement learned of a recorder's recordings, with the memory it updated. */
export interface Overwriting {
  /** The recordings seen overwriting (their oldest start moved forward, now or before). */
  overwriting: RecordingInfo[];
  /** A recording had no earlier start to compare with (first sight, or after a restart). */
  firstSeen: boolean;
  /** Recordings that had one. */
  compared: number;
}

/**
 * Compares each recording's earliest start with the one `known` holds (by token) and
 * updates `known`: a start moved forward by MOVED_MS or more marks the recording
 * overwriting for good, if footage older than the last measurement is left. Learned anew
 * (filling, until seen moving again): a start moved back, and one moved past the last
 * measurement, which is no overwrite but all footage removed at once (a disk formatted or
 * replaced, the recording deleted and made again): the recorder is filling again. How far
 * an overwrite moves the start is no test: recorders delete in pieces (a record file per
 * channel), and a file of a channel recorded on motion may span days.
 * A recording no longer listed, or without a plausible start, is dropped.
 */
export function overwritingOf(
  recordings: readonly RecordingInfo[],
  deviceNow: number,
  known: Map<string, KnownStart>,
): Overwriting {
  const overwriting: RecordingInfo[] = [];
  let firstSeen = false;
  let compared = 0;
  const listed = new Set<string>();
  for (const recording of recordings) {
    const from = earliestStart(recording, deviceNow);
    if (from === null) continue;
    listed.add(recording.token);
    const before = known.get(recording.token);
    let moving = false;
    if (before === undefined) firstSeen = true;
    else {
      compared++;
      const moved = from - before.from;
      if (moved >= MOVED_MS) moving = from < before.at;
      else if (-moved < MOVED_MS) moving = before.overwriting;
    }
    known.set(recording.token, { from, at: deviceNow, overwriting: moving });
    if (moving) overwriting.push(recording);
  }
  for (const token of known.keys()) if (!listed.has(token)) known.delete(token);
  return { overwriting, firstSeen, compared };
}

/**
 * The least days kept of the recordings given, to a tenth of a day (a measurement off by
 * the second never reads as a day short); null when none of them gives a plausible start.
 * Not the recorder's retention by itself: the check gives it the overwriting recordings
 * only, since a recording still filling is younger than what the disks keep.
 */
export function leastKeptDays(
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
    if (asked.value === null) {
      memory.retentionStarts.clear();
      return {};
    }
    const deviceNow = at + memory.offsetMs;
    const knew = memory.retentionStarts.size > 0;
    const { overwriting, firstSeen, compared } = overwritingOf(
      asked.value,
      deviceNow,
      memory.retentionStarts,
    );
    // A recording without an earlier start to compare with: look again at the next poll
    // rather than in an hour (see the file's comment). Not when every recording is new
    // although some were known: a recorder whose tokens change from search to search
    // would be searched every poll; hourly it is.
    if (firstSeen && (!knew || compared > 0)) memory.retentionMeasuredAt = at - RETENTION_EVERY_MS;
    const days = leastKeptDays(overwriting, deviceNow);
    return days === null ? {} : { values: { retentionDays: days } };
  },
};
