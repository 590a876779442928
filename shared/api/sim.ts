/**
 * The simulator's control API (`vigil sim`): list the simulated devices, inject or clear
 * faults, read what each device was asked, reset the site. Tests of other parts and the
 * demo drive the simulator through it.
 *
 *   GET    /sim/devices                     -> SimDevice[]
 *   GET    /sim/devices/{id}                -> SimDevice               (404 ApiError)
 *   POST   /sim/devices/{id}/faults         SimFault -> 201 SimDevice  (400, 404 ApiError)
 *   DELETE /sim/devices/{id}/faults         -> 200 SimDevice, every fault cleared
 *   DELETE /sim/devices/{id}/faults/{kind}  -> 200 SimDevice, that fault cleared
 *   GET    /sim/devices/{id}/requests       -> SimRequestLogEntry[] (oldest first, last 500)
 *   POST   /sim/reset                       -> 200 SimDevice[]: every device as at start
 *   GET    /sim/gateway                     -> SimGateway              (404 ApiError: no file)
 *   POST   /sim/gateway/faults              SimGatewayFault -> 201 SimGateway
 *   DELETE /sim/gateway/faults              -> 200 SimGateway, cooled down
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Id } from '../ids.js';
import { DeviceKind } from '../messages/common.js';

export const simRoutes = {
  devices: '/sim/devices',
  device: (id: string) => `/sim/devices/${encodeURIComponent(id)}`,
  faults: (id: string) => `/sim/devices/${encodeURIComponent(id)}/faults`,
  fault: (id: string, kind: string) =>
    `/sim/devices/${encodeURIComponent(id)}/faults/${encodeURIComponent(kind)}`,
  requests: (id: string) => `/sim/devices/${encodeURIComponent(id)}/requests`,
  reset: '/sim/reset',
  gateway: '/sim/gateway',
  gatewayFaults: '/sim/gateway/faults',
} as const;

/** Seconds after which the fault clears itself; absent: until cleared. */
const durationS = Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 7 * 86_400 }));
/** The 1-based video channel (NVR input) the fault hits; absent: every channel. */
const channel = Type.Optional(Type.Integer({ minimum: 1, maximum: 256 }));
/** The 1-based disk bay of a recorder the fault hits; absent: the first bay. */
const disk = Type.Optional(Type.Integer({ minimum: 1, maximum: 64 }));

function fault<K extends string, P extends Record<string, TSchema>>(kind: K, fields: P) {
  return Type.Object(
    { kind: Type.Literal(kind), durationS, ...fields },
    { additionalProperties: false },
  );
}

/**
 * Every fault the simulator can inject into one device, one schema per kind (the
 * behaviour of each is described in sim/README.md and sim/faults.ts).
 */
export const simFaultSchemas = {
  offline: fault('offline', {}),
  hang: fault('hang', {}),
  slow: fault('slow', { delayMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })) }),
  flapping: fault('flapping', {
    periodS: Type.Optional(Type.Number({ minimum: 0.2, maximum: 86_400 })),
  }),
  'auth-changed': fault('auth-changed', { password: Type.Optional(Type.String({ minLength: 1 })) }),
  'live-view-refused': fault('live-view-refused', {}),
  'clock-drift': fault('clock-drift', {
    offsetS: Type.Number({ minimum: -3e9, maximum: 3e9 }),
  }),
  malformed: fault('malformed', {}),
  'soap-fault': fault('soap-fault', {}),
  'http-500': fault('http-500', {}),
  'stream-down': fault('stream-down', { channel }),
  'snapshot-black': fault('snapshot-black', { channel }),
  'snapshot-frozen': fault('snapshot-frozen', { channel }),
  'snapshot-covered': fault('snapshot-covered', { channel }),
  'video-loss': fault('video-loss', { channel }),
  tamper: fault('tamper', { channel }),
  reboot: fault('reboot', { downS: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })) }),
  replaced: fault('replaced', { serialNumber: Type.Optional(Type.String({ minLength: 1 })) }),
  'firmware-changed': fault('firmware-changed', {
    firmwareVersion: Type.Optional(Type.String({ minLength: 1 })),
  }),
  'recording-stopped': fault('recording-stopped', { channel }),
  'storage-failure': fault('storage-failure', {}),
  'storage-full': fault('storage-full', {}),
  'cert-changed': fault('cert-changed', {}),
  // Issue 14: what the vendors' own APIs (Hikvision ISAPI, Dahua CGI) and Profile G tell.
  'disk-error': fault('disk-error', {
    disk,
    /** Hikvision's two failed states: error, or S.M.A.R.T. predicting failure. */
    state: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('smartFailed')])),
  }),
  'disk-unformatted': fault('disk-unformatted', { disk }),
  'disk-removed': fault('disk-removed', { disk }),
  'retention-short': fault('retention-short', {
    days: Type.Number({ minimum: 0, maximum: 3650 }),
  }),
  'picture-blurred': fault('picture-blurred', { channel }),
  'channel-offline': fault('channel-offline', { channel }),
} as const;

