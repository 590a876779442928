/**
 * The ticket desk on a real SQLite file in a temp dir, with an in-memory device
 * registry and a clock the test moves. Everything a test reports goes through the
 * broker's own pipeline as the agent's MQTT messages would (decode, validate, dedupe,
 * track-state, store-metrics, detect, ticket), and every clock step is the pipeline's
 * clock beat: the path production runs, not a shortcut into the detector.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import type { SlaAlert } from '../../../../shared/api/live.js';
import type { Ticket } from '../../../../shared/api/tickets.js';
import type { PayloadOf, PublishedKind } from '../../../../shared/contract.js';
import type { AgentHealth } from '../../../../shared/messages/agent-health.js';
import { agentOnlineExample } from '../../../../shared/messages/agent-status.js';
import type { DeviceState } from '../../../../shared/messages/device-state.js';
import { topics } from '../../../../shared/topics.js';
import type { FastifyInstance } from 'fastify';
import { healthExample } from '../../../../shared/api/health.js';
import type { UserRole } from '../../../../shared/api/auth.js';
import { buildApi } from '../../../../broker/api/server.js';
import type { ApiDeps } from '../../../../broker/api/types.js';
import { UserStore } from '../../../../broker/api/users.js';
import { login } from '../api/fixture.js';
import { silentLog } from '../../../helpers/logs.js';
import { DeadLetterStore } from '../../../../broker/pipeline/index.js';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import type { SqlDatabase } from '../../../../broker/sql/types.js';
import { BrokerEvents } from '../../../../broker/events.js';
import type { Log } from '../../../../broker/log.js';
import { defaultDeskConfig, type DeskConfig } from '../../../../broker/wiring/desk-config.js';
import { startDesk, type Desk } from '../../../../broker/wiring/desk.js';
import { defaultSla } from '../../../../broker/tickets/types.js';
import { MemoryRegistry } from '../api/fixture.js';

export interface DeskFixture {
  db: Db;
  /** The same vigil.db through broker/sql, as the broker's stores see it. */
  store: SqlDatabase;
  desk: Desk;
  registry: MemoryRegistry;
  events: BrokerEvents;
  clock: { now: Date };
  /**
   * Moves the clock, ticking at least every 30 s; the site's agent gw-01 sends a sign of
   * life at each step unless `agentAlive` is false. Resolves once each beat's tickets
   * are written (the desk writes them after the beat, at the beat's instant).
   */
  advance(ms: number, agentAlive?: boolean): Promise<void>;
  /** Resolves once the messages fed so far ran and the desk wrote their tickets. */
  settle(): Promise<void>;
  /** Reports a device's new state (status and reasons) as its agent's state message. */
  report(id: string, status: Device['status'], patch?: Partial<Device>): Device;
  /** The agent's birth: a sign of life (gw-01 by default). */
  agentOnline(agentId?: string): void;
  /** The agent's last will (connection-lost) or its shutdown message. */
  agentOffline(agentId?: string, reason?: 'connection-lost' | 'shutdown'): void;
  /** The agent's health message. */
  health(health: AgentHealth): void;
  /** Messages the pipeline refused (a fixture bug if not empty). */
  deadLetters: DeadLetterStore;
  emitted: Ticket[];
  alerts: SlaAlert[];
  /** The open tickets once the desk settled. */
  open(): Promise<Ticket[]>;
  /** Every ticket once the desk settled. */
  all(): Promise<Ticket[]>;
  logLines: string[];
  /** Stops the desk and starts a new one on the same database, as a broker restart does. */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export function camera(id: string, patch: Partial<Device> = {}): Device {
  return {
    ...deviceExample,
    id,
    name: `Camera ${id}`,
    serialNumber: `SN-${id}`,
    identity: { ...deviceExample.identity!, serialNumber: `SN-${id}` },
    status: 'up',
    reasons: [],
    ...patch,
  };
}

