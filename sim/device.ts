/**
 * One simulated device: its own HTTP server on its own port, serving the ONVIF services
 * and the snapshot pictures, with faults applied to its sockets, answers, pictures,
 * events and recordings. The port is chosen once (0 = a free one) and kept, so a device
 * that went offline comes back on the same XAddr.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type {
  SimDevice as SimDeviceInfo,
  SimFault,
  SimFaultKind,
  SimRequestLogEntry,
} from '../shared/api/sim.js';
import { EventHub, TOPICS, type EventMessage } from './events.js';
import { durationOf, effectsOf, faultKey, withFault, type FaultEffects } from './faults.js';
import type { DeviceIdentity } from './identity.js';
import type { DeviceModel } from './model.js';
import { HttpAuthGuard, sendUnauthorized } from './http-auth.js';
import { DEFAULT_LOCKOUT, Lockout, type LockoutPolicy } from './lockout.js';
import { formatDateTime, quirksOf, quirkyXml, type Quirks } from './personality.js';
import { Recorder, type JobState } from './recording.js';
import { fingerprintOf, selfSignedIdentity, type TlsIdentity } from './tls.js';
import type { RtspDevice, RtspLogEntry, RtspStream } from './rtsp.js';
import { SnapshotSource } from './snapshot.js';
import { NonceCache, type Credentials } from './soap/auth.js';
import { answerSoap, type SoapService } from './soap/dispatch.js';
import { faultAnswer, type SoapAnswer } from './soap/answer.js';
import { faults as soapFaults } from './soap/fault.js';
import { BodyTooLargeError, readBody, sendSoap, sendText } from './soap/http.js';
import { DEVICE_SERVICE_PATH, SNAPSHOT_PATH, type ServiceContext } from './services/context.js';
import { deviceService } from './services/device.js';
import { eventsService, pullPointService } from './services/events.js';
import { mediaService, streamPath } from './services/media.js';
import { media2Service } from './services/media2.js';
import { recordingService, searchService } from './services/recording.js';
import { serveVendor, type VendorApi, type VendorState } from './vendor/api.js';
import { vendorApi } from './vendor/index.js';
import { DiskStore } from './vendor/storage.js';

const cameraServices: readonly SoapService<ServiceContext>[] = [
  deviceService,
  mediaService,
  media2Service,
  eventsService,
  pullPointService,
];
const nvrServices = [...cameraServices, recordingService, searchService];

/** How many requests each device remembers for GET /sim/devices/{id}/requests. */
export const REQUEST_LOG_SIZE = 500;

/**
 * The live-view-refused fault: right credentials, but an account without the live-view
 * right, which cameras answer on RTSP and snapshots as they answer a wrong password (401
 * and a fresh challenge), while ONVIF SOAP accepts the same account.
 */
const NO_LIVE_VIEW = 'no live-view rights';

export interface SimulatedDeviceOptions {
  model: DeviceModel;
  /** Address to listen on; also the host of every URI the device hands out. */
  host: string;
  /** 0 picks a free port at the first start. */
  port: number;
  credentials: Credentials;
  /**
   * The account list of the vendor API (ISAPI, Dahua CGI), where it is not ONVIF's: on
   * Hikvision and Dahua firmware the ONVIF users are a list of their own, apart from the
   * web users that ISAPI and the CGI accept, so an installer's ONVIF user ("onvif") is
   * refused there with a 401 after Digest, and the web account ("admin") by ONVIF.
   * Absent: the vendor API accepts `credentials` (an installer who uses admin for both).
   */
  vendorCredentials?: Credentials;
  /** Port of the site's RTSP server, for GetStreamUri. */
  rtspPort: number;
  /** Name of the personality (sim/personality.ts). */
  personality?: string;
  /**
   * Serve the device over HTTPS: `true` with a self-signed certificate made at the first
   * start (sim/tls.ts), or with the given certificate and key (a CA-signed one, in tests).
   */
  https?: boolean | { cert: string; key: string };
  /** Called when the device comes up (start, end of a reboot): WS-Discovery Hello. */
  onUp?: (device: SimulatedDevice) => void;
  /** Account lockout after wrong passwords (sim/lockout.ts); default DEFAULT_LOCKOUT, false: none. */
  lockout?: LockoutPolicy | false;
}

