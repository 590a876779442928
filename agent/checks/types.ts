/**
 * What a health check is: one question asked of one device, answered with readings for
 * DeviceMetricValues, the device's identity, and/or a reason it is not healthy. A check
 * holds only its logic; the scheduler adds intervals, timeouts and concurrency (the
 * telegraf split between an input plugin and its running wrapper).
 */
import type { DeviceIdentity } from '../../shared/messages/common.js';
import type { DeviceMetricValues } from '../../shared/messages/device-metrics.js';
import {
  CERTIFICATE_CODES,
  type Reason,
  type RecordingRef,
} from '../../shared/messages/device-state.js';
import type { Static } from 'typebox';
import type { ChecksConfig } from '../config.js';
import type { ChannelPicture } from '../picture.js';
import type { Turn } from './turns.js';
import {
  OnvifError,
  type OnvifClient,
  type RecordingJob,
  type VideoChannel,
} from '../onvif/types.js';

export type Identity = Static<typeof DeviceIdentity>;

/**
 * What the checks of one device remember between polls: the identity last seen, the
 * channels, the pictures, the event pull point, the conditions events reported.
 */
export class DeviceMemory {
  identity: Identity | null = null;
  /** Inventory events (replaced, firmware changed) and until when they stay reported (ms). */
  inventoryEvents: { reason: Reason; until: number }[] = [];
  /** Device clock minus ours, in ms, from the last reachable check. */
  offsetMs = 0;
  /**
   * When the poll's opening question (the reachable check's GetSystemDateAndTime) was sent,
   * if the device left it and its confirming second request unanswered to their deadlines;
   * null otherwise. ../agent.ts counts the two as a failure and its confirmation (see
   * reachable.ts).
   */
  openingUnanswered: Date | null = null;
  channels: VideoChannel[] = [];
  streamUris = new Map<string, string>();
  snapshotUris = new Map<string, string>();
  /**
   * Per channel: the last picture, how many polls in a row it did not change, and the
   * camera's usual sharpness (learned here, in memory only: relearned after a restart).
   */
  pictures = new Map<string, ChannelPicture>();
  /**
   * Per channel: the verdict of its last picture (its reasons; good when none). A good one
   * stands for it in the polls where another channel's turn it is (./turns.ts).
   */
  pictureVerdicts = new Map<string, Reason[]>();
  /** Where the next poll's turn of pictures starts, an index into `channels`. */
  pictureTurn: Turn = { at: 0 };
  /** Per channel: its stream answered DESCRIBE with 200 at the last look (./turns.ts). */
  streamsGood = new Map<string, boolean>();
  streamTurn: Turn = { at: 0 };
  /**
   * Per recording job token, its state at the last GetRecordingJobState: it stands for the
   * job in the polls where another job's turn it is (./recording.ts, ./turns.ts).
   */
  jobStates = new Map<string, RecordingJob>();
  jobTurn: Turn = { at: 0 };
  pullPoint: { address: string; renewAt: number } | null = null;
  /** Conditions reported by ONVIF events, by topic and source; removed when they clear. */
  eventConditions = new Map<string, Reason>();
  /**
   * The device refuses our credentials: the auth-failed reason, how many tries in a row it
   * refused, and when the credentials may be tried again (ms; ../poll.ts spaces the tries
   * out, since many cameras lock an account after a few failed logins). Null once they work.
   */
  refused: Refusal | null = null;
  /**
   * The account works for ONVIF but the live-view checks (`Check.liveView`: streams,
   * pictures) are refused: an account without live-view rights. Spaced out as `refused`,
   * and only those checks wait. Null once they are answered.
   */
  liveViewRefused: Refusal | null = null;
  /**
   * Gateway time (ms) of the last retention measurement (./retention.ts): it is measured
   * hourly, not every poll; null until the first.
   */
  retentionMeasuredAt: number | null = null;
  /**
   * Per recording token, its oldest start at the last retention measurement (device time,
   * ms), when measured, and whether it was seen moving forward, i.e. overwritten
   * (./retention.ts: only those count for `retentionDays`). Lost on restart: the next
   * measurement learns anew.
   */
  retentionStarts = new Map<string, KnownStart>();
}

/** What the check remembers of a recording between measurements (DeviceMemory.retentionStarts; ./retention.ts). */
export interface KnownStart {
  /** Its earliest plausible start (device time, ms). */
  from: number;
  /** When that was measured (device time, ms). */
  at: number;
  /** Its start was seen moving forward by an overwrite. */
  overwriting: boolean;
}

/** A refusal of our credentials and when to try them again (../poll.ts). */
export interface Refusal {
  reason: Reason;
  /** Tries in a row that were refused. */
  tries: number;
  /** Gateway time (ms) from which the next poll tries again. */
  retryAt: number;
}

export interface CheckContext {
  device: { id: string; name: string; kind: 'camera' | 'nvr'; xaddr: string };
  client: OnvifClient;
  /** Aborted when the poll's deadline passes; hand it to every request. */
  signal: AbortSignal;
  settings: ChecksConfig;
  memory: DeviceMemory;
  /** The gateway clock (ms since the epoch); tests move it. */
  now: () => number;
  /** The poll interval, in seconds (the event pull point lives a few of them). */
  intervalS: number;
  /**
   * The liveness probe's deadline, where the probe runs and this poll is no confirmation
   * already: the reachable check asks its question a second time once the first request is
   * this overdue (reachable.ts). Absent: asked once.
   */
  confirmAfterMs?: number;
}

