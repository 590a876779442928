/**
 * A simulated site: cameras and NVRs, each an ONVIF device on its own port, the site's
 * RTSP server, WS-Discovery, timed faults, and the control API that lists the devices
 * and injects faults. Other parts' tests use it in-process:
 *
 *   const site = new SimSite({ cameras: 2, nvrs: 1, credentials: { username, password } });
 *   await site.start();
 *   await site.setFault('cam-01', { kind: 'offline' });
 *   await site.stop();
 */
import { Type, type Static } from 'typebox';
import type {
  SimDevice as SimDeviceInfo,
  SimFault,
  SimFaultKind,
  SimRequestLogEntry,
} from '../shared/api/sim.js';
import { VigilError } from '../shared/errors.js';
import { ID_PATTERN } from '../shared/ids.js';
import { validator } from '../shared/validate.js';
import { ControlServer, type ControlTarget } from './control.js';
import { SimulatedDevice } from './device.js';
import { DiscoveryResponder, type Discoverable } from './discovery.js';
import { SimGateway } from './gateway.js';
import type { LockoutPolicy } from './lockout.js';
import { buildFleet, buildLayout, type DeviceSpec } from './model.js';
import { RtspServer } from './rtsp.js';
import { FaultSchedule, type TimedFault } from './schedule.js';
import type { Credentials } from './soap/auth.js';

export type { SimDeviceInfo, SimFault, Credentials, TimedFault };

/** A device of an explicit layout, with its own account and personality if it has one. */
export interface SiteDeviceSpec extends DeviceSpec {
  credentials?: Credentials;
  /**
   * The vendor API's own account (ISAPI, Dahua CGI), another list than ONVIF's as on
   * Hikvision and Dahua firmware (sim/device.ts); absent: the vendor API takes `credentials`.
   */
  vendorCredentials?: Credentials;
  personality?: string;
  /** Serve the device over HTTPS (sim/device.ts): self-signed, or this certificate and key. */
  https?: boolean | { cert: string; key: string };
}

export interface SimSiteOptions {
  siteId?: string;
  /** Address every device, the RTSP server and the control API listen on. */
  host?: string;
  /** 0 picks a free port (see `controlUrl`). */
  controlPort?: number;
  /**
   * Address the control API binds; default `host`. A container publishes it with
   * 0.0.0.0 while the devices stay on loopback beside the agent (docker-compose.yml).
   */
  controlHost?: string;
  cameras?: number;
  nvrs?: number;
  nvrChannels?: number;
  /** An explicit layout (site file); replaces cameras/nvrs/nvrChannels when given. */
  devices?: SiteDeviceSpec[];
  /** The account every device accepts (WS-UsernameToken) unless its spec names another. */
  credentials: Credentials;
  /** Changes every serial number and firmware choice; same seed, same fleet. */
  seed?: string | number;
  /** Device n (0-based, cameras first) listens on devicePortBase + n; 0 or absent: free ports. */
  devicePortBase?: number;
  /** Port of the site's RTSP server; 0 or absent: a free port (see `rtspPort`). */
  rtspPort?: number;
  /** WS-Discovery responder; absent: none. `announceTo`: where Hello/Bye go (tests). */
  discovery?: {
    address: string;
    port: number;
    multicast: boolean;
    announceTo?: { address: string; port: number };
  };
  /** Faults that come and go on their own (site files). */
  timedFaults?: TimedFault[];
  /**
   * Every device's account lockout after wrong passwords (sim/lockout.ts): default
   * DEFAULT_LOCKOUT (5 in a row lock the user for that address for 30 min), as cameras do;
   * false: none. `reset()` and a reboot lift every lock.
   */
  lockout?: LockoutPolicy | false;
  /**
   * The site gateway's temperature file (sim/gateway.ts), which the agent reads when its
   * config names it (`gateway.temperatureFile`); the control API's gateway-hot fault heats
   * it. Absent: the simulator plays no gateway.
   */
  gatewayTemperatureFile?: string;
}

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const SiteSettings = Type.Object({
  siteId: Type.String({ pattern: ID_PATTERN }),
  host: Type.String({ minLength: 1 }),
  controlPort: Port,
  cameras: Type.Integer({ minimum: 0, maximum: 9999 }),
  nvrs: Type.Integer({ minimum: 0, maximum: 999 }),
  nvrChannels: Type.Integer({ minimum: 1, maximum: 256 }),
  credentials: Type.Object({
    username: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1 }),
  }),
  seed: Type.String(),
  devicePortBase: Port,
  rtspPort: Port,
});
const checkSettings = validator(SiteSettings);

