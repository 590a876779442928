import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { DeviceIdentity, DeviceKind, DeviceStatus, Header } from './common.js';

/**
 * Why a device is not up. `down` reasons: unreachable (refused, no route), timeout (no
 * answer in time), protocol-error (malformed answer, SOAP fault). `degraded` reasons come
 * with the later health checks, and auth-failed is one of them: the device answers but
 * refuses the agent's credentials (ONVIF ter:NotAuthorized, HTTP 401: the password was
 * changed, or the account lacks rights). It still records; only our watching stopped, so
 * it is no outage. Agents before issue 13 sent it as a down reason: see `statusOf`.
 */
export const ReasonCode = Type.Union([
  Type.Literal('unreachable'),
  Type.Literal('timeout'),
  Type.Literal('auth-failed'),
  Type.Literal('protocol-error'),
  Type.Literal('clock-drift'),
  Type.Literal('slow-response'),
  // Inventory: the serial number changed at the same address / the firmware changed.
  // Kept among the reasons for a while (agent checks.identityEventS) so the NOC sees it.
  Type.Literal('device-replaced'),
  Type.Literal('firmware-changed'),
  // Per channel (Reason.channel): video, stream and picture.
  Type.Literal('stream-down'),
  Type.Literal('snapshot-failed'),
  Type.Literal('picture-black'),
  Type.Literal('picture-covered'),
  Type.Literal('picture-frozen'),
  // Out of focus or smeared: the picture's sharpness far below the camera's own baseline.
  Type.Literal('picture-blurred'),
  Type.Literal('video-loss'),
  Type.Literal('tampering'),
  // NVR: a channel's newest recording lags behind now; storage failure or full.
  Type.Literal('recording-stopped'),
  Type.Literal('storage-failure'),
  Type.Literal('storage-full'),
  // NVR: days of recordings kept (retentionDays) below the site's retentionGoalDays.
  Type.Literal('retention-short'),
  // ONVIF event tns1:Device/HardwareFailure/* (fan, power supply, temperature).
  Type.Literal('hardware-failure'),
  // HTTPS device service: the certificate differs from the one pinned on first use, or
  // (with a configured CA file) does not chain to that CA. Degraded, not down: the device
  // answers the TLS handshake, but the agent refuses to exchange data with it until an
  // operator accepts the new certificate (docs/ONVIF.md, HTTPS and pinning).
  Type.Literal('certificate-changed'),
  Type.Literal('certificate-untrusted'),
]);

/** A SHA-256 certificate fingerprint as OpenSSL and node print it: 32 hex pairs joined by ':'. */
export const Fingerprint = Type.String({ pattern: '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' });

/** The two certificates of a `certificate-changed` reason. */
export const CertificateChange = Type.Object(
  {
    /** The fingerprint pinned on first use (or last accepted by an operator). */
    pinned: Fingerprint,
    /** The fingerprint the device presents now, refused. */
    presented: Fingerprint,
  },
  { additionalProperties: false },
);

export const Reason = Type.Object(
  {
    code: ReasonCode,
    message: Type.String({ maxLength: 1000 }),
    /** The video channel (media profile or source token, or recording) it concerns. */
    channel: Type.Optional(Type.String({ maxLength: 200 })),
    /** `certificate-changed`: the pinned and the presented certificate. */
    certificate: Type.Optional(CertificateChange),
    /**
     * The device that saw this, when it is not the device itself: the NVR that reports
     * its PoE camera's channel offline or its video lost (issue 14, cameras behind an NVR).
     */
    witness: Type.Optional(Id),
  },
  { additionalProperties: false },
);

/**
 * One recording of an NVR (ONVIF Profile G, Recording Search FindRecordings /
 * GetRecordingSearchResults): its token, the `channel` of its `recording-stopped` reasons,
 * and the camera it holds (RecordingInformation/Source/Name, else SourceId) when known.
 */
