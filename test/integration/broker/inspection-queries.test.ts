/**
 * What the inspection report reads from SQLite, on a real file: the status history
 * (broker/inspection/history.ts: each device's state when the period began and its
 * changes in the period) and the site's tickets of the period (broker/tickets/store.ts),
 * both found by index seeks, so a report of an installation years old reads what the
 * period needs and not the years before it (these queries run on the broker's event loop).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../../broker/db.js';
import { CHANGES_SQL, StatusHistory } from '../../../broker/inspection/history.js';
import { SqliteDatabase } from '../../../broker/sql/sqlite.js';
import { TicketStore } from '../../../broker/tickets/store.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

const HOUR = 3_600_000;

describe('queries of the inspection report', () => {
  let dir: TempDir;
  let db: Db;
  let history: StatusHistory;

  beforeEach(async () => {
    dir = await tempDir('vigil-history-');
    db = openDatabase(join(dir.path, 'vigil.db'));
    history = new StatusHistory(new SqliteDatabase(db, 'vigil.db'));
    await history.start();
  });

  afterEach(async () => {
    db.close();
    await dir.remove();
  });

  it("gives each device's state at the period's start and its changes in the period, oldest first", async () => {
    // Two years of flapping of cam-01 before the period: one change every 6 hours.
    const start = Date.parse('2024-11-01T00:00:00Z');
    for (let i = 0; i < 2 * 365 * 4; i++) {
      await history.record(
        'site-a',
        'cam-01',
        i % 2 ? 'down' : 'up',
        new Date(start + i * 6 * HOUR),
      );
    }
    // cam-02 changed once, long ago; nvr-01 only inside the period; cam-03 only after it.
    await history.record('site-a', 'cam-02', 'degraded', new Date('2025-01-10T08:00:00Z'));
    await history.record('site-a', 'nvr-01', 'down', new Date('2026-11-20T10:00:00Z'));
    await history.record('site-a', 'nvr-01', 'up', new Date('2026-11-20T11:00:00Z'));
    await history.record('site-a', 'cam-03', 'down', new Date('2026-12-02T00:00:00Z'));
    // Another site's device of the same name.
    await history.record('site-b', 'cam-01', 'down', new Date('2026-11-15T00:00:00Z'));
    await history.record('site-a', 'cam-01', 'down', new Date('2026-11-05T12:00:00Z'));
    await history.record('site-a', 'cam-01', 'up', new Date('2026-11-05T13:30:00Z'));

    const changes = await history.changes(
      'site-a',
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(changes).toEqual([
      { deviceId: 'cam-02', status: 'degraded', at: '2025-01-10T08:00:00.000Z' },
      // The flapping's last change before November: 2 * 365 * 4 - 1 changes after the start.
      { deviceId: 'cam-01', status: 'down', at: '2026-10-31T18:00:00.000Z' },
      { deviceId: 'cam-01', status: 'down', at: '2026-11-05T12:00:00.000Z' },
      { deviceId: 'cam-01', status: 'up', at: '2026-11-05T13:30:00.000Z' },
      { deviceId: 'nvr-01', status: 'down', at: '2026-11-20T10:00:00.000Z' },
      { deviceId: 'nvr-01', status: 'up', at: '2026-11-20T11:00:00.000Z' },
    ]);
  });

  it('reads the history through its index only: no scan of a site’s history', () => {
    const plan = (
      db.prepare(`EXPLAIN QUERY PLAN ${CHANGES_SQL}`).all({
        site: 'site-a',
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-12-01T00:00:00.000Z',
      }) as { detail: string }[]
    ).map((row) => row.detail);
    const reads = plan.filter((detail) => /device_status_history| h /.test(`${detail} `));
    // Every read of the table is a SEARCH: the key index or the row id, never a SCAN.
    expect(reads.length).toBeGreaterThanOrEqual(4);
    for (const detail of reads) {
      expect(detail).toMatch(
        /^SEARCH (device_status_history|h) USING (COVERING INDEX device_status_history_key|INDEX device_status_history_key|INTEGER PRIMARY KEY)/,
      );
    }
    // The period's changes: a range of each device's part of the index, not the site's.
    expect(plan).toContain(
      'SEARCH h USING INDEX device_status_history_key (site_id=? AND device_id=? AND at>? AND at<?)',
    );
    // The state before the period: one seek per device, backwards from the period's start.
    expect(plan).toContain(
      'SEARCH device_status_history USING COVERING INDEX device_status_history_key (site_id=? AND device_id=? AND at<?)',
    );
  });

  it("reads a site's tickets of a period through the index of the site and opening time", async () => {
    const tickets = new TicketStore(new SqliteDatabase(db, 'vigil.db'));
    await tickets.start();
    // The statement the store prepares, as it prepares it.
    const prepared: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    const query = {
      siteId: 'site-a',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    };
    await tickets.list({ status: 'all', ...query, sort: 'oldest', limit: 1000 });
    db.prepare = prepare;
    const sql = prepared.find((s) => /FROM tickets/.test(s) && /opened_at >=/.test(s));
    expect(sql).toBeDefined();
    const plan = (
      db.prepare(`EXPLAIN QUERY PLAN ${sql!}`).all({ ...query, limit: 1000 }) as {
        detail: string;
      }[]
    ).map((row) => row.detail);
    // Not tickets_key (site_id=?): every ticket the site ever had, sorted.
    expect(plan).toEqual([
      'SEARCH tickets USING INDEX tickets_site_opened (site_id=? AND opened_at>? AND opened_at<?)',
    ]);
  });
});
