/**
 * The outage timeline's reads (broker/devices/outages.ts) on a real SQLite file: the
 * spans reaching into a period and a device's channels, found by index seeks, so a day of
 * a recorder that flapped for a year reads that day's spans, not the year's (these
 * queries run on the broker's event loop).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../../broker/db.js';
import {
  CHANNELS_SQL,
  SPANS_SQL,
  SqliteOutageHistory,
} from '../../../../broker/devices/outages.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

const MIN = 60_000;

describe('outage timeline queries', () => {
  let dir: TempDir;
  let db: Db;
  let history: SqliteOutageHistory;
  const span = (
    channel: string,
    started: string,
    ended: string | null,
    code = 'recording-stopped',
  ) =>
    db
      .prepare(
        `INSERT INTO outage_spans (site_id, device_id, code, channel, started, ended, message)
         VALUES ('site-a', 'nvr-01', ?, ?, ?, ?, ?)`,
      )
      .run(code, channel, started, ended, `${channel} ${started}`);

  beforeEach(async () => {
    dir = await tempDir('vigil-outage-queries-');
    db = openDatabase(join(dir.path, 'vigil.db'));
    // The retention counts from the spans' own days, not from today.
    history = new SqliteOutageHistory(db, { now: () => Date.parse('2026-11-30T00:00:00Z') });
    history.start();
  });

  afterEach(async () => {
    db.close();
    await dir.remove();
  });

  it('gives the spans reaching into the period: begun before it and still running, or begun in it', () => {
    // CH01 flapped every 10 minutes for a month before the period, and after it.
    const start = Date.parse('2026-10-01T00:00:00Z');
    for (let i = 0; i < 6 * 24 * 30; i++) {
      const at = start + i * 10 * MIN;
      span('CH01', new Date(at).toISOString(), new Date(at + 5 * MIN).toISOString());
    }
    span('CH01', '2026-11-05T00:00:00.000Z', '2026-11-05T00:03:00.000Z');
    span('CH02', '2026-11-04T22:00:00.000Z', '2026-11-05T02:00:00.000Z'); // across the start
    span('CH03', '2026-10-20T00:00:00.000Z', null); // open for weeks
    span('CH04', '2026-11-04T00:00:00.000Z', '2026-11-04T23:00:00.000Z'); // over before it
    span('', '2026-11-05T12:00:00.000Z', '2026-11-05T12:10:00.000Z', 'unreachable');

    const spans = history.spans(
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
    expect(history.channels('site-a', 'nvr-01', 'recording-stopped').sort()).toEqual([
      'CH01',
      'CH02',
      'CH03',
      'CH04',
    ]);
  });

  it('reads the spans through the index of code and channel only: no scan', () => {
    for (const [name, sql] of [
      ['spans', SPANS_SQL],
      ['channels', CHANNELS_SQL],
    ] as const) {
      const plan = (
        db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({
          site: 'site-a',
          device: 'nvr-01',
          codes: '["recording-stopped"]',
          from: '2026-11-05T00:00:00.000Z',
          to: '2026-11-06T00:00:00.000Z',
        }) as { detail: string }[]
      ).map((row) => row.detail);
      const reads = plan.filter((d) => /outage_spans| s /.test(`${d} `));
      expect(reads.length, name).toBeGreaterThanOrEqual(2);
      for (const detail of reads) {
        expect(detail, name).toMatch(
          /^SEARCH (outage_spans|s) USING (COVERING INDEX outage_spans_channel|INDEX outage_spans_channel|INTEGER PRIMARY KEY)/,
        );
      }
    }
  });
});
