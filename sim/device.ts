/**
 * One simulated device: its own HTTP server on its own port, serving the ONVIF device
 * and media services, with faults applied to its sockets. The port is chosen once (0 =
 * a free one) and kept, so a device that went offline comes back on the same XAddr.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SimDevice as SimDeviceInfo, SimFault } from '../shared/api/sim.js';
import { effectsOf, withFault, type FaultEffects } from './faults.js';
import type { DeviceModel } from './model.js';
import { NonceCache, type Credentials } from './soap/auth.js';
import { answerSoap, type SoapService } from './soap/dispatch.js';
import { faultAnswer } from './soap/answer.js';
import { faults as soapFaults } from './soap/fault.js';
import { BodyTooLargeError, readBody, sendSoap, sendText } from './soap/http.js';
import { DEVICE_SERVICE_PATH, type ServiceContext } from './services/context.js';
import { deviceService } from './services/device.js';
import { mediaService } from './services/media.js';

const services: readonly SoapService<ServiceContext>[] = [deviceService, mediaService];

export interface SimulatedDeviceOptions {
  model: DeviceModel;
  /** Address to listen on; also the host of every URI the device hands out. */
  host: string;
  /** 0 picks a free port at the first start. */
  port: number;
  credentials: Credentials;
  /** Port of the site's RTSP server, for GetStreamUri. */
  rtspPort: number;
}

export class SimulatedDevice {
  private readonly model: DeviceModel;
  private readonly host: string;
  private readonly credentials: Credentials;
  private readonly rtspPort: number;
  private port: number;
  private server: Server | null = null;
  private running = false;
  private faults: SimFault[] = [];
  private effects: FaultEffects = effectsOf([]);
  /** Sockets of requests a hang fault holds; destroyed when the hang ends. */
  private readonly held = new Set<Socket>();
  private readonly nonces = new NonceCache();
  /** Clock offset of the device against the wall clock; clock faults will set it. */
  private clockOffsetMs = 0;
  /** Start, stop and fault changes run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: SimulatedDeviceOptions) {
    this.model = options.model;
    this.host = options.host;
    this.port = options.port;
    this.credentials = options.credentials;
    this.rtspPort = options.rtspPort;
  }

  get id(): string {
    return this.model.id;
  }

  get xaddr(): string {
    return `${httpBase(this.host, this.port)}${DEVICE_SERVICE_PATH}`;
  }

  info(): SimDeviceInfo {
    const { identity } = this.model;
    return {
      id: this.model.id,
      kind: this.model.kind,
      name: this.model.name,
      xaddr: this.xaddr,
      serialNumber: identity.serialNumber,
      manufacturer: identity.manufacturer,
      model: identity.model,
      firmwareVersion: identity.firmwareVersion,
      hardwareId: identity.hardwareId,
      channels: this.model.channels,
      faults: this.faults.map((f) => ({ ...f })),
    };
  }

  start(): Promise<void> {
    return this.serially(async () => {
      this.running = true;
      await this.reconcile();
    });
  }

  stop(): Promise<void> {
    return this.serially(async () => {
      this.running = false;
      await this.reconcile();
    });
  }

  setFault(fault: SimFault): Promise<SimDeviceInfo> {
    return this.serially(async () => {
      this.faults = withFault(this.faults, fault);
      await this.reconcile();
      return this.info();
    });
  }

  clearFaults(): Promise<SimDeviceInfo> {
    return this.serially(async () => {
      this.faults = [];
      await this.reconcile();
      return this.info();
    });
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Makes the sockets match `running` and the faults' effects. */
  private async reconcile(): Promise<void> {
    this.effects = effectsOf(this.faults);
    if (this.effects.answering || !this.running) this.releaseHeld();
    await this.ensureListening(this.running && this.effects.listening);
  }

  private async ensureListening(listen: boolean): Promise<void> {
    if (listen && !this.server) {
      const server = createServer((req, res) => this.onRequest(req, res));
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

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (!this.effects.answering) {
      // Hang: the request was accepted and is never answered.
      const socket = req.socket;
      this.held.add(socket);
      socket.once('close', () => this.held.delete(socket));
      req.resume();
      return;
    }
    this.answer(req, res).catch((error: unknown) => {
      console.error(`sim: ${this.model.id} failed to answer:`, error);
      if (!res.headersSent) sendSoap(res, faultAnswer(soapFaults.actionFailed()));
      else res.destroy();
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const service = services.find((s) => s.path === path);
    if (!service) {
      // Snapshots (/snapshot/<token>.jpg) come with the picture endpoints, later.
      sendText(res, 404, `no such path on this device: ${path}`);
      return;
    }
    if (req.method !== 'POST') {
      sendText(res, 405, 'ONVIF SOAP services take POST requests', { Allow: 'POST' });
      return;
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      sendSoap(res, { ...faultAnswer(soapFaults.wellFormed(error.message)), status: 413 });
      return;
    }
    const deviceNow = Date.now() + this.clockOffsetMs;
    const context: ServiceContext = {
      device: this.model,
      httpBase: httpBase(advertisedHost(this.host, req), this.port),
      rtspBase: `rtsp://${hostForUrl(advertisedHost(this.host, req))}:${this.rtspPort}`,
      deviceNow,
    };
    const auth = { credentials: this.credentials, nonces: this.nonces, deviceNow };
    sendSoap(res, answerSoap(body, service, auth, context));
  }
}

/** A device bound to every interface hands out the address the client reached. */
function advertisedHost(host: string, req: IncomingMessage): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  return (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function httpBase(host: string, port: number): string {
  return `http://${hostForUrl(host)}:${port}`;
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