export async function makeDesk(
  config: Partial<DeskConfig> = {},
  devices: Device[] = [],
): Promise<DeskFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-desk-'));
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new SqliteDatabase(db, join(dir, 'vigil.db'));
  const clock = { now: new Date('2026-11-26T08:00:00.000Z') };
  const events = new BrokerEvents();
  const registry = new MemoryRegistry();
  for (const device of devices) registry.put(device);
  const logLines: string[] = [];
  const log: Log = {
    info: (line) => logLines.push(line),
    warn: (line) => logLines.push(line),
    error: (line) => logLines.push(line),
  };
  const deadLetters = new DeadLetterStore(store);
  await deadLetters.start();
  const start = () =>
    startDesk({
      store,
      events,
      registry,
      // Readings are not what these tests look at; the pipeline still hands them on.
      metrics: { add: () => undefined },
      deadLetters,
      sla: defaultSla,
      // The test ticks by hand: the timer is set far out.
      config: {
        ...defaultDeskConfig,
        ...config,
        detect: { ...defaultDeskConfig.detect, tickMs: 3_600_000, ...config.detect },
      },
      log,
      now: () => clock.now,
    });
  let desk = await start();
  let seq = 0;
  const site = 'demo-site';
  /** One agent message through the pipeline, as the MQTT front door hands it over. */
  function publish<K extends PublishedKind>(topic: string, payload: PayloadOf<K>): void {
    desk.pipeline.feed({
      topic,
      payload: Buffer.from(JSON.stringify(payload)),
      clientId: `${payload.siteId}/${payload.agentId}`,
      agent: { siteId: payload.siteId, agentId: payload.agentId },
      receivedAt: clock.now,
    });
  }
  const birth = (agentId: string) =>
    publish<'agentStatus'>(topics.agentStatus(site, agentId), {
      ...agentOnlineExample,
      siteId: site,
      agentId,
      seq: seq++,
      ts: clock.now.toISOString(),
      devices: [],
    });
  const settle = async () => {
    await desk.pipeline.idle();
    await desk.tickets.idle();
  };
  const emitted: Ticket[] = [];
  const alerts: SlaAlert[] = [];
  events.on('ticket', (ticket) => emitted.push(ticket));
  events.on('sla', (alert) => alerts.push(alert));
  return {
    db,
    store,
    get desk() {
      return desk;
    },
    registry,
    events,
    clock,
    logLines,
    emitted,
    alerts,
    async advance(ms, agentAlive = true) {
      let left = ms;
      do {
        // What was published before the clock moves is handled at its own instant: the
        // pipeline's stages are asynchronous now, so a message still queued behind an
        // earlier one's write would otherwise be dated after the step.
        await desk.pipeline.idle();
        const step = Math.min(left, 30_000);
        clock.now = new Date(clock.now.getTime() + step);
        if (agentAlive) birth('gw-01');
        await desk.pipeline.idle();
        await desk.tick();
        left -= step;
      } while (left > 0);
    },
    settle,
    report(id, status, patch = {}) {
      const previous = registry.list().find((d) => d.id === id);
      const base = previous ?? camera(id);
      const reasons =
        status === 'down'
          ? [{ code: 'unreachable' as const, message: `connect ECONNREFUSED ${id}` }]
          : [];
      const device: Device = {
        ...base,
        status,
        reasons,
        since: clock.now.toISOString(),
        lastSeen: clock.now.toISOString(),
        ...patch,
      };
      const state: DeviceState = {
        v: 1,
        siteId: device.siteId,
        agentId: device.agentId,
        seq: seq++,
        ts: clock.now.toISOString(),
        deviceId: device.id,
        name: device.name,
        kind: device.kind,
        xaddr: device.xaddr,
        status: device.status,
        since: device.since ?? clock.now.toISOString(),
        reasons: device.reasons,
        ...(device.identity ? { identity: device.identity } : {}),
        ...(device.recordings ? { recordings: device.recordings } : {}),
      };
      publish<'deviceState'>(topics.deviceState(device.siteId, device.id), state);
      return registry.get(device.siteId, device.id) ?? device;
    },
    agentOnline: (agentId = 'gw-01') => birth(agentId),
    agentOffline(agentId = 'gw-01', reason = 'connection-lost') {
      publish<'agentStatus'>(topics.agentStatus(site, agentId), {
        v: 1,
        siteId: site,
        agentId,
        ts: clock.now.toISOString(),
        state: 'offline',
        reason,
      });
    },
    health(health) {
      publish<'agentHealth'>(topics.agentHealth(health.siteId, health.agentId), {
        ...health,
        seq: seq++,
      });
    },
    deadLetters,
    open: async () => {
      await settle();
      return desk.tickets.list({ status: 'open' });
    },
    all: async () => {
      await settle();
      return desk.tickets.list({ status: 'all' });
    },
    async restart() {
      await desk.stop();
      desk = await start();
    },
    async cleanup() {
      await desk.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A person who can log in to the desk's API. */
export interface ApiUser {
  username: string;
  password: string;
  role: UserRole;
}

/** A viewer, an operator and an admin of the desk's API, for the role checks. */
export const deskUsers = {
  viewer: { username: 'vera', password: 'viewer password 123', role: 'viewer' },
  operator: { username: 'olga', password: 'operator password 123', role: 'operator' },
  admin: { username: 'ada', password: 'admin password 12345', role: 'admin' },
} satisfies Record<string, ApiUser>;

/**
 * The HTTP API over the desk (its tickets, sites, maintenance, audit trail), on the
 * desk's clock, with each user created and logged in: their bearer tokens by name.
 */
export async function deskApi<Name extends string>(
  f: DeskFixture,
  users: Record<Name, ApiUser>,
  extra: Partial<ApiDeps> = {},
): Promise<{ app: FastifyInstance; tokens: Record<Name, string> }> {
  const store = new UserStore(f.store);
  await store.start();
  for (const user of Object.values<ApiUser>(users))
    await store.setUser(user.username, user.role, user.password);
  const app = await buildApi({
    db: f.db,
    store: f.store,
    devices: f.registry,
    tickets: f.desk.tickets,
    desk: f.desk,
    events: f.events,
    health: async () => healthExample,
    consoleDir: null,
    log: silentLog,
    loginFailureDelayMs: 10,
    now: () => f.clock.now,
    ...extra,
  });
  const tokens = {} as Record<Name, string>;
  for (const name of Object.keys(users) as Name[]) {
    const { username, password } = users[name];
    tokens[name] = (await login(app, { username, password })).token;
  }
  return { app, tokens };
}
