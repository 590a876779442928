/**
 * The embedded store's writes and retention, run by the writer thread
 * (embedded-write-worker.ts) on the one read-write connection, never on the broker's
 * event loop: a 1000-point batch of 500 devices dirties about 3,500 pages and takes tens
 * of milliseconds, which on the event loop every agent's PUBACK waited behind.
 *
 * A batch crosses the thread boundary as one JSON string of WirePoints (times in ms since
 * the epoch): measured cheaper on the event loop than a structured clone of the points
 * (docs/METRICS.md, "Embedded store").
 */
import type { Db, Statement } from '../db.js';
import { bucketStart } from './aggregate.js';
import type { WirePoint } from './embedded-read.js';
import { DAY_MS, FIVE_MINUTES_MS, canonicalTags } from './embedded-schema.js';

/** Rows one retention statement deletes, found by an index: a few milliseconds at most. */
export const RETENTION_CHUNK = 2_000;
/** Statements of one retention request: what a write may wait behind is bounded too. */
const RETENTION_STATEMENTS = 64;

/**
 * Where the retention goes on: the first series id not done yet, and the statement of
 * that series (0: raw points; then rollup_5m and rollup_1d of each field in turn).
 */
export interface RetentionCursor {
  series: number;
  stage: number;
}

export interface RetentionStep {
  rawCut: number;
  rollupCut: number;
  from: RetentionCursor;
}

export type WriteRequest =
  | { id: number; op: 'write'; /** JSON of WirePoint[] */ points: string }
  | ({ id: number; op: 'retain' } & RetentionStep)
  | { id: number; op: 'ping' }
  | { id: number; op: 'close' };

export interface RetentionDone {
  points: number;
  rollups: number;
  /** Absent: every series is done. */
  next?: RetentionCursor;
}

export type WriteReply =
  ({ id: number; ok: true } & Partial<RetentionDone>) | { id: number; ok: false; error: string };

/** Count, sum, min and max of one field of one series in one bucket of a batch. */
interface Sums {
  series: number;
  field: number;
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
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
  into: Map<string, Sums>,
  series: number,
  field: number,
  bucket: number,
  add: Pick<Sums, 'count' | 'sum' | 'min' | 'max'>,
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

export class Writer {
  private readonly insertPoint: Statement;
  private readonly upsert5m: Statement;
  private readonly upsert1d: Statement;
  private readonly insertSeries: Statement;
  private readonly selectSeries: Statement;
  private readonly insertSeriesTag: Statement;
  private readonly insertField: Statement;
  private readonly selectField: Statement;
  private readonly nextSeries: Statement;
  private readonly allFields: Statement;
  private readonly deletePoints: Statement;
  private readonly deleteRollups: Statement[];
  /** measurement + tags as given -> series id; field name -> id. */
  private readonly seriesIds = new Map<string, number>();
  private readonly fieldIds = new Map<string, number>();

