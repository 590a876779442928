/**
 * The agent as one object: configuration in, MQTT messages out. It wires the ONVIF
 * clients, the checks, the device states, the scheduler, the uplink and the gateway
 * readings; each of those holds its own logic. main.ts runs it from the command line,
 * tests run it in-process.
 */
import { hostname } from 'node:os';
import type { DeviceRef } from '../shared/messages/common.js';
import type { Static } from 'typebox';
import { checks as allChecks } from './checks/index.js';
import type { Check } from './checks/types.js';
import type { AgentConfig, DeviceConfig } from './config.js';
import { DeviceState, type DeviceSnapshot, type DeviceStatus } from './device-state.js';
import { Gateway, type GatewayStats } from './gateway.js';
import { consoleLogger, type Logger } from './log.js';
import { OnvifDeviceClient } from './onvif/adapter.js';
import type { OnvifClient } from './onvif/types.js';
import { runChecks, type PollResult } from './poll.js';
import { Scheduler, type PollNext } from './scheduler.js';
import { Uplink, type Body } from './uplink.js';

export interface AgentOptions {
  config: AgentConfig;
  log?: Logger;
  version?: string;
  hostname?: string;
  /** The checks of one poll; checks/index.ts by default. */
  checks?: readonly Check[];
  /** Makes the ONVIF client of a device; the node-onvif adapter by default. */
  clientFor?: (device: DeviceConfig, timeoutMs: number) => OnvifClient;
  gateway?: { sample(): Promise<GatewayStats> };
  /** Broker reconnect delays (tests shorten them). */
  reconnect?: { minMs: number; maxMs: number };
}

interface Device {
  config: DeviceConfig;
  client: OnvifClient;
  state: DeviceState;
  /** A state message was sent for it (so it is sent again when the broker lost it). */
  reported: boolean;
}

export class Agent {
  readonly #config: AgentConfig;
  readonly #log: Logger;
  readonly #version: string;
  readonly #hostname: string;
  readonly #checks: readonly Check[];
  readonly #clientFor: (device: DeviceConfig, timeoutMs: number) => OnvifClient;
  readonly #gateway: { sample(): Promise<GatewayStats> };
  readonly #reconnect: { minMs: number; maxMs: number } | undefined;
  readonly #devices = new Map<string, Device>();
  #uplink: Uplink | null = null;
  #scheduler: Scheduler | null = null;
  #healthTimer: NodeJS.Timeout | null = null;
  #startedAt = new Date();
  #lastPollAt: Date | null = null;
  #checkErrors = 0;

  constructor(options: AgentOptions) {
    this.#config = options.config;
    this.#log = options.log ?? consoleLogger;
    this.#version = options.version ?? '0.0.0';
    this.#hostname = options.hostname ?? hostname();
    this.#checks = options.checks ?? allChecks;
    this.#clientFor =
      options.clientFor ??
      ((device, timeoutMs) =>
        new OnvifDeviceClient(
          { xaddr: device.xaddr, username: device.username, password: device.password },
          { timeoutMs },
        ));
    this.#gateway = options.gateway ?? new Gateway(options.config.dataDir, this.#log);
    this.#reconnect = options.reconnect;
  }

  /** Current status of every device, for tests and the NOC's "read the latest state". */
  statuses(): Record<string, DeviceStatus> {
    return Object.fromEntries([...this.#devices].map(([id, d]) => [id, d.state.status]));
  }

  async start(): Promise<void> {
    if (this.#scheduler) return;
    const { polling } = this.#config;
    this.#startedAt = new Date();
    for (const config of this.#config.devices) {
      this.#devices.set(config.id, {
        config,
        client: this.#clientFor(config, polling.timeoutMs),
        state: new DeviceState(),
        reported: false,
      });
    }
    const uplink = new Uplink({
      siteId: this.#config.siteId,
      agentId: this.#config.agentId,
      mqtt: this.#config.mqtt,
      log: this.#log,
      birth: () => this.#birth(),
      onSessionLost: () => this.#reportAgain(),
      ...(this.#reconnect ? { reconnect: this.#reconnect } : {}),
    });
    this.#uplink = uplink;
    uplink.start();
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
        pollTimeoutMs: polling.timeoutMs * (this.#checks.length + 1),
        onError: (id, error) => this.#checkError(id, error),
      },
    );
    this.#scheduler.start();
    this.#healthTimer = setInterval(
      () => void this.#publishHealth(),
      polling.healthIntervalS * 1000,
    );
  }

  /** Stops polling (waiting for polls in flight), then says goodbye to the broker. */
  async stop(): Promise<void> {
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    this.#healthTimer = null;
    await this.#scheduler?.stop();
    this.#scheduler = null;
    await this.#uplink?.stop();
    this.#uplink = null;
  }

  async #poll(id: string, signal: AbortSignal): Promise<PollNext> {
    const device = this.#devices.get(id);
    if (!device) return 'interval';
    let result: PollResult;
    try {
      result = await runChecks(this.#checks, {
        device: device.config,
        client: device.client,
        signal,
      });
    } catch (error) {
      this.#checkError(id, error);
      return 'interval';
    }
    this.#lastPollAt = new Date();
    const { change, recheck } = device.state.record(result);
    // The state first: a change is what the NOC acts on.
    if (change) this.#publishState(device, change);
    this.#uplink?.publishDeviceMetrics(id, {
      deviceId: id,
      kind: device.config.kind,
      values: result.values,
    });
    return recheck ? 'recheck' : 'interval';
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
    if (this.#uplink?.publishDeviceState(id, body)) device.reported = true;
  }

  /** The broker had no session for us: its retained states may be gone; send ours again. */
  #reportAgain(): void {
    for (const device of this.#devices.values()) {
      if (device.reported) this.#publishState(device, device.state.snapshot());
    }
  }

  #birth(): Body<'agentStatus'> {
    const devices: Static<typeof DeviceRef>[] = this.#config.devices.map(
      ({ id, name, kind, xaddr }) => ({
        id,
        name,
        kind,
        xaddr,
      }),
    );
    return {
      state: 'online',
      version: this.#version,
      startedAt: this.#startedAt.toISOString(),
      hostname: this.#hostname,
      devices,
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
    for (const device of this.#devices.values()) {
      devices.total += 1;
      devices[device.state.status] += 1;
    }
    uplink.publishHealth({
      uptimeS: Math.round((Date.now() - this.#startedAt.getTime()) / 100) / 10,
      devices,
      queueDepth: uplink.queueDepth,
      checkErrors: this.#checkErrors + uplink.invalidMessages,
      lastPollAt: this.#lastPollAt ? this.#lastPollAt.toISOString() : null,
      gateway,
    });
  }
}
