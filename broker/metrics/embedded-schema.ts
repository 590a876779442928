/**
 * The embedded store's tables (docs/METRICS.md, "Embedded store"), its names and the
 * widths of its rollups: shared by the writer thread (embedded-write.ts) and the
 * reader thread (embedded-read.ts).
 */
import type { Migration } from '../db.js';
import { checkedName } from './store.js';

export const FIVE_MINUTES_MS = 5 * 60_000;
export const DAY_MS = 24 * 60 * 60_000;

/** A rollup: one row per series, numeric field and bucket, found by its key alone. */
function rollupTable(name: string): string {
  return `CREATE TABLE ${name} (
      series_id INTEGER NOT NULL,
      field_id INTEGER NOT NULL,
      bucket INTEGER NOT NULL,
      count INTEGER NOT NULL,
      sum REAL NOT NULL,
      min REAL NOT NULL,
      max REAL NOT NULL,
      PRIMARY KEY (series_id, field_id, bucket)
    ) WITHOUT ROWID;`;
}

/**
 * Migration 1 shipped with the first version and never changes. Migration 2 turns its
 * one JSON row per point into series, a narrow tag table, raw points by series, and the
 * 5-minute and daily rollups built from the points already stored, all in set-based SQL
 * (json_each) so that a data folder of millions of rows upgrades in one pass, and its
 * trends stay the same (test/integration/broker/embedded-store.test.ts).
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE points (
      measurement TEXT NOT NULL,
      time INTEGER NOT NULL,
      tags TEXT NOT NULL,
      fields TEXT NOT NULL
    );
    CREATE INDEX points_measurement_time ON points (measurement, time);`,
  },
  {
    version: 2,
    sql: `ALTER TABLE points RENAME TO points_v1;

    -- A series is a measurement and its tags (canonical JSON: sorted keys), as in InfluxDB.
    CREATE TABLE series (
      id INTEGER PRIMARY KEY,
      measurement TEXT NOT NULL,
      tags TEXT NOT NULL,
      UNIQUE (measurement, tags)
    );
    -- Tag filters resolve series ids here, with no JSON at query time.
    CREATE TABLE series_tags (
      series_id INTEGER NOT NULL REFERENCES series (id),
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (series_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX series_tags_key_value ON series_tags (key, value);
    -- Field names of the rollups: an integer per rollup row instead of a name.
    CREATE TABLE fields (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE
    );
    -- Raw readings; (series_id, time) serves reads and the per-series retention alike,
    -- and is unique: a reading written again (the journal's replay after a crash, a batch
    -- retried after its answer was lost) is one reading, as in InfluxDB, and the rollups
    -- count it once.
    CREATE TABLE points (
      series_id INTEGER NOT NULL,
      time INTEGER NOT NULL,
      fields TEXT NOT NULL
    );
    CREATE UNIQUE INDEX points_series_time ON points (series_id, time);
    -- count, sum, min, max of a numeric field per epoch-aligned bucket (bucket = its start, ms).
    ${rollupTable('rollup_5m')}
    ${rollupTable('rollup_1d')}

    INSERT INTO series (measurement, tags)
      SELECT DISTINCT measurement, tags FROM points_v1 ORDER BY measurement, tags;
    INSERT INTO series_tags (series_id, key, value)
      SELECT s.id, t.key, t.value FROM series s, json_each(s.tags) t;
    -- CROSS JOIN keeps points_v1 the outer loop (https://sqlite.org/optoverview.html#crossjoin):
    -- left to itself the planner scans series first and every point once per series
    -- (measured: 3 minutes instead of 3 seconds for a million points of 500 devices).
    INSERT OR IGNORE INTO points (series_id, time, fields)
      SELECT s.id, p.time, p.fields
      FROM points_v1 p CROSS JOIN series s ON s.measurement = p.measurement AND s.tags = p.tags
      ORDER BY s.id, p.time, p.rowid;
    DROP TABLE points_v1;

    -- Only numbers are rolled up: JSON true/false are not numbers, as in InfluxDB.
    INSERT INTO fields (name)
      SELECT DISTINCT f.key FROM points p, json_each(p.fields) f
      WHERE f.type IN ('integer', 'real') ORDER BY f.key;
    INSERT INTO rollup_5m (series_id, field_id, bucket, count, sum, min, max)
      SELECT p.series_id, d.id, p.time - (((p.time % ${FIVE_MINUTES_MS}) + ${FIVE_MINUTES_MS}) % ${FIVE_MINUTES_MS}) AS b,
        COUNT(*), SUM(f.value), MIN(f.value), MAX(f.value)
      FROM points p, json_each(p.fields) f JOIN fields d ON d.name = f.key
      WHERE f.type IN ('integer', 'real')
      GROUP BY p.series_id, d.id, b;
    INSERT INTO rollup_1d (series_id, field_id, bucket, count, sum, min, max)
      SELECT series_id, field_id, bucket - (((bucket % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}) AS b,
        SUM(count), SUM(sum), MIN(min), MAX(max)
      FROM rollup_5m GROUP BY series_id, field_id, b;`,
  },
];

/** The series' identity: tags as JSON with sorted keys, as version 1 stored them. */
export function canonicalTags(tags: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(tags).sort()) sorted[checkedName(key, 'tag')] = tags[key] as string;
  return JSON.stringify(sorted);
}
