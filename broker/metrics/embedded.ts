/**
 * The embedded metrics store: readings in a SQLite file of their own (metrics.db, so a
 * burst of readings never waits behind tickets in vigil.db), for installations without
 * InfluxDB. It passes the same conformance suite as InfluxDB
 * (test/suites/metrics-store.ts), so the API cannot tell them apart.
 *
 * Layout (embedded-schema.ts, docs/METRICS.md "Embedded store"): series and their tags in
 * narrow tables, raw points per series, and count/sum/min/max of every numeric field per
 * 5 minutes and per day, maintained by write() as readings arrive.
 *
 * What runs where: write() and the retention run on the event loop, each step bounded by
 * an index and the batch it was given; query(), trend() and trendBy() run in a reader
 * thread on a read-only connection of its own (embedded-reader.ts), so a monthly report
 * never holds up an agent's PUBACK.
 */
import { migrate, openDatabase, type Db, type Statement } from '../db.js';
import { bucketStart } from './aggregate.js';
import type { WireBucket, WirePointQuery } from './embedded-read.js';
import { ReaderThread } from './embedded-reader.js';
import {
  DAY_MS,
  FIVE_MINUTES_MS,
  canonicalTags,
  checkedName,
  migrations,
} from './embedded-schema.js';
import type {
  GroupedTrendQuery,
  MetricPoint,
  MetricsStore,
  PointQuery,
  TrendBucket,
  TrendQuery,
} from './store.js';

const HOUR_MS = 3_600_000;
/** query() is for short ranges of raw points: a longer one is refused, not sent. */
const MAX_POINTS = 200_000;
/** A trend is for a chart or a report: more buckets than this per group is a mistake. */
const MAX_BUCKETS = 50_000;
/** Rows one retention statement deletes: a few milliseconds of the event loop at most. */
const RETENTION_CHUNK = 2_000;
/** The retention hands the event loop back after this long. */
const RETENTION_SLICE_MS = 10;

export interface EmbeddedStoreOptions {
  /** The SQLite file. A path: the reader thread opens the same file on its own connection. */
  file: string;
  /** Raw points are kept this long (30 days, InfluxDB's raw policy). */
  retentionDays?: number;
  /** The 5-minute and daily rollups are kept this long (730 days, InfluxDB's rollup_5m). */
  rollupRetentionDays?: number;
  /** A read that has not answered after this long is given up and its thread restarted. */
  queryTimeoutMs?: number;
  /** Heap of the reader thread (MB): a runaway read ends that thread, not the broker. */
  readerMemoryMb?: number;
}

/** Count, sum, min and max of one field of one series in one bucket of a batch. */
interface Partial {
  series: number;
  field: number;
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

interface Statements {
  insertPoint: Statement;
  upsert5m: Statement;
  upsert1d: Statement;
  insertSeries: Statement;
  selectSeries: Statement;
  insertSeriesTag: Statement;
  insertField: Statement;
  selectField: Statement;
}

function upsert(table: string): string {
  return `INSERT INTO ${table} (series_id, field_id, bucket, count, sum, min, max)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (series_id, field_id, bucket) DO UPDATE SET
      count = count + excluded.count, sum = sum + excluded.sum,
      min = min(min, excluded.min), max = max(max, excluded.max)`;
}

/** Adds a reading (or a partial aggregate) to the partial of its key. */
function accumulate(
  into: Map<string, Partial>,
  series: number,
  field: number,
  bucket: number,
  add: Pick<Partial, 'count' | 'sum' | 'min' | 'max'>,
): void {
  const key = `${series},${field},${bucket}`;
  const acc = into.get(key);
  if (!acc)
    into.set(key, {
      series,
      field,
      bucket,
      count: add.count,
      sum: add.sum,
      min: add.min,
      max: add.max,
    });
  else {
    acc.count += add.count;
    acc.sum += add.sum;
    if (add.min < acc.min) acc.min = add.min;
    if (add.max > acc.max) acc.max = add.max;
  }
}

export class EmbeddedMetricsStore implements MetricsStore {
  readonly kind = 'embedded';
  private db: Db | null = null;
  private statements: Statements | null = null;
  private reader: ReaderThread | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private retention: Promise<unknown> | null = null;
  /** measurement + tags as given -> series id; field name -> id; names already checked. */
  private readonly seriesIds = new Map<string, number>();
  private readonly fieldIds = new Map<string, number>();
  private readonly goodNames = new Set<string>();

  constructor(private readonly options: EmbeddedStoreOptions) {}

