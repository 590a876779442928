/**
 * A simulated site: cameras and NVRs, each an ONVIF device on its own port, plus the
 * control API that lists them and injects faults. Other parts' tests use it in-process:
 *
 *   const site = new SimSite({ cameras: 2, nvrs: 1, credentials: { username, password } });
 *   await site.start();
 *   await site.setFault('cam-01', { kind: 'offline' });
 *   await site.stop();
 */
import { Type, type Static } from 'typebox';
import type { SimDevice as SimDeviceInfo, SimFault } from '../shared/api/sim.js';
import { VigilError } from '../shared/errors.js';
import { ID_PATTERN } from '../shared/ids.js';
import { validator } from '../shared/validate.js';
import { ControlServer, type ControlTarget } from './control.js';
import { SimulatedDevice } from './device.js';
import { buildFleet } from './model.js';
import type { Credentials } from './soap/auth.js';

export type { SimDeviceInfo, SimFault, Credentials };

export interface SimSiteOptions {
  siteId?: string;
  /** Address every device and the control API listen on. */
  host?: string;
  /** 0 picks a free port (see `controlUrl`). */
  controlPort?: number;
  cameras?: number;
  nvrs?: number;
  nvrChannels?: number;
  /** The one account every device accepts (WS-UsernameToken). */
  credentials: Credentials;
  /** Changes every serial number and firmware choice; same seed, same fleet. */
  seed?: string | number;
  /** Device n (0-based, cameras first) listens on devicePortBase + n; 0 or absent: free ports. */
  devicePortBase?: number;
  /** Port of the site's RTSP server in the stream URIs. */
  rtspPort?: number;
}

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const SiteSettings = Type.Object({
  siteId: Type.String({ pattern: ID_PATTERN }),
  host: Type.String({ minLength: 1 }),
  controlPort: Port,
  cameras: Type.Integer({ minimum: 0, maximum: 999 }),
  nvrs: Type.Integer({ minimum: 0, maximum: 99 }),
  nvrChannels: Type.Integer({ minimum: 1, maximum: 256 }),
  credentials: Type.Object({
    username: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1 }),
  }),
  seed: Type.String(),
  devicePortBase: Port,
  rtspPort: Type.Integer({ minimum: 1, maximum: 65535 }),
});
const checkSettings = validator(SiteSettings);

/** Every error of these options, by path ("cameras: must be <= 999"); empty when valid. */
export function checkSiteOptions(options: SimSiteOptions): string[] {
  const checked = checkSettings(withDefaults(options));
  if (!checked.ok) return checked.errors;
  const { devicePortBase, cameras, nvrs } = checked.value;
  const last = devicePortBase + cameras + nvrs - 1;
  if (devicePortBase > 0 && last > 65535) {
    return [
      `devicePortBase: ${cameras + nvrs} devices from port ${devicePortBase} pass port 65535`,
    ];
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
    rtspPort: options.rtspPort ?? 8554,
  };
}

export class SimSite implements ControlTarget {
  readonly siteId: string;
  private readonly settings: Static<typeof SiteSettings>;
  private readonly byId = new Map<string, SimulatedDevice>();
  private control: ControlServer | null = null;

  constructor(options: SimSiteOptions) {
    this.settings = withDefaults(options);
    this.siteId = this.settings.siteId;
  }

  /** http://HOST:PORT of the control API; known once start() resolved. */
  get controlUrl(): string {
    if (!this.control) throw new Error('SimSite.controlUrl is known only after start()');
    return this.control.url;
  }

  async start(): Promise<void> {
    if (this.byId.size > 0) throw new Error('SimSite.start(): already started; stop() it first');
    const errors = checkSiteOptions(this.settings);
    if (errors.length > 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', 'invalid simulator settings', errors);
    }
    const s = this.settings;
    const fleet = buildFleet(s);
    fleet.forEach((model, n) => {
      const port = s.devicePortBase > 0 ? s.devicePortBase + n : 0;
      this.byId.set(
        model.id,
        new SimulatedDevice({
          model,
          host: s.host,
          port,
          credentials: s.credentials,
          rtspPort: s.rtspPort,
        }),
      );
    });
    const control = new ControlServer({ host: s.host, port: s.controlPort, target: this });
    try {
      await Promise.all([...this.byId.values()].map((d) => d.start()));
      await control.start();
      this.control = control;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const control = this.control;
    this.control = null;
    await control?.stop();
    await Promise.all([...this.byId.values()].map((d) => d.stop()));
    this.byId.clear();
  }

  devices(): SimDeviceInfo[] {
    return [...this.byId.values()].map((d) => d.info());
  }

  device(id: string): SimDeviceInfo | undefined {
    return this.byId.get(id)?.info();
  }

  /** Adds a fault (replacing one of the same kind); resolves once the sockets obey it. */
  setFault(deviceId: string, fault: SimFault): Promise<SimDeviceInfo> {
    return this.require(deviceId).setFault(fault);
  }

  /** Clears every fault; an offline device listens again on its old port. */
  clearFaults(deviceId: string): Promise<SimDeviceInfo> {
    return this.require(deviceId).clearFaults();
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
