/**
 * What the InfluxDB store rolls up and how its reads combine the levels (docs/METRICS.md,
 * "InfluxDB layout"): the rolled-up fields of each measurement, the aggregates written per
 * field, which level answers which part of a trend's range, and the set of intervals whose
 * rollup rows are stale. No I/O here: broker/metrics/influx.ts runs the statements.
 */
import { agentHealthExample } from '../../shared/messages/agent-health.js';
import { DeviceMetricValues } from '../../shared/messages/device-metrics.js';
import { agentPoint } from './points.js';
import { bucketStart } from './aggregate.js';

export const FIVE_MS = 5 * 60_000;
export const DAY_MS = 86_400_000;

function numericSchema(schema: unknown): boolean {
  const type = (schema as { type?: unknown }).type;
  return type === 'number' || type === 'integer';
}

/**
 * The numeric fields of each measurement, from their one home: `device` copies the
 * message's values one to one (devicePoint), so its fields are the schema's numeric
 * values; `agent` renames and derives (agentPoint), so its fields are what agentPoint
 * makes of the example health message, which carries every optional part. Booleans (`up`)
 * have no sum and are not rolled up.
 */
export const ROLLUP_FIELDS: Readonly<Record<string, readonly string[]>> = {
  device: Object.entries(DeviceMetricValues.properties)
    .filter(([, schema]) => numericSchema(schema))
    .map(([name]) => name),
  agent: Object.entries(agentPoint(agentHealthExample).fields)
    .filter(([, value]) => typeof value === 'number')
    .map(([name]) => name),
};

export function rolledUp(measurement: string, field: string): boolean {
  return ROLLUP_FIELDS[measurement]?.includes(field) ?? false;
}

export type Level = 'raw' | '5m' | '1d';

export interface Segment {
  level: Level;
  from: number;
  to: number;
}

const floorTo = (t: number, step: number) => bucketStart(t, step);
const ceilTo = (t: number, step: number) => {
  const floor = bucketStart(t, step);
  return floor === t ? t : floor + step;
};

/**
 * Splits [from, to) into the parts each level answers: whole completed days from the
 * daily rollup when the bucket is a whole number of days, whole completed 5-minute
 * intervals from the 5-minute rollup when it is a whole number of 5 minutes, the raw
 * points for the rest (the edges, and the interval still being written). Every bucket
 * boundary is then also a boundary of the rollup rows, so partial aggregates of one
 * bucket from several levels add up to the aggregate over its raw points.
 */
export function plan(
  from: number,
  to: number,
  bucketMs: number,
  now: number,
  rolled: boolean,
): Segment[] {
  const segments: Segment[] = [];
  const add = (level: Level, a: number, b: number) => {
    if (a < b) segments.push({ level, from: a, to: b });
  };
  const five = rolled && bucketMs % FIVE_MS === 0;
  const a5 = ceilTo(from, FIVE_MS);
  const b5 = Math.min(floorTo(to, FIVE_MS), floorTo(now, FIVE_MS));
  if (!five || a5 >= b5) {
    add('raw', from, to);
    return segments;
  }
  add('raw', from, a5);
  const aD = ceilTo(a5, DAY_MS);
  const bD = floorTo(b5, DAY_MS);
  if (bucketMs % DAY_MS === 0 && aD < bD) {
    add('5m', a5, aD);
    add('1d', aD, bD);
    add('5m', bD, b5);
  } else add('5m', a5, b5);
  add('raw', b5, to);
  return segments;
}

/**
 * Aggregates a rollup row keeps per field; the mean is sum / count. No `_mean`: InfluxDB
 * 1.6 reads the raw points once per call, so each aggregate costs as much as the first
 * (measured: a day of 200 devices, 1.2 s per call and field), and the mean adds nothing.
 */
export const AGGREGATES = ['sum', 'count', 'min', 'max'] as const;

/**
 * The select list that rolls raw points up into 5-minute rows, or 5-minute rows up into
 * days (sums of sums and counts, min of mins, max of maxes), with `quote` for identifiers.
 */
