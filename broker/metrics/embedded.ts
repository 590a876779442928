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
 * What runs where: the event loop only checks names and values, hands batches on and
 * migrates the file at start(). write() and the retention run in a writer thread that
 * owns the one read-write connection (embedded-write.ts); query(), trend() and trendBy()
 * in a reader thread on a read-only connection of its own (embedded-read.ts). Both
 * threads are embedded-thread.ts's clients, so neither a batch's commit nor a monthly
 * report holds up an agent's PUBACK.
 */
import { migrate, openDatabase } from '../db.js';
import type {
  ReadReply,
  ReadRequest,
  WireBucket,
  WirePoint,
  WirePointQuery,
} from './embedded-read.js';
import { DAY_MS, migrations } from './embedded-schema.js';
import { WorkerThread } from './embedded-thread.js';
import type { RetentionCursor, WriteReply, WriteRequest } from './embedded-write.js';
import {
  checkedName,
  type GroupedTrendQuery,
  type MetricPoint,
  type MetricsStore,
  type PointQuery,
  type TrendBucket,
  type TrendQuery,
} from './store.js';

const HOUR_MS = 3_600_000;
/** query() is for short ranges of raw points: a longer one is refused, not sent. */
const MAX_POINTS = 200_000;
/** A trend is for a chart or a report: more buckets than this per group is a mistake. */
const MAX_BUCKETS = 50_000;

export interface EmbeddedStoreOptions {
  /** The SQLite file. A path: the reader and writer threads open it on their own connections. */
  file: string;
  /** Raw points are kept this long (30 days, InfluxDB's raw policy). */
  retentionDays?: number;
  /** The 5-minute and daily rollups are kept this long (730 days, InfluxDB's rollup_5m). */
  rollupRetentionDays?: number;
  /** A read that has not answered after this long is given up and its thread restarted. */
  queryTimeoutMs?: number;
  /** Heap of the reader thread (MB): a runaway read ends that thread, not the broker. */
  readerMemoryMb?: number;
  /**
   * A write (or retention step) that has not committed after this long is given up and
   * the writer thread restarted: its transaction is rolled back, the batch is retried.
   */
  writeTimeoutMs?: number;
}

type Reader = WorkerThread<ReadRequest, ReadReply>;
type Writer = WorkerThread<WriteRequest, WriteReply>;

export class EmbeddedMetricsStore implements MetricsStore {
  readonly kind = 'embedded';
  private writer: Writer | null = null;
  private reader: Reader | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private retention: Promise<unknown> | null = null;
  /** write() calls not answered yet: stop() waits for them. */
  private readonly writing = new Set<Promise<unknown>>();
  /** Names already checked. */
  private readonly goodNames = new Set<string>();

  constructor(private readonly options: EmbeddedStoreOptions) {}

  /**
   * Migrates the file on the event loop (once, before any thread opens it: an upgrade
   * fails here, with SQLite's reason), then starts the writer thread and waits until it
   * has opened the file too.
   */
  async start(): Promise<void> {
    const { file } = this.options;
    if (file === ':memory:')
      throw new Error(
        'the embedded metrics store needs a file: its reader and writer threads open the same file',
      );
    try {
      const db = openDatabase(file);
      try {
        migrate(db, 'metrics-embedded', migrations);
      } finally {
        db.close();
      }
    } catch (error) {
      throw new Error(
        `the embedded metrics store cannot open or upgrade ${file}: ${(error as Error).message}; check that its folder exists and is writable, and the free disk`,
      );
    }
    const writer: Writer = new WorkerThread({
      entry: 'embedded-write-worker',
      data: { file },
      timeoutMs: this.options.writeTimeoutMs ?? 60_000,
      role: 'writer',
      waitForEnded: true,
      onTimeout:
        // The thread is ended between two statements of the batch's transaction (rolled
        // back), or, when the timeout fell in its COMMIT, after it: stored whole or not at
        // all, and written again either way (a reading stored twice counts once).
        'the batch may not be stored and the metrics writer writes it again; if it keeps happening, look at the disk (free space, speed) or move to InfluxDB (docs/METRICS.md)',
      onExit:
        "the batch was not stored and the metrics writer writes it again; if it keeps stopping, look at the broker's log and the free memory and disk",
    });
    try {
      await writer.ask({ op: 'ping' });
    } catch (error) {
      await writer.stop();
      throw new Error(
        `the embedded metrics store cannot open ${file} for writing: ${(error as Error).message}`,
      );
    }
    this.writer = writer;
    this.reader = new WorkerThread({
      entry: 'embedded-read-worker',
      data: { file },
      timeoutMs: this.options.queryTimeoutMs ?? 60_000,
      memoryMb: this.options.readerMemoryMb,
      role: 'reader',
      waitForEnded: false,
      onTimeout: 'ask for a shorter range or a wider bucket, or move to InfluxDB (docs/METRICS.md)',
      onExit:
        "ask again; if it keeps stopping, look at the broker's log and the free memory and disk",
    });
    this.startRetention();
    this.retentionTimer = setInterval(() => this.startRetention(), HOUR_MS);
    this.retentionTimer.unref();
  }

