/**
 * The agent as one object: configuration in, MQTT messages out. It wires the ONVIF
 * clients, the checks, the device states, the scheduler, the uplink and the gateway
 * readings; each of those holds its own logic. main.ts runs it from the command line,
 * tests run it in-process.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DeviceRef } from '../shared/messages/common.js';
import type { Static } from 'typebox';
import { Adoption } from './adoption.js';
import {
  behindAddress,
  judge,
  nvrOwnReasons,
  witnessed,
  type BehindClaim,
  type BehindRef,
  type NvrSight,
} from './behind-nvr.js';
import { checks as allChecks } from './checks/index.js';
import { Commands } from './commands.js';
import { DiscoveredStore } from './discovered-store.js';
import { probe, type DiscoveredDevice } from './onvif/discovery.js';
import { DeviceMemory, type Check } from './checks/types.js';
import type { AgentConfig, BehindCameraConfig, DeviceConfig } from './config.js';
import { DeviceState, type DeviceSnapshot, type DeviceStatus } from './device-state.js';
import { Gateway, type GatewayStats } from './gateway.js';
import { Liveness } from './liveness.js';
import { consoleLogger, type Logger } from './log.js';
import { OnvifDeviceClient } from './onvif/adapter.js';
import { CaTls, endpointOfUrl, PinnedTls, type DeviceTls } from './onvif/device-tls.js';
import { PinStore } from './tls-pins.js';
import type { OnvifClient } from './onvif/types.js';
import { runChecks, type PollResult } from './poll.js';
import { Scheduler, type PollNext } from './scheduler.js';
import { DiskSpool } from './spool/disk.js';
import type { Spool } from './spool/types.js';
import { Uplink, type Body } from './uplink.js';

export interface AgentOptions {
  config: AgentConfig;
  log?: Logger;
  version?: string;
  hostname?: string;
  /** The checks of one poll; checks/index.ts by default. */
  checks?: readonly Check[];
  /**
   * Makes the ONVIF client of a device; onvif/adapter.ts's by default. `tls`: how its
   * https connections are trusted (pinned, or the CA file).
   */
  clientFor?: (device: DeviceConfig, timeoutMs: number, tls: DeviceTls) => OnvifClient;
  gateway?: { sample(): Promise<GatewayStats> };
  /** Broker reconnect delays (tests shorten them). */
  reconnect?: { minMs: number; maxMs: number };
  /** The outbox; a DiskSpool in `dataDir/spool` by default. */
  spool?: Spool;
  /**
   * WS-Discovery for the rediscover command and `discovery.enabled`; by default a probe to
   * `discovery.address`:`discovery.port` (the multicast group) for `discovery.waitS`.
   */
  discover?: () => Promise<DiscoveredDevice[]>;
}

/** What makes a new MQTT session necessary when it changes. */
function linkOf(config: AgentConfig): string {
  const { mqtt } = config;
  return JSON.stringify([
    config.siteId,
    config.agentId,
    config.dataDir,
    config.spool.maxBytes,
    mqtt.url,
    mqtt.urls,
    mqtt.username,
    mqtt.password.reveal(),
    mqtt.ca?.toString('base64'),
    mqtt.cert?.toString('base64'),
    mqtt.key?.reveal().toString('base64'),
    mqtt.reconnectMaxS,
  ]);
}

function deviceKey(device: DeviceConfig): string {
  return JSON.stringify([
    device.kind,
    device.xaddr,
    device.username,
    device.password.reveal(),
    device.ca?.toString('base64'),
    // Another vendor account is new credentials too: tried at once (poll.ts).
    device.vendor?.username,
    device.vendor?.password.reveal(),
  ]);
}

function diskSpool(config: AgentConfig, log: Logger): Spool {
  // The log: a full disk is said once, with the folder to free (not once per message).
  return new DiskSpool({
    dir: join(config.dataDir, 'spool'),
    maxBytes: config.spool.maxBytes,
    log,
  });
}

interface Device {
  config: DeviceConfig;
  client: OnvifClient;
  state: DeviceState;
  /** A state message was sent for it (so it is sent again when the broker lost it). */
  reported: boolean;
  /** The last poll that found it answering. */
  lastOkAt: Date | null;
  /** What its checks remember between polls. */
  memory: DeviceMemory;
}