export const RecordingRef = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    source: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Retained: the latest state of one device; published at once when it changes. */
export const DeviceState = Type.Object(
  {
    ...Header,
    deviceId: Id,
    name: Type.String({ maxLength: 200 }),
    kind: DeviceKind,
    xaddr: Type.String({ format: 'uri' }),
    status: DeviceStatus,
    /** When the device entered this status. */
    since: Timestamp,
    reasons: Type.Array(Reason),
    identity: Type.Optional(DeviceIdentity),
    /**
     * An NVR's recordings, every one (clean ones included), in token order, so that the
     * NOC sees each channel; absent for a camera or when the recorder has not answered
     * the search yet. Changes only when the recorder's recordings change.
     */
    recordings: Type.Optional(Type.Array(RecordingRef, { maxItems: 256 })),
  },
  { additionalProperties: false },
);

export type RecordingRef = Static<typeof RecordingRef>;
export type ReasonCode = Static<typeof ReasonCode>;
export type Reason = Static<typeof Reason>;
export type CertificateChange = Static<typeof CertificateChange>;
export type DeviceState = Static<typeof DeviceState>;

/**
 * The reasons of a device that does not answer as it should: a device `down` has one of
 * these, and every other code is a condition of a device that answers. One list for every
 * reader: the degradations rule (broker/detect/rules/degradations.ts), the outage spans
 * that open and close while a device is down (broker/devices/outages.ts) and their API.
 */
export const DOWN_CODES: readonly ReasonCode[] = ['unreachable', 'timeout', 'protocol-error'];

/**
 * The reasons of an HTTPS certificate the agent refuses (agent/onvif/device-tls.ts): the
 * device answered the TLS handshake, so it is there and degraded, never down; nothing more
 * is asked of it until an operator accepts the certificate (agent/poll.ts).
 */
export const CERTIFICATE_CODES: readonly ReasonCode[] = [
  'certificate-changed',
  'certificate-untrusted',
];

/**
 * The status a receiver takes from a state message: the message's own, except that an
 * older agent's `down` whose only reason is auth-failed reads as `degraded`. That agent
 * ended its poll at the first refused request; the device answered it, so it was there
 * (and recording), as a current agent says. One home for the rule: the broker's registry
 * applies it to every state it takes (broker/stages/track-state.ts), so detection, the
 * outage history and the inspection report all see the same status.
 */
export function statusOf(state: Pick<DeviceState, 'status' | 'reasons'>): DeviceState['status'] {
  const onlyRefused =
    state.reasons.length > 0 && state.reasons.every((reason) => reason.code === 'auth-failed');
  return state.status === 'down' && onlyRefused ? 'degraded' : state.status;
}

export const deviceStateExample: DeviceState = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  seq: 42,
  ts: '2026-11-26T08:03:15.120Z',
  deviceId: 'cam-01',
  name: 'Lobby entrance',
  kind: 'camera',
  xaddr: 'http://192.0.2.11/onvif/device_service',
  status: 'down',
  since: '2026-11-26T08:03:15.120Z',
  reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.11:80' }],
  identity: {
    manufacturer: 'Vigil Sim',
    model: 'VS-IPC-4M',
    firmwareVersion: '5.7.3 build 260101',
    serialNumber: 'VS4M2026110001',
    hardwareId: 'HW-4M-A1',
  },
};

/** An NVR with one of its four channels not recording. */
export const deviceStateNvrExample: DeviceState = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  seq: 43,
  ts: '2026-11-26T08:03:20.480Z',
  deviceId: 'nvr-01',
  name: 'Recorder rack A',
  kind: 'nvr',
  xaddr: 'http://192.0.2.50/onvif/device_service',
  status: 'degraded',
  since: '2026-11-26T08:03:20.480Z',
  reasons: [
    {
      code: 'recording-stopped',
      message: 'Channel 2: newest recording 130 s old (limit 120 s, status Idle)',
      channel: 'REC_CH02',
    },
  ],
  recordings: [
    { token: 'REC_CH01', source: 'Channel 1' },
    { token: 'REC_CH02', source: 'Channel 2' },
    { token: 'REC_CH03', source: 'Channel 3' },
    { token: 'REC_CH04', source: 'Channel 4' },
  ],
};
