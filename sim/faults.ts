/**
 * The fault catalogue: what each kind of fault does to a device. A fault never acts by
 * itself; it changes the device's effects, and the device (device.ts) makes its sockets,
 * answers, pictures, events and recordings match them. A new kind is a schema in
 * shared/api/sim.ts plus one entry here; the compiler refuses a kind without an entry.
 */
import {
  simFaultKinds,
  simFaultSchemas,
  type SimFault,
  type SimFaultKind,
} from '../shared/api/sim.js';
import { validator, type Validation } from '../shared/validate.js';

/** What a client sees of a picture source. */
export type PictureMode = 'live' | 'black' | 'frozen' | 'covered' | 'blurred';

/**
 * A recorder's disk as the vendors' APIs report it (Hikvision ISAPI hdd/status: ok,
 * error, smartFailed, unformatted, notexist for an empty bay; Dahua maps its own).
 */
export type DiskState = 'ok' | 'error' | 'smartFailed' | 'unformatted' | 'notexist';

/** How one video channel behaves once the faults are applied. */
export interface ChannelEffects {
  picture: PictureMode;
  /** RTSP answers 503 Service Unavailable for this channel's streams. */
  streamDown: boolean;
  /** The input has no signal: SignalLoss State=true, black picture. */
  signalLoss: boolean;
  /** Tamper detector fires: Tamper IsTamper=true, GlobalSceneChange State=true. */
  tamper: boolean;
  /** The recording job of this channel is stopped (DataUntil stops advancing). */
  recordingStopped: boolean;
  /**
   * An NVR's channel whose camera (on the NVR's own PoE port) is gone: the NVR reports the
   * channel offline, its video lost, and records nothing from it.
   */
  offline: boolean;
}

/** How a device behaves, once all of its faults are applied. */
export interface FaultEffects {
  /** The device's port accepts connections; false: connections are refused. */
  listening: boolean;
  /** Requests get answers; false: they are read and then held, unanswered. */
  answering: boolean;
  /** Added before every answer (SOAP, snapshot, RTSP). */
  delayMs: number;
  /** Down for half of this period, up for the other half; null: steady. */
  flapPeriodS: number | null;
  /** Replaces the SOAP answer: invalid XML, a SOAP fault, an HTTP 500 page. */
  soapBreak: 'malformed' | 'soap-fault' | 'http-500' | null;
  /** The password the device accepts now; null: the configured one. */
  password: string | null;
  /** RTSP and snapshots refuse the right credentials (an account without live-view rights). */
  liveViewRefused: boolean;
  clockOffsetMs: number;
  serialNumber: string | null;
  firmwareVersion: string | null;
  storageFailed: boolean;
  storageFull: boolean;
  /** An https device presents a second self-signed certificate (cert-changed). */
  certificateChanged: boolean;
  /** Disk bays (1-based) whose state a fault changed; a bay absent here is as configured. */
  disks: Record<number, DiskState>;
  /**
   * No disk of the recorder can take a recording: every bay that holds one is in error,
   * unformatted or removed. Its recording jobs stop in Error, as a recorder's do with
   * nowhere to write (a disk failing S.M.A.R.T. still records: Hikvision's smartFailed).
   */
  noDiskWorking: boolean;
  /** Days of recordings kept (the oldest recording's age); null: as the device's history. */
  retentionDays: number | null;
  /** Down for a reboot: comes back with a new LastReboot when the fault ends. */
  rebooting: boolean;
  /** Per channel; `channel(n)` gives channel n's effects. */
  channel(n: number): ChannelEffects;
}

const liveChannel: Readonly<ChannelEffects> = {
  picture: 'live',
  streamDown: false,
  signalLoss: false,
  tamper: false,
  recordingStopped: false,
  offline: false,
};

interface FaultEntry<F extends SimFault> {
  /** One line for error messages and help: what the fault does. */
  summary: string;
  example: F;
  /** Device-wide effects. */
  apply?(effects: Mutable, fault: F): void;
  /** Effects on one channel (only called for channels the fault hits). */
  applyChannel?(effects: ChannelEffects, fault: F): void;
  /** Seconds until the fault clears itself when the request gives no durationS. */
  defaultDurationS?(fault: F): number;
}