  constructor(private readonly db: Db) {
    // The rows a batch touches lie on many pages (one index leaf and a few rollup rows per
    // series); SQLite's default 2 MB cache does not hold them for 500 devices (measured:
    // 22,000 points/s with it, 34,000 with 64 MB). Of this connection only.
    db.pragma('cache_size = -65536');
    // write() resolving lets the ingest journal forget the readings: they must survive a
    // power cut, not only a crash, so every commit is synced (WAL with NORMAL may lose the
    // last commits on power loss; sqlite.org/pragma.html#pragma_synchronous). One fsync per
    // batch, in this thread, off the event loop.
    db.pragma('synchronous = FULL');
    // A reading already stored (same series, same time) is not stored or counted again.
    this.insertPoint = db.prepare(
      'INSERT INTO points (series_id, time, fields) VALUES (?, ?, ?) ON CONFLICT (series_id, time) DO NOTHING',
    );
    this.upsert5m = db.prepare(upsert('rollup_5m'));
    this.upsert1d = db.prepare(upsert('rollup_1d'));
    this.insertSeries = db.prepare(
      'INSERT INTO series (measurement, tags) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    this.selectSeries = db.prepare('SELECT id FROM series WHERE measurement = ? AND tags = ?');
    this.insertSeriesTag = db.prepare(
      'INSERT OR IGNORE INTO series_tags (series_id, key, value) VALUES (?, ?, ?)',
    );
    this.insertField = db.prepare('INSERT INTO fields (name) VALUES (?) ON CONFLICT DO NOTHING');
    this.selectField = db.prepare('SELECT id FROM fields WHERE name = ?');
    this.nextSeries = db.prepare('SELECT id FROM series WHERE id >= ? ORDER BY id LIMIT 1');
    this.allFields = db.prepare('SELECT id FROM fields ORDER BY id');
    this.deletePoints = db.prepare(
      `DELETE FROM points WHERE rowid IN
         (SELECT rowid FROM points WHERE series_id = ? AND time < ? LIMIT ${RETENTION_CHUNK})`,
    );
    this.deleteRollups = ['rollup_5m', 'rollup_1d'].map((table) =>
      db.prepare(
        `DELETE FROM ${table} WHERE series_id = ? AND field_id = ? AND bucket IN
           (SELECT bucket FROM ${table} WHERE series_id = ? AND field_id = ? AND bucket < ?
            LIMIT ${RETENTION_CHUNK})`,
      ),
    );
  }

  /**
   * One transaction per call: the raw points, and the rollups they touch, added up per
   * series, field and bucket within the batch first, so consecutive readings of a device
   * share one UPSERT per 5 minutes and one per day. A late reading adds to its old
   * buckets the same way: the rollups are always exact. The caller's write() resolves
   * only once this returned, that is once the batch is committed. Writing a batch again
   * (a retry after a lost answer, the journal's replay) changes nothing: a reading of a
   * series at a time already stored is skipped, raw and rollups alike.
   */
  write(points: WirePoint[]): void {
    try {
      this.db.transaction(() => this.writeBatch(points))();
    } catch (error) {
      // Ids handed out inside a rolled-back transaction do not exist.
      this.seriesIds.clear();
      this.fieldIds.clear();
      throw error;
    }
  }

  /**
   * Deletes, from `step.from` on, what is older than the cuts: each statement at most
   * RETENTION_CHUNK rows found by the index, at most RETENTION_STATEMENTS statements, then
   * it answers with where to go on. No yields: this thread runs no MQTT, and a write asked
   * meanwhile waits in this thread's queue behind one such request only (the event loop
   * asks for the next step after the answer, so writes and steps take turns).
   */
  retain(step: RetentionStep): RetentionDone {
    const done: RetentionDone = { points: 0, rollups: 0 };
    const fields = (this.allFields.all() as { id: number }[]).map((row) => row.id);
    const stages = 1 + 2 * fields.length;
    let { series, stage } = step.from;
    for (let statements = 0; statements < RETENTION_STATEMENTS; statements++) {
      const row = this.nextSeries.get(series) as { id: number } | undefined;
      if (!row) return done;
      if (row.id !== series) [series, stage] = [row.id, 0];
      let changes: number;
      if (stage === 0) {
        changes = this.deletePoints.run(series, step.rawCut).changes;
        done.points += changes;
      } else {
        const field = fields[Math.floor((stage - 1) / 2)] as number;
        const daily = (stage - 1) % 2 === 1;
        const statement = this.deleteRollups[daily ? 1 : 0] as Statement;
        // A day goes only once all of it is older than the cut: its row holds the newer part too.
        const cut = daily ? bucketStart(step.rollupCut, DAY_MS) : step.rollupCut;
        changes = statement.run(series, field, series, field, cut).changes;
        done.rollups += changes;
      }
      // A full chunk may have left more of the same: the same statement again.
      if (changes < RETENTION_CHUNK) stage++;
      if (stage >= stages) [series, stage] = [series + 1, 0];
    }
    done.next = { series, stage };
    return done;
  }

  ping(): void {
    this.db.prepare('SELECT 1').get();
  }

  close(): void {
    this.db.close();
  }

  private writeBatch(points: WirePoint[]): void {
    const fiveMinutes = new Map<string, Sums>();
    for (const point of points) {
      const series = this.seriesId(point);
      const { time } = point;
      if (this.insertPoint.run(series, time, JSON.stringify(point.fields)).changes === 0) continue;
      const bucket = bucketStart(time, FIVE_MINUTES_MS);
      for (const name in point.fields) {
        const value = point.fields[name];
        // Only numbers are rolled up: a boolean is not a number in InfluxDB either.
        if (typeof value !== 'number') continue;
        const one = { count: 1, sum: value, min: value, max: value };
        accumulate(fiveMinutes, series, this.fieldId(name), bucket, one);
      }
    }
    const days = new Map<string, Sums>();
    for (const acc of fiveMinutes.values()) {
      this.upsert5m.run(acc.series, acc.field, acc.bucket, acc.count, acc.sum, acc.min, acc.max);
      accumulate(days, acc.series, acc.field, bucketStart(acc.bucket, DAY_MS), acc);
    }
    for (const acc of days.values())
      this.upsert1d.run(acc.series, acc.field, acc.bucket, acc.count, acc.sum, acc.min, acc.max);
  }

  private seriesId(point: WirePoint): number {
    // Keyed by the tags as given (no sort): a writer sends its tags in one order.
    const key = `${point.measurement}\u0000${JSON.stringify(point.tags)}`;
    const known = this.seriesIds.get(key);
    if (known !== undefined) return known;
    const tags = canonicalTags(point.tags);
    let id: number;
    const inserted = this.insertSeries.run(point.measurement, tags);
    if (inserted.changes > 0) {
      id = Number(inserted.lastInsertRowid);
      for (const [name, value] of Object.entries(point.tags))
        this.insertSeriesTag.run(id, name, value);
    } else id = (this.selectSeries.get(point.measurement, tags) as { id: number }).id;
    this.seriesIds.set(key, id);
    return id;
  }

  private fieldId(name: string): number {
    const known = this.fieldIds.get(name);
    if (known !== undefined) return known;
    this.insertField.run(name);
    const id = (this.selectField.get(name) as { id: number }).id;
    this.fieldIds.set(name, id);
    return id;
  }
}