/** A camera only behind an NVR (agent/behind-nvr.ts): never polled, seen through its NVR. */
interface BehindCamera {
  config: BehindCameraConfig;
  state: DeviceState;
  reported: boolean;
  /** Why it is unknown, as last logged; null while it is seen. */
  unseenWhy: string | null;
  /** When its NVR's poll first showed its channel offline, without a break since (ms); else null. */
  offlineSince: number | null;
  /**
   * Its channel came back online in the NVR's last poll: what the NVR says of the channel
   * besides (video loss, a black picture, recording behind) is its boot, not a fault, and
   * waits for the next poll.
   */
  settling: boolean;
}

/** What an NVR's last poll saw, for the cameras behind it. */
interface Sighting {
  sight: NvrSight;
  /** Gateway ms of that poll. */
  at: number;
  /** Gateway ms of the last poll whose vendor API listed the channels; null: never. */
  listedAt: number | null;
}

/**
 * How long an NVR's view stays good for the cameras behind it, in poll intervals: a poll of
 * the NVR without its channel list within it concludes nothing (behind-nvr.ts `judge`), and
 * a camera also polled directly adds what its NVR saw within it.
 */
const SIGHT_INTERVALS = 4;

export class Agent {
  #config: AgentConfig;
  readonly #log: Logger;
  readonly #version: string;
  readonly #hostname: string;
  readonly #checks: readonly Check[];
  readonly #clientFor: (device: DeviceConfig, timeoutMs: number, tls: DeviceTls) => OnvifClient;
  /** The HTTPS certificates pinned per device, in `dataDir/tls-pins.json`. */
  #pins: PinStore;
  readonly #gateway: { sample(): Promise<GatewayStats> };
  readonly #reconnect: { minMs: number; maxMs: number } | undefined;
  #spool: Spool;
  readonly #ownSpool: boolean;
  readonly #commands: Commands;
  readonly #devices = new Map<string, Device>();
  /** Cameras only behind an NVR, by id (config.behindNvr). */
  readonly #behind = new Map<string, BehindCamera>();
  /** The last poll of each NVR as its cameras read it. */
  readonly #sightings = new Map<string, Sighting>();
  /** The NVRs some camera is behind: only their polls are read for cameras. */
  #watchedNvrs = new Set<string>();
  #uplink: Uplink | null = null;
  #scheduler: Scheduler | null = null;
  /** What a liveness probe between polls means (liveness.ts); the scheduler runs it. */
  readonly #liveness = new Liveness({
    ask: (id, signal) => {
      const device = this.#devices.get(id);
      if (!device) return Promise.resolve();
      // The probe's own lean request where the client has one (onvif/probe.ts).
      return device.client.probe ? device.client.probe(signal) : device.client.clock(signal);
    },
    status: (id) => this.#devices.get(id)?.state.status,
    suspect: (id, askedAt) => this.#devices.get(id)?.state.suspect(askedAt),
  });
  #healthTimer: NodeJS.Timeout | null = null;
  #startedAt = new Date();
  #lastPollAt: Date | null = null;
  #checkErrors = 0;
  readonly #discover: () => Promise<DiscoveredDevice[]>;
  readonly #adoption = new Adoption();
  /** Where the adopted and pending devices are kept across restarts (`dataDir`). */
  #discovered: DiscoveredStore;
  #discoveryTimer: NodeJS.Timeout | null = null;
  /** The probe running now, so stop() and reload() wait for it. */
  #discovering: Promise<DiscoveredDevice[]> | null = null;

  constructor(options: AgentOptions) {
    this.#config = options.config;
    this.#log = options.log ?? consoleLogger;
    this.#version = options.version ?? '0.0.0';
    this.#hostname = options.hostname ?? hostname();
    this.#checks = options.checks ?? allChecks;
    this.#clientFor =
      options.clientFor ??
      ((device, timeoutMs, tls) =>
        new OnvifDeviceClient(
          {
            xaddr: device.xaddr,
            username: device.username,
            password: device.password,
            tls,
            ...(device.vendor ? { vendor: { ...device.vendor } } : {}),
          },
          { timeoutMs },
        ));
    this.#pins = new PinStore(options.config.dataDir, this.#log);
    this.#gateway =
      options.gateway ??
      new Gateway(options.config.dataDir, this.#log, () => this.#config.gateway.temperatureFile);
    const maxS = options.config.mqtt.reconnectMaxS;
    this.#reconnect =
      options.reconnect ??
      (maxS !== undefined ? { minMs: Math.min(1000, maxS * 1000), maxMs: maxS * 1000 } : undefined);
    this.#discovered = new DiscoveredStore(options.config.dataDir, this.#log);
    this.#ownSpool = options.spool === undefined;
    this.#spool = options.spool ?? diskSpool(options.config, this.#log);
    this.#discover =
      options.discover ??
      (() => {
        const { address, port, waitS } = this.#config.discovery;
        return probe({ address, port, waitMs: waitS * 1000 });
      });
    this.#commands = new Commands({
      log: this.#log,
      config: () => this.#config,
      known: () => this.#effectiveDevices().map((d) => d.xaddr),
      pollNow: (id) => this.pollNow(id),
      discover: () => this.discoverNow(),
      respond: (body) => void this.#uplink?.publishResponse(body),
      trust: (id, fingerprint, by) => this.trustCertificate(id, fingerprint, by),
    });
  }

  get config(): AgentConfig {
    return this.#config;
  }

  /** Current status of every device, for tests and the NOC's "read the latest state". */
  statuses(): Record<string, DeviceStatus> {
    return Object.fromEntries(
      [...this.#devices, ...this.#behind].map(([id, d]) => [id, d.state.status]),
    );
  }

  async start(): Promise<void> {
    if (this.#scheduler) return;
    this.#startedAt = new Date();
    await this.#restoreDiscovered();
    this.#pins = new PinStore(this.#config.dataDir, this.#log);
    this.#pins.load();
    this.#setDevices(this.#config);
    // Recovers what a previous run left unsent; its seq continues from there.
    await this.#spool.start();
    const uplink = new Uplink({
      siteId: this.#config.siteId,
      agentId: this.#config.agentId,
      mqtt: this.#config.mqtt,
      log: this.#log,
      spool: this.#spool,
      birth: () => this.#birth(),
      onSessionLost: () => this.#reportAgain(),
      onCommand: (command) => void this.#commands.run(command),
      ...(this.#reconnect ? { reconnect: this.#reconnect } : {}),
    });
    this.#uplink = uplink;
    uplink.start();
    this.#startPolling();
    this.#startDiscovery();
  }

  /**
   * The devices a previous run adopted or listed for approval: polled (`auto`) and in the
   * first birth at once, without waiting for them to answer a Probe, which a dead camera
   * never will.
   */
  async #restoreDiscovered(): Promise<void> {
    const { discovery, devices } = this.#config;
    if (!discovery.enabled) return;
    this.#discovered = new DiscoveredStore(this.#config.dataDir, this.#log);
    this.#adoption.restore(await this.#discovered.load(), devices, discovery.adopt);
    const adopted = this.#adoption
      .adopted(this.#config.onvif, this.#config.vendor)
      .map((d) => d.id);
    if (discovery.adopt === 'auto' && adopted.length > 0) {
      this.#log.info(
        `${adopted.length} device(s) adopted by an earlier discovery, polled again: ${adopted.join(', ')}`,
      );
    }
  }

  /** The devices polled: the configured ones, then those adopted from discovery. */
  #effectiveDevices(config: AgentConfig = this.#config): DeviceConfig[] {
    if (!config.discovery.enabled || config.discovery.adopt !== 'auto') return config.devices;
    return [...config.devices, ...this.#adoption.adopted(config.onvif, config.vendor)];
  }

  #startDiscovery(): void {
    const { discovery } = this.#config;
    if (!discovery.enabled) return;
    const run = (): void => {
      this.discoverNow().catch((error: unknown) => {
        // A gateway without a multicast route, a port in use: polling goes on regardless.
        this.#log.warn(
          `WS-Discovery probe to ${discovery.address}:${discovery.port} failed (${(error as Error).message}); ` +
            'configured devices are still polled; check the gateway has a route to the camera network',
        );
      });
    };
    run();
    this.#discoveryTimer = setInterval(run, discovery.intervalS * 1000);
  }

  #stopDiscovery(): void {
    if (this.#discoveryTimer) clearInterval(this.#discoveryTimer);
    this.#discoveryTimer = null;
  }

  /**
   * One WS-Discovery probe, applied: with discovery on, new devices are adopted (`auto`,
   * polled from now on) or listed for approval (`approve`), and the birth is sent again
   * when either list changed. Resolves with everything that answered.
   */
  async discoverNow(): Promise<DiscoveredDevice[]> {
    if (this.#discovering) return this.#discovering;
    const running = this.#discover();
    this.#discovering = running;
    let found: DiscoveredDevice[];
    try {
      found = await running;
    } finally {
      this.#discovering = null;
    }
    const { discovery } = this.#config;
    if (!discovery.enabled || !this.#uplink) return found;
    const changed = this.#adoption.update(found, this.#config.devices, discovery.adopt);
    if (changed.devices) {
      const before = new Set(this.#devices.keys());
      this.#setDevices(this.#config);
      const added = [...this.#devices.keys()].filter((id) => !before.has(id));
      for (const id of added) this.#scheduler?.add(id);
      if (added.length > 0) {
        this.#log.info(`adopted ${added.length} discovered device(s): ${added.join(', ')}`);
      }
    }
    if (changed.pending && discovery.adopt === 'approve') {
      this.#log.info(
        `${this.#adoption.pending().length} discovered device(s) wait for approval (not polled)`,
      );
    }
    if (changed.devices || changed.pending) {
      this.#uplink.announce();
      // Only on a change: a gateway's flash card should not be written every interval.
      void this.#discovered.save(this.#adoption.saved());
    }
    return found;
  }

  /**
   * Applies a new configuration (SIGHUP). The same broker, identity and data folder: the
   * devices and settings are swapped while the MQTT session stays up, devices that did not
   * change keep their state, and a new birth lists the devices. Otherwise the agent stops
   * and starts again with the new configuration (the spool keeps what was not sent).
   */
  async reload(config: AgentConfig): Promise<'applied' | 'restarted'> {
    if (linkOf(config) === linkOf(this.#config) && this.#uplink) {
      this.#stopDiscovery();
      await this.#discovering?.catch(() => undefined);
      await this.#stopPolling();
      this.#config = config;
      // Adopted devices now configured, or a changed mode, are sorted out by the next probe.
      const changed = this.#adoption.update([], config.devices, config.discovery.adopt);
      if (changed.devices) void this.#discovered.save(this.#adoption.saved());
      this.#setDevices(config);
      this.#startPolling();
      this.#startDiscovery();
      this.#uplink.announce();
      return 'applied';
    }
    await this.stop();
    this.#config = config;
    if (this.#ownSpool) this.#spool = diskSpool(config, this.#log);
    await this.start();
    return 'restarted';
  }

  /** Polls one device (or all) now; resolves with their status after the poll. */
  async pollNow(deviceId?: string): Promise<{ deviceId: string; status: DeviceStatus }[]> {
    // A camera behind an NVR is seen by polling its NVR.
    const behind = deviceId === undefined ? undefined : this.#behind.get(deviceId);
    if (behind) {
      await this.pollNow(behind.config.behind.nvr);
      return [{ deviceId: behind.config.id, status: behind.state.status }];
    }
    const ids = deviceId === undefined ? [...this.#devices.keys()] : [deviceId];
    const out: { deviceId: string; status: DeviceStatus }[] = [];
    for (const id of ids) {
      if (!this.#devices.has(id))
        throw new Error(`no device "${id}" in this agent's configuration`);
    }
    await Promise.all(
      ids.map(async (id) => {
        const controller = new AbortController();
        const timer = setTimeout(
          () => controller.abort(),
          this.#config.polling.timeoutMs * (this.#checks.length + 1) * 4,
        );
        try {
          await this.#poll(id, controller.signal);
        } finally {
          clearTimeout(timer);
        }
        out.push({ deviceId: id, status: this.#devices.get(id)?.state.status ?? 'unknown' });
      }),
    );
    return out;
  }

  /**
   * Accepts the HTTPS certificate a device presents now in place of its pinned one (the
   * NOC's trust-certificate command). Only the fingerprint the device was last refused for:
   * a third certificate since the operator looked is not accepted blindly.
   *
   * Answers as soon as the pin is written and polls the device without waiting for it: the
   * broker waits for the answer a few seconds only (broker/api/commands.ts) and audits what
   * it hears, so an answer held back by a slow poll was audited as refused while the pin had
   * changed. The poll's outcome reaches the NOC as the device's next state.
   */
  async trustCertificate(
    deviceId: string,
    fingerprint: string,
    by: string,
  ): Promise<{
    deviceId: string;
    previous: string | null;
    accepted: string;
  }> {
    const device = this.#devices.get(deviceId);
    if (!device) throw new Error(`no device "${deviceId}" in this agent's configuration`);
    if (new URL(device.config.xaddr).protocol !== 'https:') {
      throw new Error(
        `device ${deviceId} is not reached over HTTPS (${device.config.xaddr}): it has no certificate to accept`,
      );
    }
    if (this.#caOf(device.config)) {
      throw new Error(
        `device ${deviceId} is verified against the CA file of the agent config (tls.caFile), not pinned: install a certificate signed by that CA on the device`,
      );
    }
    // Pins are per address (tls-pins.ts): the fingerprint is accepted at every address of
    // the device that presented it and was refused, the service's first.
    const service = endpointOfUrl(device.config.xaddr);
    const refusals = this.#pins.refusals(deviceId);
    const accepting = refusals
      .filter((r) => r.presented === fingerprint)
      .sort((a, b) => Number(b.endpoint === service) - Number(a.endpoint === service));
    if (accepting.length === 0) {
      const at = { deviceId, endpoint: service, service: true };
      if (this.#pins.get(at)?.fingerprint === fingerprint) {
        return { deviceId, previous: fingerprint, accepted: fingerprint };
      }
      throw new Error(
        refusals.length === 0
          ? `device ${deviceId} has not presented ${fingerprint} to this agent; nothing accepted (poll it, then accept the fingerprint its certificate-changed reason names)`
          : `device ${deviceId} now presents ${refusals.map((r) => `${r.presented} at ${r.endpoint}`).join(', ')}, not ${fingerprint}; nothing accepted: compare the fingerprints again`,
      );
    }
    let previous: string | null = null;
    for (const [i, { endpoint }] of accepting.entries()) {
      const at = { deviceId, endpoint, service: endpoint === service };
      const done = this.#pins.accept(at, fingerprint, by);
      if (i === 0) previous = done.previous;
    }
    this.pollNow(deviceId).catch((error: unknown) => this.#checkError(deviceId, error));
    return { deviceId, previous, accepted: fingerprint };
  }

  #caOf(device: DeviceConfig): Buffer | undefined {
    return device.ca ?? this.#config.tls.ca;
  }

  /** Keeps the devices whose address and account did not change; new ones start unknown. */
  #setDevices(config: AgentConfig): void {
    this.#setBehind(config);
    const before = new Map(this.#devices);
    this.#devices.clear();
    for (const device of this.#effectiveDevices(config)) {
      const kept = before.get(device.id);
      if (kept && deviceKey(kept.config) === deviceKey(device)) {
        kept.config = device;
        this.#devices.set(device.id, kept);
        continue;
      }
      this.#devices.set(device.id, {
        config: device,
        client: this.#clientFor(device, config.polling.timeoutMs, this.#tlsOf(device, config)),
        state: new DeviceState(),
        reported: false,
        lastOkAt: null,
        memory: new DeviceMemory(),
      });
    }
  }

  /** The cameras only behind an NVR: kept while on the same NVR channel, else new (unknown). */
  #setBehind(config: AgentConfig): void {
    const before = new Map(this.#behind);
    this.#behind.clear();
    for (const camera of config.behindNvr) {
      const kept = before.get(camera.id);
      const same =
        kept?.config.behind.nvr === camera.behind.nvr &&
        kept.config.behind.channel === camera.behind.channel;
      if (kept && same) {
        kept.config = camera;
        this.#behind.set(camera.id, kept);
        continue;
      }
      this.#behind.set(camera.id, {
        config: camera,
        state: new DeviceState(),
        reported: false,
        unseenWhy: null,
        offlineSince: null,
        settling: false,
      });
    }
    this.#watchedNvrs = new Set(
      [...config.behindNvr, ...config.devices].flatMap((d) => (d.behind ? [d.behind.nvr] : [])),
    );
    for (const id of this.#sightings.keys()) {
      if (!this.#watchedNvrs.has(id)) this.#sightings.delete(id);
    }
  }

  #tlsOf(device: DeviceConfig, config: AgentConfig): DeviceTls {
    const ca = device.ca ?? config.tls.ca;
    return ca ? new CaTls(ca) : new PinnedTls(() => this.#pins, device.id, device.xaddr);
  }

  async #stopPolling(): Promise<void> {
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    this.#healthTimer = null;
    await this.#scheduler?.stop();
    this.#scheduler = null;
  }

  #startPolling(): void {
    const { polling } = this.#config;
    this.#scheduler = new Scheduler(
      [...this.#devices.keys()],
      (id, signal) => this.#poll(id, signal),
      {
        intervalMs: polling.intervalS * 1000,
        recheckMs: polling.recheckS * 1000,
        jitterPct: polling.jitterPct,
        concurrency: polling.concurrency,
        // Every request of a poll has its own timeoutMs; one more is the margin for the
        // media check's first GetCapabilities. The deadline only catches agent bugs.
        // Stream and picture checks ask once per channel: an NVR takes more requests.
        pollTimeoutMs: polling.timeoutMs * (this.#checks.length + 1) * 4,
        onError: (id, error) => this.#checkError(id, error),
        ...(polling.probeS > 0
          ? {
              probe: {
                intervalMs: polling.probeS * 1000,
                timeoutMs: polling.probeTimeoutMs,
                task: (id, signal) => this.#liveness.probe(id, signal),
              },
            }
          : {}),
      },
    );
    this.#liveness.keep(this.#devices.keys());
    this.#scheduler.start();
    this.#healthTimer = setInterval(
      () => void this.#publishHealth(),
      polling.healthIntervalS * 1000,
    );
  }

  /** Stops polling (waiting for polls in flight), then says goodbye to the broker. */
  async stop(): Promise<void> {
    this.#stopDiscovery();
    await this.#discovering?.catch(() => undefined);
    await this.#stopPolling();
    await this.#uplink?.stop();
    this.#uplink = null;
    await this.#spool.stop();
    await this.#discovered.flush();
  }

  async #poll(id: string, signal: AbortSignal): Promise<PollNext> {
    const device = this.#devices.get(id);
    if (!device) return 'interval';
    let result: PollResult;
    const startedAt = new Date();
    try {
      result = await runChecks(this.#checks, {
        device: device.config,
        client: device.client,
        signal,
        settings: this.#config.checks,
        memory: device.memory,
        now: Date.now,
        intervalS: this.#config.polling.intervalS,
        ...this.#confirmAfter(device),
      });
    } catch (error) {
      this.#checkError(id, error);
      device.state.forgetSuspicion();
      return 'interval';
    }
    this.#lastPollAt = new Date();
    this.#liveness.polled(id);
    if (result.ok) device.lastOkAt = this.#lastPollAt;
    // The poll's opening question and its confirming second request both went unanswered
    // (checks/reachable.ts): a failure and its confirmation, dated from the first.
    const opening = device.memory.openingUnanswered;
    device.memory.openingUnanswered = null;
    if (opening && !result.ok && result.failure.code === 'timeout') {
      device.state.suspect(opening);
    }
    // Also behind an NVR: what the NVR saw of it and its own poll did not (behind-nvr.ts).
    if (device.config.behind) {
      result = witnessed(result, device.config.behind, this.#sightOf(device.config.behind));
    }
    // An NVR with cameras behind it: its reasons about their channels are theirs, taken
    // before its state is recorded (behind-nvr.ts nvrOwnReasons). Its metrics stay as
    // measured: the recording of that channel did stop, and the inspection report's
    // recording figures are the NVR's.
    const seen = this.#watchedNvrs.has(id) ? this.#sightOfPoll(device, result) : null;
    if (seen && result.ok) {
      result = {
        ...result,
        degraded: nvrOwnReasons(seen.sight, this.#claimsOn(id), seen.listedLately),
      };
    }
    const { change, recheck } = device.state.record(result, startedAt);
    // The state first: a change is what the NOC acts on.
    if (change) this.#publishState(device, change);
    this.#uplink?.publishDeviceMetrics(id, {
      deviceId: id,
      kind: device.config.kind,
      values: result.values,
    });
    // The cameras behind an NVR (behind-nvr.ts): confirmed by the NVR's next polls, not by
    // a quick recheck (see #seeBehind).
    if (seen !== null) this.#seeBehind(device, seen, startedAt);
    // Where the probe runs, a first failure that waited out a deadline is confirmed at
    // once: the pause a recheck leaves for a glitch has passed. With the probe off
    // (probeS 0) every failure waits for its recheck, as before the probe.
    if (recheck) {
      const waitedOut = !result.ok && result.failure.code === 'timeout';
      return waitedOut && this.#config.polling.probeS > 0 ? 'recheck-now' : 'recheck';
    }
    // Down: look again on a growing delay, so the slots go to devices that answer.
    return device.state.status === 'down' ? 'backoff' : 'interval';
  }

  /**
   * What an NVR's poll shows its cameras, read before its state is recorded: all its reasons
   * (those about their channels among them); its status is set once recorded (#seeBehind).
   */
  #sightOfPoll(
    nvr: Device,
    result: PollResult,
  ): { sight: NvrSight; listedAt: number | null; listedLately: boolean } {
    const now = Date.now();
    const { id, name } = nvr.config;
    const channels = result.vendor?.channels ?? null;
    const before = this.#sightings.get(id);
    const sight: NvrSight = {
      nvr: { id, name },
      status: nvr.state.status,
      answered: result.ok,
      channels,
      reasons: result.ok ? result.degraded : [],
      onvif: result.values.events !== undefined || result.values.recordingsStopped !== undefined,
      sources: nvr.memory.channels.map((c) => c.sourceToken),
      profiles: nvr.memory.channels.map((c) => ({ token: c.profileToken, source: c.sourceToken })),
      recordings: result.recordings ?? nvr.state.snapshot().recordings ?? [],
    };
    const listedAt = channels ? now : (before?.listedAt ?? null);
    const graceMs = SIGHT_INTERVALS * this.#config.polling.intervalS * 1000;
    const listedLately = listedAt !== null && now - listedAt <= graceMs;
    return { sight, listedAt, listedLately };
  }

  /** The cameras configured behind an NVR (only behind it, or reached directly too). */
  #claimsOn(nvrId: string): BehindClaim[] {
    const claims: BehindClaim[] = [];
    for (const camera of this.#behind.values()) {
      if (camera.config.behind.nvr === nvrId) {
        claims.push({ behind: camera.config.behind, direct: false });
      }
    }
    for (const device of this.#devices.values()) {
      if (device.config.behind?.nvr === nvrId) {
        claims.push({ behind: device.config.behind, direct: true });
      }
    }
    return claims;
  }

  /** What an NVR's poll means for the cameras behind it; true: look at the NVR again soon. */
  #seeBehind(
    nvr: Device,
    seen: { sight: NvrSight; listedAt: number | null; listedLately: boolean },
    startedAt: Date,
  ): void {
    const { id } = nvr.config;
    const sight: NvrSight = { ...seen.sight, status: nvr.state.status };
    const { listedAt, listedLately } = seen;
    this.#sightings.set(id, { sight, at: Date.now(), listedAt });
    for (const camera of this.#behind.values()) {
      if (camera.config.behind.nvr !== id) continue;
      const verdict = judge(camera.config.behind, sight, listedLately);
      if (verdict.kind === 'wait') continue;
      if (verdict.kind === 'unseen') {
        if (verdict.why !== camera.unseenWhy) {
          // One line per cause (STYLE habit 16), not one per poll.
          this.#log.warn(
            `camera ${camera.config.id} (behind ${id}, channel ${camera.config.behind.channel}) is not seen, its status is unknown: ${verdict.why}`,
          );
          camera.unseenWhy = verdict.why;
        }
        // Unknown from the start (its NVR never answered yet) is said once too: the NOC
        // sees the camera is not watched, rather than nothing at all.
        camera.offlineSince = null;
        const change = camera.state.unseen() ?? (camera.reported ? null : camera.state.snapshot());
        if (change) this.#publishBehind(camera, change);
        continue;
      }
      camera.unseenWhy = null;
      if (!verdict.result.ok) {
        // Its channel offline: the first sighting is the first failure (the outage is dated
        // from it); the confirming one only once the channel stayed offline
        // `polling.behindOfflineS` without a break. A second look 1 s later would read the
        // NVR's same list: it confirms nothing about a camera that is rebooting (config.ts).
        camera.offlineSince ??= startedAt.getTime();
        // From poll start to poll start: the shorter, surer span.
        const lasted =
          startedAt.getTime() - camera.offlineSince >= this.#config.polling.behindOfflineS * 1000;
        if (camera.state.suspected && !lasted) {
          this.#uplink?.publishDeviceMetrics(camera.config.id, {
            deviceId: camera.config.id,
            kind: 'camera',
            values: verdict.result.values,
          });
          continue;
        }
      } else {
        // Back online after its NVR showed it offline: a camera that rebooted (firmware, the
        // weekly auto-maintenance, PoE after the NVR restarted) gives its first seconds of
        // stream as video loss or a black picture, and the NVR's recording of it starts a
        // moment later. What the NVR says of the channel is taken from its next poll on
        // (a lasting fault is then seen; a passing one never pages anybody).
        camera.settling = camera.offlineSince !== null;
        camera.offlineSince = null;
      }
      const result =
        verdict.result.ok && camera.settling ? { ...verdict.result, degraded: [] } : verdict.result;
      const recorded = camera.state.record(result, startedAt);
      if (recorded.change) this.#publishBehind(camera, recorded.change);
      this.#uplink?.publishDeviceMetrics(camera.config.id, {
        deviceId: camera.config.id,
        kind: 'camera',
        values: verdict.result.values,
      });
    }
  }

  /** The NVR's last view, while recent enough to add to a camera's own poll. */
  #sightOf(behind: BehindRef): NvrSight | null {
    const seen = this.#sightings.get(behind.nvr);
    const maxMs = SIGHT_INTERVALS * this.#config.polling.intervalS * 1000;
    return seen && Date.now() - seen.at <= maxMs ? seen.sight : null;
  }

  /** The address a camera only behind an NVR is published with (behind-nvr.ts). */
  #behindXaddr(camera: BehindCameraConfig): string {
    const nvr = this.#devices.get(camera.behind.nvr)?.config;
    return behindAddress(nvr?.xaddr ?? 'http://nvr.invalid/', camera.behind.channel);
  }

  #publishBehind(camera: BehindCamera, snapshot: DeviceSnapshot): void {
    const { id, name, kind } = camera.config;
    const body: Body<'deviceState'> = {
      deviceId: id,
      name,
      kind,
      xaddr: this.#behindXaddr(camera.config),
      status: snapshot.status,
      since: snapshot.since.toISOString(),
      reasons: snapshot.reasons,
    };
    if (this.#uplink?.publishDeviceState(id, body)) camera.reported = true;
  }

  /**
   * The probe's deadline as the reachable check's confirming delay (checks/reachable.ts),
   * for a poll of an answering device that confirms nothing yet, where the probe runs.
   */
  #confirmAfter(device: Device): { confirmAfterMs?: number } {
    const { probeS, probeTimeoutMs } = this.#config.polling;
    const status = device.state.status;
    const answering = status === 'up' || status === 'degraded';
    if (probeS <= 0 || !answering || device.state.suspected) return {};
    return { confirmAfterMs: probeTimeoutMs };
  }

  /** Something broke inside the agent (not a device fault): counted in AgentHealth. */
  #checkError(what: string, error: unknown): void {
    this.#checkErrors += 1;
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.#log.error(
      `a check of ${what} failed inside the agent (a bug, not a device fault): ${detail}`,
    );
  }

  #publishState(device: Device, snapshot: DeviceSnapshot): void {
    const { id, name, kind, xaddr } = device.config;
    const body: Body<'deviceState'> = {
      deviceId: id,
      name,
      kind,
      xaddr,
      status: snapshot.status,
      since: snapshot.since.toISOString(),
      reasons: snapshot.reasons,
    };
    if (snapshot.identity) body.identity = snapshot.identity;
    if (snapshot.recordings) body.recordings = snapshot.recordings;
    if (this.#uplink?.publishDeviceState(id, body)) device.reported = true;
  }

  /** The broker had no session for us: its retained states may be gone; send ours again. */
  #reportAgain(): void {
    for (const device of this.#devices.values()) {
      if (device.reported) this.#publishState(device, device.state.snapshot());
    }
    for (const camera of this.#behind.values()) {
      if (camera.reported) this.#publishBehind(camera, camera.state.snapshot());
    }
  }

  #birth(): Body<'agentStatus'> {
    const devices: Static<typeof DeviceRef>[] = this.#effectiveDevices().map(
      ({ id, name, kind, xaddr }) => ({
        id,
        name,
        kind,
        xaddr,
      }),
    );
    for (const camera of this.#behind.values()) {
      const { id, name, kind } = camera.config;
      devices.push({ id, name, kind, xaddr: this.#behindXaddr(camera.config) });
    }
    return {
      state: 'online',
      version: this.#version,
      startedAt: this.#startedAt.toISOString(),
      hostname: this.#hostname,
      devices,
      ...(this.#config.discovery.enabled && this.#config.discovery.adopt === 'approve'
        ? { discovered: this.#adoption.pending() }
        : {}),
    };
  }

  async #publishHealth(): Promise<void> {
    const uplink = this.#uplink;
    if (!uplink) return;
    let gateway: GatewayStats;
    try {
      gateway = await this.#gateway.sample();
    } catch (error) {
      this.#checkError('the gateway', error);
      return;
    }
    const devices = { total: 0, up: 0, degraded: 0, down: 0, unknown: 0 };
    const spool = this.#spool.stats();
    for (const device of [...this.#devices.values(), ...this.#behind.values()]) {
      devices.total += 1;
      devices[device.state.status] += 1;
    }
    uplink.publishHealth({
      uptimeS: Math.round((Date.now() - this.#startedAt.getTime()) / 100) / 10,
      devices,
      queueDepth: uplink.queueDepth,
      spool: {
        depth: spool.depth,
        bytes: spool.bytes,
        oldestAgeS:
          spool.oldestAt === null ? null : Math.max(0, (Date.now() - spool.oldestAt) / 1000),
        dropped: spool.dropped,
        held: spool.held,
        ...(spool.writeError !== null ? { diskError: spool.writeError } : {}),
      },
      mqtt: { connected: uplink.connected, inFlight: uplink.inFlight },
      lastOkPollAt: Object.fromEntries(
        [...this.#devices].map(([id, d]) => [id, d.lastOkAt ? d.lastOkAt.toISOString() : null]),
      ),
      checkErrors: this.#checkErrors + uplink.invalidMessages,
      lastPollAt: this.#lastPollAt ? this.#lastPollAt.toISOString() : null,
      gateway,
    });
  }
}
