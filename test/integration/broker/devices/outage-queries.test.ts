/**
 * The outage timeline's reads (broker/devices/outages.ts) on a real SQLite file: the
 * spans reaching into a period and a device's channels are found by index seeks, so a
 * day of a recorder that flapped for a year reads that day's spans, not the year's (these
 * queries run on the broker's event loop). What they answer is the conformance suite's,
 * on both engines (test/suites/stores/device-registry.ts); the plan is SQLite's.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelsSql, spansSql, SqlOutageHistory } from '../../../../broker/devices/outages.js';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

describe('outage timeline queries', () => {
  let dir: TempDir;
  let db: SqliteDatabase;

  beforeEach(async () => {
    dir = await tempDir('vigil-outage-queries-');
    db = openSqlite(join(dir.path, 'vigil.db'));
    await new SqlOutageHistory(db).start();
  });

  afterEach(async () => {
    await db.close();
    await dir.remove();
  });

  it('reads the spans through the index of code and channel only: no scan', () => {
    for (const [name, sql, codes] of [
      ['spans', spansSql(1), { c0: 'recording-stopped' }],
      ['spans of two codes', spansSql(2), { c0: 'timeout', c1: 'unreachable' }],
      ['channels', channelsSql(1), { c0: 'recording-stopped' }],
    ] as const) {
      const plan = (
        db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({
          site: 'site-a',
          device: 'nvr-01',
          ...codes,
          from: '2026-11-05T00:00:00.000Z',
          to: '2026-11-06T00:00:00.000Z',
        }) as { detail: string }[]
      ).map((row) => row.detail);
      const reads = plan.filter((d) => /outage_spans| s /.test(`${d} `));
      expect(reads.length, name).toBeGreaterThanOrEqual(2);
      for (const detail of reads) {
        expect(detail, `${name}: ${plan.join(' | ')}`).toMatch(
          /^SEARCH (outage_spans|s) USING (COVERING INDEX outage_spans_channel|INDEX outage_spans_channel|INTEGER PRIMARY KEY)/,
        );
      }
    }
  });
});
