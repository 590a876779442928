/**
 * The agent's ONVIF client, one long-lived instance per device. Every request is ours
 * (soap.ts, services.ts, media-probe.ts, one HTTP exchange in http-exchange.ts): one XML
 * parser (fast-xml-parser) for every answer, one deadline per request, and HTTP Digest or
 * Basic wherever a device challenges (ONVIF Core 5.12.1 requires devices to accept HTTP
 * Digest, and some accept nothing else). node-onvif, which the agent used before, can do
 * neither Digest nor HTTPS and rolls months over in its date parsing (docs/ONVIF.md); it
 * is no longer imported by the agent.
 */
import type { Secret } from '../secret.js';
import { clockOffsetMs, deviceUtcFromResponse } from './date-time.js';
import type { DeviceTls } from './device-tls.js';
import type { Credentials } from './http-auth.js';
import { deviceConnections, type AuthMemory } from './http-exchange.js';
import { httpGet, rtspDescribe, RtspConnections } from './media-probe.js';
import { OwnServices } from './services.js';
import { ProbeConnection, sameButDigits } from './probe.js';
import { bodyElement, envelope, NS, soapAnswer, soapRequest } from './soap.js';
import {
  OnvifError,
  type DeviceClock,
  type DeviceInformation,
  type EventMessage,
  type MediaProfiles,
  type OnvifClient,
  type RecordingInfo,
  type RecordingJob,
  type RecordingJobItem,
  type StorageConfig,
  type VendorAnswer,
  type VideoChannel,
} from './types.js';
import { vendorGet } from './vendor-http.js';

export interface OnvifTarget {
  /** The device service address (XAddr), http:// or https://. */
  xaddr: string;
  username: string;
  password: Secret;
  /** How https connections to the device are trusted (pinned, or a CA file): device-tls.ts. */
  tls?: DeviceTls;
  /**
   * The device's own (web) account for its vendor API, where it is not the ONVIF one
   * (the agent config's `vendor:`); absent: the vendor API is asked with `username`.
   */
  vendor?: Credentials;
}

export interface OnvifClientOptions {
  /** Deadline of one request, in milliseconds. */
  timeoutMs: number;
}

