/**
 * What the rest of the agent sees of ONVIF: our types, never node-onvif's or the XML
 * parser's (STYLE habit 7).
 */
import type { ErrorCode } from '../../shared/errors.js';
import type {
  EventMessage,
  RecordingInfo,
  RecordingJob,
  StorageConfig,
  VideoChannel,
} from './services.js';

export type { EventMessage, RecordingInfo, RecordingJob, StorageConfig, VideoChannel };

/**
 * How a request to a device failed. The names are the device-state reason codes of
 * shared/messages/device-state.ts, so a failure becomes a reason without translation.
 */
export type OnvifFailureKind = 'unreachable' | 'timeout' | 'auth-failed' | 'protocol-error';

const codes: Record<OnvifFailureKind, ErrorCode> = {
  unreachable: 'VIGIL_ONVIF_UNREACHABLE',
  timeout: 'VIGIL_ONVIF_TIMEOUT',
  'auth-failed': 'VIGIL_ONVIF_AUTH',
  'protocol-error': 'VIGIL_ONVIF_PROTOCOL',
};

export class OnvifError extends Error {
  readonly kind: OnvifFailureKind;
  /** The coded error of shared/errors.ts that says what to do about this kind. */
  readonly code: ErrorCode;

  constructor(kind: OnvifFailureKind, message: string) {
    super(message);
    this.name = 'OnvifError';
    this.kind = kind;
    this.code = codes[kind];
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
  /** Recording jobs with their state; null without a recording control service. */
  recordingJobs(signal?: AbortSignal): Promise<RecordingJob[] | null>;
  storage(signal?: AbortSignal): Promise<StorageConfig[]>;
  createPullPoint(keepAliveS: number, signal?: AbortSignal): Promise<string>;
  pullMessages(address: string, signal?: AbortSignal): Promise<EventMessage[]>;
  renew(address: string, keepAliveS: number, signal?: AbortSignal): Promise<void>;
  unsubscribe(address: string, signal?: AbortSignal): Promise<void>;
}
