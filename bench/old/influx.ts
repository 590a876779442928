// OLD CODE PATH, KEPT ONLY TO MEASURE AGAINST (npm run bench:report, bench/report.ts).
// A copy of broker/metrics/influx.ts as it was at commit cbf448a, before issue 12 (rollups, reads off
// the event loop, one query per field). Nothing in the product imports it. Do not fix or
// update it: its figures are "today's figures" the issue compares with. Only its import
// paths differ from the original, so the benchmark runs from a clone without history.
// The second importer of `influx` (broker/metrics/influx.ts is the adapter, STYLE habit
// 7): allowed here only because this file is a frozen copy that nothing but the benchmark runs.
/**
 * The metrics store on InfluxDB 1.x, the only importer of the `influx` package (STYLE
 * habit 7). At start it makes sure the database is laid out as docs/METRICS.md says:
 *
 *   - retention policy `raw` (default, 30 days): every reading as it came;
 *   - retention policy `rollup_5m` (2 years): 5-minute mean/min/max/count/sum of the
 *     device fields responseMs and clockOffsetS, filled by the continuous query
 *     `device_5m`, so the inspection reports of the contract can show trends over a year.
 *
 * Trends of those fields with buckets that are whole multiples of 5 minutes read the
 * rollup for the 5-minute-aligned, completed part of the range and the raw points for
 * the edges, and merge the partial aggregates (mean = sum of sums / sum of counts), so
 * they give the same answer as over the raw points, and a quarterly trend reads one row
 * per 5 minutes per series instead of every reading. A continuous query only
 * aggregates the interval that just ended; readings written late (the journal's replay
 * after a crash, the backlog after an InfluxDB outage) would be missing from it, so
 * every write marks its 5-minute intervals and a trend first recomputes the marked
 * ones it reads (SELECT ... INTO over that interval, which overwrites the rollup row).
 *
 * Setting up is idempotent (run on every start; an existing policy is altered to the
 * configured durations, the continuous query is recreated). When InfluxDB is down at
 * start the broker still runs: every write first retries the setup, and the batching
 * writer keeps the readings until InfluxDB answers.
 */
import { escape, InfluxDB } from 'influx';
import { VigilError } from '../../shared/errors.js';
import type { MetricPoint, MetricsStore, PointQuery, TrendBucket, TrendQuery } from './store.js';

export const RAW_POLICY = 'raw';
export const ROLLUP_POLICY = 'rollup_5m';
export const ROLLUP_QUERY = 'device_5m';
/** Device fields kept in the 5-minute rollups. */
export const ROLLUP_FIELDS = ['responseMs', 'clockOffsetS'] as const;

const ROLLUP_MS = 5 * 60_000;

/** Aggregates of one bucket that can be merged with another part of the same bucket. */
interface Partial {
  sum: number;
  count: number;
  min: number | null;
  max: number | null;
}

