/**
 * The conformance suite of the device registry (broker/devices/write-behind.ts in
 * memory, over its store broker/devices/store.ts) and the outage spans written with it
 * (broker/devices/outages.ts), run on SQLite and on PostgreSQL
 * (test/suites/stores/backends.ts). The pipeline reads the memory; the store is what a
 * restart, or the node that takes over, starts from.
 */
import { beforeEach, expect, it } from 'vitest';
import { DeviceStore } from '../../../broker/devices/store.js';
import { WriteBehindRegistry } from '../../../broker/devices/write-behind.js';
import type { SqlDatabase, SqlSession } from '../../../broker/sql/types.js';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import type { Reason } from '../../../shared/messages/device-state.js';
import type { StoreBackend } from './backends.js';

const DAY = 86_400_000;
const MIN = 60_000;
const device = (patch: Partial<Device>): Device => ({ ...deviceExample, ...patch });
const nvr = (status: Device['status'], reasons: Reason[]): Device =>
  device({ id: 'nvr-01', kind: 'nvr', status, reasons });
const stopped = (channel: string): Reason => ({ code: 'recording-stopped', message: 'm', channel });
const iso = (ms: number) => new Date(ms).toISOString();

/** `db` whose transactions refuse a statement matching `refuse` while `refusing()` says so. */
export function refusing(db: SqlDatabase, refuse: RegExp, refusingNow: () => boolean): SqlDatabase {
  return Object.assign(Object.create(db) as SqlDatabase, {
    transaction: <T>(work: (tx: SqlSession) => Promise<T>): Promise<T> =>
      db.transaction((tx) =>
        work({
          dialect: tx.dialect,
          all: (sql, params) => tx.all(sql, params),
          get: (sql, params) => tx.get(sql, params),
          run: (sql, params) => {
            if (refuse.test(sql) && refusingNow()) throw new Error('disk full');
            return tx.run(sql, params);
          },
        } as SqlSession),
      ),
  });
}