  async start(): Promise<void> {
    if (this.options.file === ':memory:')
      throw new Error(
        'the embedded metrics store needs a file: its reader thread opens the same file',
      );
    const db = openDatabase(this.options.file);
    migrate(db, 'metrics-embedded', migrations);
    // The rows a batch touches lie on many pages (one index leaf and a few rollup rows per
    // series); SQLite's default 2 MB cache does not hold them for 500 devices (measured:
    // 22,000 points/s with it, 34,000 with 64 MB). Of this connection only.
    db.pragma('cache_size = -65536');
    this.db = db;
    this.statements = {
      insertPoint: db.prepare('INSERT INTO points (series_id, time, fields) VALUES (?, ?, ?)'),
      upsert5m: db.prepare(upsert('rollup_5m')),
      upsert1d: db.prepare(upsert('rollup_1d')),
      insertSeries: db.prepare(
        'INSERT INTO series (measurement, tags) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ),
      selectSeries: db.prepare('SELECT id FROM series WHERE measurement = ? AND tags = ?'),
      insertSeriesTag: db.prepare(
        'INSERT OR IGNORE INTO series_tags (series_id, key, value) VALUES (?, ?, ?)',
      ),
      insertField: db.prepare('INSERT INTO fields (name) VALUES (?) ON CONFLICT DO NOTHING'),
      selectField: db.prepare('SELECT id FROM fields WHERE name = ?'),
    };
    this.reader = new ReaderThread(
      this.options.file,
      this.options.queryTimeoutMs ?? 60_000,
      this.options.readerMemoryMb,
    );
    this.startRetention();
    this.retentionTimer = setInterval(() => this.startRetention(), HOUR_MS);
    this.retentionTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    const db = this.db;
    this.db = null; // ends a running retention at its next step
    await this.retention;
    await this.reader?.stop();
    this.reader = null;
    this.statements = null;
    this.seriesIds.clear();
    this.fieldIds.clear();
    db?.close();
  }

  /**
   * One transaction per call: the raw points, and the rollups they touch, added up per
   * series, field and bucket within the batch first, so consecutive readings of a device
   * share one UPSERT per 5 minutes and one per day. A late reading adds to its old
   * buckets the same way: the rollups are always exact.
   */
  async write(points: MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    const db = this.open();
    for (const point of points) this.check(point);
    try {
      db.transaction(() => this.writeBatch(points))();
    } catch (error) {
      // Ids handed out inside a rolled-back transaction do not exist.
      this.seriesIds.clear();
      this.fieldIds.clear();
      throw error;
    }
  }

  async query(query: PointQuery): Promise<MetricPoint[]> {
    const wire = this.wireQuery(query);
    if (wire.from >= wire.to) return [];
    const reply = await this.read().ask({ op: 'query', query: wire, maxPoints: MAX_POINTS });
    if (!('points' in reply)) throw new Error('the embedded store answered a query with a trend');
    return reply.points.map((point) => ({ ...point, time: new Date(point.time) }));
  }

  async trend(query: TrendQuery): Promise<TrendBucket[]> {
    return (await this.trends(query)).get('') ?? [];
  }

  async trendBy(query: GroupedTrendQuery): Promise<Map<string, TrendBucket[]>> {
    return this.trends(query, checkedName(query.by, 'tag'));
  }

  async ping(): Promise<boolean> {
    try {
      this.open().prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Deletes raw points older than `retentionDays` and rollups older than
   * `rollupRetentionDays`. On the event loop, but in chunks of RETENTION_CHUNK rows found
   * by an index, handing the loop back every RETENTION_SLICE_MS: the writer's connection
   * is the only one that writes, so a delete never makes write() wait for a lock (and
   * better-sqlite3 would wait for it synchronously, on the event loop, for busy_timeout).
   */
  async applyRetention(now = Date.now()): Promise<{ points: number; rollups: number }> {
    const db = this.open();
    const removed = { points: 0, rollups: 0 };
    const rawCut = now - (this.options.retentionDays ?? 30) * DAY_MS;
    const rollupCut = now - (this.options.rollupRetentionDays ?? 730) * DAY_MS;
    const deletePoints = db.prepare(
      `DELETE FROM points WHERE rowid IN
         (SELECT rowid FROM points WHERE series_id = ? AND time < ? LIMIT ${RETENTION_CHUNK})`,
    );
    const deleteRollups = ['rollup_5m', 'rollup_1d'].map((table) =>
      db.prepare(
        `DELETE FROM ${table} WHERE series_id = ? AND field_id = ? AND bucket IN
           (SELECT bucket FROM ${table} WHERE series_id = ? AND field_id = ? AND bucket < ?
            LIMIT ${RETENTION_CHUNK})`,
      ),
    );
    let slice = Date.now();
    const step = async (run: () => number): Promise<number> => {
      let deleted = 0;
      for (;;) {
        if (this.db !== db) return deleted; // stopped meanwhile
        const changes = run();
        deleted += changes;
        if (Date.now() - slice >= RETENTION_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          slice = Date.now();
        }
        if (changes < RETENTION_CHUNK) return deleted;
      }
    };
    const series = (db.prepare('SELECT id FROM series').all() as { id: number }[]).map(
      (row) => row.id,
    );
    const fields = (db.prepare('SELECT id FROM fields').all() as { id: number }[]).map(
      (row) => row.id,
    );
    for (const id of series) {
      removed.points += await step(() => deletePoints.run(id, rawCut).changes);
      for (const field of fields)
        for (const statement of deleteRollups)
          removed.rollups += await step(
            () => statement.run(id, field, id, field, rollupCut).changes,
          );
    }
    return removed;
  }

  /** One retention at a time; a failed one is said on stderr and tried again the next hour. */
  private startRetention(): void {
    if (this.retention) return;
    this.retention = this.applyRetention()
      .catch((error: Error) =>
        process.emitWarning(
          `the embedded metrics store's retention failed, it tries again in an hour: ${error.message}`,
          'VigilMetricsRetention',
        ),
      )
      .finally(() => {
        this.retention = null;
      });
  }

  private writeBatch(points: MetricPoint[]): void {
    const statements = this.statements as Statements;
    const fiveMinutes = new Map<string, Partial>();
    for (const point of points) {
      const series = this.seriesId(point);
      const time = point.time.getTime();
      statements.insertPoint.run(series, time, JSON.stringify(point.fields));
      const bucket = bucketStart(time, FIVE_MINUTES_MS);
      for (const name in point.fields) {
        const value = point.fields[name];
        // Only numbers are rolled up: a boolean is not a number in InfluxDB either.
        if (typeof value !== 'number') continue;
        const one = { count: 1, sum: value, min: value, max: value };
        accumulate(fiveMinutes, series, this.fieldId(name), bucket, one);
      }
    }
    const days = new Map<string, Partial>();
    for (const acc of fiveMinutes.values()) {
      statements.upsert5m.run(
        acc.series,
        acc.field,
        acc.bucket,
        acc.count,
        acc.sum,
        acc.min,
        acc.max,
      );
      accumulate(days, acc.series, acc.field, bucketStart(acc.bucket, DAY_MS), acc);
    }
    for (const acc of days.values())
      statements.upsert1d.run(
        acc.series,
        acc.field,
        acc.bucket,
        acc.count,
        acc.sum,
        acc.min,
        acc.max,
      );
  }

  /** Bad input is refused before anything of the batch is written. */
  private check(point: MetricPoint): void {
    if (!(point.time instanceof Date) || !Number.isFinite(point.time.getTime()))
      throw new Error(`a ${point.measurement} point has no valid time: give it a Date`);
    for (const name in point.fields) {
      if (!this.goodNames.has(name)) this.goodNames.add(checkedName(name, 'field'));
      const value = point.fields[name];
      if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'boolean')
        throw new Error(
          `field "${name}" of a ${point.measurement} point is ${String(value)}: give a finite number or a boolean`,
        );
    }
  }

  private seriesId(point: MetricPoint): number {
    // Keyed by the tags as given (no sort): a writer sends its tags in one order.
    const key = `${point.measurement}\u0000${JSON.stringify(point.tags)}`;
    const known = this.seriesIds.get(key);
    if (known !== undefined) return known;
    const statements = this.statements as Statements;
    const tags = canonicalTags(point.tags);
    let id: number;
    const inserted = statements.insertSeries.run(point.measurement, tags);
    if (inserted.changes > 0) {
      id = Number(inserted.lastInsertRowid);
      for (const [name, value] of Object.entries(point.tags))
        statements.insertSeriesTag.run(id, name, value);
    } else id = (statements.selectSeries.get(point.measurement, tags) as { id: number }).id;
    this.seriesIds.set(key, id);
    return id;
  }

  private fieldId(name: string): number {
    const known = this.fieldIds.get(name);
    if (known !== undefined) return known;
    const statements = this.statements as Statements;
    statements.insertField.run(name);
    const id = (statements.selectField.get(name) as { id: number }).id;
    this.fieldIds.set(name, id);
    return id;
  }

  private async trends(query: TrendQuery, by?: string): Promise<Map<string, TrendBucket[]>> {
    if (!(query.bucketS > 0)) throw new Error('bucketS must be a positive number of seconds');
    const bucketMs = Math.round(query.bucketS * 1000);
    if (bucketMs < 1) throw new Error('bucketS must be at least 0.001 s');
    const wire = this.wireQuery(query);
    if (wire.from >= wire.to) return new Map();
    if ((wire.to - wire.from) / bucketMs > MAX_BUCKETS)
      throw new Error(
        `a trend of more than ${MAX_BUCKETS} buckets: ask for a shorter range or a wider bucket`,
      );
    const reply = await this.read().ask({
      op: 'trend',
      query: { ...wire, field: checkedName(query.field, 'field'), bucketMs, ...(by ? { by } : {}) },
    });
    if (!('groups' in reply)) throw new Error('the embedded store answered a trend with points');
    return new Map(
      reply.groups.map(([group, buckets]) => [
        group,
        buckets.map((b: WireBucket) => ({ ...b, time: new Date(b.time) })),
      ]),
    );
  }

  /** [from, to): `from` included, `to` excluded, as every store does. */
  private wireQuery(query: PointQuery): WirePointQuery {
    const from = query.from.getTime();
    const to = query.to.getTime();
    if (!Number.isFinite(from) || !Number.isFinite(to))
      throw new Error('a metrics query needs valid from and to dates');
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(query.tags ?? {}))
      tags[checkedName(key, 'tag')] = value;
    return { measurement: query.measurement, tags, from, to };
  }

  private read(): ReaderThread {
    this.open();
    return this.reader as ReaderThread;
  }

  private open(): Db {
    if (!this.db) throw new Error('the embedded metrics store is not started');
    return this.db;
  }
}
