/**
 * The metrics store on InfluxDB 1.x, the only importer of the `influx` package (STYLE
 * habit 7). At start it makes sure the database is laid out as docs/METRICS.md
 * ("InfluxDB layout") says:
 *
 *   - retention policy `raw` (default, 30 days): every reading as it came;
 *   - `rollup_5m` and `rollup_1d` (2 years): per series and interval, `<field>_sum`,
 *     `_count`, `_min`, `_max` of every numeric field of the
 *     `device` and `agent` measurements (broker/metrics/influx-rollups.ts), filled by the
 *     continuous queries `<measurement>_5m` (from raw) and `<measurement>_1d` (from the
 *     5-minute rows, resampled every hour over two days so the last 5-minute row of a day
 *     is in, whichever of the two queries InfluxDB runs first at midnight).
 *
 * Trends read whole completed days from rollup_1d when the bucket is a whole number of
 * days, whole completed 5-minute intervals from rollup_5m when it is a whole number of 5
 * minutes, and raw points only for the edges, all levels in one request, and merge the
 * partial aggregates (mean = sum of sums / sum of counts): the same answer as over the
 * raw points (aggregatePoints). trendBy groups by the tag in each statement, so a site's
 * devices cost one request, not one per device.
 *
 * A continuous query aggregates only the interval that just ended; readings written late
 * (the journal's replay, the backlog after an outage or a WAN cut) would be missing. So
 * every write marks its 5-minute intervals and their days stale; a trend first rolls up
 * the stale intervals it reads (SELECT ... INTO overwrites the rows), and a background
 * timer does the same for the others, one statement (a day at most) per tick. settle()
 * waits until nothing is stale.
 *
 * Setting up is idempotent (run on every start; an existing policy is altered to the
 * configured durations, the continuous queries are recreated). A database laid out by an
 * older version (no rollup_1d, or rollups of fewer fields: the `vigil_layout` marker says
 * which) gets its rollups rebuilt in the background from the raw points still kept, and
 * its daily rows from the 5-minute rows older than those. When InfluxDB is down at start
 * the broker still runs: every write first retries the setup, and the batching writer
 * keeps the readings until InfluxDB answers.
 */
import { escape, InfluxDB } from 'influx';
import { VigilError } from '../../shared/errors.js';
import { loopSlices } from '../../lib/loop-slices.js';
import {
  DAY_MS,
  FIVE_MS,
  plan,
  rolledUp,
  ROLLUP_FIELDS,
  rollupSelect,
  StaleIntervals,
  type Segment,
} from './influx-rollups.js';
import { bucketStart, bucketsOf, type BucketSums } from './aggregate.js';
import {
  checkedName,
  type GroupedTrendQuery,
  type MetricPoint,
  type MetricsStore,
  type PointQuery,
  type TrendBucket,
  type TrendQuery,
} from './store.js';

export const RAW_POLICY = 'raw';
export const ROLLUP_POLICY = 'rollup_5m';
export const DAY_POLICY = 'rollup_1d';
/** The continuous query of the device 5-minute rollup (one per level and measurement). */
export const ROLLUP_QUERY = 'device_5m';
/** Where the layout version is kept (policy rollup_1d): its absence means "rebuild". */
export const LAYOUT_MEASUREMENT = 'vigil_layout';
/**
 * Late 5-minute intervals not yet rolled up, one point each (policy raw, tag `of` = the
 * measurement), so that a restart does not forget them: the journal does not replay a
 * reading once it is written.
 */
export const STALE_MEASUREMENT = 'vigil_stale';
/** 2: rollup_1d, and every numeric field of device and agent rolled up. */
const LAYOUT_VERSION = 2;
/** The rolled-up field lists as stored in the marker: a new field means a rebuild. */
const LAYOUT_FIELDS = JSON.stringify(ROLLUP_FIELDS);

/** Background refresh leaves an interval alone this long after it ends (on-time writes). */
const SETTLE_GRACE_MS = 30_000;

export interface InfluxStoreOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  rawRetentionDays?: number;
  rollupRetentionDays?: number;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Per rollup statement (a day of a large site); default 10 minutes. */
  rollupTimeoutMs?: number;
  /** Background refresh of stale rollups: one statement per tick; default every 2 s. */
  refreshEveryMs?: number;
  /**
   * settle() rolls up this many days at once (default 2): InfluxDB 1.6 runs a statement
   * on one core.
   */
  settleParallel?: number;
}