const f = simFaultSchemas;
export const SimFault = Type.Union([
  f.offline,
  f.hang,
  f.slow,
  f.flapping,
  f['auth-changed'],
  f['live-view-refused'],
  f['clock-drift'],
  f.malformed,
  f['soap-fault'],
  f['http-500'],
  f['stream-down'],
  f['snapshot-black'],
  f['snapshot-frozen'],
  f['snapshot-covered'],
  f['video-loss'],
  f.tamper,
  f.reboot,
  f.replaced,
  f['firmware-changed'],
  f['recording-stopped'],
  f['storage-failure'],
  f['storage-full'],
  f['cert-changed'],
  f['disk-error'],
  f['disk-unformatted'],
  f['disk-removed'],
  f['retention-short'],
  f['picture-blurred'],
  f['channel-offline'],
]);
export type SimFault = Static<typeof SimFault>;
export type SimFaultKind = SimFault['kind'];
export const simFaultKinds = Object.keys(simFaultSchemas) as SimFaultKind[];

export const simFaultExamples: SimFault[] = [
  { kind: 'offline' },
  { kind: 'hang', durationS: 30 },
  { kind: 'slow', delayMs: 4000 },
  { kind: 'clock-drift', offsetS: 600 },
  { kind: 'video-loss', channel: 3 },
  { kind: 'reboot', downS: 20 },
];

/**
 * A fault of the site gateway the agent runs on, not of a device: the simulator writes the
 * gateway's temperature file (`vigil sim --gateway-temperature-file`, in the millidegrees
 * of a Linux thermal zone) that the agent reads (`gateway.temperatureFile`).
 */
export const SimGatewayFault = Type.Object(
  {
    kind: Type.Literal('gateway-hot'),
    durationS,
    /** The temperature the gateway reports, °C; default 92 (past where gateways throttle). */
    temperatureC: Type.Optional(Type.Number({ minimum: -40, maximum: 150 })),
  },
  { additionalProperties: false },
);
export type SimGatewayFault = Static<typeof SimGatewayFault>;

/** The simulated gateway: its temperature file, what it says now, and the fault if any. */
export const SimGateway = Type.Object(
  {
    temperatureFile: Type.String(),
    temperatureC: Type.Number(),
    faults: Type.Array(SimGatewayFault),
  },
  { additionalProperties: false },
);
export type SimGateway = Static<typeof SimGateway>;

export const simGatewayExample: SimGateway = {
  temperatureFile: '/var/lib/vigil/demo/gateway-temperature',
  temperatureC: 92,
  faults: [{ kind: 'gateway-hot', temperatureC: 92 }],
};

