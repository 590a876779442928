/**
 * What an NVR has recorded, per channel (ONVIF Recording Control and Recording Search,
 * Profile G): one recording and one recording job per channel. While a job is active
 * the recording's DataUntil is "now"; once it stops, DataUntil stays at the stop time,
 * which is how a client notices a recording gap. Its oldest data (EarliestRecording, the
 * track's DataFrom) is what a full recorder still keeps: see `earliest`. A full recorder
 * overwrites, so that start moves forward with the clock; a recorder still filling (new,
 * or a channel whose camera was added later: `startChannel`) keeps its first data, so its
 * start stays where its history began.
 */
import { randomBytes } from 'node:crypto';

/** tt:RecordingJobState values (Recording Control 5.3.5: Idle, Active, plus Error). */
export type JobState = 'Active' | 'Idle' | 'Error';

export interface ChannelRecording {
  channel: number;
  recordingToken: string;
  jobToken: string;
  sourceToken: string;
  /**
   * Wall clock ms the recording's history starts (its first data, before any overwrite):
   * the recorder's history when the simulator starts, or when its camera was added.
   */
  dataFrom: number;
  state: JobState;
  /** Wall clock ms the job stopped; null while it runs. */
  stoppedAt: number | null;
}

/**
 * Days of footage an NVR holds: its history when the simulator starts, and what its disks
 * keep from then on (the default site's retentionGoalDays, so a healthy recorder meets it).
 */
export const RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
const SEARCH_KEEP_MS = 60_000;

export function recordingToken(channel: number): string {
  return `REC_CH${String(channel).padStart(2, '0')}`;
}

export class Recorder {
  private readonly channels: ChannelRecording[];
  private readonly searches = new Map<string, number>();

  /**
   * `historyDays`: how long the recorder has been recording when the simulator starts; at
   * least RETENTION_DAYS (the default) it is full and overwrites, fewer it is still filling.
   */
  constructor(channelCount: number, startedAt: number, historyDays = RETENTION_DAYS) {
    this.channels = [];
    for (let channel = 1; channel <= channelCount; channel++) {
      this.channels.push({
        channel,
        recordingToken: recordingToken(channel),
        jobToken: `JOB_CH${String(channel).padStart(2, '0')}`,
        sourceToken: `vs${channel}`,
        dataFrom: startedAt - historyDays * DAY_MS,
        state: 'Active',
        stoppedAt: null,
      });
    }
  }

  all(): readonly ChannelRecording[] {
    return this.channels;
  }

  /**
   * Wall clock ms of a channel's oldest recorded data (EarliestRecording, DataFrom). A
   * recorder past its first weeks is full and overwrites its oldest footage, so it keeps
   * RETENTION_DAYS back from now (a start that moves forward with the clock), never more
   * than its history (a start that stays while it fills); with the retention-short fault
   * (`retentionDays`, FaultEffects) only that many days are left, as on a recorder whose
   * disks are too small for its cameras' bitrate.
   */
  earliest(recording: ChannelRecording, now: number, retentionDays: number | null): number {
    return Math.max(recording.dataFrom, now - (retentionDays ?? RETENTION_DAYS) * DAY_MS);
  }

  /**
   * A camera added to (or replaced on) a channel at `now`: the channel's history starts
   * then, and it fills while the recorder's other channels go on overwriting.
   */
  startChannel(channel: number, now: number): void {
    const recording = this.channels[channel - 1];
    if (recording) recording.dataFrom = now;
  }

  /** DataUntil of a channel's recording in wall clock ms. */
  dataUntil(recording: ChannelRecording, now: number): number {
    return recording.stoppedAt ?? now;
  }

  /** Sets a channel's job state; returns true when it changed (an event is due). */
  setState(channel: number, state: JobState, now: number): boolean {
    const recording = this.channels[channel - 1];
    if (!recording || recording.state === state) return false;
    if (state === 'Active') recording.stoppedAt = null;
    else if (recording.stoppedAt === null) recording.stoppedAt = now;
    recording.state = state;
    return true;
  }

  /** FindRecordings: a search session with a token, kept a minute after its last use. */
  startSearch(now: number): string {
    for (const [token, expiry] of this.searches) if (expiry <= now) this.searches.delete(token);
    const token = `search-${randomBytes(6).toString('hex')}`;
    this.searches.set(token, now + SEARCH_KEEP_MS);
    return token;
  }

  touchSearch(token: string, now: number): boolean {
    const expiry = this.searches.get(token);
    if (expiry === undefined || expiry <= now) return false;
    this.searches.set(token, now + SEARCH_KEEP_MS);
    return true;
  }

  endSearch(token: string): boolean {
    return this.searches.delete(token);
  }
}