export class OnvifDeviceClient implements OnvifClient {
  readonly #target: OnvifTarget;
  readonly #options: OnvifClientOptions;
  /** Device clock minus ours; applied to the Created time of every UsernameToken. */
  #offsetMs = 0;
  readonly #own: OwnServices;
  /**
   * The HTTP authentication that worked, per server of the device: its SOAP service and
   * its snapshot server may be different servers with their own nonces.
   */
  readonly #soapAuth: AuthMemory = { authorizer: null };
  readonly #snapshotAuth: AuthMemory = { authorizer: null };
  /**
   * What the device's RTSP server offered (no Basic after Digest). Its challenge answers
   * live with its kept connection (#rtsp), as some servers bind a nonce to a connection.
   */
  readonly #rtspAuth: AuthMemory = { authorizer: null };
  /** The device's kept RTSP connection: a poll's DESCRIBEs of its channels share it; closed idle. */
  readonly #rtsp = new RtspConnections();
  /**
   * The device's own HTTP API (ISAPI, CGI): a realm and nonces of its own on many
   * firmwares, so what worked for SOAP is not sent there (vendor-http.ts).
   */
  readonly #vendorAuth: AuthMemory = { authorizer: null };
  /**
   * The device's kept HTTP connections, shared by its SOAP, snapshot and vendor API
   * requests and the liveness probe (http-exchange.ts deviceConnections); idle ones close
   * by themselves, so a device dropped from the config leaves nothing open for long.
   */
  readonly #connections = deviceConnections();
  /** The liveness probe's request (probe.ts) on the device's kept connections, made at the first probe. */
  #probe: ProbeConnection | null = null;
  /** The probe's last accepted answer, to know the next one by (probe.ts sameButDigits). */
  #probeAnswer: { status: number; body: Buffer } | null = null;

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
      connections: this.#connections,
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
      auth: this.#rtspAuth,
      connections: this.#rtsp,
      ...(signal ? { signal } : {}),
    });
  }

  snapshot(uri: string, signal?: AbortSignal): Promise<Buffer> {
    return httpGet(uri, {
      timeoutMs: this.#options.timeoutMs,
      credentials: this.#credentials,
      auth: this.#snapshotAuth,
      connections: this.#connections,
      ...(this.#target.tls ? { tls: this.#target.tls } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  recordings(signal?: AbortSignal): Promise<RecordingInfo[] | null> {
    return this.#own.recordings(signal);
  }

  recordingJobs(
    signal?: AbortSignal,
    which?: (jobs: readonly RecordingJobItem[]) => ReadonlySet<string>,
  ): Promise<RecordingJob[] | null> {
    return this.#own.recordingJobs(signal, which);
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

  /** A GET on the device's own HTTP API (vendor-http.ts), for the vendor drivers. */
  vendorGet(path: string, signal?: AbortSignal): Promise<VendorAnswer | null> {
    return vendorGet({
      xaddr: this.#target.xaddr,
      path,
      credentials: this.#target.vendor ?? this.#credentials,
      ownAccount: this.#target.vendor !== undefined,
      auth: this.#vendorAuth,
      connections: this.#connections,
      timeoutMs: this.#options.timeoutMs,
      ...(this.#target.tls ? { tls: this.#target.tls } : {}),
      ...(signal ? { signal } : {}),
    });
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
      connections: this.#connections,
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

  /**
   * The liveness probe's question (../liveness.ts): GetSystemDateAndTime without
   * credentials as clock() asks it, its bytes composed once (probe.ts), on the device's
   * kept connections that its polls use too (kept-http.ts), judged
   * as every SOAP answer (soapAnswer) and resolved when it holds a
   * GetSystemDateAndTimeResponse. The clock itself is not read: that is the `reachable`
   * check's, every poll.
   */
  async probe(signal?: AbortSignal): Promise<void> {
    this.#probe ??= new ProbeConnection(
      this.#target.xaddr,
      {
        'Content-Type': `application/soap+xml; charset=utf-8; action="${NS.tds}/GetSystemDateAndTime"`,
      },
      Buffer.from(envelope('<tds:GetSystemDateAndTime/>', { tds: NS.tds }), 'utf8'),
      this.#target.tls,
      this.#connections,
    );
    const answer = await this.#probe.ask(this.#options.timeoutMs, signal);
    const last = this.#probeAnswer;
    // The last accepted answer but for its clock's digits: judged as that one was.
    if (last && answer.status === last.status && sameButDigits(last.body, answer.body)) return;
    const parsed = soapAnswer(answer.status, answer.body, false, undefined);
    if (bodyElement(parsed, 'GetSystemDateAndTimeResponse') === undefined) {
      throw new OnvifError('protocol-error', 'the answer has no GetSystemDateAndTimeResponse');
    }
    // A copy: the answer may be a slice of a larger read buffer, kept alive by a reference.
    this.#probeAnswer = { status: answer.status, body: Buffer.from(answer.body) };
  }

  /** ONVIF Core (8.3 System) GetDeviceInformation: needs credentials, so it proves them. */
  deviceInformation(signal?: AbortSignal): Promise<DeviceInformation> {
    return this.#own.deviceInformation(signal);
  }

  /**
   * ONVIF Media Service (trt, ver10) GetProfiles, counted (services.ts reads them
   * tolerantly: encoder configurations without Resolution or RateControl do no harm).
   */
  async profiles(signal?: AbortSignal): Promise<MediaProfiles> {
    const channels = await this.#own.channels(signal);
    return { count: channels.reduce((sum, channel) => sum + channel.profiles, 0) };
  }

  #useClockOffset(offsetMs: number): void {
    this.#offsetMs = Math.round(offsetMs);
  }
}