/** A simulated device as the control API shows it: a simulator, so credentials included. */
export const SimDevice = Type.Object(
  {
    id: Id,
    kind: DeviceKind,
    name: Type.String(),
    /** Device service entry point: http://HOST:PORT/onvif/device_service */
    xaddr: Type.String(),
    serialNumber: Type.String(),
    manufacturer: Type.String(),
    model: Type.String(),
    firmwareVersion: Type.String(),
    hardwareId: Type.String(),
    /** Video inputs: 1 for a camera, the channel count for an NVR. */
    channels: Type.Integer({ minimum: 1 }),
    /** The account the device accepts now (auth-changed rotates the password). */
    credentials: Type.Object(
      { username: Type.String(), password: Type.String() },
      { additionalProperties: false },
    ),
    /**
     * The account its vendor API (ISAPI, Dahua CGI) accepts, where it is another user list
     * than ONVIF's (site file `vendorCredentials`, as on Hikvision and Dahua firmware):
     * then ONVIF refuses it and the vendor API refuses `credentials`. Absent: the vendor
     * API, if the device has one, accepts `credentials`.
     */
    vendorCredentials: Type.Optional(
      Type.Object(
        { username: Type.String(), password: Type.String() },
        { additionalProperties: false },
      ),
    ),
    /** Name of the personality (set of real-world quirks) the device answers with. */
    personality: Type.String(),
    /** An https device: the SHA-256 fingerprint of the certificate it presents now. */
    tlsFingerprint: Type.Optional(Type.String()),
    /**
     * Users the device locks out now after wrong passwords, per client address, and until
     * when (ISO 8601); even the right password is refused meanwhile (sim/lockout.ts).
     */
    lockouts: Type.Array(
      Type.Object(
        { username: Type.String(), from: Type.String(), until: Type.String() },
        { additionalProperties: false },
      ),
    ),
    /** Stream URI of each profile, by profile token. */
    streams: Type.Record(Type.String(), Type.String()),
    faults: Type.Array(SimFault),
  },
  { additionalProperties: false },
);
export type SimDevice = Static<typeof SimDevice>;
export const SimDeviceList = Type.Array(SimDevice);

/** One request a device received, as the request log shows it. */
export const SimRequestLogEntry = Type.Object(
  {
    /** ISO 8601 time the request arrived (simulator wall clock). */
    at: Type.String(),
    /** soap, snapshot, rtsp or http (anything else). */
    protocol: Type.String(),
    /** HTTP path or RTSP URI path. */
    path: Type.String(),
    /** SOAP operation or RTSP method; '' when unknown. */
    operation: Type.String(),
    /** HTTP or RTSP status answered; 0 when none was (hang, offline, dropped). */
    status: Type.Integer(),
    /** The request carried a valid UsernameToken. */
    authenticated: Type.Boolean(),
    /** Address of the client. */
    from: Type.String(),
    /** Why a request was refused (the SOAP fault's reason), when it was. */
    detail: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SimRequestLogEntry = Static<typeof SimRequestLogEntry>;
export const SimRequestLog = Type.Array(SimRequestLogEntry);

export const simDeviceExample: SimDevice = {
  id: 'cam-01',
  kind: 'camera',
  name: 'Lobby entrance',
  xaddr: 'http://127.0.0.1:40101/onvif/device_service',
  serialNumber: 'VS4M2026110001',
  manufacturer: 'Vigil Sim',
  model: 'VS-IPC-4M',
  firmwareVersion: '5.7.3 build 260101',
  hardwareId: 'HW-4M-A1',
  channels: 1,
  credentials: { username: 'admin', password: 'example-password' },
  personality: 'standard',
  lockouts: [],
  streams: { main: 'rtsp://127.0.0.1:8554/cam-01/main', sub: 'rtsp://127.0.0.1:8554/cam-01/sub' },
  faults: [{ kind: 'hang' }],
};

export const simRequestLogExample: SimRequestLogEntry[] = [
  {
    at: '2026-11-26T01:00:00.000Z',
    protocol: 'soap',
    path: '/onvif/device_service',
    operation: 'GetDeviceInformation',
    status: 200,
    authenticated: true,
    from: '127.0.0.1',
  },
];
