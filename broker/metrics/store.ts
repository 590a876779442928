/**
 * The metrics store: where every reading goes, and where trends come from. Two
 * implementations pass one conformance suite (test/suites/metrics-store.ts): InfluxDB
 * (broker/metrics/influx.ts, the only importer of `influx`) and the embedded store
 * (broker/metrics/embedded.ts, SQLite) that the demo uses.
 *
 * Reads never stall the broker's event loop (every agent's PUBACK waits behind it): the
 * embedded store answers them from a worker thread with its own read-only connection,
 * InfluxDB in its own process. Trends read rollups (count, sum, min, max per 5 minutes
 * and per day, kept 2 years) wherever the bucket allows, raw readings only at the edges.
 */

/**
 * Measurement, tag and field names become JSON paths and column values in the embedded
 * store and identifiers in InfluxQL: both stores take only plain names, checked here.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function checkedName(name: string, what: string): string {
  if (!NAME.test(name))
    throw new Error(`${what} "${name}" is not a valid name: use letters, digits and "_"`);
  return name;
}

/** One reading. Tags are bounded sets (site, agent, device, kind, channel); fields are values. */
export interface MetricPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | boolean>;
  time: Date;
}

export interface PointQuery {
  measurement: string;
  /** Exact tag matches, e.g. { site: 'demo-site', device: 'cam-01' }. */
  tags?: Record<string, string>;
  /** Included. */
  from: Date;
  /** Excluded: [from, to), so consecutive ranges never count a point twice. */
  to: Date;
}

export interface TrendQuery extends PointQuery {
  field: string;
  /** Bucket width in seconds (300 = the 5-minute rollup). */
  bucketS: number;
}

export interface TrendBucket {
  /** Start of the bucket; buckets are aligned to the Unix epoch (InfluxDB's GROUP BY time()). */
  time: Date;
  mean: number | null;
  min: number | null;
  max: number | null;
  count: number;
}

export interface GroupedTrendQuery extends TrendQuery {
  /**
   * The tag whose values split the answer: `device` gives every device of the tags'
   * site in one query (a report asks once per field, not once per device and field).
   */
  by: string;
}

export interface MetricsStore {
  /** "influxdb" or "embedded": shown by /api/health. */
  readonly kind: string;
  /** Creates the database, retention policies, tables; connects. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the points are durably written; rejects if the store is unreachable. */
  write(points: MetricPoint[]): Promise<void>;
  /** Raw points, oldest first. */
  query(query: PointQuery): Promise<MetricPoint[]>;
  /** Aggregated buckets of one numeric field, oldest first; empty buckets are left out. */
  trend(query: TrendQuery): Promise<TrendBucket[]>;
  /**
   * trend() per value of the tag `by`, in one query: value -> its buckets, oldest first.
   * Series without the tag are left out; series with the same value are merged.
   */
  trendBy(query: GroupedTrendQuery): Promise<Map<string, TrendBucket[]>>;
  /** True when the store answered its last check. */
  ping(): Promise<boolean>;
}
