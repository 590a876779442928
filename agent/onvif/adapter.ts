/**
 * The agent's ONVIF client, one long-lived instance per device, and the only importer of
 * node-onvif. The checks use only our own requests (soap.ts, services.ts):
 * GetSystemDateAndTime because node-onvif's date parsing rolls the month over and its
 * offset is never refreshed, the rest because one parser (fast-xml-parser) for every
 * answer is cheaper to hold and to run at 500 devices than node-onvif's xml2js beside it.
 * node-onvif builds the authenticated GetCapabilities and GetProfiles of `profiles()`
 * (WS-UsernameToken PasswordDigest, ONVIF Core 5.12 Security) and is loaded only when that
 * is called, which no check does: a poll then allocates one parse tree per answer, not two
 * kinds (xml2js builds arrays and objects for every element), which matters to the young
 * generation at 500 devices more than the ~1 MiB the modules themselves take.
 *
 * Around node-onvif: our deadline wraps every call (its own timeout is a fixed 3 s idle
 * timeout); its socket timeout is set to the same value just before each call, so a
 * device that hangs has its socket destroyed too; its error strings are mapped to our
 * four failure kinds. We never call OnvifDevice.init() (about 150 requests on an NVR, and
 * it throws on encoder configurations without Resolution).
 */
import type OnvifServiceDevice from 'node-onvif/lib/modules/service-device.js';
import type OnvifServiceMedia from 'node-onvif/lib/modules/service-media.js';
import type { NodeOnvifResult } from 'node-onvif/lib/modules/soap.js';
import type { Secret } from '../secret.js';
import { clockOffsetMs, deviceUtcFromResponse } from './date-time.js';
import type { DeviceTls } from './device-tls.js';
import type { Credentials } from './http-auth.js';
import type { AuthMemory } from './http-exchange.js';
import { httpGet, rtspDescribe } from './media-probe.js';
import { OwnServices } from './services.js';
import { bodyElement, NS, soapRequest } from './soap.js';
import {
  OnvifError,
  type DeviceClock,
  type DeviceInformation,
  type EventMessage,
  type MediaProfiles,
  type OnvifClient,
  type RecordingInfo,
  type RecordingJob,
  type StorageConfig,
  type VideoChannel,
} from './types.js';

export interface OnvifTarget {
  /** The device service address (XAddr), http:// or https://. */
  xaddr: string;
  username: string;
  password: Secret;
  /** How https connections to the device are trusted (pinned, or a CA file): device-tls.ts. */
  tls?: DeviceTls;
}

export interface OnvifClientOptions {
  /** Deadline of one request, in milliseconds. */
  timeoutMs: number;
}

/** xml2js (node-onvif's parser) gives a leaf as a string, or as { _, $ } when it has attributes. */
function text(node: unknown): string {
  if (typeof node === 'string') return node.trim();
  if (node && typeof node === 'object' && '_' in node) return text((node as { _: unknown })._);
  return '';
}