export function rollupSelect(
  measurement: string,
  level: '5m' | '1d',
  quote: (name: string) => string,
): string {
  const fields = ROLLUP_FIELDS[measurement] ?? [];
  return fields
    .flatMap((name) =>
      AGGREGATES.map((agg) =>
        level === '5m'
          ? `${agg}(${quote(name)}) AS ${quote(`${name}_${agg}`)}`
          : `${agg === 'count' ? 'sum' : agg}(${quote(`${name}_${agg}`)}) AS ${quote(`${name}_${agg}`)}`,
      ),
    )
    .join(', ');
}

/**
 * The intervals of one measurement whose rollup rows may differ from their raw points:
 * written since they were last rolled up. A stale 5-minute interval makes its day stale;
 * a day is rolled up from its 5-minute rows once none of them is stale.
 */
export class StaleIntervals {
  /** Day start -> starts of its stale 5-minute intervals. */
  private readonly five = new Map<number, Set<number>>();
  private readonly days = new Set<number>();

  /** Marks the 5-minute interval holding `time`, and its day. */
  mark(time: number): void {
    this.markInterval(floorTo(time, FIVE_MS));
  }

  markInterval(start: number): void {
    const day = floorTo(start, DAY_MS);
    let set = this.five.get(day);
    if (!set) this.five.set(day, (set = new Set()));
    set.add(start);
    this.days.add(day);
  }

  /** Marks a day only: its daily row is recomputed from the 5-minute rows. */
  markDay(day: number): void {
    this.days.add(floorTo(day, DAY_MS));
  }

  has(interval: number): boolean {
    return this.five.get(floorTo(interval, DAY_MS))?.has(interval) ?? false;
  }

  get empty(): boolean {
    return this.days.size === 0 && this.five.size === 0;
  }

  /** Stale days in [from, to), oldest first. */
  staleDays(from: number, to: number): number[] {
    return [...this.days].filter((d) => d >= from && d < to).sort((a, b) => a - b);
  }

  /** Days with stale 5-minute intervals in [from, to), oldest first. */
  daysWithStaleIntervals(from: number, to: number): number[] {
    return [...this.five.entries()]
      .filter(([, set]) => [...set].some((t) => t >= from && t < to))
      .map(([day]) => day)
      .sort((a, b) => a - b);
  }

  /**
   * Takes the stale 5-minute intervals of `day` in [from, to): the span to recompute in
   * one statement (a day at most), or null. Taken before the statement runs, so a write
   * that lands meanwhile marks its interval again.
   */
  takeIntervals(day: number, from: number, to: number): { from: number; to: number } | null {
    const set = this.five.get(day);
    if (!set) return null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of set) {
      if (t < from || t >= to) continue;
      set.delete(t);
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    if (set.size === 0) this.five.delete(day);
    return lo === Infinity ? null : { from: lo, to: hi + FIVE_MS };
  }

  /** Puts back what a failed statement took. */
  restoreIntervals(span: { from: number; to: number }): void {
    for (let t = span.from; t < span.to; t += FIVE_MS) this.markInterval(t);
  }

  /**
   * Clears a day's mark unless some of its 5-minute intervals were marked again
   * meanwhile (then the next refresh recomputes it once more).
   */
  takeDay(day: number): void {
    if (!this.five.has(day)) this.days.delete(day);
  }

  hasDaysBefore(time: number): boolean {
    for (const day of this.days) if (day < time) return true;
    return false;
  }

  hasIntervalsBefore(time: number): boolean {
    for (const [day, set] of this.five) {
      if (day >= time) continue;
      for (const t of set) if (t < time) return true;
    }
    return false;
  }

  /**
   * The days with work due before `before` (a 5-minute interval or the day ended), oldest
   * first: 'five' while some of its intervals are stale, then 'day'.
   */
  due(before: number): { day: number; kind: 'five' | 'day' }[] {
    const due: { day: number; kind: 'five' | 'day' }[] = [];
    for (const [day, set] of this.five)
      for (const t of set)
        if (t + FIVE_MS <= before) {
          due.push({ day, kind: 'five' });
          break;
        }
    for (const day of this.days)
      if (day + DAY_MS <= before && !this.five.has(day)) due.push({ day, kind: 'day' });
    return due.sort((a, b) => a.day - b.day);
  }
}