export interface InfluxStoreOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  rawRetentionDays?: number;
  rollupRetentionDays?: number;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function checkedName(name: string, what: string): string {
  if (!NAME.test(name))
    throw new Error(`${what} "${name}" is not a valid name: use letters, digits and "_"`);
  return name;
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

export class InfluxMetricsStore implements MetricsStore {
  readonly kind = 'influxdb';
  private client: InfluxDB | null = null;
  private ready: Promise<void> | null = null;
  private readonly where: string;
  /** Starts of the 5-minute intervals written since their rollup rows were computed. */
  private readonly stale = new Set<number>();

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
    this.client = new InfluxDB({
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 8086,
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
      database: this.options.database,
      // Sent as HTTP basic auth, never in the URL; without them InfluxDB's auth must be off.
      ...(username !== undefined ? { username, password: password ?? '' } : {}),
      pool: { requestTimeout: this.options.timeoutMs ?? 10_000, maxRetries: 0 },
    });
    await this.ensureReady();
    // Intervals a crash may have left half-rolled-up: recompute the last hour on demand.
    const now = Math.floor(Date.now() / ROLLUP_MS) * ROLLUP_MS;
    for (let t = now - 12 * ROLLUP_MS; t <= now; t += ROLLUP_MS) this.stale.add(t);
  }

  async stop(): Promise<void> {
    this.client = null;
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
    await this.open().writePoints(
      points.map((point) => ({
        measurement: point.measurement,
        tags: point.tags,
        fields: point.fields,
        timestamp: point.time,
      })),
      { precision: 'ms', retentionPolicy: RAW_POLICY },
    );
    for (const point of points) {
      if (point.measurement !== 'device') continue;
      if (!ROLLUP_FIELDS.some((field) => field in point.fields)) continue;
      const t = point.time.getTime();
      this.stale.add(t - (((t % ROLLUP_MS) + ROLLUP_MS) % ROLLUP_MS));
    }
  }

  async query(query: PointQuery): Promise<MetricPoint[]> {
    const statement = `SELECT * FROM ${this.source(query)} WHERE ${this.conditions(query)} GROUP BY *`;
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
    if (!(query.bucketS > 0)) throw new Error('bucketS must be a positive number of seconds');
    const field = checkedName(query.field, 'field');
    const bucketMs = Math.round(query.bucketS * 1000);
    const from = query.from.getTime();
    const to = query.to.getTime();
    const partials = new Map<number, Partial>();
    const fromRollup =
      query.measurement === 'device' &&
      (ROLLUP_FIELDS as readonly string[]).includes(field) &&
      bucketMs % ROLLUP_MS === 0;
    // The rollup covers whole, completed 5-minute intervals; the edges come from raw.
    const rollupFrom = Math.ceil(from / ROLLUP_MS) * ROLLUP_MS;
    const rollupTo = Math.min(
      Math.floor(to / ROLLUP_MS) * ROLLUP_MS,
      Math.floor(Date.now() / ROLLUP_MS) * ROLLUP_MS,
    );
    if (fromRollup && rollupFrom < rollupTo) {
      await this.refreshRollups(rollupFrom, rollupTo);
      await this.partials(partials, query, field, bucketMs, rollupFrom, rollupTo, true);
      if (from < rollupFrom)
        await this.partials(partials, query, field, bucketMs, from, rollupFrom, false);
      if (rollupTo < to) await this.partials(partials, query, field, bucketMs, rollupTo, to, false);
    } else {
      await this.partials(partials, query, field, bucketMs, from, to, false);
    }
    return [...partials.entries()]
      .filter(([, partial]) => partial.count > 0)
      .sort(([a], [b]) => a - b)
      .map(([time, partial]) => ({
        time: new Date(time),
        mean: partial.sum / partial.count,
        min: partial.min,
        max: partial.max,
        count: partial.count,
      }));
  }

  /** Adds the sum, count, min and max per bucket of [from, to) to `into`. */
  private async partials(
    into: Map<number, Partial>,
    query: TrendQuery,
    field: string,
    bucketMs: number,
    from: number,
    to: number,
    rollup: boolean,
  ): Promise<void> {
    const q = (name: string) => escape.quoted(name);
    const aggregates = rollup
      ? `sum(${q(`${field}_sum`)}) AS "sum", sum(${q(`${field}_count`)}) AS "count", min(${q(`${field}_min`)}) AS "min", max(${q(`${field}_max`)}) AS "max"`
      : `sum(${q(field)}) AS "sum", count(${q(field)}) AS "count", min(${q(field)}) AS "min", max(${q(field)}) AS "max"`;
    const source = rollup ? `${q(ROLLUP_POLICY)}.${q('device')}` : this.source(query);
    const range = { ...query, from: new Date(from), to: new Date(to) };
    const statement = `SELECT ${aggregates} FROM ${source} WHERE ${this.conditions(range)} GROUP BY time(${bucketMs}ms) fill(none)`;
    for (const series of await this.select(statement)) {
      const at = (name: string) => series.columns.indexOf(name);
      for (const row of series.values ?? []) {
        const num = (name: string) =>
          typeof row[at(name)] === 'number' ? (row[at(name)] as number) : null;
        const count = num('count') ?? 0;
        if (count === 0) continue;
        const time = row[at('time')] as number;
        const before = into.get(time);
        const min = num('min');
        const max = num('max');
        into.set(time, {
          sum: (before?.sum ?? 0) + (num('sum') ?? 0),
          count: (before?.count ?? 0) + count,
          min: before?.min == null ? min : min === null ? before.min : Math.min(before.min, min),
          max: before?.max == null ? max : max === null ? before.max : Math.max(before.max, max),
        });
      }
    }
  }

  /** Recomputes the rollup rows of the stale intervals in [from, to), run by run. */
  private async refreshRollups(from: number, to: number): Promise<void> {
    const due = [...this.stale].filter((t) => t >= from && t < to).sort((a, b) => a - b);
    let i = 0;
    while (i < due.length) {
      const start = due[i]!;
      let end = start + ROLLUP_MS;
      while (i + 1 < due.length && due[i + 1] === end) {
        i++;
        end += ROLLUP_MS;
      }
      i++;
      const database = escape.quoted(this.options.database);
      await this.statement(
        `SELECT ${this.rollupAggregates()} INTO ${database}.${escape.quoted(ROLLUP_POLICY)}."device" ` +
          `FROM ${database}.${escape.quoted(RAW_POLICY)}."device" WHERE time >= ${start}ms AND time < ${end}ms GROUP BY time(5m), *`,
      );
      for (let t = start; t < end; t += ROLLUP_MS) this.stale.delete(t);
    }
  }

  private rollupAggregates(): string {
    return ROLLUP_FIELDS.flatMap((name) => {
      const field = escape.quoted(name);
      return [
        `mean(${field}) AS ${escape.quoted(`${name}_mean`)}`,
        `min(${field}) AS ${escape.quoted(`${name}_min`)}`,
        `max(${field}) AS ${escape.quoted(`${name}_max`)}`,
        `count(${field}) AS ${escape.quoted(`${name}_count`)}`,
        `sum(${field}) AS ${escape.quoted(`${name}_sum`)}`,
      ];
    }).join(', ');
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
    const database = escape.quoted(this.options.database);
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
        `${verb} RETENTION POLICY ${escape.quoted(name)} ON ${database} DURATION ${days}d${replication}${isDefault ? ' DEFAULT' : ''}`,
      );
    };
    await policy(RAW_POLICY, rawDays, true);
    await policy(ROLLUP_POLICY, rollupDays, false);

    // A continuous query cannot be altered: drop the old one (if any) and create it anew.
    const queries = await this.select('SHOW CONTINUOUS QUERIES');
    const ours = queries.find((series) => series.name === this.options.database);
    const exists =
      ours?.values?.some((row) => row[ours.columns.indexOf('name')] === ROLLUP_QUERY) ?? false;
    if (exists)
      await this.statement(`DROP CONTINUOUS QUERY ${escape.quoted(ROLLUP_QUERY)} ON ${database}`);
    // GROUP BY *, so every series (site, agent, device, kind) keeps its tags in the rollup.
    await this.statement(
      `CREATE CONTINUOUS QUERY ${escape.quoted(ROLLUP_QUERY)} ON ${database} BEGIN ` +
        `SELECT ${this.rollupAggregates()} INTO ${database}.${escape.quoted(ROLLUP_POLICY)}."device" ` +
        `FROM ${database}.${escape.quoted(RAW_POLICY)}."device" GROUP BY time(5m), * END`,
    );
  }

  private source(query: PointQuery): string {
    return `${escape.quoted(RAW_POLICY)}.${escape.quoted(checkedName(query.measurement, 'measurement'))}`;
  }

  /** [from, to) and exact tag matches. */
  private conditions(query: PointQuery): string {
    const clauses = [`time >= ${query.from.getTime()}ms`, `time < ${query.to.getTime()}ms`];
    for (const [key, value] of Object.entries(query.tags ?? {})) {
      clauses.push(`${escape.quoted(checkedName(key, 'tag'))} = ${escape.stringLit(value)}`);
    }
    return clauses.join(' AND ');
  }

  /** Runs a statement that returns nothing, failing on InfluxDB's error. */
  private async statement(text: string): Promise<void> {
    await this.select(text, 'POST');
  }

  private async select(text: string, method: 'GET' | 'POST' = 'GET'): Promise<RawSeries[]> {
    const response = (await this.open().queryRaw(text, { precision: 'ms', method })) as RawResponse;
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
