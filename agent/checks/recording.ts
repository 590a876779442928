/**
 * NVR recording continuity (ONVIF Profile G), as SOAP requests of our own (node-onvif has
 * neither service). Two views of each recording (one per camera channel):
 *
 * - Recording Search (FindRecordings, GetRecordingSearchResults, EndSearch): the newest
 *   recorded moment (LatestRecording, in device time, corrected by the measured clock
 *   offset) against now; lagging more than `checks.recordingLagS` (default 120 s) means
 *   nothing was written lately.
 * - Recording Control (GetRecordingJobs, GetRecordingJobState; Recording Control 5.3): a
 *   job told to record (Mode Active) whose state is Idle or Error has stopped, which the
 *   device knows at once, before the lag grows past the limit (a full or failed disk, a
 *   camera the recorder lost).
 *
 * The job states take turns (./turns.ts, checks.channelsPerPoll): each poll asks a few jobs
 * told to record, every job never asked or last seen stopped, and none switched off (Mode
 * Idle, whose state says nothing); the others stand on their last state. The search, one
 * request for all recordings, still judges every recording's lag each poll, so a job seen
 * stopped a minute late is still seen before its lag passes the limit in most cases, and
 * a 16-channel recorder is asked 4 job states a poll instead of 16 (bench:agent).
 *
 * Either gives one degraded `recording-stopped` per recording, with the recording token as
 * `channel`; when both see it, one reason says both. A job switched off on purpose (Mode
 * Idle) is not reported by its state; its recording still is when it lags. The per-channel
 * outage timeline is the sequence of these reasons appearing and clearing in the device's
 * state messages. The events check leaves tns1:RecordingConfig/JobState to this check, so
 * that a channel is never reported twice under two tokens (job and recording).
 */
import type { Reason, RecordingRef } from '../../shared/messages/device-state.js';
import {
  OnvifError,
  type RecordingInfo,
  type RecordingJob,
  type RecordingJobItem,
} from '../onvif/types.js';
import { channelsInTurn } from './turns.js';
import { degradeOnFailure, type Check, type DeviceMemory } from './types.js';

/** Recording Control 5.3: the job states in which nothing is recorded. */
const NOT_RECORDING = new Set(['idle', 'error']);

const toldToRecord = (job: RecordingJobItem): boolean => job.mode.toLowerCase() === 'active';
/** A job told to record whose (last known) state records nothing. */
const stopped = (job: RecordingJob): boolean =>
  job.state !== null && NOT_RECORDING.has(job.state.toLowerCase());

/** The job that keeps a recording from being written, or null when it records. */
export function stoppedJob(jobs: readonly RecordingJob[]): RecordingJob | null {
  const told = jobs.filter(toldToRecord);
  // Another job recording the same recording is enough (a recorder may run two).
  if (told.some((j) => !stopped(j))) return null;
  return told[0] ?? null;
}

/**
 * The jobs whose state this poll asks (see the header): never asked, last seen stopped,
 * or in turn; never one switched off.
 */
function jobsInTurn(
  items: readonly RecordingJobItem[],
  memory: DeviceMemory,
  perPoll: number,
): Set<string> {
  const told = items.filter(toldToRecord);
  const chosen = channelsInTurn(
    told,
    (job) => {
      const last = memory.jobStates.get(job.token);
      return last === undefined ? undefined : !stopped(last);
    },
    memory.jobTurn,
    perPoll,
  );
  return new Set([...chosen].map((job) => job.token));
}

/** The jobs as this poll saw them, a job not asked standing on its last state (kept here). */
function withLastStates(jobs: readonly RecordingJob[], memory: DeviceMemory): RecordingJob[] {
  const listed = new Set(jobs.map((job) => job.token));
  for (const token of memory.jobStates.keys()) {
    if (!listed.has(token)) memory.jobStates.delete(token);
  }
  return jobs.map((job) => {
    if (job.state !== null) {
      memory.jobStates.set(job.token, job);
      return job;
    }
    const last = memory.jobStates.get(job.token);
    return last ? { ...job, state: last.state, errors: last.errors } : job;
  });
}