export class SimulatedDevice implements RtspDevice {
  readonly model: DeviceModel;
  private readonly host: string;
  private readonly credentials: Credentials;
  /** The vendor API's own account, apart from ONVIF's (see SimulatedDeviceOptions). */
  private readonly vendorCredentials: Credentials | null;
  private readonly rtspPort: number;
  readonly personality: string;
  private readonly quirks: Quirks;
  private readonly onUp: ((device: SimulatedDevice) => void) | undefined;
  private port: number;
  private server: Server | HttpsServer | null = null;
  private readonly https: boolean | { cert: string; key: string };
  /** The certificate an https device presents, and the one cert-changed swaps in. */
  private tls: {
    original: TlsIdentity;
    changed: TlsIdentity | null;
    presented: TlsIdentity;
  } | null = null;
  private running = false;
  private faults: SimFault[] = [];
  private readonly faultTimers = new Map<string, NodeJS.Timeout>();
  private effects: FaultEffects = effectsOf([]);
  private flapTimer: NodeJS.Timeout | null = null;
  private flapPeriodS: number | null = null;
  private flapDown = false;
  /** Sockets of requests a hang fault holds; destroyed when the hang ends. */
  private readonly held = new Set<Socket>();
  private nonces = new NonceCache();
  /** HTTP authentication of the RTSP server, the snapshot URIs and (a personality) SOAP. */
  private rtspAuth: HttpAuthGuard;
  private snapshotAuth: HttpAuthGuard;
  private soapAuth: HttpAuthGuard | null;
  /** The vendor's own HTTP API (sim/vendor/), its Digest guard, and the recorder's disks. */
  private readonly vendor: VendorApi | null;
  private vendorAuth: HttpAuthGuard | null;
  private readonly disks: DiskStore;
  /** Users locked per client address after wrong passwords, on every protocol at once. */
  private readonly lockout: Lockout;
  private readonly events = new EventHub();
  private readonly recorder: Recorder;
  private readonly snapshots: SnapshotSource;
  private readonly log: SimRequestLogEntry[] = [];
  /** Property states last announced, by topic and source, to raise only changes. */
  private readonly announced = new Map<string, string>();
  private bootTime = Date.now();
  /** Start, stop and fault changes run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: SimulatedDeviceOptions) {
    this.model = options.model;
    this.host = options.host;
    this.port = options.port;
    this.credentials = options.credentials;
    this.vendorCredentials = options.vendorCredentials ? { ...options.vendorCredentials } : null;
    this.rtspPort = options.rtspPort;
    this.personality = options.personality ?? 'standard';
    this.quirks = quirksOf(this.personality);
    ({ rtsp: this.rtspAuth, snapshot: this.snapshotAuth, soap: this.soapAuth } = this.authGuards());
    this.vendor = vendorApi(this.quirks.vendorApi);
    this.vendorAuth = this.vendorGuard();
    this.disks = new DiskStore(options.model.disks, Date.now());
    this.https = options.https ?? false;
    this.onUp = options.onUp;
    this.lockout = new Lockout(
      options.lockout === false ? null : (options.lockout ?? DEFAULT_LOCKOUT),
    );
    this.recorder = new Recorder(options.model.channels, Date.now());
    const tint = createHash('sha1').update(options.model.id).digest()[0] ?? 0;
    this.snapshots = new SnapshotSource(options.model.id, tint, options.model.scene);
  }

  get id(): string {
    return this.model.id;
  }

  get xaddr(): string {
    return `${httpBase(this.host, this.port, this.scheme)}${DEVICE_SERVICE_PATH}`;
  }

  private get scheme(): 'http' | 'https' {
    return this.https ? 'https' : 'http';
  }

  /** The device answers on the network now (for discovery). */
  get reachable(): boolean {
    return this.server !== null;
  }