export interface CheckResult {
  /** Readings; `up` is decided by the poll as a whole, not by one check. */
  values?: Omit<Partial<DeviceMetricValues>, 'up'>;
  identity?: Identity;
  /** The device works but something is wrong with it (status degraded). */
  degraded?: Reason[];
  /**
   * The device fails this check (status down once confirmed); later checks are skipped.
   * Except auth-failed: the device answered, so ../poll.ts makes it a degraded reason and
   * skips only the later checks that need credentials.
   */
  failure?: Reason;
  /**
   * An NVR's recordings, every one, in token order (the recording check, from the
   * recording search); absent when the check could not list them this poll.
   */
  recordings?: RecordingRef[];
}

export interface Check {
  /** Unique, stable: it names the check in logs and tests. */
  readonly name: string;
  /** Device kinds it applies to; every kind when absent. */
  readonly appliesTo?: readonly ('camera' | 'nvr')[];
  /** Switched off in the configuration (checks.picture: false ...). */
  readonly enabled?: (settings: ChecksConfig) => boolean;
  /**
   * The check sends no credentials, so it runs on every poll even while the device refuses
   * ours: it is what still notices a device that refuses us and then dies. Absent: the
   * check needs credentials and is skipped while they are refused.
   */
  readonly withoutCredentials?: true;
  /**
   * The check watches live video (RTSP, snapshots), a right of its own that an account may
   * lack while ONVIF accepts it. Refused after another credentialed check of the same poll
   * was answered, only the live-view checks wait (../poll.ts): the recording, storage and
   * events checks still run every poll.
   */
  readonly liveView?: true;
  run(context: CheckContext): Promise<CheckResult>;
}

/**
 * Thrown by degradeOnFailure when the device refuses our credentials (an RTSP DESCRIBE or
 * a snapshot GET answered 401 after credentials: the account lacks media rights, or the
 * password changed): the check ends at once, without asking for its other channels, and
 * ../poll.ts takes `reason` as the refusal it is (degraded auth-failed, the credentialed
 * checks skipped, the next tries spaced out).
 */
export class CredentialsRefused extends Error {
  readonly reason: Reason;

  constructor(reason: Reason) {
    super(reason.message);
    this.name = 'CredentialsRefused';
    this.reason = reason;
  }
}

/**
 * Runs a device request whose failure only degrades the device (it answered the earlier
 * checks): an ONVIF failure becomes a degraded reason with `code`; refused credentials
 * throw CredentialsRefused instead (one refused login a poll, not one per channel).
 */
export async function degradeOnFailure<T>(
  code: Reason['code'],
  request: () => Promise<T>,
  channel?: string,
): Promise<{ value: T } | { reason: Reason }> {
  try {
    return { value: await request() };
  } catch (error) {
    // A certificate refused between two requests of this poll (it changed meanwhile): the
    // device is refused whole (tls-pins.ts), not this channel; ../poll.ts ends the poll.
    if (isCertificateRefusal(error)) throw error;
    if (error instanceof OnvifError) {
      const reason: Reason = { code, message: error.message.slice(0, 1000) };
      if (error.kind === 'auth-failed') {
        throw new CredentialsRefused({ code: 'auth-failed', message: reason.message });
      }
      if (channel !== undefined) reason.channel = channel;
      return { reason };
    }
    throw error;
  }
}

/** An HTTPS certificate the agent refuses (onvif/device-tls.ts): nothing more is asked. */
export function isCertificateRefusal(error: unknown): error is OnvifError {
  return error instanceof OnvifError && CERTIFICATE_CODES.includes(error.kind);
}

/**
 * Did the device answer, whatever it said? One home for the question that `reachable` and
 * the liveness probe (../liveness.ts) both ask of GetSystemDateAndTime. A refusal of
 * credentials is an answer: a device that wants them even for this request (against ONVIF
 * Core 5.12.1) is there. So is an HTTPS certificate we refuse: it came in a finished
 * handshake. A timeout, a refused connection or a malformed answer is not.
 */
export function answered(error: unknown): error is OnvifError {
  return (
    error instanceof OnvifError && (error.kind === 'auth-failed' || isCertificateRefusal(error))
  );
}

/** The reason of a failed request, with the certificates of a certificate-changed one. */
export function reasonOf(error: OnvifError): Reason {
  const reason: Reason = { code: error.kind, message: error.message.slice(0, 1000) };
  if (error.certificate) reason.certificate = error.certificate;
  return reason;
}

/**
 * Runs a device request and turns an ONVIF failure into the check's failure reason.
 * Anything else thrown is a bug in the agent, not a device problem, and goes up.
 */
export async function attempt<T>(
  request: () => Promise<T>,
  use: (value: T) => CheckResult,
): Promise<CheckResult> {
  let value: T;
  try {
    value = await request();
  } catch (error) {
    if (error instanceof OnvifError) return { failure: reasonOf(error) };
    throw error;
  }
  return use(value);
}