  /** Waits for the writes already handed on (committed or failed), then ends both threads. */
  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    const writer = this.writer;
    this.writer = null; // refuses new writes; ends a running retention at its next step
    await this.retention;
    await Promise.allSettled([...this.writing]);
    // Closed by the thread itself, so the WAL is checkpointed as at any close.
    if (writer?.running) await writer.ask({ op: 'close' }).catch(() => undefined);
    await writer?.stop();
    await this.reader?.stop();
    this.reader = null;
  }

  /**
   * Checked here, handed to the writer thread, resolved once it has committed the batch
   * (one transaction per call, embedded-write.ts): the ingest journal finishes a message
   * only then. Batches commit in the order of the calls (one thread, one queue).
   */
  async write(points: MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    const writer = this.open();
    const wire = points.map((point) => this.check(point));
    const written = writer.ask({ op: 'write', points: JSON.stringify(wire) });
    this.writing.add(written);
    try {
      await written;
    } finally {
      this.writing.delete(written);
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
      await this.open().ask({ op: 'ping' });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Deletes raw points older than `retentionDays` and rollups older than
   * `rollupRetentionDays`, in the writer thread, one bounded request at a time
   * (embedded-write.ts, Writer.retain): writes asked meanwhile take turns with its steps.
   */
  async applyRetention(now = Date.now()): Promise<{ points: number; rollups: number }> {
    const removed = { points: 0, rollups: 0 };
    const rawCut = now - (this.options.retentionDays ?? 30) * DAY_MS;
    const rollupCut = now - (this.options.rollupRetentionDays ?? 730) * DAY_MS;
    const writer = this.open();
    let from: RetentionCursor | undefined = { series: 0, stage: 0 };
    while (from) {
      const step = await writer.ask({ op: 'retain', rawCut, rollupCut, from });
      removed.points += step.points ?? 0;
      removed.rollups += step.rollups ?? 0;
      from = this.writer === writer ? step.next : undefined; // stopped meanwhile
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

  /** Bad input is refused here, before anything of the batch is handed on. */
  private check(point: MetricPoint): WirePoint {
    if (!(point.time instanceof Date) || !Number.isFinite(point.time.getTime()))
      throw new Error(`a ${point.measurement} point has no valid time: give it a Date`);
    for (const name in point.tags)
      if (!this.goodNames.has(name)) this.goodNames.add(checkedName(name, 'tag'));
    for (const name in point.fields) {
      if (!this.goodNames.has(name)) this.goodNames.add(checkedName(name, 'field'));
      const value = point.fields[name];
      if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'boolean')
        throw new Error(
          `field "${name}" of a ${point.measurement} point is ${String(value)}: give a finite number or a boolean`,
        );
    }
    const { measurement, tags, fields } = point;
    return { measurement, tags, fields, time: point.time.getTime() };
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

  private read(): Reader {
    this.open();
    return this.reader as Reader;
  }

  private open(): Writer {
    if (!this.writer) throw new Error('the embedded metrics store is not started');
    return this.writer;
  }
}
