/**
 * What the rest of the agent sees of ONVIF: our types, never node-onvif's or the XML
 * parser's (STYLE habit 7).
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { CertificateChange } from '../../shared/messages/device-state.js';

/**
 * How a request to a device failed. The names are the device-state reason codes of
 * shared/messages/device-state.ts, so a failure becomes a reason without translation.
 */
export type OnvifFailureKind =
  | 'unreachable'
  | 'timeout'
  | 'auth-failed'
  | 'protocol-error'
  // HTTPS (device-tls.ts): a certificate we refuse, so nothing was exchanged.
  | 'certificate-changed'
  | 'certificate-untrusted';

const codes: Record<OnvifFailureKind, ErrorCode> = {
  unreachable: 'VIGIL_ONVIF_UNREACHABLE',
  timeout: 'VIGIL_ONVIF_TIMEOUT',
  'auth-failed': 'VIGIL_ONVIF_AUTH',
  'protocol-error': 'VIGIL_ONVIF_PROTOCOL',
  'certificate-changed': 'VIGIL_DEVICE_CERT_CHANGED',
  'certificate-untrusted': 'VIGIL_DEVICE_CERT_UNTRUSTED',
};

export class OnvifError extends Error {
  readonly kind: OnvifFailureKind;
  /** The coded error of shared/errors.ts that says what to do about this kind. */
  readonly code: ErrorCode;
  /** certificate-changed: the pinned and the presented fingerprints. */
  readonly certificate: CertificateChange | undefined;

  constructor(kind: OnvifFailureKind, message: string, certificate?: CertificateChange) {
    super(message);
    this.name = 'OnvifError';
    this.kind = kind;
    this.code = codes[kind];
    this.certificate = certificate;
  }
}

/** tds:GetSystemDateAndTime as the agent uses it (ONVIF Core 8.3.11). */
export interface DeviceClock {
  /** The device's UTC clock, or null when its answer carried no usable UTCDateTime. */
  deviceUtc: Date | null;
  /** Device clock minus gateway clock at the midpoint of the request, in milliseconds. */
  offsetMs: number | null;
  /** Round trip of the request, in milliseconds. */
  responseMs: number;
}

/** tds:GetDeviceInformation (ONVIF Core, section 8.3 System). */
export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface MediaProfiles {
  count: number;
}

/** One device's client; the adapter implements it, tests may fake it. */
export interface OnvifClient {
  clock(signal?: AbortSignal): Promise<DeviceClock>;
  /**
   * The liveness probe's question: resolves when the device answers GetSystemDateAndTime
   * (as clock() would, without reading the clock); rejects with an OnvifError as clock()
   * does. Optional: without it the probe asks clock().
   */
  probe?(signal?: AbortSignal): Promise<void>;
  deviceInformation(signal?: AbortSignal): Promise<DeviceInformation>;
  profiles(signal?: AbortSignal): Promise<MediaProfiles>;
  /** Video channels: the media profiles grouped by video source. */
  channels(signal?: AbortSignal): Promise<VideoChannel[]>;
  streamUri(profileToken: string, signal?: AbortSignal): Promise<string>;
  snapshotUri(profileToken: string, signal?: AbortSignal): Promise<string>;
  /** RTSP DESCRIBE status of a stream URI. */
  describe(uri: string, signal?: AbortSignal): Promise<number>;
  /** The bytes of a snapshot URI. */
  snapshot(uri: string, signal?: AbortSignal): Promise<Buffer>;
  /** Profile G recordings; null when the device has no recording search (a camera). */
  recordings(signal?: AbortSignal): Promise<RecordingInfo[] | null>;
  /**
   * Recording jobs with their state; null without a recording control service. `which`,
   * given the job list, names the jobs whose state to ask (one request each); the others
   * come back with `state` null. Absent: every job's state is asked.
   */
  recordingJobs(
    signal?: AbortSignal,
    which?: (jobs: readonly RecordingJobItem[]) => ReadonlySet<string>,
  ): Promise<RecordingJob[] | null>;
  storage(signal?: AbortSignal): Promise<StorageConfig[]>;
  createPullPoint(keepAliveS: number, signal?: AbortSignal): Promise<string>;
  pullMessages(address: string, signal?: AbortSignal): Promise<EventMessage[]>;
  renew(address: string, keepAliveS: number, signal?: AbortSignal): Promise<void>;
  unsubscribe(address: string, signal?: AbortSignal): Promise<void>;
  /**
   * A GET of `path` (`/ISAPI/ContentMgmt/Storage`, `/cgi-bin/magicBox.cgi?action=...`) on
   * the device's own HTTP API, at the origin (scheme, host, port) of its service address,
   * with the device's credentials (vendor-http.ts). Null when the device lacks the path
   * (404, 405, 501); any other answer is returned for the vendor driver to read (ISAPI
   * explains a 403 in its body, Dahua's CGI a 400). Rejects with an OnvifError when no
   * answer came, or when the credentials were refused (401: auth-failed).
   *
   * Optional: a client that speaks only ONVIF (a test's fake) has none, and the vendor
   * checks then report nothing (agent/drivers/).
   */
  vendorGet?(path: string, signal?: AbortSignal): Promise<VendorAnswer | null>;
}

