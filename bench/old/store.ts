// OLD CODE PATH, KEPT ONLY TO MEASURE AGAINST (npm run bench:report, bench/report.ts).
// A copy of broker/metrics/store.ts as it was at commit cbf448a, before issue 12 (rollups, reads off
// the event loop, one query per field). Nothing in the product imports it. Do not fix or
// update it: its figures are "today's figures" the issue compares with. Only its import
// paths differ from the original, so the benchmark runs from a clone without history.
/**
 * The metrics store: where every reading goes, and where trends come from. Two
 * implementations pass one conformance suite (test/suites/metrics-store.ts): InfluxDB
 * (broker/metrics/influx.ts, the only importer of `influx`) and the embedded store
 * (broker/metrics/embedded.ts, SQLite) that the demo uses.
 */

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
  /** True when the store answered its last check. */
  ping(): Promise<boolean>;
}