  identity(): DeviceIdentity {
    const base = this.model.identity;
    const { serialNumber, firmwareVersion } = this.effects;
    return {
      ...base,
      serialNumber:
        serialNumber === null
          ? base.serialNumber
          : serialNumber || replacementSerial(base.serialNumber),
      firmwareVersion:
        firmwareVersion === null
          ? base.firmwareVersion
          : firmwareVersion || nextFirmware(base.firmwareVersion),
    };
  }

  /** Fresh guards: a device issues new nonces after a reboot and forgets the old ones. */
  private authGuards(): {
    rtsp: HttpAuthGuard;
    snapshot: HttpAuthGuard;
    soap: HttpAuthGuard | null;
  } {
    // A realm like the ones cameras send ("IP Camera(C1234)"): the device's id.
    const realm = `Vigil Sim ${this.model.id}`;
    const { rtspAuth, snapshotAuth, soapHttpAuth } = this.quirks;
    return {
      rtsp: new HttpAuthGuard(realm, rtspAuth),
      snapshot: new HttpAuthGuard(realm, snapshotAuth),
      soap: soapHttpAuth ? new HttpAuthGuard(realm, soapHttpAuth) : null,
    };
  }

  currentCredentials(): Credentials {
    return {
      username: this.credentials.username,
      password: this.effects.password ?? this.credentials.password,
    };
  }

  info(): SimDeviceInfo {
    const identity = this.identity();
    const host = hostForUrl(
      this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host,
    );
    const streams: Record<string, string> = {};
    for (const profile of this.model.profiles) {
      streams[profile.token] = `rtsp://${host}:${this.rtspPort}${streamPath(this.model, profile)}`;
    }
    return {
      id: this.model.id,
      kind: this.model.kind,
      name: this.model.name,
      xaddr: this.xaddr,
      ...identity,
      channels: this.model.channels,
      credentials: this.currentCredentials(),
      ...(this.vendorCredentials ? { vendorCredentials: { ...this.vendorCredentials } } : {}),
      personality: this.personality,
      ...(this.tls ? { tlsFingerprint: this.tls.presented.fingerprint } : {}),
      lockouts: this.lockout.locked(),
      streams,
      faults: this.faults.map((f) => ({ ...f })),
    };
  }

  requests(): SimRequestLogEntry[] {
    return [...this.log];
  }

  start(): Promise<void> {
    return this.serially(async () => {
      this.running = true;
      this.bootTime = Date.now();
      await this.reconcile();
    });
  }

  stop(): Promise<void> {
    return this.serially(async () => {
      this.running = false;
      for (const timer of this.faultTimers.values()) clearTimeout(timer);
      this.faultTimers.clear();
      await this.reconcile();
      this.events.clear();
    });
  }

  setFault(fault: SimFault): Promise<SimDeviceInfo> {
    return this.serially(async () => {
      const key = faultKey(fault);
      clearTimeout(this.faultTimers.get(key));
      this.faultTimers.delete(key);
      this.faults = withFault(this.faults, fault);
      const seconds = durationOf(fault);
      if (seconds !== undefined && this.running) {
        const timer = setTimeout(() => {
          this.faultTimers.delete(key);
          void this.serially(async () => {
            this.faults = this.faults.filter((f) => faultKey(f) !== key);
            await this.reconcile();
          });
        }, seconds * 1000);
        timer.unref();
        this.faultTimers.set(key, timer);
      }
      await this.reconcile();
      return this.info();
    });
  }

  /** Clears every fault of this kind (every kind when none is given). */
  clearFaults(kind?: SimFaultKind): Promise<SimDeviceInfo> {
    return this.serially(async () => {
      for (const fault of this.faults) {
        if (kind !== undefined && fault.kind !== kind) continue;
        const key = faultKey(fault);
        clearTimeout(this.faultTimers.get(key));
        this.faultTimers.delete(key);
      }
      this.faults = kind === undefined ? [] : this.faults.filter((f) => f.kind !== kind);
      await this.reconcile();
      return this.info();
    });
  }