/** The shape of InfluxDB's /query answer (the HTTP API of 1.x, "epoch=ms"). */
interface RawSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}
interface RawResult {
  statement_id?: number;
  error?: string;
  series?: RawSeries[];
}
interface RawResponse {
  results?: RawResult[];
  error?: string;
}

/**
 * GROUP BY * names every tag key of the measurement and gives "" where a series lacks
 * one; InfluxDB cannot store an empty tag value, so "" means absent.
 */
function presentTags(tags: Record<string, string> | undefined): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags ?? {})) if (value !== '') present[key] = value;
  return present;
}

/** The URL without user and password, for messages. */
function redacted(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

const q = (name: string) => escape.quoted(name);

export class InfluxMetricsStore implements MetricsStore {
  readonly kind = 'influxdb';
  private client: InfluxDB | null = null;
  /** The same server with a longer timeout, for rollup statements. */
  private slow: InfluxDB | null = null;
  private ready: Promise<void> | null = null;
  private readonly where: string;
  /** Per rolled-up measurement, the intervals written since their rollup rows were computed. */
  private readonly stale = new Map<string, StaleIntervals>(
    Object.keys(ROLLUP_FIELDS).map((measurement) => [measurement, new StaleIntervals()]),
  );
  /**
   * Rollup work runs one unit at a time; a reader whose range has work due waits for at
   * most the unit in flight, and one whose range has none does not wait (refreshFor).
   */
  private work: Promise<unknown> = Promise.resolve();
  /** Spans being rolled up now: taken from the stale marks, not yet in the rollup. */
  private readonly running = new Set<{ measurement: string; from: number; to: number }>();
  private layoutChecked = false;
  /** While rebuilding an older layout: the marker is written once nothing before this is stale. */
  private rebuildBefore: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Per measurement, the intervals with a STALE_MEASUREMENT point. */
  private readonly persisted = new Map<string, Set<number>>(
    Object.keys(ROLLUP_FIELDS).map((measurement) => [measurement, new Set()]),
  );
  private stopped = true;

  constructor(private readonly options: InfluxStoreOptions) {
    this.where = redacted(new URL(options.url));
  }

  /** Connects and lays out the database; throws VIGIL_METRICS_STORE_DOWN when InfluxDB does not answer. */
  async start(): Promise<void> {
    const url = new URL(this.options.url);
    const username =
      this.options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password =
      this.options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    const connect = (requestTimeout: number) =>
      new InfluxDB({
        host: url.hostname,
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 8086,
        protocol: url.protocol === 'https:' ? 'https' : 'http',
        path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
        database: this.options.database,
        // Sent as HTTP basic auth, never in the URL; without them InfluxDB's auth must be off.
        ...(username !== undefined ? { username, password: password ?? '' } : {}),
        pool: { requestTimeout, maxRetries: 0 },
      });
    this.client = connect(this.options.timeoutMs ?? 10_000);
    this.slow = connect(this.options.rollupTimeoutMs ?? 600_000);
    this.stopped = false;
    this.layoutChecked = false;
    // Intervals a crash may have left half-rolled-up: the last hour, recomputed on demand.
    const now = bucketStart(Date.now(), FIVE_MS);
    for (const stale of this.stale.values())
      for (let t = now - 12 * FIVE_MS; t <= now; t += FIVE_MS) stale.markInterval(t);
    // Before the setup, which may fail: the broker runs on and sets up on a later write.
    this.schedule(this.options.refreshEveryMs ?? 2000);
    await this.ensureReady();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // No statement of ours runs after stop().
    await this.work.catch(() => {});
    this.client = null;
    this.slow = null;
    this.ready = null;
  }

  async write(points: MetricPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.ensureReady();
    for (const point of points) {
      checkedName(point.measurement, 'measurement');
      for (const name of Object.keys(point.tags)) checkedName(name, 'tag');
      for (const name of Object.keys(point.fields)) checkedName(name, 'field');
    }
    let late: Map<string, Set<number>>;
    try {
      await this.open().writePoints(
        points.map((point) => ({
          measurement: point.measurement,
          tags: point.tags,
          fields: point.fields,
          timestamp: point.time,
        })),
        { precision: 'ms', retentionPolicy: RAW_POLICY },
      );
    } finally {
      // Marked once the points are in (a rollup computed before would miss them), and
      // also after a failure: some of the batch may have been written.
      late = this.markStale(points);
    }
    // Before write() resolves, so the journal replays the batch if this fails.
    await this.persist(late);
  }

  /**
   * Marks the points' 5-minute intervals stale; returns the late ones (ended before the
   * continuous query's turn) not yet kept in InfluxDB.
   */
  private markStale(points: MetricPoint[]): Map<string, Set<number>> {
    const late = new Map<string, Set<number>>();
    const lateBefore = Date.now() - SETTLE_GRACE_MS - FIVE_MS;
    let measurement = '';
    let stale: StaleIntervals | undefined;
    let last = NaN;
    for (const point of points) {
      if (point.measurement !== measurement) {
        measurement = point.measurement;
        stale = this.stale.get(measurement);
        last = NaN;
      }
      if (!stale) continue;
      // Batches come mostly in time order: one set insertion per interval, not per point.
      const interval = bucketStart(point.time.getTime(), FIVE_MS);
      if (interval === last) continue;
      last = interval;
      stale.markInterval(interval);
      if (interval < lateBefore && !this.persisted.get(measurement)!.has(interval)) {
        let set = late.get(measurement);
        if (!set) late.set(measurement, (set = new Set()));
        set.add(interval);
      }
    }
    return late;
  }

  /** Writes a STALE_MEASUREMENT point per late interval. */
  private async persist(late: Map<string, Iterable<number>>): Promise<void> {
    const marks = [...late].flatMap(([measurement, intervals]) =>
      [...intervals].map((interval) => ({
        measurement: STALE_MEASUREMENT,
        tags: { of: measurement },
        fields: { stale: true },
        timestamp: new Date(interval),
      })),
    );
    if (marks.length === 0) return;
    await this.open().writePoints(marks, { precision: 'ms', retentionPolicy: RAW_POLICY });
    for (const mark of marks) this.persisted.get(mark.tags.of)!.add(mark.timestamp.getTime());
  }

  /** Deletes the STALE_MEASUREMENT points of a span just rolled up. */
  private async forget(measurement: string, span: { from: number; to: number }): Promise<void> {
    const persisted = this.persisted.get(measurement)!;
    const gone = [...persisted].filter((t) => t >= span.from && t < span.to);
    if (gone.length === 0) return;
    await this.statement(
      `DELETE FROM ${q(STALE_MEASUREMENT)} WHERE "of" = ${escape.stringLit(measurement)} AND time >= ${span.from}ms AND time < ${span.to}ms`,
    );
    for (const t of gone) persisted.delete(t);
    // Marked again by a write while the span was rolled up: kept again.
    const stale = this.stale.get(measurement)!;
    await this.persist(new Map([[measurement, gone.filter((t) => stale.has(t))]]));
  }

  /** The late intervals a previous run left unrolled, marked again. */
  private async loadPersisted(): Promise<void> {
    const series = await this.select(
      `SELECT "stale" FROM ${this.target(RAW_POLICY, STALE_MEASUREMENT)} GROUP BY "of"`,
    );
    for (const { tags, values } of series) {
      const stale = this.stale.get(tags?.of ?? '');
      if (!stale) continue;
      for (const [time] of values ?? []) {
        stale.markInterval(time as number);
        this.persisted.get(tags!.of!)!.add(time as number);
      }
    }
  }

  async query(query: PointQuery): Promise<MetricPoint[]> {
    const statement = `SELECT * FROM ${this.source(RAW_POLICY, query.measurement)} WHERE ${this.conditions(query)} GROUP BY *`;
    const points: MetricPoint[] = [];
    for (const series of await this.select(statement)) {
      const timeColumn = series.columns.indexOf('time');
      for (const row of series.values ?? []) {
        const fields: Record<string, number | boolean> = {};
        series.columns.forEach((column, i) => {
          const value = row[i];
          if (i !== timeColumn && (typeof value === 'number' || typeof value === 'boolean'))
            fields[column] = value;
        });
        if (Object.keys(fields).length === 0) continue;
        points.push({
          measurement: query.measurement,
          tags: presentTags(series.tags),
          fields,
          time: new Date(row[timeColumn] as number),
        });
      }
    }
    // One series per tag set comes back; the caller wants one list, oldest first.
    return points.sort((a, b) => a.time.getTime() - b.time.getTime());
  }

  async trend(query: TrendQuery): Promise<TrendBucket[]> {
    return (await this.grouped(query, undefined)).get('') ?? [];
  }

  async trendBy(query: GroupedTrendQuery): Promise<Map<string, TrendBucket[]>> {
    return this.grouped(query, checkedName(query.by, 'tag'));
  }

  /**
   * Buckets per value of `by` (one group "" without it): every level's part of the range
   * in one request of one statement per part, GROUP BY time and the tag.
   */
  private async grouped(
    query: TrendQuery,
    by: string | undefined,
  ): Promise<Map<string, TrendBucket[]>> {
    if (!(query.bucketS > 0)) throw new Error('bucketS must be a positive number of seconds');
    const field = checkedName(query.field, 'field');
    const measurement = checkedName(query.measurement, 'measurement');
    const bucketMs = Math.round(query.bucketS * 1000);
    const segments = plan(
      query.from.getTime(),
      query.to.getTime(),
      bucketMs,
      Date.now(),
      rolledUp(measurement, field),
    );
    await this.refreshFor(measurement, segments);
    const groupBy = `GROUP BY time(${bucketMs}ms)${by === undefined ? '' : `, ${q(by)}`} fill(none)`;
    const statements = segments.map((segment) => {
      const range = { ...query, from: new Date(segment.from), to: new Date(segment.to) };
      const aggregates =
        segment.level === 'raw'
          ? `sum(${q(field)}) AS "sum", count(${q(field)}) AS "count", min(${q(field)}) AS "min", max(${q(field)}) AS "max"`
          : `sum(${q(`${field}_sum`)}) AS "sum", sum(${q(`${field}_count`)}) AS "count", min(${q(`${field}_min`)}) AS "min", max(${q(`${field}_max`)}) AS "max"`;
      const policy =
        segment.level === 'raw' ? RAW_POLICY : segment.level === '5m' ? ROLLUP_POLICY : DAY_POLICY;
      return `SELECT ${aggregates} FROM ${this.source(policy, measurement)} WHERE ${this.conditions(range)} ${groupBy}`;
    });
    const groups = new Map<string, Map<number, BucketSums>>();
    // A site's month by device is thousands of series: merged in slices (lib/loop-slices.ts).
    const slices = loopSlices();
    if (statements.length > 0) {
      for (const series of await this.select(statements.join('; '))) {
        await slices.pause();
        const group = by === undefined ? '' : (series.tags?.[by] ?? '');
        // GROUP BY a tag gives "" to the series without it: they are left out.
        if (by !== undefined && group === '') continue;
        let into = groups.get(group);
        if (!into) groups.set(group, (into = new Map()));
        addPartials(into, series);
      }
    }
    const out = new Map<string, TrendBucket[]>();
    for (const [group, partials] of groups) {
      await slices.pause();
      const buckets = bucketsOf(partials);
      if (buckets.length > 0) out.set(group, buckets);
    }
    return out;
  }

  /**
   * Resolves once every stale interval is rolled up (both levels), including the ones
   * still being written: for a benchmark or an import after a bulk write.
   */
  async settle(): Promise<void> {
    await this.ensureReady();
    const parallel = this.options.settleParallel ?? 2;
    while (await this.exclusive(() => this.refreshUnit(Infinity, parallel)));
  }

  /**
   * Rolls up the stale intervals a trend is about to read. A trend whose rollup range has
   * nothing stale and nothing being rolled up reads at once: waiting in line behind the
   * background's work on other days (today's live intervals, at 2,000 readings a second)
   * made a month's report of 500 devices take 7 s instead of a fraction of one
   * (bench:report).
   */
  private async refreshFor(measurement: string, segments: Segment[]): Promise<void> {
    const stale = this.stale.get(measurement);
    if (!stale || segments.every((segment) => segment.level === 'raw')) return;
    const overlaps = (from: number, to: number) =>
      [...this.running].some((r) => r.measurement === measurement && r.from < to && from < r.to);
    const due = segments.some(
      (segment) =>
        (segment.level === '5m' &&
          stale.daysWithStaleIntervals(segment.from, segment.to).length > 0) ||
        (segment.level === '1d' && stale.staleDays(segment.from, segment.to).length > 0) ||
        (segment.level !== 'raw' && overlaps(segment.from, segment.to)),
    );
    if (!due) return;
    await this.exclusive(async () => {
      for (const segment of segments) {
        if (segment.level === '5m')
          for (const day of stale.daysWithStaleIntervals(segment.from, segment.to))
            await this.refreshFive(measurement, day, segment.from, segment.to);
        if (segment.level === '1d')
          for (const day of stale.staleDays(segment.from, segment.to))
            await this.refreshDay(measurement, day);
      }
    });
  }

  /**
   * Rollup work whose intervals end before `before`, oldest day first, one statement on
   * each of up to `parallel` days at once: true if there was some (then there may be more).
   */
  private async refreshUnit(before: number, parallel = 1): Promise<boolean> {
    const due = [...this.stale]
      .flatMap(([measurement, stale]) => stale.due(before).map((d) => ({ measurement, ...d })))
      .sort((a, b) => a.day - b.day)
      .slice(0, parallel);
    if (due.length === 0) {
      await this.markRebuilt();
      return false;
    }
    await Promise.all(
      due.map((d) =>
        d.kind === 'five'
          ? this.refreshFive(d.measurement, d.day, d.day, before - FIVE_MS + 1)
          : this.refreshDay(d.measurement, d.day),
      ),
    );
    return true;
  }

  /** Recomputes the 5-minute rows of the stale intervals of `day` in [from, to), one statement. */
  private async refreshFive(measurement: string, day: number, from: number, to: number) {
    const stale = this.stale.get(measurement)!;
    const span = stale.takeIntervals(day, Math.max(from, day), Math.min(to, day + DAY_MS));
    if (!span) return;
    const running = { measurement, ...span };
    this.running.add(running);
    try {
      await this.statement(
        `SELECT ${rollupSelect(measurement, '5m', q)} INTO ${this.target(ROLLUP_POLICY, measurement)} ` +
          `FROM ${this.target(RAW_POLICY, measurement)} WHERE time >= ${span.from}ms AND time < ${span.to}ms GROUP BY time(5m), *`,
        true,
      );
      await this.forget(measurement, span);
    } catch (error) {
      stale.restoreIntervals(span);
      throw error;
    } finally {
      this.running.delete(running);
    }
  }

  /** Recomputes a day's row from its 5-minute rows, those first. */
  private async refreshDay(measurement: string, day: number): Promise<void> {
    const stale = this.stale.get(measurement)!;
    await this.refreshFive(measurement, day, day, day + DAY_MS);
    stale.takeDay(day);
    const running = { measurement, from: day, to: day + DAY_MS };
    this.running.add(running);
    try {
      await this.statement(
        `SELECT ${rollupSelect(measurement, '1d', q)} INTO ${this.target(DAY_POLICY, measurement)} ` +
          `FROM ${this.target(ROLLUP_POLICY, measurement)} WHERE time >= ${day}ms AND time < ${day + DAY_MS}ms GROUP BY time(1d), *`,
        true,
      );
    } catch (error) {
      stale.markDay(day);
      throw error;
    } finally {
      this.running.delete(running);
    }
  }

  /**
   * Reads the layout marker; if it is missing or older (a database of the previous
   * version: rollup_5m of two fields and no rollup_1d), marks for rebuilding every
   * 5-minute interval the raw policy still holds, and every day of the 5-minute rollup
   * older than that. The background then rebuilds them a day per statement.
   */
  private async checkLayout(): Promise<void> {
    const marker = await this.select(
      `SELECT * FROM ${this.target(DAY_POLICY, LAYOUT_MEASUREMENT)} ORDER BY time DESC LIMIT 1`,
    );
    const row = marker[0];
    const value = (name: string) => row?.values?.[0]?.[row.columns.indexOf(name)];
    if (value('version') === LAYOUT_VERSION && value('fields') === LAYOUT_FIELDS) return;
    const now = Date.now();
    const rawHorizon = now - (this.options.rawRetentionDays ?? 30) * DAY_MS;
    for (const [measurement, stale] of this.stale) {
      const oldestRaw = await this.oldest(RAW_POLICY, measurement);
      const oldestFive = await this.oldest(ROLLUP_POLICY, measurement);
      const rawFrom =
        oldestRaw === null ? null : bucketStart(Math.max(oldestRaw, rawHorizon), FIVE_MS);
      if (rawFrom !== null) for (let t = rawFrom; t <= now; t += FIVE_MS) stale.markInterval(t);
      if (oldestFive !== null) {
        const until = rawFrom ?? now;
        for (let d = bucketStart(oldestFive, DAY_MS); d < until; d += DAY_MS) stale.markDay(d);
      }
    }
    this.rebuildBefore = bucketStart(now, FIVE_MS);
    await this.markRebuilt();
  }

  /** Writes the layout marker once the rebuild has nothing left before its start. */
  private async markRebuilt(): Promise<void> {
    const before = this.rebuildBefore;
    if (before === null) return;
    for (const stale of this.stale.values())
      if (stale.hasIntervalsBefore(before) || stale.hasDaysBefore(bucketStart(before, DAY_MS)))
        return;
    await this.open().writePoints(
      [
        {
          measurement: LAYOUT_MEASUREMENT,
          fields: { version: LAYOUT_VERSION, fields: LAYOUT_FIELDS },
          timestamp: new Date(),
        },
      ],
      { precision: 'ms', retentionPolicy: DAY_POLICY },
    );
    this.rebuildBefore = null;
  }

  /** The time of the oldest point of a measurement in a policy, or null. */
  private async oldest(policy: string, measurement: string): Promise<number | null> {
    const series = await this.select(
      `SELECT * FROM ${this.target(policy, measurement)} ORDER BY time ASC LIMIT 1`,
    );
    const time = series[0]?.values?.[0]?.[series[0].columns.indexOf('time')];
    return typeof time === 'number' ? time : null;
  }

  /** Runs `task` after the rollup work queued before it. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.work.then(task);
    this.work = run.catch(() => {});
    return run;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    // Never what keeps the process alive.
    this.timer.unref();
  }

  /** Background refresh: one statement per tick, the next one soon when more is due. */
  private async tick(): Promise<void> {
    let more = false;
    if (this.client && !this.stopped) {
      try {
        await this.ensureReady();
        more = await this.exclusive(() => this.refreshUnit(Date.now() - SETTLE_GRACE_MS));
      } catch {
        // InfluxDB down or busy: what was taken is marked again, the next tick retries.
      }
    }
    this.schedule(more ? 50 : (this.options.refreshEveryMs ?? 2000));
  }

  async ping(): Promise<boolean> {
    if (!this.client) return false;
    const hosts = await this.client.ping(this.options.timeoutMs ?? 2000);
    return hosts.some((host) => host.online);
  }

  /** Runs the setup once; after a failure the next call tries again. */
  private ensureReady(): Promise<void> {
    this.ready ??= this.setUp().catch((error: unknown) => {
      this.ready = null;
      const reason = error instanceof Error ? error.message : String(error);
      throw new VigilError(
        'VIGIL_METRICS_STORE_DOWN',
        `InfluxDB at ${this.where} cannot be set up: ${reason}`,
      );
    });
    return this.ready;
  }

  private async setUp(): Promise<void> {
    const db = this.open();
    const database = q(this.options.database);
    const rawDays = this.options.rawRetentionDays ?? 30;
    const rollupDays = this.options.rollupRetentionDays ?? 730;
    await this.statement(`CREATE DATABASE ${database}`);
    const existing = new Set(
      (await db.showRetentionPolicies(this.options.database)).map((policy) => policy.name),
    );
    const policy = async (name: string, days: number, isDefault: boolean) => {
      const verb = existing.has(name) ? 'ALTER' : 'CREATE';
      const replication = verb === 'CREATE' ? ' REPLICATION 1' : '';
      await this.statement(
        `${verb} RETENTION POLICY ${q(name)} ON ${database} DURATION ${days}d${replication}${isDefault ? ' DEFAULT' : ''}`,
      );
    };
    await policy(RAW_POLICY, rawDays, true);
    await policy(ROLLUP_POLICY, rollupDays, false);
    await policy(DAY_POLICY, rollupDays, false);

    // A continuous query cannot be altered: drop the old one (if any) and create it anew.
    const queries = await this.select('SHOW CONTINUOUS QUERIES');
    const ours = queries.find((series) => series.name === this.options.database);
    const names = new Set(ours?.values?.map((row) => row[ours.columns.indexOf('name')]) ?? []);
    for (const measurement of Object.keys(ROLLUP_FIELDS)) {
      // GROUP BY *, so every series (site, agent, device, kind) keeps its tags in the rollup.
      const five = `${measurement}_5m`;
      if (names.has(five)) await this.statement(`DROP CONTINUOUS QUERY ${q(five)} ON ${database}`);
      await this.statement(
        `CREATE CONTINUOUS QUERY ${q(five)} ON ${database} BEGIN ` +
          `SELECT ${rollupSelect(measurement, '5m', q)} INTO ${this.target(ROLLUP_POLICY, measurement)} ` +
          `FROM ${this.target(RAW_POLICY, measurement)} GROUP BY time(5m), * END`,
      );
      // Every hour over the last two days: at midnight this query and the 5-minute one
      // run in no fixed order (InfluxDB 1.x runs due queries in turn), so the day's last
      // 5-minute row may come after the first run; the next run takes it in.
      const day = `${measurement}_1d`;
      if (names.has(day)) await this.statement(`DROP CONTINUOUS QUERY ${q(day)} ON ${database}`);
      await this.statement(
        `CREATE CONTINUOUS QUERY ${q(day)} ON ${database} RESAMPLE EVERY 1h FOR 2d BEGIN ` +
          `SELECT ${rollupSelect(measurement, '1d', q)} INTO ${this.target(DAY_POLICY, measurement)} ` +
          `FROM ${this.target(ROLLUP_POLICY, measurement)} GROUP BY time(1d), * END`,
      );
    }
    // Once per process: a few small queries; the rebuild itself runs in the background.
    if (!this.layoutChecked) {
      await this.loadPersisted();
      await this.checkLayout();
      this.layoutChecked = true;
    }
  }

  /** policy.measurement of our database, for FROM in reads. */
  private source(policy: string, measurement: string): string {
    return `${q(policy)}.${q(checkedName(measurement, 'measurement'))}`;
  }

  /** database.policy.measurement, for INTO and FROM of rollup statements. */
  private target(policy: string, measurement: string): string {
    return `${q(this.options.database)}.${this.source(policy, measurement)}`;
  }

  /** [from, to) and exact tag matches. */
  private conditions(query: PointQuery): string {
    const clauses = [`time >= ${query.from.getTime()}ms`, `time < ${query.to.getTime()}ms`];
    for (const [key, value] of Object.entries(query.tags ?? {})) {
      clauses.push(`${q(checkedName(key, 'tag'))} = ${escape.stringLit(value)}`);
    }
    return clauses.join(' AND ');
  }

  /** Runs a statement that returns nothing, failing on InfluxDB's error. */
  private async statement(text: string, long = false): Promise<void> {
    await this.select(text, 'POST', long);
  }

  /** Every series of every statement in `text` (statements separated by ";"). */
  private async select(text: string, method: 'GET' | 'POST' = 'GET', long = false) {
    const client = long ? this.slow : this.client;
    if (!client) throw new Error('the InfluxDB metrics store is not started');
    const response = (await client.queryRaw(text, { precision: 'ms', method })) as RawResponse;
    if (response.error) throw new Error(response.error);
    const series: RawSeries[] = [];
    for (const result of response.results ?? []) {
      if (result.error) throw new Error(`${result.error} (in: ${text})`);
      series.push(...(result.series ?? []));
    }
    return series;
  }

  private open(): InfluxDB {
    if (!this.client) throw new Error('the InfluxDB metrics store is not started');
    return this.client;
  }
}

/** Adds one answer's sum, count, min and max per bucket to `into`. */
function addPartials(into: Map<number, BucketSums>, series: RawSeries): void {
  const at = (name: string) => series.columns.indexOf(name);
  const [timeAt, sumAt, countAt, minAt, maxAt] = ['time', 'sum', 'count', 'min', 'max'].map(at);
  const num = (row: unknown[], i: number | undefined) =>
    i !== undefined && typeof row[i] === 'number' ? row[i] : null;
  for (const row of series.values ?? []) {
    const count = num(row, countAt) ?? 0;
    if (count === 0) continue;
    const time = row[timeAt!] as number;
    const before = into.get(time);
    const min = num(row, minAt);
    const max = num(row, maxAt);
    into.set(time, {
      sum: (before?.sum ?? 0) + (num(row, sumAt) ?? 0),
      count: (before?.count ?? 0) + count,
      min: before?.min == null ? min : min === null ? before.min : Math.min(before.min, min),
      max: before?.max == null ? max : max === null ? before.max : Math.max(before.max, max),
    });
  }
}
