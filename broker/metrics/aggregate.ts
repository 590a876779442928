/**
 * Trend buckets computed from raw points in memory: the reference both stores' rollups
 * must agree with (test/suites/metrics-store.ts), and the answer for small raw ranges.
 * Buckets are aligned to the Unix epoch, as InfluxDB's GROUP BY time().
 */
import type { MetricPoint, TrendBucket } from './store.js';

/** Start of the epoch-aligned bucket of `bucketMs` that holds `time` (negative times too). */
export function bucketStart(time: number, bucketMs: number): number {
  return time - (((time % bucketMs) + bucketMs) % bucketMs);
}

/**
 * Buckets of one numeric field per value of the tag `by` (or one group "" without `by`).
 * Points without the field, or with a non-numeric value, do not count; empty buckets are
 * left out; each group's buckets are oldest first.
 */
export function aggregatePoints(
  points: readonly MetricPoint[],
  field: string,
  bucketMs: number,
  by?: string,
): Map<string, TrendBucket[]> {
  const groups = new Map<
    string,
    Map<number, { sum: number; count: number; min: number; max: number }>
  >();
  for (const point of points) {
    const value = point.fields[field];
    if (typeof value !== 'number') continue;
    const group = by === undefined ? '' : point.tags[by];
    if (group === undefined) continue;
    let buckets = groups.get(group);
    if (!buckets) groups.set(group, (buckets = new Map()));
    const start = bucketStart(point.time.getTime(), bucketMs);
    const acc = buckets.get(start);
    if (acc) {
      acc.sum += value;
      acc.count++;
      acc.min = Math.min(acc.min, value);
      acc.max = Math.max(acc.max, value);
    } else buckets.set(start, { sum: value, count: 1, min: value, max: value });
  }
  const out = new Map<string, TrendBucket[]>();
  for (const [group, buckets] of groups) out.set(group, bucketsOf(buckets));
  return out;
}

/** Sums of one bucket (or of a part of it, to be added to the rest). */
export interface BucketSums {
  sum: number;
  count: number;
  min: number | null;
  max: number | null;
}

/** Bucket start -> its sums, as trend buckets: oldest first, empty ones left out, mean = sum / count. */
export function bucketsOf(sums: ReadonlyMap<number, BucketSums>): TrendBucket[] {
  return [...sums.entries()]
    .filter(([, acc]) => acc.count > 0)
    .sort(([a], [b]) => a - b)
    .map(([time, acc]) => ({
      time: new Date(time),
      mean: acc.sum / acc.count,
      min: acc.min,
      max: acc.max,
      count: acc.count,
    }));
}
