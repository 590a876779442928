/**
 * The conformance suite of the inspection report's status history
 * (broker/inspection/history.ts), run on SQLite and on PostgreSQL
 * (test/suites/stores/backends.ts): what a month's report reads (each device's state when
 * the period began, its changes in the period, the inventory changes), written with the
 * device's state in one transaction (broker/devices/store.ts), and on PostgreSQL what two
 * nodes of a pair write for one site, read as one history, through the index only.
 */
import { beforeEach, expect, it } from 'vitest';
import { DeviceStore } from '../../../broker/devices/store.js';
import { WriteBehindRegistry } from '../../../broker/devices/write-behind.js';
import {
  CHANGES_SQL_POSTGRES,
  StatusHistory,
  type StatusChange,
} from '../../../broker/inspection/history.js';
import { NotLeaderWriteError, type SqlDatabase } from '../../../broker/sql/types.js';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import type { StoreBackend } from './backends.js';
import { refusing } from './device-registry.js';

const SITE = 'site-a';
const FROM = new Date('2026-11-01T00:00:00.000Z');
const TO = new Date('2026-12-01T00:00:00.000Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const camera = (id: string, patch: Partial<Device> = {}): Device => ({
  ...deviceExample,
  siteId: SITE,
  id,
  ...patch,
});
const identity = (serialNumber: string, firmwareVersion: string): Device['identity'] => ({
  ...deviceExample.identity!,
  serialNumber,
  firmwareVersion,
});