/** Every error of these options, by path ("cameras: must be <= 9999"); empty when valid. */
export function checkSiteOptions(options: SimSiteOptions): string[] {
  const checked = checkSettings(withDefaults(options));
  if (!checked.ok) return checked.errors;
  const { devicePortBase } = checked.value;
  const count = options.devices?.length ?? checked.value.cameras + checked.value.nvrs;
  const last = devicePortBase + count - 1;
  if (devicePortBase > 0 && last > 65535) {
    return [`devicePortBase: ${count} devices from port ${devicePortBase} pass port 65535`];
  }
  const { lockout } = options;
  if (lockout) {
    const { attempts, windowS, lockS } = lockout;
    if (!Number.isInteger(attempts) || attempts < 1 || !(windowS > 0) || !(lockS > 0)) {
      return [
        'lockout: attempts must be a whole number >= 1 and windowS, lockS seconds > 0 ' +
          '(or lockout: false for none)',
      ];
    }
  }
  return [];
}

function withDefaults(options: SimSiteOptions): Static<typeof SiteSettings> {
  return {
    siteId: options.siteId ?? 'demo-site',
    host: options.host ?? '127.0.0.1',
    controlPort: options.controlPort ?? 0,
    cameras: options.cameras ?? 24,
    nvrs: options.nvrs ?? 2,
    nvrChannels: options.nvrChannels ?? 16,
    credentials: options.credentials,
    seed: String(options.seed ?? ''),
    devicePortBase: options.devicePortBase ?? 0,
    rtspPort: options.rtspPort ?? 0,
  };
}

export class SimSite implements ControlTarget {
  readonly siteId: string;
  private readonly options: SimSiteOptions;
  private readonly settings: Static<typeof SiteSettings>;
  private readonly byId = new Map<string, SimulatedDevice>();
  private control: ControlServer | null = null;
  private rtsp: RtspServer | null = null;
  private discovery: DiscoveryResponder | null = null;
  private schedule: FaultSchedule | null = null;
  private gateway: SimGateway | null = null;

  constructor(options: SimSiteOptions) {
    this.options = options;
    this.settings = withDefaults(options);
    this.siteId = this.settings.siteId;
  }

  /** http://HOST:PORT of the control API; known once start() resolved. */
  get controlUrl(): string {
    if (!this.control) throw new Error('SimSite.controlUrl is known only after start()');
    return this.control.url;
  }

  /** The RTSP server's port; known once start() resolved. */
  get rtspPort(): number {
    return this.rtsp?.port ?? 0;
  }

  /** The WS-Discovery socket's port, 0 without discovery. */
  get discoveryPort(): number {
    return this.discovery?.port ?? 0;
  }

