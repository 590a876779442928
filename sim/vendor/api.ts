/**
 * A vendor's own HTTP API on a simulated device (Hikvision ISAPI, Dahua CGI), beside its
 * ONVIF services on the same port: what each module in sim/vendor/ provides, and the one
 * place (`serveVendor`) that puts it behind the device's HTTP Digest and account lockout.
 * Every answer is computed from the same device state the ONVIF side answers from
 * (identity, channels, faults), so the two never contradict each other.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimRequestLogEntry } from '../../shared/api/sim.js';
import type { FaultEffects } from '../faults.js';
import type { HttpAuthGuard, HttpAuthPolicy } from '../http-auth.js';
import type { DeviceIdentity, DeviceKind } from '../identity.js';
import type { LoginGate } from '../lockout.js';
import type { Credentials } from '../soap/auth.js';
import type { DiskReading } from './storage.js';

/** What a vendor's answers are computed from, at the moment of a request. */
export interface VendorState {
  /**
   * What the answers read of the device's model (sim/model.ts DeviceModel): named here,
   * not imported, because model.ts asks these APIs who a device is (no import cycle).
   */
  model: { name: string; kind: DeviceKind; channels: number };
  /** Who the device says it is now (the same as GetDeviceInformation). */
  identity: DeviceIdentity;
  effects: FaultEffects;
  /** The device clock, ms since the epoch (wall clock plus clock-drift). */
  deviceNow: number;
  /** Wall clock ms of the last boot. */
  bootTime: number;
  /** Every disk bay now (used space brought up to date). */
  disks: DiskReading[];
  /** The user name of the device's account (channel descriptors name it). */
  username: string;
}

export interface VendorRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface VendorAnswer {
  status: number;
  contentType: string;
  body: string;
  /** For the request log: the resource or action asked for. */
  operation: string;
}

/** Who a vendor personality says it is, from what the simulator derived for the device. */
export interface VendorIdentitySource {
  base: DeviceIdentity;
  kind: DeviceKind;
  channels: number;
  /** Disk bays of the device (for a model name that counts them). */
  bays: number;
  /** Stable bytes for this device (site, seed, id), to derive serial numbers from. */
  hash: Buffer;
}

export interface VendorApi {
  /** The personality quirk that turns it on (sim/personality.ts `vendorApi`). */
  readonly name: 'isapi' | 'dahua-cgi';
  /** The paths this API answers (everything else stays ONVIF and snapshots). */
  owns(path: string): boolean;
  /** HTTP authentication as the firmware demands it on this API. */
  readonly authPolicy: HttpAuthPolicy;
  /** The Digest realm of a device of this identity. */
  realm(identity: DeviceIdentity): string;
  /** Headers on every answer of this web server (Server). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body the web server sends with a 401 and its challenge. */
  readonly unauthorized: { contentType: string; body: string };
  /** The identity GetDeviceInformation and this API report, for this vendor. */
  identity(source: VendorIdentitySource): DeviceIdentity;
  answer(request: VendorRequest, state: VendorState): VendorAnswer;
}

export interface VendorServing {
  guard: HttpAuthGuard;
  credentials: Credentials;
  gate: LoginGate;
  /** Computed only for an authenticated request. */
  state: () => VendorState;
  log: (entry: Omit<SimRequestLogEntry, 'at' | 'protocol' | 'path' | 'from'>) => void;
}

/**
 * Answers one request of a vendor API: credentials first (a wrong password counts toward
 * the lockout, and without the password nothing is learnt, not even whether the path
 * exists, as both vendors' web servers do), then the vendor's own answer.
 */
export function serveVendor(
  api: VendorApi,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  serving: VendorServing,
): void {
  req.resume();
  const method = req.method ?? 'GET';
  const target = req.url ?? path;
  const checked = serving.guard.verify(
    req.headers.authorization,
    method,
    target,
    serving.credentials,
    serving.gate,
  );
  if (!checked.ok) {
    serving.log({ operation: method, status: 401, authenticated: false, detail: checked.reason });
    send(res, 401, api.unauthorized.contentType, api.unauthorized.body, {
      ...api.headers,
      'WWW-Authenticate': serving.guard.challenges(checked.stale),
    });
    return;
  }
  const query = new URL(target, 'http://device.invalid').searchParams;
  const answer = api.answer({ method, path, query }, serving.state());
  serving.log({ operation: answer.operation, status: answer.status, authenticated: true });
  send(res, answer.status, answer.contentType, answer.body, api.headers);
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Readonly<Record<string, string | string[]>>,
): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': bytes.length,
  });
  res.end(bytes);
}