export function historySuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let history: StatusHistory;

  beforeEach(async () => {
    db = await backend.open();
    history = new StatusHistory(db);
    await history.start();
  });

  const november = (site = SITE) => history.changes(site, FROM, TO);
  const row = (deviceId: string, status: Device['status'], at: string): StatusChange => ({
    deviceId,
    status,
    at,
  });

  // ---- what a report reads ----------------------------------------------------------

  it("gives each device's state when the period began and its changes in [from, to)", async () => {
    const record = (id: string, status: Device['status'], at: string) =>
      history.record(SITE, id, status, new Date(at));
    // cam-01: a year of changes before November; its last one is the state at the start.
    for (let day = 0; day < 300; day++) {
      await record(
        'cam-01',
        day % 2 ? 'down' : 'up',
        iso(Date.parse('2026-01-01') + day * 86_400_000),
      );
    }
    await record('cam-01', 'degraded', '2026-10-31T23:59:59.999Z');
    await record('cam-01', 'up', '2026-11-01T00:00:00.000Z'); // at `from`: in the period
    await record('cam-01', 'down', '2026-11-30T23:59:59.999Z');
    await record('cam-01', 'up', '2026-12-01T00:00:00.000Z'); // at `to`: after it
    // cam-02: one change long before; nvr-01: only in the period; cam-03: only after it.
    await record('cam-02', 'degraded', '2025-03-01T08:00:00.000Z');
    await record('nvr-01', 'down', '2026-11-20T10:00:00.000Z');
    await record('nvr-01', 'up', '2026-11-20T11:00:00.000Z');
    await record('cam-03', 'down', '2026-12-02T00:00:00.000Z');

    expect(await november()).toEqual([
      row('cam-02', 'degraded', '2025-03-01T08:00:00.000Z'),
      row('cam-01', 'degraded', '2026-10-31T23:59:59.999Z'),
      row('cam-01', 'up', '2026-11-01T00:00:00.000Z'),
      row('nvr-01', 'down', '2026-11-20T10:00:00.000Z'),
      row('nvr-01', 'up', '2026-11-20T11:00:00.000Z'),
      row('cam-01', 'down', '2026-11-30T23:59:59.999Z'),
    ]);
    // December: cam-01's last November change is its state at the start; cam-03 in it.
    expect(await history.changes(SITE, TO, new Date('2027-01-01T00:00:00Z'))).toEqual([
      row('cam-02', 'degraded', '2025-03-01T08:00:00.000Z'),
      row('nvr-01', 'up', '2026-11-20T11:00:00.000Z'),
      row('cam-01', 'down', '2026-11-30T23:59:59.999Z'),
      row('cam-01', 'up', '2026-12-01T00:00:00.000Z'),
      row('cam-03', 'down', '2026-12-02T00:00:00.000Z'),
    ]);
    expect(await history.changes(SITE, new Date('2024-01-01'), new Date('2024-02-01'))).toEqual([]);
  });

  it('orders changes of one instant as they were written, before the period and in it', async () => {
    const before = new Date('2026-10-20T00:00:00.000Z');
    const during = new Date('2026-11-10T00:00:00.000Z');
    // Down and back up within one millisecond, before the period: the state is the later.
    await history.record(SITE, 'cam-01', 'down', before);
    await history.record(SITE, 'cam-01', 'up', before);
    // In the period: two devices and one device twice, all at one instant.
    await history.record(SITE, 'cam-02', 'down', during);
    await history.record(SITE, 'cam-01', 'degraded', during);
    await history.record(SITE, 'cam-02', 'up', during);
    await history.record(SITE, 'cam-01', 'down', during);
    const at = during.toISOString();
    expect(await november()).toEqual([
      row('cam-01', 'up', before.toISOString()),
      row('cam-02', 'down', at),
      row('cam-01', 'degraded', at),
      row('cam-02', 'up', at),
      row('cam-01', 'down', at),
    ]);
  });

  it("reads one site only, whatever the other sites' device ids", async () => {
    // Ids that sort between, before and after site-a's: the hops stay inside the site.
    for (const [site, id] of [
      ['site-0', 'cam-00'],
      ['site-a', 'cam-01'],
      ['site-b', 'cam-015'],
      ['site-a', 'cam-02'],
      ['site-b', 'cam-02'],
      ['site-c', 'zzz'],
      ['site-aa', 'cam-01'],
    ] as const) {
      await history.record(site, id, 'down', new Date('2026-11-05T00:00:00Z'));
      await history.record(site, id, 'up', new Date('2026-10-05T00:00:00Z'));
    }
    expect(await november()).toEqual([
      row('cam-01', 'up', '2026-10-05T00:00:00.000Z'),
      row('cam-02', 'up', '2026-10-05T00:00:00.000Z'),
      row('cam-01', 'down', '2026-11-05T00:00:00.000Z'),
      row('cam-02', 'down', '2026-11-05T00:00:00.000Z'),
    ]);
    expect((await november('site-b')).map((c) => c.deviceId)).toEqual([
      'cam-015',
      'cam-02',
      'cam-015',
      'cam-02',
    ]);
    expect(await november('site-z')).toEqual([]);
  });

  it('gives the inventory changes of [from, to) of one site, oldest first, one instant as written', async () => {
    const change = (deviceId: string, at: string, kind: 'replaced' | 'firmware', n: number) => ({
      deviceId,
      at,
      kind,
      from: `old-${n}`,
      to: `new-${n}`,
    });
    for (const [site, entry] of [
      [SITE, change('cam-01', '2026-10-31T23:59:59.999Z', 'firmware', 0)],
      [SITE, change('cam-02', '2026-11-15T09:00:00.000Z', 'replaced', 1)],
      [SITE, change('cam-01', '2026-11-01T00:00:00.000Z', 'firmware', 2)],
      [SITE, change('nvr-01', '2026-11-15T09:00:00.000Z', 'firmware', 3)],
      [SITE, change('cam-01', '2026-12-01T00:00:00.000Z', 'replaced', 4)],
      ['site-b', change('cam-01', '2026-11-10T00:00:00.000Z', 'replaced', 5)],
    ] as const) {
      await history.recordInventory(site, entry);
    }
    expect(await history.inventory(SITE, FROM, TO)).toEqual([
      change('cam-01', '2026-11-01T00:00:00.000Z', 'firmware', 2),
      change('cam-02', '2026-11-15T09:00:00.000Z', 'replaced', 1),
      change('nvr-01', '2026-11-15T09:00:00.000Z', 'firmware', 3),
    ]);
  });

  it('keeps what was written across a restart (another connection to the same data)', async () => {
    await history.record(SITE, 'cam-01', 'down', new Date('2026-11-03T00:00:00Z'));
    const again = new StatusHistory(await backend.reopen(db));
    await again.start();
    expect(await again.changes(SITE, FROM, TO)).toEqual([
      row('cam-01', 'down', '2026-11-03T00:00:00.000Z'),
    ]);
  });

  // ---- written with the device's state ------------------------------------------------

  it("writes a status change, a replacement and new firmware with the device's state", async () => {
    const rows = new DeviceStore(db);
    await rows.start();
    const t0 = Date.parse('2026-11-02T08:00:00Z');
    const v1 = identity('SN-1', '1.0');
    await rows.put(camera('cam-01', { status: 'up', identity: v1 }), iso(t0));
    // Same status, nothing new: no row.
    await rows.put(camera('cam-01', { status: 'up', identity: v1 }), iso(t0 + MIN));
    await rows.put(camera('cam-01', { status: 'down', identity: v1 }), iso(t0 + 2 * MIN));
    await rows.put(
      camera('cam-01', { status: 'up', identity: identity('SN-1', '1.1') }),
      iso(t0 + 3 * MIN),
    );
    await rows.put(
      camera('cam-01', { status: 'up', identity: identity('SN-2', '1.1') }),
      iso(t0 + 4 * MIN),
    );
    expect(await rows.history.changes(SITE, FROM, TO)).toEqual([
      row('cam-01', 'up', iso(t0)),
      row('cam-01', 'down', iso(t0 + 2 * MIN)),
      row('cam-01', 'up', iso(t0 + 3 * MIN)),
    ]);
    expect(await rows.history.inventory(SITE, FROM, TO)).toEqual([
      { deviceId: 'cam-01', at: iso(t0 + 3 * MIN), kind: 'firmware', from: '1.0', to: '1.1' },
      { deviceId: 'cam-01', at: iso(t0 + 4 * MIN), kind: 'replaced', from: 'SN-1', to: 'SN-2' },
    ]);
  });

  it('writes a status change and the state it belongs to together, or neither', async () => {
    let failing = true;
    const store = new DeviceStore(refusing(db, /INSERT INTO device_status_history/, () => failing));
    await store.start();
    const errors: string[] = [];
    const registry = new WriteBehindRegistry(store, {
      flushMs: 60_000,
      retryMs: 20,
      onError: (error) => errors.push((error as Error).message),
    });
    await registry.start();
    const at = '2026-11-05T10:00:00.000Z';
    registry.put(camera('cam-01', { status: 'down' }), at);
    const stored = registry.stored();
    while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The history row could not be written: neither is the device.
    const other = new DeviceStore(db);
    expect(await other.get(SITE, 'cam-01')).toBeUndefined();
    expect(await november()).toEqual([]);
    // The store answers again: both are written, by the same retry, once.
    failing = false;
    await stored;
    expect((await other.get(SITE, 'cam-01'))?.status).toBe('down');
    expect(await november()).toEqual([row('cam-01', 'down', at)]);
    await registry.stop();
  });

  // ---- a pair on PostgreSQL ------------------------------------------------------------

  it('two nodes writing the history of one site at once: the report reads both', async () => {
    if (backend.dialect !== 'postgres') return; // two SQLite connections in one process deadlock
    const nodes = [new DeviceStore(db), new DeviceStore(await backend.reopen(db))];
    for (const node of nodes) await node.start();
    const t0 = Date.parse('2026-11-10T00:00:00Z');
    // Each node writes its own devices' states in its own transactions, interleaved.
    await Promise.all(
      nodes.map(async (node, n) => {
        for (let i = 0; i < 20; i++) {
          const status = i % 2 ? 'up' : 'down';
          await node.write({
            states: [
              {
                previous:
                  i === 0 ? undefined : camera(`cam-${n}`, { status: i % 2 ? 'down' : 'up' }),
                device: camera(`cam-${n}`, { status }),
                at: iso(t0 + i * MIN),
              },
            ],
            readings: [],
          });
        }
      }),
    );
    const report = new StatusHistory(await backend.reopen(db));
    const changes = await report.changes(SITE, FROM, TO);
    expect(changes).toHaveLength(40);
    for (const n of [0, 1]) {
      expect(changes.filter((c) => c.deviceId === `cam-${n}`).map((c) => c.status)).toEqual(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? 'up' : 'down')),
      );
    }
    expect(changes.map((c) => c.at)).toEqual([...changes.map((c) => c.at)].sort());
  });

  it('a standby (its writes fenced) is refused a history row with NotLeaderWriteError', async () => {
    if (backend.dialect !== 'postgres') return; // SQLite is one node: nothing to fence
    const standby = new StatusHistory(
      await backend.reopen(db, { fence: { name: 'vigil-leader', token: null } }),
    );
    await expect(
      standby.record(SITE, 'cam-01', 'down', new Date('2026-11-05T00:00:00Z')),
    ).rejects.toBeInstanceOf(NotLeaderWriteError);
    expect(await november()).toEqual([]);
  });

  it('reads a site of 200,000 changes through the index: the rows read are the period’s', async () => {
    if (backend.dialect !== 'postgres') return; // SQLite's plan: inspection-queries.test.ts
    // 50 devices, a change every 2 hours from January to late November (4,000 each), and
    // another site beside them.
    await db.run(
      `INSERT INTO device_status_history (site_id, device_id, status, at)
       SELECT site, 'cam-' || lpad(d::text, 2, '0'), CASE WHEN i % 2 = 0 THEN 'down' ELSE 'up' END,
              to_char((timestamptz '2026-01-01 00:00:00+00' + i * interval '2 hours')
                        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
       FROM unnest(ARRAY['site-a', 'site-b']) AS site,
            generate_series(1, 50) AS d, generate_series(0, 3999) AS i`,
    );
    const params = {
      site: SITE,
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-02T00:00:00.000Z',
    };
    // Per device its state at midnight and the day's 12 changes.
    const expected = 50 * 13;
    const seeksOnly = async (when: string) => {
      const changes = await history.changes(SITE, new Date(params.from), new Date(params.to));
      expect(changes, when).toHaveLength(expected);
      const explained = await db.get<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${CHANGES_SQL_POSTGRES}`,
        params,
      );
      const reads = nodes(explained!['QUERY PLAN'][0].Plan).filter(
        (n) => n['Relation Name'] === 'device_status_history',
      );
      const summary = `${when}: ${reads.map((n) => `${n['Node Type']} (${n['Index Cond'] ?? ''})`).join(' | ')}`;
      expect(reads.length, summary).toBe(4);
      for (const node of reads) {
        // A seek on the key index, within one device's part of it (or the hop to the
        // next device): never a Seq Scan, nor the period's range of the whole site (the
        // plan of a table without statistics when the period's read is not fenced).
        expect(node['Node Type'], summary).toMatch(/^Index (Only )?Scan$/);
        expect(node['Index Name'], summary).toBe('device_status_history_key');
        expect(node['Index Cond'], summary).toMatch(/\(device_id (=|>|IS NOT NULL)/);
      }
      // The rows read: the hops over the 50 devices, two per device for the state at
      // midnight (the Incremental Sort looks one row past the last), the day's 600
      // changes; of the site's 200,000.
      const read = reads.reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0);
      expect(read, summary).toBeGreaterThanOrEqual(expected);
      expect(read, summary).toBeLessThan(1000);
    };
    // Just filled (autovacuum's ANALYZE not run yet), then with statistics.
    await seeksOnly('without statistics');
    await db.run('ANALYZE device_status_history');
    await seeksOnly('with statistics');
  });
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}
