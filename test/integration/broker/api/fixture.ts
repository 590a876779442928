/**
 * One API over a real SQLite file in a temp dir, with the real ticket service and a tiny
 * in-memory device registry (the SQLite registry belongs to the pipeline's tests).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { healthExample } from '../../../../shared/api/health.js';
import { buildApi } from '../../../../broker/api/server.js';
import type { ApiDeps } from '../../../../broker/api/types.js';
import { UserStore } from '../../../../broker/api/users.js';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import type { DeviceRegistry } from '../../../../broker/devices/registry.js';
import { BrokerEvents } from '../../../../broker/events.js';
import type { Log } from '../../../../broker/log.js';
import { createTicketService } from '../../../../broker/tickets/service.js';
import { defaultSla } from '../../../../broker/tickets/types.js';

export class MemoryRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  get(siteId: string, deviceId: string): Device | undefined {
    return this.devices.get(`${siteId}/${deviceId}`);
  }
  list(filter?: { siteId?: string }): Device[] {
    return [...this.devices.values()].filter((d) => !filter?.siteId || d.siteId === filter.siteId);
  }
  put(device: Device): Device | undefined {
    const key = `${device.siteId}/${device.id}`;
    const previous = this.devices.get(key);
    this.devices.set(key, device);
    return previous;
  }
}

export const OPERATOR = { username: 'olga', password: 'correct horse battery staple' };

export interface Fixture {
  dir: string;
  db: Db;
  /** The same vigil.db through broker/sql, as the broker's stores see it. */
  store: SqliteDatabase;
  deps: ApiDeps;
  logLines: string[];
  clock: { now: Date };
  cleanup(): void;
}

/** A temp dir with vigil.db, one operator account, one camera, and optionally a console. */
export async function makeFixture(opts: { console?: boolean } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-api-'));
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new SqliteDatabase(db, join(dir, 'vigil.db'));
  const clock = { now: new Date('2026-11-26T08:00:00.000Z') };
  const now = () => clock.now;
  const events = new BrokerEvents();
  const devices = new MemoryRegistry();
  devices.put(deviceExample);
  const users = new UserStore(store);
  await users.start();
  await users.setUser(OPERATOR.username, 'operator', OPERATOR.password);
  const logLines: string[] = [];
  const log: Log = {
    info: (line) => logLines.push(line),
    warn: (line) => logLines.push(line),
    error: (line) => logLines.push(line),
  };
  let consoleDir: string | null = null;
  if (opts.console) {
    consoleDir = join(dir, 'console');
    mkdirSync(join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Vigil</title>');
    writeFileSync(join(consoleDir, 'assets', 'app.js'), 'console.log("vigil")');
  }
  const tickets = createTicketService({ db: store, events, sla: defaultSla, now });
  await tickets.start();
  const deps: ApiDeps = {
    db,
    store,
    devices,
    tickets,
    events,
    health: async () => healthExample,
    consoleDir,
    log,
    loginFailureDelayMs: 50,
    now,
  };
  return {
    dir,
    db,
    store,
    deps,
    logLines,
    clock,
    cleanup() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function login(app: FastifyInstance, who = OPERATOR) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: who });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return { token: res.json<{ token: string }>().token, res };
}

export { buildApi };