type Mutable = Omit<FaultEffects, 'channel'>;
type Catalogue = { [K in SimFaultKind]: FaultEntry<Extract<SimFault, { kind: K }>> };

const DEFAULT_SLOW_MS = 4000;
const DEFAULT_FLAP_S = 20;
const DEFAULT_REBOOT_S = 20;

const catalogue: Catalogue = {
  offline: {
    summary: 'the device refuses connections (powered off, cable cut); RTSP drops, no discovery',
    example: { kind: 'offline' },
    apply: (e) => void (e.listening = false),
  },
  hang: {
    summary: 'the device accepts connections and requests but never answers (firmware hung)',
    example: { kind: 'hang' },
    apply: (e) => void (e.answering = false),
  },
  slow: {
    summary: `every answer waits delayMs (default ${DEFAULT_SLOW_MS}) before it is sent`,
    example: { kind: 'slow', delayMs: DEFAULT_SLOW_MS },
    apply: (e, f) => void (e.delayMs = Math.max(e.delayMs, f.delayMs ?? DEFAULT_SLOW_MS)),
  },
  flapping: {
    summary: `offline for half of periodS (default ${DEFAULT_FLAP_S}), online for the other half, again and again`,
    example: { kind: 'flapping', periodS: DEFAULT_FLAP_S },
    apply: (e, f) => void (e.flapPeriodS = f.periodS ?? DEFAULT_FLAP_S),
  },
  'auth-changed': {
    summary:
      'the password was rotated: the old one gets NotAuthorized (new one in the device list)',
    example: { kind: 'auth-changed', password: 'rotated-password' },
    apply: (e, f) => void (e.password = f.password ?? 'rotated-by-sim'),
  },
  'live-view-refused': {
    summary:
      'the account lacks live-view rights: RTSP and snapshots answer 401 to the right credentials, SOAP accepts them',
    example: { kind: 'live-view-refused' },
    apply: (e) => void (e.liveViewRefused = true),
  },
  'clock-drift': {
    summary: 'the device clock is offsetS seconds off (GetSystemDateAndTime, token window)',
    example: { kind: 'clock-drift', offsetS: 600 },
    apply: (e, f) => void (e.clockOffsetMs = f.offsetS * 1000),
  },
  malformed: {
    summary: 'SOAP answers are HTTP 200 with invalid XML (cut off mid-element)',
    example: { kind: 'malformed' },
    apply: (e) => void (e.soapBreak = 'malformed'),
  },
  'soap-fault': {
    summary: 'every SOAP request gets HTTP 500 with an env:Receiver / ter:Action fault',
    example: { kind: 'soap-fault' },
    apply: (e) => void (e.soapBreak = 'soap-fault'),
  },
  'http-500': {
    summary: 'every SOAP request gets HTTP 500 with an HTML error page (web server broken)',
    example: { kind: 'http-500' },
    apply: (e) => void (e.soapBreak = 'http-500'),
  },
  'stream-down': {
    summary: 'RTSP answers 503 Service Unavailable for the channel (or every channel)',
    example: { kind: 'stream-down' },
    applyChannel: (c) => void (c.streamDown = true),
  },
  'snapshot-black': {
    summary: 'the snapshot is a black picture',
    example: { kind: 'snapshot-black' },
    applyChannel: (c) => void (c.picture = 'black'),
  },
  'snapshot-frozen': {
    summary: 'the snapshot is the same picture forever (clock stopped)',
    example: { kind: 'snapshot-frozen' },
    applyChannel: (c) => void (c.picture = c.picture === 'live' ? 'frozen' : c.picture),
  },
  'snapshot-covered': {
    summary: 'the snapshot is a near-uniform grey picture (lens covered or sprayed)',
    example: { kind: 'snapshot-covered' },
    applyChannel: (c) => void (c.picture = c.picture === 'black' ? 'black' : 'covered'),
  },
  'video-loss': {
    summary: 'tns1:VideoSource/SignalLoss State=true and a black snapshot',
    example: { kind: 'video-loss', channel: 1 },
    applyChannel: (c) => {
      c.signalLoss = true;
      c.picture = 'black';
    },
  },
  tamper: {
    summary:
      'tns1:RuleEngine/TamperDetector/Tamper IsTamper=true, GlobalSceneChange State=true, covered snapshot',
    example: { kind: 'tamper' },
    applyChannel: (c) => {
      c.tamper = true;
      if (c.picture !== 'black') c.picture = 'covered';
    },
  },
  reboot: {
    summary: `offline for downS (default ${DEFAULT_REBOOT_S}) then back with a new LastReboot; clears itself`,
    example: { kind: 'reboot', downS: DEFAULT_REBOOT_S },
    apply: (e) => {
      e.listening = false;
      e.rebooting = true;
    },
    defaultDurationS: (f) => f.downS ?? DEFAULT_REBOOT_S,
  },
  replaced: {
    summary: 'same address, another unit: GetDeviceInformation reports a new serial number',
    example: { kind: 'replaced' },
    apply: (e, f) => void (e.serialNumber = f.serialNumber ?? ''),
  },
  'firmware-changed': {
    summary: 'GetDeviceInformation reports another FirmwareVersion',
    example: { kind: 'firmware-changed', firmwareVersion: '9.9.9 build 270101' },
    apply: (e, f) => void (e.firmwareVersion = f.firmwareVersion ?? ''),
  },
  'recording-stopped': {
    summary: 'DataUntil stops advancing, job state Idle, tns1:RecordingConfig/JobState event',
    example: { kind: 'recording-stopped', channel: 2 },
    applyChannel: (c) => void (c.recordingStopped = true),
  },
  'storage-failure': {
    summary:
      'tns1:Device/HardwareFailure/StorageFailure Failed=true; every recording stops (job state Error)',
    example: { kind: 'storage-failure' },
    apply: (e) => void (e.storageFailed = true),
  },
  'storage-full': {
    summary: 'the disk is full and overwrite is off: every recording stops (job state Error)',
    example: { kind: 'storage-full' },
    apply: (e) => void (e.storageFull = true),
  },
  'cert-changed': {
    summary:
      'an https device presents another self-signed certificate (a replaced device, a renewed certificate, or an impostor); cleared, the original again; an http device is unchanged',
    example: { kind: 'cert-changed' },
    apply: (e) => void (e.certificateChanged = true),
  },
  'disk-error': {
    summary:
      'the disk in bay `disk` (default 1) fails: ISAPI status error (or smartFailed), Dahua State Error',
    example: { kind: 'disk-error', disk: 1, state: 'error' },
    apply: (e, f) => void (e.disks = { ...e.disks, [f.disk ?? 1]: f.state ?? 'error' }),
  },
  'disk-unformatted': {
    summary: 'the disk in bay `disk` (default 1) is new and unformatted: nothing is recorded on it',
    example: { kind: 'disk-unformatted', disk: 2 },
    apply: (e, f) => void (e.disks = { ...e.disks, [f.disk ?? 1]: 'unformatted' }),
  },
  'disk-removed': {
    summary: 'bay `disk` (default 1) is empty: ISAPI status notexist (not a failure)',
    example: { kind: 'disk-removed', disk: 2 },
    apply: (e, f) => void (e.disks = { ...e.disks, [f.disk ?? 1]: 'notexist' }),
  },
  'retention-short': {
    summary:
      'the oldest recording is `days` old (overwritten early: disks too small, bitrate too high)',
    example: { kind: 'retention-short', days: 12 },
    apply: (e, f) => void (e.retentionDays = f.days),
  },
  'picture-blurred': {
    summary: 'the snapshot is out of focus (a knocked lens, condensation): the scene, blurred',
    example: { kind: 'picture-blurred', channel: 1 },
    applyChannel: (c) => void (c.picture = c.picture === 'live' ? 'blurred' : c.picture),
  },
  'channel-offline': {
    summary:
      "an NVR's camera on its own PoE port is gone: channel offline, video lost, nothing recorded",
    example: { kind: 'channel-offline', channel: 2 },
    applyChannel: (c) => {
      c.offline = true;
      c.signalLoss = true;
      c.picture = 'black';
      c.recordingStopped = true;
    },
  },
};