/** DeviceState.recordings bounds (shared/messages/device-state.ts). */
const MAX_RECORDINGS = 256;
const MAX_TEXT = 200;

/**
 * The recorder's recordings for the state message: in token order (CH2 before CH10), not
 * the order of the search results, which a recorder may vary between searches; the state
 * is published when it changes, so only a change of the recordings may change this list.
 */
export function recordingList(found: readonly RecordingInfo[]): RecordingRef[] {
  const byToken = new Map<string, RecordingRef>();
  for (const rec of found) {
    const token = rec.token.slice(0, MAX_TEXT);
    if (token === '' || byToken.has(token)) continue;
    const source = rec.source.slice(0, MAX_TEXT);
    byToken.set(token, source === '' ? { token } : { token, source });
  }
  return [...byToken.values()]
    .sort((a, b) => a.token.localeCompare(b.token, 'en', { numeric: true }))
    .slice(0, MAX_RECORDINGS);
}

function describeJob(job: RecordingJob): string {
  const errors = job.errors.length > 0 ? `: ${job.errors.join(', ')}` : '';
  return `recording job ${job.token} is ${job.state} though set to record${errors}`;
}

export const recording: Check = {
  name: 'recording',
  appliesTo: ['nvr'],
  async run({ client, signal, memory, settings, now }) {
    const asked = await degradeOnFailure('recording-stopped', () => client.recordings(signal));
    if ('reason' in asked) {
      asked.reason.message = `the recording search failed: ${asked.reason.message}`.slice(0, 1000);
      return { degraded: [asked.reason] };
    }
    // The job states add what the search cannot see yet; a recorder whose recording
    // control fails (or lacks it) is still judged by the search alone.
    let jobs: RecordingJob[] | null = null;
    try {
      const asked = await client.recordingJobs(signal, (items) =>
        jobsInTurn(items, memory, settings.channelsPerPoll),
      );
      jobs = asked && withLastStates(asked, memory);
    } catch (error) {
      if (!(error instanceof OnvifError)) throw error;
    }
    if (asked.value === null && jobs === null) return {};
    const byRecording = new Map<string, RecordingJob[]>();
    for (const job of jobs ?? []) {
      byRecording.set(job.recordingToken, [...(byRecording.get(job.recordingToken) ?? []), job]);
    }
    const degraded: Reason[] = [];
    const deviceNow = now() + memory.offsetMs;
    let worst = 0;
    const searched = new Set<string>();
    for (const rec of asked.value ?? []) {
      searched.add(rec.token);
      const name = rec.source || rec.token;
      const lagS = rec.latest === null ? Infinity : (deviceNow - rec.latest.getTime()) / 1000;
      if (Number.isFinite(lagS)) worst = Math.max(worst, lagS);
      const job = stoppedJob(byRecording.get(rec.token) ?? []);
      const lagging = lagS > settings.recordingLagS;
      const lag =
        rec.latest === null
          ? `no recording (status ${rec.status})`
          : `newest recording ${Math.round(lagS)} s old (limit ${settings.recordingLagS} s, status ${rec.status})`;
      // What the NOC reads first is what found it: the lag, or the job's state.
      let message: string;
      if (lagging) message = `${name}: ${lag}${job ? `; ${describeJob(job)}` : ''}`;
      else if (job) message = `${name}: ${describeJob(job)}; ${lag}`;
      else continue;
      degraded.push({
        code: 'recording-stopped',
        message: message.slice(0, 1000),
        channel: rec.token.slice(0, 200),
      });
    }
    // Jobs of recordings the search did not list (or a recorder without search).
    for (const [token, list] of byRecording) {
      const job = searched.has(token) ? null : stoppedJob(list);
      if (!job) continue;
      degraded.push({
        code: 'recording-stopped',
        message: `${token}: ${describeJob(job)}`.slice(0, 1000),
        channel: token.slice(0, 200),
      });
    }
    if (asked.value === null) return { values: { recordingsStopped: degraded.length }, degraded };
    return {
      values: { recordingLagS: Math.round(worst * 10) / 10, recordingsStopped: degraded.length },
      degraded,
      recordings: recordingList(asked.value),
    };
  },
};