function child(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object') return undefined;
  const value = (node as Record<string, unknown>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** node-onvif's modules, loaded on first use. */
let nodeOnvif: Promise<{
  Device: typeof OnvifServiceDevice;
  Media: typeof OnvifServiceMedia;
  soap: { HTTP_TIMEOUT: number };
}> | null = null;

function loadNodeOnvif(): NonNullable<typeof nodeOnvif> {
  nodeOnvif ??= Promise.all([
    import('node-onvif/lib/modules/service-device.js'),
    import('node-onvif/lib/modules/service-media.js'),
    import('node-onvif/lib/modules/soap.js'),
  ]).then(([device, media, soap]) => ({
    Device: device.default,
    Media: media.default,
    soap: soap.default,
  }));
  return nodeOnvif;
}

/** Words in a fault reason that say the device lacks an operation rather than refusing us. */
const UNSUPPORTED = /not\s*supported|unknown\s+action|no\s+such/i;

/**
 * node-onvif reports failures as plain Error messages:
 *   "Network Error: <socket error>"          connection failed or its idle timeout fired
 *   "<status> <status text>[ - <reason>]"    HTTP status other than 200
 *   "<fault reason>"                         a SOAP fault inside a 200 answer
 *   "The device seems to not support ..."    a 200 answer without the expected element
 *   anything else                            xml2js could not parse the answer
 */
export function mapNodeOnvifError(error: unknown, timedOut: boolean): OnvifError {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('Network Error: ')) {
    const detail = message.slice('Network Error: '.length);
    if (timedOut || /ETIMEDOUT/.test(detail)) return new OnvifError('timeout', detail);
    return new OnvifError('unreachable', detail);
  }
  const status = /^(\d{3}) /.exec(message);
  if (status) {
    const code = Number(status[1]);
    // This call carried credentials, and ONVIF devices answer wrong ones with 400 and a
    // ter:NotAuthorized fault (ONVIF Core 5.11.2.2) or with HTTP 401.
    if (code === 401 || code === 403 || (code === 400 && !UNSUPPORTED.test(message))) {
      return new OnvifError('auth-failed', `the device refused the credentials (${message})`);
    }
    if (/not\s*authori[sz]ed/i.test(message)) {
      return new OnvifError('auth-failed', `the device refused the credentials (${message})`);
    }
    return new OnvifError('protocol-error', message);
  }
  if (/not\s*authori[sz]ed/i.test(message)) {
    return new OnvifError('auth-failed', `the device refused the credentials (${message})`);
  }
  return new OnvifError('protocol-error', message);
}

export class OnvifDeviceClient implements OnvifClient {
  readonly #target: OnvifTarget;
  readonly #options: OnvifClientOptions;
  #device: OnvifServiceDevice | null = null;
  #media: OnvifServiceMedia | null = null;
  /** Device clock minus ours; applied to the Created time of every UsernameToken. */
  #offsetMs = 0;
  readonly #own: OwnServices;
  /**
   * The HTTP authentication that worked, per server of the device: its SOAP service and
   * its snapshot server may be different servers with their own nonces.
   */
  readonly #soapAuth: AuthMemory = { authorizer: null };
  readonly #snapshotAuth: AuthMemory = { authorizer: null };

  constructor(target: OnvifTarget, options: OnvifClientOptions) {
    this.#target = target;
    this.#options = options;
    this.#own = new OwnServices({
      xaddr: target.xaddr,
      username: target.username,
      password: target.password,
      timeoutMs: options.timeoutMs,
      offsetMs: () => this.#offsetMs,
      auth: this.#soapAuth,
      ...(target.tls ? { tls: target.tls } : {}),
    });
  }

  /** The device's credentials serve RTSP and snapshots too (the account needs live view). */
  get #credentials(): Credentials {
    return { username: this.#target.username, password: this.#target.password };
  }

  channels(signal?: AbortSignal): Promise<VideoChannel[]> {
    return this.#own.channels(signal);
  }

  streamUri(profileToken: string, signal?: AbortSignal): Promise<string> {
    return this.#own.streamUri(profileToken, signal);
  }

  snapshotUri(profileToken: string, signal?: AbortSignal): Promise<string> {
    return this.#own.snapshotUri(profileToken, signal);
  }

  describe(uri: string, signal?: AbortSignal): Promise<number> {
    return rtspDescribe(uri, {
      timeoutMs: this.#options.timeoutMs,
      credentials: this.#credentials,
      ...(signal ? { signal } : {}),
    });
  }

  snapshot(uri: string, signal?: AbortSignal): Promise<Buffer> {
    return httpGet(uri, {
      timeoutMs: this.#options.timeoutMs,
      credentials: this.#credentials,
      auth: this.#snapshotAuth,
      ...(this.#target.tls ? { tls: this.#target.tls } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  recordings(signal?: AbortSignal): Promise<RecordingInfo[] | null> {
    return this.#own.recordings(signal);
  }

  recordingJobs(signal?: AbortSignal): Promise<RecordingJob[] | null> {
    return this.#own.recordingJobs(signal);
  }

  storage(signal?: AbortSignal): Promise<StorageConfig[]> {
    return this.#own.storage(signal);
  }

  createPullPoint(keepAliveS: number, signal?: AbortSignal): Promise<string> {
    return this.#own.createPullPoint(keepAliveS, signal);
  }

  pullMessages(address: string, signal?: AbortSignal): Promise<EventMessage[]> {
    return this.#own.pullMessages(address, signal);
  }

  renew(address: string, keepAliveS: number, signal?: AbortSignal): Promise<void> {
    return this.#own.renew(address, keepAliveS, signal);
  }

  unsubscribe(address: string, signal?: AbortSignal): Promise<void> {
    return this.#own.unsubscribe(address, signal);
  }

  /**
   * ONVIF Core 8.3.11 GetSystemDateAndTime, without credentials (Core 5.12.1: the device
   * must answer it before authentication, so a client can align its clock).
   */
  async clock(signal?: AbortSignal): Promise<DeviceClock> {
    const answer = await soapRequest({
      url: this.#target.xaddr,
      action: `${NS.tds}/GetSystemDateAndTime`,
      body: '<tds:GetSystemDateAndTime/>',
      namespaces: { tds: NS.tds },
      timeoutMs: this.#options.timeoutMs,
      // No credentials: the clock is what still answers while they are refused.
      ...(this.#target.tls ? { tls: this.#target.tls } : {}),
      ...(signal ? { signal } : {}),
    });
    const response = bodyElement(answer.envelope, 'GetSystemDateAndTimeResponse');
    if (response === undefined) {
      throw new OnvifError('protocol-error', 'the answer has no GetSystemDateAndTimeResponse');
    }
    const deviceUtc = deviceUtcFromResponse(response);
    // A reading without milliseconds came from whole seconds (the tt:DateTime form).
    const offsetMs = deviceUtc
      ? clockOffsetMs(
          deviceUtc,
          answer.sentAtMs,
          answer.receivedAtMs,
          deviceUtc.getUTCMilliseconds() === 0,
        )
      : null;
    if (offsetMs !== null) this.#useClockOffset(offsetMs);
    return { deviceUtc, offsetMs, responseMs: answer.elapsedMs };
  }

  /** ONVIF Core (8.3 System) GetDeviceInformation: needs credentials, so it proves them. */
  deviceInformation(signal?: AbortSignal): Promise<DeviceInformation> {
    return this.#own.deviceInformation(signal);
  }

  /**
   * ONVIF Media Service (trt, ver10) GetProfiles. Only counts them: nothing below a profile
   * is read, so encoder configurations without Resolution or RateControl do no harm.
   */
  async profiles(signal?: AbortSignal): Promise<MediaProfiles> {
    const media = await this.#mediaService(signal);
    let result: NodeOnvifResult;
    try {
      result = await this.#call(() => media.getProfiles(), signal);
    } catch (error) {
      // The media address may have changed (a replaced device): read it again next time.
      if (error instanceof OnvifError && error.kind === 'protocol-error') this.#media = null;
      throw error;
    }
    const response = child(result.data, 'GetProfilesResponse');
    const profiles =
      response && typeof response === 'object'
        ? (response as Record<string, unknown>).Profiles
        : undefined;
    const count = Array.isArray(profiles) ? profiles.length : profiles === undefined ? 0 : 1;
    return { count };
  }

  #useClockOffset(offsetMs: number): void {
    this.#offsetMs = Math.round(offsetMs);
    if (this.#device) this.#device.time_diff = this.#offsetMs;
    if (this.#media) this.#media.time_diff = this.#offsetMs;
  }

  async #deviceService(): Promise<OnvifServiceDevice> {
    if (new URL(this.#target.xaddr).protocol !== 'http:') {
      // node-onvif speaks plain HTTP only (docs/ONVIF.md) and would bypass the pinned
      // connection (device-tls.ts): an https device never reaches it.
      throw new OnvifError(
        'protocol-error',
        'this operation goes through node-onvif, which speaks plain HTTP only; it is not used for https:// devices',
      );
    }
    if (!this.#device) {
      const { Device } = await loadNodeOnvif();
      const device = new Device({ xaddr: this.#target.xaddr });
      // setAuth skips the constructor's check that refuses non-ASCII passwords and "<", ">";
      // the password itself never enters the XML (only its digest does).
      device.setAuth(this.#target.username, this.#target.password.reveal());
      device.time_diff = this.#offsetMs;
      this.#device = device;
    }
    return this.#device;
  }

  /**
   * The media service address from GetCapabilities (ONVIF Core, 8.1 Capabilities), read once and
   * kept. Only its path is used: the host and port stay those of the configured XAddr,
   * because devices behind NAT or port forwarding advertise addresses the gateway cannot
   * reach. A device without GetCapabilities or a Media entry gets the device address.
   */
  async #mediaService(signal?: AbortSignal): Promise<OnvifServiceMedia> {
    if (this.#media) return this.#media;
    const device = await this.#deviceService();
    let address = this.#target.xaddr;
    try {
      const result = await this.#call(() => device.getCapabilities(), signal);
      const capabilities = child(child(result.data, 'GetCapabilitiesResponse'), 'Capabilities');
      const advertised = text(child(child(capabilities, 'Media'), 'XAddr'));
      if (advertised !== '') {
        const configured = new URL(this.#target.xaddr);
        const media = new URL(advertised);
        configured.pathname = media.pathname;
        configured.search = media.search;
        address = configured.toString();
      }
    } catch (error) {
      if (!(error instanceof OnvifError) || error.kind !== 'protocol-error') throw error;
    }
    const media = new (await loadNodeOnvif()).Media({ xaddr: address });
    media.setAuth(this.#target.username, this.#target.password.reveal());
    media.time_diff = this.#offsetMs;
    this.#media = media;
    return media;
  }

  /** Runs one node-onvif call under our deadline and maps its failure. */
  async #call(
    start: () => Promise<NodeOnvifResult>,
    signal?: AbortSignal,
  ): Promise<NodeOnvifResult> {
    const timeoutMs = this.#options.timeoutMs;
    if (signal?.aborted) throw new OnvifError('timeout', 'the poll was cancelled');
    // node-onvif reads HTTP_TIMEOUT synchronously while it starts the request, so setting
    // it right before the call applies to this request only.
    (await loadNodeOnvif()).soap.HTTP_TIMEOUT = timeoutMs;
    const started = performance.now();
    const call = start();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new OnvifError('timeout', `no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      onAbort = () => reject(new OnvifError('timeout', 'the poll was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The call may still fail after we gave up on it; that outcome is not wanted any more.
    call.catch(() => undefined);
    try {
      return await Promise.race([call, stop]);
    } catch (error) {
      if (error instanceof OnvifError) throw error;
      throw mapNodeOnvifError(error, performance.now() - started >= timeoutMs - 1);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
}