  /** Back to the state of a fresh start: no faults, empty request log, no pull points, no locks. */
  async reset(): Promise<SimDeviceInfo> {
    this.lockout.clear();
    const info = await this.clearFaults();
    this.log.length = 0;
    this.events.clear();
    return { ...info, faults: [] };
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** A vendor API's guard: realm and nonces of its own web server (null without one). */
  private vendorGuard(): HttpAuthGuard | null {
    if (!this.vendor) return null;
    return new HttpAuthGuard(this.vendor.realm(this.model.identity), this.vendor.authPolicy);
  }

  /** Bytes per second the recording channels write now (their main streams). */
  private recordingRate(effects: FaultEffects): number {
    let kbps = 0;
    for (const profile of this.model.profiles) {
      if (profile.token.endsWith('main') && !effects.channel(profile.channel).recordingStopped) {
        kbps += profile.encoder.bitrateKbps;
      }
    }
    return (kbps * 1000) / 8;
  }

  /** The disks' used space brought up to now, at the rate the current effects record. */
  private advanceDisks(effects: FaultEffects, now: number): void {
    this.disks.advance(now, this.recordingRate(effects), (bay) => effects.disks[bay] ?? 'ok');
  }

  /** Makes sockets, events and recordings match `running` and the faults' effects. */
  private async reconcile(): Promise<void> {
    const before = this.effects;
    const now = Date.now();
    // What was recorded under the old effects is written before they change.
    this.advanceDisks(before, now);
    this.effects = effectsOf(
      this.faults,
      this.disks.bays.filter((b) => b.sizeGB > 0).map((b) => b.bay),
    );
    const effects = this.effects;
    if (effects.rebooting && !before.rebooting) {
      // A rebooting device forgets its subscriptions, nonces, searches and account locks.
      this.events.clear();
      this.nonces = new NonceCache();
      this.lockout.clear();
      ({
        rtsp: this.rtspAuth,
        snapshot: this.snapshotAuth,
        soap: this.soapAuth,
      } = this.authGuards());
      this.vendorAuth = this.vendorGuard();
    }
    const rebooted = before.rebooting && !effects.rebooting;
    if (rebooted) this.bootTime = now;
    this.updateFlapping();
    const storageError = effects.storageFailed || effects.storageFull || effects.noDiskWorking;
    for (let channel = 1; channel <= this.model.channels; channel++) {
      const c = effects.channel(channel);
      if (c.picture === 'frozen') this.snapshots.freezeNow(channel, now + effects.clockOffsetMs);
      const state: JobState = !c.recordingStopped ? 'Active' : storageError ? 'Error' : 'Idle';
      this.recorder.setState(channel, state, now);
    }
    this.announceChanges(now);
    if (rebooted) this.publish(this.lastRebootMessage('Changed'));
    if (effects.answering || !this.running) this.releaseHeld();
    await this.presentCertificate(effects.certificateChanged);
    const wasUp = this.server !== null;
    await this.ensureListening(this.running && effects.listening && !this.flapDown);
    if (!wasUp && this.server !== null) this.onUp?.(this);
  }

  private updateFlapping(): void {
    const period = this.running ? this.effects.flapPeriodS : null;
    if (period === this.flapPeriodS) return;
    if (this.flapTimer) clearInterval(this.flapTimer);
    this.flapTimer = null;
    this.flapDown = false;
    this.flapPeriodS = period;
    if (period === null) return;
    // Up for the first half period, down for the second, and so on.
    this.flapTimer = setInterval(
      () => {
        this.flapDown = !this.flapDown;
        void this.serially(() => this.reconcile());
      },
      (period * 1000) / 2,
    );
    this.flapTimer.unref();
  }

  /** Raises a Changed event for every property whose value the faults changed. */
  private announceChanges(now: number): void {
    const deviceNow = now + this.effects.clockOffsetMs;
    for (const message of this.propertyMessages('Changed', deviceNow)) {
      const key = `${message.topic}|${JSON.stringify(message.source)}`;
      const value = JSON.stringify(message.data);
      const previous = this.announced.get(key);
      this.announced.set(key, value);
      if (previous !== undefined && previous !== value) this.publish(message);
    }
  }

  private publish(message: EventMessage): void {
    this.events.publish(message);
  }

  /** Every property state of the device as event messages. */
  private propertyMessages(operation: 'Initialized' | 'Changed', deviceNow: number) {
    const messages: EventMessage[] = [];
    const effects = this.effects;
    const message = (
      topic: { topic: string },
      source: [string, string][],
      data: [string, string][],
    ) => messages.push({ topic: topic.topic, utcTime: deviceNow, operation, source, data });
    for (let channel = 1; channel <= this.model.channels; channel++) {
      const c = effects.channel(channel);
      const source = `vs${channel}`;
      message(TOPICS.signalLoss, [['VideoSource', source]], [['State', String(c.signalLoss)]]);
      message(
        TOPICS.tamper,
        [
          ['VideoSourceConfigurationToken', `vsc${channel}`],
          ['VideoAnalyticsConfigurationToken', `vac${channel}`],
          ['Rule', 'TamperDetector'],
        ],
        [['IsTamper', String(c.tamper)]],
      );
      message(TOPICS.sceneChange, [['Source', source]], [['State', String(c.tamper)]]);
      const job = this.recorder.all()[channel - 1];
      if (this.model.kind === 'nvr' && job) {
        message(TOPICS.jobState, [['RecordingJobToken', job.jobToken]], [['State', job.state]]);
      }
    }
    message(
      TOPICS.storageFailure,
      [['Token', 'storage0']],
      [['Failed', String(effects.storageFailed)]],
    );
    return messages;
  }

  private lastRebootMessage(operation: 'Initialized' | 'Changed'): EventMessage {
    const deviceNow = Date.now() + this.effects.clockOffsetMs;
    return {
      topic: TOPICS.lastReboot.topic,
      utcTime: deviceNow,
      operation,
      source: [],
      data: [['Status', formatDateTime(this.bootTime + this.effects.clockOffsetMs, this.quirks)]],
    };
  }

  private initialEvents(): EventMessage[] {
    const deviceNow = Date.now() + this.effects.clockOffsetMs;
    return [
      ...this.propertyMessages('Initialized', deviceNow),
      this.lastRebootMessage('Initialized'),
    ];
  }

  /**
   * An https device's certificate: made at the first start (or given), a second one made
   * when cert-changed first applies; the server presents the one the faults say, to every
   * new connection (tls.Server.setSecureContext), and drops the open ones so that no
   * client keeps talking over the certificate it saw before.
   */
  private async presentCertificate(changed: boolean): Promise<void> {
    if (!this.https) return;
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    if (!this.tls) {
      const original =
        this.https === true
          ? await selfSignedIdentity(this.model.id, host)
          : { ...this.https, fingerprint: fingerprintOf(this.https.cert) };
      this.tls = { original, changed: null, presented: original };
    }
    if (changed && !this.tls.changed) {
      this.tls.changed = await selfSignedIdentity(this.model.id, host);
    }
    const wanted = changed && this.tls.changed ? this.tls.changed : this.tls.original;
    if (wanted === this.tls.presented) return;
    this.tls.presented = wanted;
    const server = this.server as HttpsServer | null;
    if (server) {
      server.setSecureContext({ cert: wanted.cert, key: wanted.key });
      server.closeAllConnections();
    }
  }

  private async ensureListening(listen: boolean): Promise<void> {
    if (listen && !this.server) {
      // requestTimeout 0: node:http would otherwise answer a held (hang) request with 408
      // after five minutes, and a hung device never answers.
      const handler = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
      const presented = this.tls?.presented;
      const server = presented
        ? createHttpsServer(
            { requestTimeout: 0, cert: presented.cert, key: presented.key },
            handler,
          )
        : createServer({ requestTimeout: 0 }, handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch((error: unknown) => {
        throw portError(error, this.model.id, this.host, this.port);
      });
      const address = server.address();
      if (address && typeof address === 'object') this.port = address.port;
      this.server = server;
    } else if (!listen && this.server) {
      const server = this.server;
      this.server = null;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Offline means gone: established connections (keep-alive, held) go too.
      server.closeAllConnections();
      this.held.clear();
      await closed;
    }
  }

  private releaseHeld(): void {
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  private record(entry: Omit<SimRequestLogEntry, 'at'>): void {
    this.log.push({ at: new Date().toISOString(), ...entry });
    if (this.log.length > REQUEST_LOG_SIZE) this.log.shift();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const from = clientAddress(req.socket);
    if (!this.effects.answering) {
      // Hang: the request was accepted and is never answered.
      const socket = req.socket;
      this.held.add(socket);
      socket.once('close', () => this.held.delete(socket));
      req.resume();
      this.record({ protocol: 'http', path, operation: '', status: 0, authenticated: false, from });
      return;
    }
    this.answer(req, res, path, from).catch((error: unknown) => {
      console.error(`sim: ${this.model.id} failed to answer:`, error);
      if (!res.headersSent) sendSoap(res, faultAnswer(soapFaults.actionFailed()));
      else res.destroy();
    });
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    from: string,
  ): Promise<void> {
    const delay = this.effects.delayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (res.destroyed) return;
    if (path.startsWith(SNAPSHOT_PATH)) return this.answerSnapshot(req, res, path, from);
    if (this.vendor && this.vendorAuth && this.vendor.owns(path)) {
      serveVendor(this.vendor, req, res, path, {
        guard: this.vendorAuth,
        // The vendor API's own users where the site file gives them (auth-changed rotates
        // the ONVIF account, which is then the only one the vendor API shares).
        credentials: this.vendorCredentials ?? this.currentCredentials(),
        gate: this.lockout.gate(from),
        state: () => this.vendorState(),
        log: (entry) => this.record({ protocol: 'http', path, from, ...entry }),
      });
      return;
    }
    const services = this.model.kind === 'nvr' ? nvrServices : cameraServices;
    const service = services.find((s) =>
      s.path.endsWith('/') ? path.startsWith(s.path) : s.path === path,
    );
    const log = (status: number, operation = '', authenticated = false, detail?: string) =>
      this.record({
        protocol: 'soap',
        path,
        operation,
        status,
        authenticated,
        from,
        ...(detail === undefined ? {} : { detail }),
      });
    if (!service) {
      log(404);
      sendText(res, 404, `no such path on this device: ${path}`);
      return;
    }
    if (req.method !== 'POST') {
      log(405);
      sendText(res, 405, 'ONVIF SOAP services take POST requests', { Allow: 'POST' });
      return;
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      log(413);
      sendSoap(res, { ...faultAnswer(soapFaults.wellFormed(error.message)), status: 413 });
      return;
    }
    const broken = this.brokenAnswer();
    if (broken) {
      log(broken.status, operationName(body));
      if (broken.html) {
        sendText(res, broken.status, broken.xml, { 'Content-Type': 'text/html; charset=utf-8' });
      } else this.send(res, broken);
      return;
    }
    const effects = this.effects;
    const deviceNow = Date.now() + effects.clockOffsetMs;
    const advertised = advertisedHost(this.host, req);
    const context: ServiceContext = {
      device: this.model,
      identity: this.identity(),
      httpBase: httpBase(advertised, this.port, this.scheme),
      rtspBase: `rtsp://${hostForUrl(advertised)}:${this.rtspPort}`,
      deviceNow,
      clockOffsetMs: effects.clockOffsetMs,
      quirks: this.quirks,
      path,
      events: this.events,
      initialEvents: () => this.initialEvents(),
      recorder: this.recorder,
      effects,
      bootTime: this.bootTime,
    };
    // The personality that wants HTTP Digest on SOAP checks it before the UsernameToken.
    const gate = this.lockout.gate(from);
    const http = this.soapAuth?.verify(
      req.headers.authorization,
      'POST',
      req.url ?? path,
      this.currentCredentials(),
      gate,
      body,
    );
    const auth = {
      credentials: this.currentCredentials(),
      nonces: this.nonces,
      deviceNow,
      gate,
      tokenNonceUsedOn401: this.quirks.tokenNonceUsedOn401,
      ...(http ? { httpAuthorized: http.ok } : {}),
    };
    const result = await answerSoap(body, service, auth, context);
    const detail = result.httpChallenge && http && !http.ok ? http.reason : result.detail;
    log(result.status, result.operation, result.authenticated, detail);
    if (res.destroyed) return;
    if (result.httpChallenge && this.soapAuth) {
      const stale = http !== undefined && !http.ok && http.stale === true;
      sendUnauthorized(res, this.soapAuth.challenges(stale));
      return;
    }
    this.send(res, result);
  }

  /** What the vendor API answers from: the same state as the ONVIF side, disks up to now. */
  private vendorState(): VendorState {
    const effects = this.effects;
    const now = Date.now();
    this.advanceDisks(effects, now);
    return {
      model: this.model,
      identity: this.identity(),
      effects,
      deviceNow: now + effects.clockOffsetMs,
      bootTime: this.bootTime,
      disks: this.disks.read((bay) => effects.disks[bay] ?? 'ok'),
      username: this.credentials.username,
    };
  }

  /** What a broken web service answers instead (malformed, soap-fault, http-500). */
  private brokenAnswer(): (SoapAnswer & { html?: boolean }) | null {
    switch (this.effects.soapBreak) {
      case 'malformed': {
        // Cut off inside an element, as a crashed writer or a truncated buffer leaves it.
        const whole = faultAnswer(soapFaults.actionFailed()).xml;
        return { status: 200, xml: whole.slice(0, Math.floor(whole.length * 0.6)) };
      }
      case 'soap-fault':
        return { ...faultAnswer(soapFaults.actionFailed()), status: 500 };
      case 'http-500':
        return {
          status: 500,
          xml: '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>',
          html: true,
        };
      case null:
        return null;
    }
  }

  private send(res: ServerResponse, answer: SoapAnswer): void {
    const xml = quirkyXml(answer.xml, this.quirks);
    let status = answer.status;
    const headers: Record<string, string> = {};
    if (status === 400 && this.quirks.unauthorized401 && xml.includes('ter:NotAuthorized')) {
      status = 401;
      headers['WWW-Authenticate'] =
        `Digest realm="${this.model.id}", qop="auth", nonce="${Date.now()}"`;
    }
    if (this.quirks.noContentLength) {
      res.writeHead(status, { ...headers, 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(xml);
      return;
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    sendSoap(res, { status, xml });
  }

  private answerSnapshot(req: IncomingMessage, res: ServerResponse, path: string, from: string) {
    const token = decodeURIComponent(path.slice(SNAPSHOT_PATH.length).replace(/\.jpg$/, ''));
    const profile = this.model.profiles.find((p) => p.token === token);
    const log = (status: number, authenticated = false, detail?: string) =>
      this.record({
        protocol: 'snapshot',
        path,
        operation: req.method ?? '',
        status,
        authenticated,
        from,
        ...(detail === undefined ? {} : { detail }),
      });
    req.resume();
    // Real cameras refuse a snapshot without credentials (the device's current ones: the
    // auth-changed fault refuses the old password here too), and ask for them before
    // saying whether the path exists: without the password nothing is learnt of it.
    const checked = this.snapshotAuth.verify(
      req.headers.authorization,
      req.method ?? 'GET',
      req.url ?? path,
      this.currentCredentials(),
      this.lockout.gate(from),
    );
    if (!checked.ok) {
      log(401, false, checked.reason);
      sendUnauthorized(res, this.snapshotAuth.challenges(checked.stale));
      return;
    }
    if (this.effects.liveViewRefused) {
      log(401, false, NO_LIVE_VIEW);
      sendUnauthorized(res, this.snapshotAuth.challenges(false));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      log(405, true);
      sendText(res, 405, 'snapshots take GET requests', { Allow: 'GET, HEAD' });
      return;
    }
    if (!profile) {
      log(404, true);
      sendText(res, 404, `no profile "${token}" on this device`);
      return;
    }
    const mode = this.effects.channel(profile.channel).picture;
    const bytes = this.snapshots.picture(
      profile.channel,
      mode,
      Date.now() + this.effects.clockOffsetMs,
    );
    log(200, true);
    res.writeHead(200, {
      'Content-Type': 'image/jpeg',
      'Content-Length': bytes.length,
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  // RtspDevice: the site's RTSP server asks these.

  rtspState(): 'up' | 'offline' | 'hang' {
    if (!this.server) return 'offline';
    return this.effects.answering ? 'up' : 'hang';
  }

  rtspDelayMs(): number {
    return this.effects.delayMs;
  }

  stream(profileToken: string): RtspStream | undefined {
    const profile = this.model.profiles.find((p) => p.token === profileToken);
    if (!profile) return undefined;
    const { encoder } = profile;
    return {
      channel: profile.channel,
      width: encoder.resolution.width,
      height: encoder.resolution.height,
      frameRate: encoder.frameRate,
      bitrateKbps: encoder.bitrateKbps,
      h264Profile: encoder.h264Profile,
      title: `${this.model.name} ${profile.name}`,
    };
  }

  rtspAuthorize(
    method: string,
    requestUri: string,
    authorization: string | undefined,
    from: string,
  ): { ok: true } | { ok: false; reason: string; challenges: string[] } {
    const checked = this.rtspAuth.verify(
      authorization,
      method,
      requestUri,
      this.currentCredentials(),
      this.lockout.gate(from),
    );
    if (checked.ok && this.effects.liveViewRefused) {
      return { ok: false, reason: NO_LIVE_VIEW, challenges: this.rtspAuth.challenges(false) };
    }
    if (checked.ok) return checked;
    return {
      ok: false,
      reason: checked.reason,
      challenges: this.rtspAuth.challenges(checked.stale),
    };
  }

  streamDown(channel: number): boolean {
    return this.effects.channel(channel).streamDown;
  }

  logRtsp(entry: RtspLogEntry): void {
    this.record({
      protocol: 'rtsp',
      path: entry.path,
      operation: entry.method,
      status: entry.status,
      authenticated: entry.authenticated ?? false,
      from: entry.from,
      ...(entry.detail === undefined ? {} : { detail: entry.detail }),
    });
  }
}

/** The operation element's local name, read cheaply for the log of a broken answer. */
function operationName(body: string): string {
  return /<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)/.exec(body)?.[1] ?? '';
}

/** Another unit of the same model: same prefix, other digits, stable for a given serial. */
export function replacementSerial(serial: string): string {
  const digits = createHash('sha256').update(`replaced:${serial}`).digest('hex').replace(/\D/g, '');
  const tail = digits.slice(0, 6).padEnd(6, '7');
  return `${serial.slice(0, Math.max(0, serial.length - 6))}${tail}`;
}

/**
 * The next patch release: "5.7.3 build 260101" -> "5.7.4 build 260101"; a vendor's "V"
 * prefix and zero padding stay ("V4.74.210 ..." -> "V4.74.211 ...", Dahua's
 * "4.001.0000005.0.R" -> "4.001.0000006.0.R"), so its own API reports the same change.
 */
export function nextFirmware(version: string): string {
  const match = /^(V?\d+)\.(\d+)\.(\d+)(.*)$/.exec(version);
  if (!match) return `${version}-upd`;
  const patch = String(Number(match[3]) + 1).padStart(match[3]?.length ?? 1, '0');
  return `${match[1]}.${match[2]}.${patch}${match[4]}`;
}

function clientAddress(socket: Socket): string {
  return (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/** A device bound to every interface hands out the address the client reached. */
function advertisedHost(host: string, req: IncomingMessage): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  return (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function httpBase(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  return `${scheme}://${hostForUrl(host)}:${port}`;
}

function portError(error: unknown, id: string, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new Error(
      `sim: ${id} cannot listen on ${host}:${port}: the port is in use by another program; ` +
        'stop it or choose other device ports (--device-port-base)',
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