  async start(): Promise<void> {
    if (this.byId.size > 0) throw new Error('SimSite.start(): already started; stop() it first');
    const errors = checkSiteOptions(this.options);
    if (errors.length > 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', 'invalid simulator settings', errors);
    }
    const s = this.settings;
    const specs: SiteDeviceSpec[] = this.options.devices ?? [];
    const fleet = this.options.devices ? buildLayout(s, specs) : buildFleet(s);
    try {
      const rtsp = new RtspServer({
        host: s.host,
        port: s.rtspPort,
        lookup: (id) => this.byId.get(id),
      });
      this.rtsp = rtsp;
      await rtsp.start();
      fleet.forEach((model, n) => {
        const spec = specs[n];
        this.byId.set(
          model.id,
          new SimulatedDevice({
            model,
            host: s.host,
            port: s.devicePortBase > 0 ? s.devicePortBase + n : 0,
            credentials: spec?.credentials ?? s.credentials,
            ...(spec?.vendorCredentials ? { vendorCredentials: spec.vendorCredentials } : {}),
            personality: spec?.personality,
            ...(spec?.https ? { https: spec.https } : {}),
            ...(this.options.lockout === undefined ? {} : { lockout: this.options.lockout }),
            rtspPort: rtsp.port,
            onUp: (device) => void this.discovery?.hello(discoverable(device)),
          }),
        );
      });
      await Promise.all([...this.byId.values()].map((d) => d.start()));
      if (this.options.discovery) {
        const discovery = new DiscoveryResponder({
          ...this.options.discovery,
          devices: () => [...this.byId.values()].map(discoverable),
        });
        try {
          await discovery.start();
          this.discovery = discovery;
        } catch (error) {
          // Devices work without discovery; clients that need it say so themselves.
          const { address, port } = this.options.discovery;
          console.error(
            `sim: WS-Discovery cannot bind ${address}:${port} (${(error as Error).message}); ` +
              'running without discovery (choose another --discovery-port, or 0)',
          );
        }
      }
      if (this.options.gatewayTemperatureFile) {
        const gateway = new SimGateway(this.options.gatewayTemperatureFile);
        await gateway.start();
        this.gateway = gateway;
      }
      const control = new ControlServer({
        host: this.options.controlHost ?? s.host,
        port: s.controlPort,
        target: this,
        gateway: this.gateway,
      });
      await control.start();
      this.control = control;
      if (this.options.timedFaults?.length) {
        this.schedule = new FaultSchedule(this.options.timedFaults, this);
        this.schedule.start();
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.schedule?.stop();
    this.schedule = null;
    const control = this.control;
    this.control = null;
    await control?.stop();
    this.gateway?.stop();
    this.gateway = null;
    const discovery = this.discovery;
    this.discovery = null;
    await discovery?.stop();
    await Promise.all([...this.byId.values()].map((d) => d.stop()));
    this.byId.clear();
    const rtsp = this.rtsp;
    this.rtsp = null;
    await rtsp?.stop();
  }

  devices(): SimDeviceInfo[] {
    return [...this.byId.values()].map((d) => d.info());
  }

  device(id: string): SimDeviceInfo | undefined {
    return this.byId.get(id)?.info();
  }

  /** Adds a fault (replacing one of the same kind and channel); resolves once it acts. */
  setFault(deviceId: string, fault: SimFault): Promise<SimDeviceInfo> {
    return this.require(deviceId).setFault(fault);
  }

  /** Clears every fault (or every fault of one kind); an offline device listens again. */
  clearFaults(deviceId: string, kind?: SimFaultKind): Promise<SimDeviceInfo> {
    return this.require(deviceId).clearFaults(kind);
  }

  /** What the device was asked, oldest first (the last 500 requests). */
  requests(deviceId: string): SimRequestLogEntry[] {
    return this.require(deviceId).requests();
  }

  /** Every device as at start: no faults, empty logs; timed faults start over. */
  async reset(): Promise<SimDeviceInfo[]> {
    this.schedule?.stop();
    const devices = await Promise.all([...this.byId.values()].map((d) => d.reset()));
    await this.gateway?.clearFaults();
    this.schedule?.start();
    return devices;
  }

  private require(deviceId: string): SimulatedDevice {
    const device = this.byId.get(deviceId);
    if (!device) {
      throw new VigilError('VIGIL_NOT_FOUND', `no simulated device "${deviceId}"`, [
        `known devices: ${[...this.byId.keys()].join(', ') || '(none: call start() first)'}`,
      ]);
    }
    return device;
  }
}

function discoverable(device: SimulatedDevice): Discoverable {
  const identity = device.identity();
  return {
    id: device.id,
    kind: device.model.kind,
    name: device.model.name,
    xaddr: device.xaddr,
    hardware: identity.model,
    serialNumber: identity.serialNumber,
    reachable: device.reachable,
  };
}