export const faultKinds: SimFaultKind[] = [...simFaultKinds];

function entryOf<F extends SimFault>(fault: F): FaultEntry<F> {
  // The mapped type guarantees catalogue[fault.kind] handles exactly this kind.
  return catalogue[fault.kind] as unknown as FaultEntry<F>;
}

function channelOf(fault: SimFault): number | undefined {
  return 'channel' in fault ? fault.channel : undefined;
}

function diskOf(fault: SimFault): number | undefined {
  return 'disk' in fault ? (fault.disk ?? 1) : undefined;
}

/** Disk states in which nothing is written to the disk. */
const NOT_RECORDING: ReadonlySet<DiskState> = new Set(['error', 'unformatted', 'notexist']);

/**
 * What the faults do, together. `bays`: the recorder's bays that hold a disk (1-based), so
 * that disk faults on all of them stop its recordings; none for a camera.
 */
export function effectsOf(faults: readonly SimFault[], bays: readonly number[] = []): FaultEffects {
  const effects: Mutable = {
    listening: true,
    answering: true,
    delayMs: 0,
    flapPeriodS: null,
    soapBreak: null,
    password: null,
    liveViewRefused: false,
    certificateChanged: false,
    clockOffsetMs: 0,
    serialNumber: null,
    firmwareVersion: null,
    storageFailed: false,
    storageFull: false,
    rebooting: false,
    disks: {},
    noDiskWorking: false,
    retentionDays: null,
  };
  for (const fault of faults) entryOf(fault).apply?.(effects, fault);
  effects.noDiskWorking =
    bays.length > 0 && bays.every((bay) => NOT_RECORDING.has(effects.disks[bay] ?? 'ok'));
  const channelFaults = faults.filter((f) => entryOf(f).applyChannel);
  const storageStops = effects.storageFailed || effects.storageFull || effects.noDiskWorking;
  return {
    ...effects,
    channel(n: number): ChannelEffects {
      const channel = { ...liveChannel, recordingStopped: storageStops };
      for (const fault of channelFaults) {
        const target = channelOf(fault);
        if (target === undefined || target === n) entryOf(fault).applyChannel?.(channel, fault);
      }
      return channel;
    },
  };
}