/** What a device's own HTTP API answered (OnvifClient.vendorGet). */
export interface VendorAnswer {
  /** The HTTP status: 2xx, or a refusal the vendor explains in its body (400, 403, 5xx). */
  status: number;
  /** The body as text (a UTF-8 or UTF-16 byte order mark honoured). */
  body: string;
}

// ---- what our own SOAP calls (./services.ts) read from a device ---------------------

export interface VideoChannel {
  /** The media profile used for this channel (the first profile of its video source). */
  profileToken: string;
  sourceToken: string;
  name: string;
  encoding: string | null;
  /** Absent on NVRs whose encoder configurations lack Resolution. */
  width: number | null;
  height: number | null;
  /** Every profile of this source (main stream, sub stream ...). */
  profiles: number;
}

export interface RecordingInfo {
  token: string;
  /** The camera (source) the recording holds: its name, or its id. */
  source: string;
  /** The newest recorded moment, in device time; null when the device says nothing. */
  latest: Date | null;
  /**
   * Where its recorded data starts, as the device says it (device time): EarliestRecording,
   * then each track's DataFrom (Recording Search, RecordingInformation and TrackInformation
   * structures: "the oldest data in the recording"; a track without data is not listed).
   * Not judged here: some recorders say 1970-01-01 for a start they do not know
   * (../checks/retention.ts). Empty or absent: the device gave none.
   */
  starts?: Date[];
  /** RecordingStatus: Recording, Stopped, Initiated, Unknown ... */
  status: string;
}

/**
 * A recording job (ONVIF Recording Control 5.3): `mode` is what it is told to do (Active:
 * record), `state` what it does (Idle, Active, PartiallyActive, Error).
 */
/** A job as GetRecordingJobs lists it (Recording Control 5.3.4): no state. */
export interface RecordingJobItem {
  token: string;
  recordingToken: string;
  /** What the job is told to do: Active (record) or Idle. */
  mode: string;
}

export interface RecordingJob extends RecordingJobItem {
  /** GetRecordingJobState's State (Active, Idle, Error...); null: not asked this time. */
  state: string | null;
  /** The tracks' Error texts, when the device gives any (storage full ...). */
  errors: string[];
}

export interface StorageConfig {
  token: string;
  type: string;
  path: string;
}

export interface EventMessage {
  topic: string;
  utcTime: Date | null;
  /** Property operation: Initialized, Changed, Deleted (ONVIF Core 9.2.1). */
  operation: string;
  source: Record<string, string>;
  data: Record<string, string>;
}
