/**
 * The ticket desk on a real SQLite file in a temp dir, with an in-memory device
 * registry, a clock the test moves, and helpers that report device states and agent
 * status the way the pipeline's detect stage hands them over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import type { SlaAlert } from '../../../../shared/api/live.js';
import type { Ticket } from '../../../../shared/api/tickets.js';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { BrokerEvents } from '../../../../broker/events.js';
import type { Log } from '../../../../broker/log.js';
import { defaultDeskConfig, type DeskConfig } from '../../../../broker/tickets/desk-config.js';
import { startDesk, type Desk } from '../../../../broker/tickets/desk.js';
import { defaultSla } from '../../../../broker/tickets/types.js';
import { MemoryRegistry } from '../api/fixture.js';

export interface DeskFixture {
  db: Db;
  desk: Desk;
  registry: MemoryRegistry;
  events: BrokerEvents;
  clock: { now: Date };
  /**
   * Moves the clock, ticking at least every 30 s; the site's agent gw-01 sends a sign of
   * life at each step unless `agentAlive` is false.
   */
  advance(ms: number, agentAlive?: boolean): void;
  /** Reports a device's new state (status and reasons) through the detector. */
  report(id: string, status: Device['status'], patch?: Partial<Device>): Device;
  emitted: Ticket[];
  alerts: SlaAlert[];
  open(): Ticket[];
  all(): Ticket[];
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

export function makeDesk(config: Partial<DeskConfig> = {}, devices: Device[] = []): DeskFixture {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-desk-'));
  const db = openDatabase(join(dir, 'vigil.db'));
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
  const start = () =>
    startDesk({
      db,
      events,
      registry,
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
  let desk = start();
  const emitted: Ticket[] = [];
  const alerts: SlaAlert[] = [];
  events.on('ticket', (ticket) => emitted.push(ticket));
  events.on('sla', (alert) => alerts.push(alert));
  return {
    db,
    get desk() {
      return desk;
    },
    registry,
    events,
    clock,
    logLines,
    emitted,
    alerts,
    advance(ms, agentAlive = true) {
      let left = ms;
      do {
        const step = Math.min(left, 30_000);
        clock.now = new Date(clock.now.getTime() + step);
        if (agentAlive) desk.detector.agentSeen('demo-site', 'gw-01');
        desk.tick();
        left -= step;
      } while (left > 0);
    },
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
      registry.put(device);
      desk.detector.deviceChanged(previous, device);
      return device;
    },
    open: () => desk.tickets.list({ status: 'open' }),
    all: () => desk.tickets.list({ status: 'all' }),
    async restart() {
      await desk.stop();
      desk = start();
    },
    async cleanup() {
      await desk.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