/** Faults of the same kind on the same channel (or disk bay) replace each other. */
export function faultKey(fault: SimFault): string {
  const disk = diskOf(fault);
  if (disk !== undefined) return `${fault.kind}:disk${disk}`;
  return `${fault.kind}:${channelOf(fault) ?? '*'}`;
}

/** The device's faults after adding one: a kind (per channel) is active once, the newest wins. */
export function withFault(faults: readonly SimFault[], fault: SimFault): SimFault[] {
  const key = faultKey(fault);
  return [...faults.filter((f) => faultKey(f) !== key), fault];
}

/** When the fault ends by itself, in seconds from now; undefined: when cleared. */
export function durationOf(fault: SimFault): number | undefined {
  return fault.durationS ?? entryOf(fault).defaultDurationS?.(fault);
}

const checkers = Object.fromEntries(
  Object.entries(simFaultSchemas).map(([kind, schema]) => [kind, validator(schema)]),
) as Record<SimFaultKind, (value: unknown) => Validation<SimFault>>;

/**
 * Checks a fault in two steps, kind first, so a mistake in one kind's fields is reported
 * against that kind's schema only (a union would list every other kind's complaints).
 */
export function checkFault(value: unknown): Validation<SimFault> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: ['(root): must be an object such as {"kind":"offline"}'] };
  }
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kind in checkers)) {
    return {
      ok: false,
      errors: [`kind: must be one of ${faultKinds.map((k) => JSON.stringify(k)).join(', ')}`],
    };
  }
  return checkers[kind as SimFaultKind](value);
}

export function isFaultKind(kind: string): kind is SimFaultKind {
  return kind in checkers;
}

/** What the control API accepts, for the answer to a bad request and for the README. */
export function acceptedFaults(): string[] {
  return faultKinds.map((kind) => {
    const entry = catalogue[kind];
    return `${JSON.stringify(entry.example)}: ${entry.summary}`;
  });
}
