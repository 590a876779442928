import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { SqliteDeviceRegistry } from '../../../../broker/devices/sqlite-registry.js';
import { WriteBehindRegistry } from '../../../../broker/devices/write-behind.js';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';

const device = (patch: Partial<Device>): Device => ({ ...deviceExample, ...patch });

describe('device registry with readings written behind', () => {
  let dir: string;
  let file: string;
  let db: Db;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-registry-'));
    file = join(dir, 'vigil.db');
    db = openDatabase(file);
  });
  afterEach(async () => {
    if (db.open) db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** What another process opening the same file sees: the board after a crash. */
  const onDisk = (id: string): Device | undefined => {
    const other = openDatabase(file);
    try {
      const rows = new SqliteDeviceRegistry(other);
      rows.start();
      return rows.get(deviceExample.siteId, id);
    } finally {
      other.close();
    }
  };

  it('writes a state through at once and a reading at the next flush, serving both from memory', () => {
    const rows = new SqliteDeviceRegistry(db);
    rows.start();
    const registry = new WriteBehindRegistry(rows, 60_000);
    registry.start();
    const down = device({ id: 'cam-1', status: 'down', lastSeen: '2026-11-26T03:00:00.000Z' });
    expect(registry.put(down, down.lastSeen!)).toBeUndefined();
    expect(onDisk('cam-1')?.status).toBe('down');

    const reading = { ...down, lastSeen: '2026-11-26T03:00:15.000Z', responseMs: 42 };
    expect(registry.put(reading)).toEqual(down);
    // Served from memory at once; on disk only after the flush.
    expect(registry.get(down.siteId, 'cam-1')?.lastSeen).toBe(reading.lastSeen);
    expect(onDisk('cam-1')?.lastSeen).toBe(down.lastSeen);
    // A list is what the API shows: it includes the pending reading.
    expect(registry.list().find((d) => d.id === 'cam-1')?.responseMs).toBe(42);
    registry.stop();
    expect(onDisk('cam-1')?.lastSeen).toBe(reading.lastSeen);
  });

  it('writes pending readings on stop, and a new registry on the same file starts with them', () => {
    const rows = new SqliteDeviceRegistry(db);
    rows.start();
    const registry = new WriteBehindRegistry(rows, 60_000);
    registry.start();
    const up = device({ id: 'cam-2', status: 'up', lastSeen: '2026-11-26T03:00:00.000Z' });
    registry.put(up, up.lastSeen!);
    registry.put({ ...up, lastSeen: '2026-11-26T03:05:00.000Z' });
    registry.stop();
    db.close();

    db = openDatabase(file);
    const reopened = new SqliteDeviceRegistry(db);
    reopened.start();
    const again = new WriteBehindRegistry(reopened, 60_000);
    again.start();
    expect(again.get(up.siteId, 'cam-2')?.lastSeen).toBe('2026-11-26T03:05:00.000Z');
    again.stop();
  });

  it("lists from memory in the store's order, the readings not yet written included", () => {
    const rows = new SqliteDeviceRegistry(db);
    rows.start();
    const registry = new WriteBehindRegistry(rows, 60_000);
    registry.start();
    // Ids whose UTF-16 order differs from SQLite's (UTF-8 bytes): '\u{1F4F7}' sorts after
    // '\uFF10' in code points, before it in UTF-16 units.
    const ids = ['cam-10', 'cam-2', '摄像机-1', '\uFF10', '\u{1F4F7}', 'NVR-1'];
    for (const [i, id] of ids.entries()) {
      const siteId = i % 2 === 0 ? 'site-b' : 'site-a';
      registry.put(device({ id, siteId, status: 'up' }), '2026-11-26T03:00:00.000Z');
    }
    const reading = { ...registry.get('site-b', 'cam-10')!, responseMs: 99 };
    registry.put(reading);
    const memory = registry.list();
    const ofSiteB = registry.list({ siteId: 'site-b' });
    expect(registry.list({ siteId: 'nowhere' })).toEqual([]);
    expect(ofSiteB.find((d) => d.id === 'cam-10')?.responseMs).toBe(99);
    // A device joining later takes its place in the order.
    registry.put(
      device({ id: 'cam-1', siteId: 'site-b', status: 'up' }),
      '2026-11-26T03:00:01.000Z',
    );
    const after = registry.list({ siteId: 'site-b' }).map((d) => d.id);

    registry.stop();
    const stored = rows.list();
    expect(memory.map((d) => [d.siteId, d.id])).toEqual(
      stored.filter((d) => d.id !== 'cam-1').map((d) => [d.siteId, d.id]),
    );
    expect(after).toEqual(rows.list({ siteId: 'site-b' }).map((d) => d.id));
    expect(after[0]).toBe('cam-1');
  });
});