export function deviceRegistrySuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let rows: DeviceStore;
  let clock: number;

  beforeEach(async () => {
    db = await backend.open();
    clock = Date.parse('2027-01-01T00:00:00Z');
    rows = new DeviceStore(db, { outages: { retentionDays: 10, now: () => clock } });
    await rows.start();
  });

  const registryOn = async (store: DeviceStore, retryMs = 10) => {
    const errors: string[] = [];
    const registry = new WriteBehindRegistry(store, {
      flushMs: 60_000,
      retryMs,
      onError: (error) => errors.push((error as Error).message),
    });
    await registry.start();
    return Object.assign(registry, { errors });
  };

  /** What another node, or the broker after a crash, reads. */
  const elsewhere = async (id: string): Promise<Device | undefined> => {
    const other = new DeviceStore(await backend.reopen(db));
    return other.get(deviceExample.siteId, id);
  };

  // ---- the registry in memory and its store ------------------------------------------

  it('writes a state through at once and a reading at the next flush, serving both from memory', async () => {
    const registry = await registryOn(rows);
    const down = device({ id: 'cam-1', status: 'down', lastSeen: '2026-11-26T03:00:00.000Z' });
    expect(registry.put(down, down.lastSeen!)).toBeUndefined();
    await registry.stored();
    expect((await elsewhere('cam-1'))?.status).toBe('down');

    const reading = { ...down, lastSeen: '2026-11-26T03:00:15.000Z', responseMs: 42 };
    expect(registry.put(reading)).toEqual(down);
    expect(registry.stored()).toBeUndefined();
    // Served from memory at once; in the store only after the flush.
    expect(registry.get(down.siteId, 'cam-1')?.lastSeen).toBe(reading.lastSeen);
    expect((await elsewhere('cam-1'))?.lastSeen).toBe(down.lastSeen);
    expect(registry.list().find((d) => d.id === 'cam-1')?.responseMs).toBe(42);
    await registry.stop();
    expect((await elsewhere('cam-1'))?.lastSeen).toBe(reading.lastSeen);
  });

  it('a state written through one connection is loaded through another (restart, the other node)', async () => {
    const registry = await registryOn(rows);
    const up = device({ id: 'cam-2', status: 'up', lastSeen: '2026-11-26T03:00:00.000Z' });
    registry.put(up, up.lastSeen!);
    registry.put({ ...up, lastSeen: '2026-11-26T03:05:00.000Z' });
    await registry.stop();

    const again = await registryOn(new DeviceStore(await backend.reopen(db)));
    expect(again.get(up.siteId, 'cam-2')?.lastSeen).toBe('2026-11-26T03:05:00.000Z');
    await again.stop();
  });

  it('reload() takes what the other node wrote and drops what this one had not written', async () => {
    const mine = await registryOn(rows);
    const theirs = await registryOn(new DeviceStore(await backend.reopen(db)));
    mine.put(device({ id: 'cam-1', status: 'up' }), '2026-11-26T03:00:00.000Z');
    await mine.stored();
    theirs.put(device({ id: 'cam-1', status: 'down' }), '2026-11-26T03:01:00.000Z');
    theirs.put(device({ id: 'cam-3', status: 'up' }), '2026-11-26T03:01:00.000Z');
    await theirs.stored();
    // Queued here, not written: a node that lost the lead drops it on taking over again.
    mine.put(device({ id: 'cam-9', status: 'up' }), '2026-11-26T03:02:00.000Z');
    const dropped = expect(mine.stored()).rejects.toThrow(/reloaded from its store/);
    await mine.reload();
    await dropped;
    expect(mine.list().map((d) => [d.id, d.status])).toEqual([
      ['cam-1', 'down'],
      ['cam-3', 'up'],
    ]);
    await mine.stop();
    await theirs.stop();
    expect(await elsewhere('cam-9')).toBeUndefined();
  });

  it('lists from memory in code point order (SQLite BINARY), the readings not yet written included', async () => {
    const registry = await registryOn(rows);
    // UTF-16 order differs from code points: '\u{1F4F7}' after '\uFF10' in code points.
    const ids = ['cam-10', 'cam-2', '摄像机-1', '\uFF10', '\u{1F4F7}', 'NVR-1'];
    for (const [i, id] of ids.entries()) {
      const siteId = i % 2 === 0 ? 'site-b' : 'site-a';
      registry.put(device({ id, siteId, status: 'up' }), '2026-11-26T03:00:00.000Z');
    }
    registry.put({ ...registry.get('site-b', 'cam-10')!, responseMs: 99 });
    expect(registry.list({ siteId: 'nowhere' })).toEqual([]);
    expect(registry.list({ siteId: 'site-b' }).find((d) => d.id === 'cam-10')?.responseMs).toBe(99);
    expect(registry.list().map((d) => [d.siteId, d.id])).toEqual([
      ['site-a', 'NVR-1'],
      ['site-a', 'cam-2'],
      ['site-a', '\uFF10'],
      ['site-b', 'cam-10'],
      ['site-b', '摄像机-1'],
      ['site-b', '\u{1F4F7}'],
    ]);
    // A device joining later takes its place in the order.
    registry.put(
      device({ id: 'cam-1', siteId: 'site-b', status: 'up' }),
      '2026-11-26T03:00:01.000Z',
    );
    expect(registry.list({ siteId: 'site-b' })[0]?.id).toBe('cam-1');
    await registry.stop();
    expect(new Set((await rows.list()).map((d) => d.id))).toEqual(new Set([...ids, 'cam-1']));
  });

  it('writes the states of one turn (many agents at once) in one transaction', async () => {
    let transactions = 0;
    const counting = Object.assign(Object.create(db) as SqlDatabase, {
      transaction: <T>(work: (tx: SqlSession) => Promise<T>) => {
        transactions++;
        return db.transaction(work);
      },
    });
    const registry = await registryOn(new DeviceStore(counting));
    for (let i = 0; i < 300; i++) {
      registry.put(device({ id: `cam-${i}`, status: 'up' }), '2026-11-26T03:00:00.000Z');
    }
    await registry.stored();
    expect(transactions).toBe(1);
    expect(await rows.list()).toHaveLength(300);
    await registry.stop();
  });

  it('a standby of a pair (its writes fenced) starts from the store and writes nothing', async () => {
    if (backend.dialect !== 'postgres') return; // SQLite is one node: nothing to fence
    const leader = await registryOn(rows);
    leader.put(device({ id: 'cam-1', status: 'up' }), '2026-11-26T03:00:00.000Z');
    await leader.stored();
    const standby = await backend.reopen(db, { fence: { name: 'vigil-leader', token: null } });
    const store = new DeviceStore(standby);
    await store.start();
    const registry = await registryOn(store, 60_000);
    expect(registry.get(deviceExample.siteId, 'cam-1')?.status).toBe('up');
    registry.put(device({ id: 'cam-1', status: 'down' }), '2026-11-26T03:01:00.000Z');
    while (registry.errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(registry.errors[0]).toMatch(/does not lead .*nothing was written/);
    expect((await elsewhere('cam-1'))?.status).toBe('up');
    await registry.reload();
    await leader.stop();
  });

  // ---- a state and its outage spans: together or not at all ----------------------------

  it('writes an outage span and the state it belongs to together, or neither', async () => {
    let failing = true;
    const store = new DeviceStore(
      refusing(db, /INSERT INTO outage_spans/, () => failing),
      { outages: { retentionDays: 10, now: () => clock } },
    );
    const registry = await registryOn(store, 20);
    const down = nvr('down', [{ code: 'timeout', message: 'no answer' }]);
    registry.put(down, iso(clock));
    const stored = registry.stored();
    while (registry.errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The span could not be written: neither is the device.
    expect(await elsewhere('nvr-01')).toBeUndefined();
    expect(
      await rows.outages.spans('demo-site', 'nvr-01', ['timeout'], iso(0), iso(clock + DAY)),
    ).toEqual([]);
    // The store answers again: both are written, by the same retry.
    failing = false;
    await stored;
    expect((await elsewhere('nvr-01'))?.status).toBe('down');
    expect(
      await rows.outages.spans('demo-site', 'nvr-01', ['timeout'], iso(0), iso(clock + DAY)),
    ).toEqual([expect.objectContaining({ code: 'timeout', started: iso(clock), ended: null })]);
    expect(registry.errors[0]).toBe('disk full');
    await registry.stop();
  });

  it('keeps the states that wait for a retry in order, and the readings behind them', async () => {
    let failing = true;
    const registry = await registryOn(
      new DeviceStore(refusing(db, /INSERT INTO devices/, () => failing)),
      20,
    );
    registry.put(device({ id: 'cam-1', status: 'up' }), '2026-11-26T03:00:00.000Z');
    const first = registry.stored();
    while (registry.errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    registry.put(device({ id: 'cam-1', status: 'down' }), '2026-11-26T03:01:00.000Z');
    registry.put(device({ id: 'cam-1', status: 'down', responseMs: 7 }));
    const second = registry.stored();
    failing = false;
    await first;
    await second;
    await registry.stop();
    expect(await elsewhere('cam-1')).toMatchObject({ status: 'down', responseMs: 7 });
  });

  it('stops without waiting out a retry: one more attempt, and the state is said not written', async () => {
    const registry = await registryOn(
      new DeviceStore(refusing(db, /INSERT INTO devices/, () => true)),
      60_000,
    );
    registry.put(device({ id: 'cam-1', status: 'up' }), '2026-11-26T03:00:00.000Z');
    const stored = expect(registry.stored()).rejects.toThrow('disk full');
    while (registry.errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await registry.stop();
    await stored;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(registry.errors).toEqual(['disk full', 'disk full']);
  });

  // ---- the outage spans ---------------------------------------------------------------

  const all = () =>
    rows.outages.spans('demo-site', 'nvr-01', ['recording-stopped'], iso(0), iso(clock + DAY));

  it('prunes spans past the retention at most once an hour while recording', async () => {
    const up = nvr('up', []);
    const ch1 = nvr('degraded', [stopped('REC_CH01')]);
    await rows.put(up, iso(clock - 30 * DAY));
    await rows.put(ch1, iso(clock - 20 * DAY));
    await rows.put(up, iso(clock - 15 * DAY)); // ended 15 days ago: past 10 days
    expect(await all()).toHaveLength(1);
    // Within the hour after start()'s prune: kept for now.
    clock += 30 * MIN;
    await rows.put(nvr('degraded', [stopped('REC_CH02')]), iso(clock));
    expect(await all()).toHaveLength(2);
    clock += 31 * MIN;
    await rows.put(up, iso(clock));
    expect((await all()).map((s) => s.channel)).toEqual(['REC_CH02']);
  });

  it('never ends a span before it began (a message older than the span, out of order)', async () => {
    await rows.put(nvr('up', []), iso(clock - MIN));
    await rows.put(nvr('degraded', [stopped('REC_CH01')]), iso(clock));
    await rows.put(nvr('up', []), iso(clock - MIN));
    expect(await all()).toEqual([
      expect.objectContaining({ started: iso(clock), ended: iso(clock) }),
    ]);
  });

  it('keeps a channel span open while the device is down, closes the down reason when it changes', async () => {
    await rows.put(nvr('degraded', [stopped('REC_CH01')]), iso(clock));
    await rows.put(nvr('down', [{ code: 'timeout', message: 'no answer' }]), iso(clock + MIN));
    await rows.put(
      nvr('down', [{ code: 'unreachable', message: 'refused' }]),
      iso(clock + 2 * MIN),
    );
    expect(await all()).toEqual([expect.objectContaining({ channel: 'REC_CH01', ended: null })]);
    const downs = await rows.outages.spans(
      'demo-site',
      'nvr-01',
      ['timeout', 'unreachable'],
      iso(0),
      iso(clock + DAY),
    );
    expect(downs.map((s) => [s.code, s.ended])).toEqual([
      ['timeout', iso(clock + 2 * MIN)],
      ['unreachable', null],
    ]);
  });

  it('gives the spans reaching into the period: begun before it and still running, or begun in it', async () => {
    const span = (
      channel: string,
      started: string,
      ended: string | null,
      code = 'recording-stopped',
    ) =>
      db.run(
        `INSERT INTO outage_spans (site_id, device_id, code, channel, started, ended, message)
         VALUES ('site-a', 'nvr-01', ?, ?, ?, ?, ?)`,
        [code, channel, started, ended, `${channel} ${started}`],
      );
    // CH01 flapped every 10 minutes for a day before the period.
    const start = Date.parse('2026-11-04T00:00:00Z');
    for (let i = 0; i < 6 * 24; i++) {
      const at = start + i * 10 * MIN;
      await span('CH01', iso(at), iso(at + 5 * MIN));
    }
    await span('CH01', '2026-11-05T00:00:00.000Z', '2026-11-05T00:03:00.000Z');
    await span('CH02', '2026-11-04T22:00:00.000Z', '2026-11-05T02:00:00.000Z'); // across the start
    await span('CH03', '2026-10-20T00:00:00.000Z', null); // open for weeks
    await span('CH04', '2026-11-04T00:00:00.000Z', '2026-11-04T23:00:00.000Z'); // over before it
    await span('', '2026-11-05T12:00:00.000Z', '2026-11-05T12:10:00.000Z', 'unreachable');

    const spans = await rows.outages.spans(
      'site-a',
      'nvr-01',
      ['recording-stopped'],
      '2026-11-05T00:00:00.000Z',
      '2026-11-06T00:00:00.000Z',
    );
    expect(spans.map((s) => [s.channel, s.started, s.ended])).toEqual([
      ['CH03', '2026-10-20T00:00:00.000Z', null],
      ['CH02', '2026-11-04T22:00:00.000Z', '2026-11-05T02:00:00.000Z'],
      ['CH01', '2026-11-05T00:00:00.000Z', '2026-11-05T00:03:00.000Z'],
    ]);
    expect((await rows.outages.channels('site-a', 'nvr-01', 'recording-stopped')).sort()).toEqual([
      'CH01',
      'CH02',
      'CH03',
      'CH04',
    ]);
    const both = await rows.outages.spans(
      'site-a',
      'nvr-01',
      ['unreachable', 'recording-stopped'],
      '2026-11-05T00:00:00.000Z',
      '2026-11-06T00:00:00.000Z',
    );
    expect(both.map((s) => s.code)).toEqual([
      'recording-stopped',
      'recording-stopped',
      'recording-stopped',
      'unreachable',
    ]);
  });
}
