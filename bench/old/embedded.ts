// OLD CODE PATH, KEPT ONLY TO MEASURE AGAINST (npm run bench:report, bench/report.ts).
// A copy of broker/metrics/embedded.ts as it was at commit cbf448a, before issue 12 (rollups, reads off
// the event loop, one query per field). Nothing in the product imports it. Do not fix or
// update it: its figures are "today's figures" the issue compares with. Only its import
// paths differ from the original, so the benchmark runs from a clone without history.
/**
 * The embedded metrics store: readings in a SQLite file of their own (metrics.db, so a
 * burst of readings never waits behind tickets in vigil.db). For the demo and small
 * installations; it passes the same conformance suite as InfluxDB
 * (test/suites/metrics-store.ts), so the API cannot tell them apart.
 *
 * One row per point: the measurement, the time in milliseconds, the tags as canonical
 * JSON (sorted keys, the series' identity) and the fields as JSON. Trends are computed
 * in SQL, with buckets aligned to the Unix epoch like InfluxDB's GROUP BY time().
 * Points older than `retentionDays` are deleted every hour, as InfluxDB's raw retention
 * policy would.
 */
import { migrate, openDatabase, type Db } from '../../broker/db.js';
import type { MetricPoint, MetricsStore, PointQuery, TrendBucket, TrendQuery } from './store.js';

const migrations = [
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
];

/** Tag and field names become JSON paths here and identifiers in InfluxQL: keep them plain. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function checkedName(name: string, what: string): string {
  if (!NAME.test(name))
    throw new Error(`${what} "${name}" is not a valid name: use letters, digits and "_"`);
  return name;
}

function canonicalTags(tags: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(tags).sort()) sorted[checkedName(key, 'tag')] = tags[key] as string;
  return JSON.stringify(sorted);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface EmbeddedStoreOptions {
  /** The SQLite file; ":memory:" for a throwaway store. */
  file: string;
  retentionDays?: number;
}

export class EmbeddedMetricsStore implements MetricsStore {
  readonly kind = 'embedded';
  private db: Db | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: EmbeddedStoreOptions) {}

  async start(): Promise<void> {
    const db = openDatabase(this.options.file);
    migrate(db, 'metrics-embedded', migrations);
    this.db = db;
    this.applyRetention();
    this.retentionTimer = setInterval(() => this.applyRetention(), HOUR_MS);
    this.retentionTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    this.db?.close();
    this.db = null;
  }

  async write(points: MetricPoint[]): Promise<void> {
    const db = this.open();
    const insert = db.prepare(
      'INSERT INTO points (measurement, time, tags, fields) VALUES (?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (const point of points) {
        for (const name of Object.keys(point.fields)) checkedName(name, 'field');
        insert.run(
          point.measurement,
          point.time.getTime(),
          canonicalTags(point.tags),
          JSON.stringify(point.fields),
        );
      }
    })();
  }

  async query(query: PointQuery): Promise<MetricPoint[]> {
    const { where, params } = this.where(query);
    const rows = this.open()
      .prepare(`SELECT time, tags, fields FROM points WHERE ${where} ORDER BY time, rowid`)
      .all(...params) as { time: number; tags: string; fields: string }[];
    return rows.map((row) => ({
      measurement: query.measurement,
      tags: JSON.parse(row.tags) as Record<string, string>,
      fields: JSON.parse(row.fields) as Record<string, number | boolean>,
      time: new Date(row.time),
    }));
  }

  async trend(query: TrendQuery): Promise<TrendBucket[]> {
    if (!(query.bucketS > 0)) throw new Error('bucketS must be a positive number of seconds');
    const bucketMs = Math.round(query.bucketS * 1000);
    const { where, params } = this.where(query);
    const path = `$."${checkedName(query.field, 'field')}"`;
    const rows = this.open()
      .prepare(
        `SELECT bucket, AVG(v) AS mean, MIN(v) AS min, MAX(v) AS max, COUNT(v) AS count FROM (
           SELECT (time - (((time % ?) + ?) % ?)) AS bucket, json_extract(fields, ?) AS v
           FROM points WHERE ${where}
         ) WHERE v IS NOT NULL GROUP BY bucket ORDER BY bucket`,
      )
      .all(bucketMs, bucketMs, bucketMs, path, ...params) as {
      bucket: number;
      mean: number | null;
      min: number | null;
      max: number | null;
      count: number;
    }[];
    return rows.map((row) => ({
      time: new Date(row.bucket),
      mean: row.mean,
      min: row.min,
      max: row.max,
      count: row.count,
    }));
  }

  async ping(): Promise<boolean> {
    try {
      this.open().prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes points older than the retention period. */
  applyRetention(now = Date.now()): number {
    const days = this.options.retentionDays ?? 30;
    return this.open()
      .prepare('DELETE FROM points WHERE time < ?')
      .run(now - days * DAY_MS).changes;
  }

  /** [from, to): `from` included, `to` excluded, as every store does. */
  private where(query: PointQuery): { where: string; params: (string | number)[] } {
    const clauses = ['measurement = ?', 'time >= ?', 'time < ?'];
    const params: (string | number)[] = [
      query.measurement,
      query.from.getTime(),
      query.to.getTime(),
    ];
    for (const [key, value] of Object.entries(query.tags ?? {})) {
      clauses.push(`json_extract(tags, '$."${checkedName(key, 'tag')}"') = ?`);
      params.push(value);
    }
    return { where: clauses.join(' AND '), params };
  }

  private open(): Db {
    if (!this.db) throw new Error('the embedded metrics store is not started');
    return this.db;
  }
}
