/**
 * The inspection report's trends, in the customer's calendar: the weekly table (ISO weeks
 * from local Monday 00:00, clipped to the period) and the 12-month charts (one point per
 * local calendar month, the report's period last). Both come from the metrics store.
 *
 * The stores' daily rollups are UTC days (broker/metrics/store.ts: buckets align to the
 * epoch), and a local week or month of Beijing starts at 16:00 UTC. So each week and each
 * month is its own store request over [local midnight, local midnight) with daily buckets:
 * the store reads the whole UTC days inside it from its daily rollup and the two part-days
 * at its edges from the 5-minute rollup (both kept `metrics.rollupDays`, 2 years), so the
 * figures are exact and need no raw reading (kept 30 days): a month a year ago reads the
 * same as last month (docs/METRICS.md, "Reports and charts"). A zone whose offset is not a
 * whole number of 5 minutes has no such zone today (IANA tzdata: every offset in use is a
 * multiple of 15 minutes).
 */
import type { MonthlyFigures, WeeklyTrend } from '../../shared/api/inspection.js';
import { VigilError } from '../../shared/errors.js';
import { loopSlices } from '../../lib/loop-slices.js';
import type { MetricsStore, TrendBucket } from '../metrics/store.js';
import type { Span } from '../maintenance/store.js';
import { localDay, weekday, zonedInstant } from '../oncall/rota.js';
import type { StatusChange } from './history.js';
import { availability, DEFAULT_TIME_ZONE, periodRange, round } from './availability.js';

const DAY_MS = 86_400_000;

/** A part of a report's range: `label` names it (a week's local Monday 00:00, a month). */
export interface TrendRange {
  /** The instant of local midnight that starts the week or month, even when clipped. */
  start: number;
  from: number;
  to: number;
}

/**
 * The local weeks (Monday 00:00 to Monday 00:00 in `timeZone`, ISO 8601) that overlap
 * [from, to), each clipped to it: a month that starts on a Thursday has a first week of
 * four days. In a zone with daylight saving a week is an hour shorter or longer.
 */
export function localWeeks(timeZone: string, from: number, to: number): TrendRange[] {
  const weeks: TrendRange[] = [];
  const first = localDay(timeZone, from);
  let monday = first - (weekday(first) - 1);
  for (;;) {
    const start = zonedInstant(timeZone, monday, 0);
    const end = zonedInstant(timeZone, monday + 7, 0);
    if (end > from && start < to)
      weeks.push({ start, from: Math.max(from, start), to: Math.min(to, end) });
    if (end >= to) return weeks;
    monday += 7;
  }
}

/** The week of `at` in `timeZone`: its local Monday 00:00. */
export function weekStart(at: number, timeZone = 'UTC'): number {
  const day = localDay(timeZone, at);
  return zonedInstant(timeZone, day - (weekday(day) - 1), 0);
}

/** How many months the charts show. */
export const CHART_MONTHS = 12;

/**
 * The 12 calendar months in `timeZone` that end with the period's last month ("2026-11":
 * December 2025 to November 2026; "2026-Q4": January to December 2026), oldest first.
 */
export function chartMonths(
  period: string,
  timeZone: string = DEFAULT_TIME_ZONE,
): { month: string; from: number; to: number }[] {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  if (!quarter && !month) throw new Error(`period "${period}" is neither YYYY-MM nor YYYY-Qn`);
  const year = Number((quarter ?? month)![1]);
  const last = quarter ? Number(quarter[2]) * 3 - 1 : Number(month![2]) - 1;
  const months = [];
  for (let i = CHART_MONTHS - 1; i >= 0; i--) {
    const at = new Date(Date.UTC(year, last - i, 1));
    const name = at.toISOString().slice(0, 7);
    const range = periodRange(name, timeZone);
    months.push({ month: name, from: range.from.getTime(), to: range.to.getTime() });
  }
  return months;
}

/** Trend fields read from the `device` measurement, and how a week or a month sums them up. */
type TrendOut = 'responseMs' | 'clockOffsetS' | 'storageUsedPct' | 'retentionDays' | 'recordingPct';
type TrendHow = 'mean' | 'absmax' | 'max' | 'min' | 'continuity';
export const TREND_FIELDS: readonly { out: TrendOut; field: string; how: TrendHow }[] = [
  { out: 'responseMs', field: 'responseMs', how: 'mean' },
  { out: 'clockOffsetS', field: 'clockOffsetS', how: 'absmax' },
  { out: 'storageUsedPct', field: 'storageUsedPct', how: 'max' },
  { out: 'retentionDays', field: 'retentionDays', how: 'min' },
  // Recording continuity: the share of the time on which no recording of the NVR lagged
  // behind (the agent's recordingsStopped stayed 0), by daily buckets weighed by their
  // part of the range (the edge days of a local week are part-days of UTC).
  { out: 'recordingPct', field: 'recordingsStopped', how: 'continuity' },
];

/** One range's daily buckets of a field summed up; null when nothing was measured. */
export function summarize(
  buckets: readonly TrendBucket[],
  how: TrendHow,
  range: { from: number; to: number },
): number | null {
  let sum = 0;
  let count = 0;
  let value: number | null = null;
  let spanMs = 0;
  let cleanMs = 0;
  for (const bucket of buckets) {
    const start = bucket.time.getTime();
    const slice = Math.min(start + DAY_MS, range.to) - Math.max(start, range.from);
    spanMs += slice;
    if (bucket.max === 0) cleanMs += slice;
    if (bucket.mean !== null) {
      sum += bucket.mean * bucket.count;
      count += bucket.count;
    }
    const candidate =
      how === 'absmax'
        ? Math.max(Math.abs(bucket.min ?? 0), Math.abs(bucket.max ?? 0))
        : how === 'max'
          ? bucket.max
          : how === 'min'
            ? bucket.min
            : null;
    if (candidate !== null)
      value =
        value === null
          ? candidate
          : how === 'min'
            ? Math.min(value, candidate)
            : Math.max(value, candidate);
  }
  if (how === 'mean') return count > 0 ? sum / count : null;
  if (how === 'continuity') return spanMs > 0 ? (cleanMs / spanMs) * 100 : null;
  return value;
}

/**
 * One store request per range (daily buckets, by device or for the whole site), all of a
 * field at once: the embedded store answers them in turn in its reader thread, InfluxDB
 * side by side.
 */
async function perRange(
  metrics: MetricsStore,
  siteId: string,
  field: string,
  ranges: readonly { from: number; to: number }[],
  by: 'device' | null,
): Promise<Map<string, TrendBucket[]>[]> {
  try {
    return await Promise.all(
      ranges.map(async (range) => {
        const query = {
          measurement: 'device',
          tags: { site: siteId },
          field,
          from: new Date(range.from),
          to: new Date(range.to),
          bucketS: 86_400,
        };
        if (by !== null) return metrics.trendBy({ ...query, by });
        return new Map([['', await metrics.trend(query)]]);
      }),
    );
  } catch (error) {
    // Not an empty trend: a report without its trends would read as "no data", and a past
    // period's would be cached so. The request fails and can be tried again.
    const reason = error instanceof Error ? error.message : String(error);
    throw new VigilError(
      'VIGIL_METRICS_STORE_DOWN',
      `The report's ${field} trends could not be read from the metrics store (${reason}); try again in a minute, and if it persists check the store (GET /api/health).`,
    );
  }
}

/**
 * The weekly trends of every device of a site with readings in [from, to), sorted by
 * device and week, weeks in `timeZone` (the customer's). What a report keeps in its cache
 * (broker/inspection/cache.ts) once the period is over: the expensive part, and the same
 * whatever devices the report lists (it takes its own from this list).
 */
export async function siteWeeklyTrends(
  metrics: MetricsStore,
  siteId: string,
  from: Date,
  to: Date,
  timeZone: string = DEFAULT_TIME_ZONE,
): Promise<WeeklyTrend[]> {
  const weeks = localWeeks(timeZone, from.getTime(), to.getTime());
  const perDevice = new Map<string, Map<number, WeeklyTrend>>();
  const entry = (deviceId: string, start: number) => {
    let byWeek = perDevice.get(deviceId);
    if (!byWeek) perDevice.set(deviceId, (byWeek = new Map()));
    let trend = byWeek.get(start);
    if (!trend) {
      trend = {
        deviceId,
        weekStart: new Date(start).toISOString(),
        responseMs: null,
        clockOffsetS: null,
        storageUsedPct: null,
        retentionDays: null,
        recordingPct: null,
      };
      byWeek.set(start, trend);
    }
    return trend;
  };
  // Thousands of devices' buckets: summed up in slices (lib/loop-slices.ts).
  const slices = loopSlices();
  for (const { out, field, how } of TREND_FIELDS) {
    const answers = await perRange(metrics, siteId, field, weeks, 'device');
    for (const [i, byDevice] of answers.entries()) {
      const week = weeks[i]!;
      for (const [deviceId, buckets] of byDevice) {
        await slices.pause();
        if (buckets.length === 0) continue;
        const value = summarize(buckets, how, week);
        entry(deviceId, week.start)[out] = value === null ? null : round(value, 2);
      }
    }
  }
  return [...perDevice.keys()]
    .sort()
    .flatMap((deviceId) =>
      [...perDevice.get(deviceId)!.values()].sort((a, b) => a.weekStart.localeCompare(b.weekStart)),
    );
}

/** One local month of the charts, `to` at most the report's time. */
export interface ChartMonth {
  month: string;
  from: number;
  to: number;
}

/** The readings' figures of one month (MonthlyFigures without availability). */
export type MonthReadings = Pick<MonthlyFigures, 'month' | TrendOut>;

/**
 * The site's readings per month, over every device (trend, not trendBy): one store request
 * per month and field, the months of a field side by side. A month with no reading of a
 * field has null there. What the report cache keeps for a period that is over (kind
 * "monthly"): a late reading dated in one of the months drops it.
 */
export async function siteMonthlyReadings(
  metrics: MetricsStore,
  siteId: string,
  months: readonly ChartMonth[],
): Promise<MonthReadings[]> {
  const readings: MonthReadings[] = months.map((m) => ({
    month: m.month,
    responseMs: null,
    clockOffsetS: null,
    storageUsedPct: null,
    retentionDays: null,
    recordingPct: null,
  }));
  const measured = months.flatMap((m, i) => (m.to > m.from ? [{ ...m, i }] : []));
  if (measured.length === 0) return readings;
  for (const { out, field, how } of TREND_FIELDS) {
    const answers = await perRange(metrics, siteId, field, measured, null);
    for (const [j, answer] of answers.entries()) {
      const month = measured[j]!;
      const buckets = answer.get('') ?? [];
      const value = buckets.length === 0 ? null : summarize(buckets, how, month);
      readings[month.i]![out] = value === null ? null : round(value, 2);
    }
  }
  return readings;
}

/** Where a month's status changes and maintenance come from (the desk's stores). */
export interface MonthlyHistory {
  changes(from: Date, to: Date): Promise<StatusChange[]>;
  maintenance(from: Date, to: Date): Span[];
}

/**
 * The 12-month figures of a site: per local month, the site's availability (as the
 * report's: up over observed time, maintenance left out) and its readings over every
 * device (mean response time, largest clock offset, fullest recorder, shortest retention,
 * recording continuity). A month before the site had readings is null, not zero; the
 * part of a month still to come is not counted.
 */
export async function siteMonthlyFigures(input: {
  metrics: MetricsStore | null;
  /** The months' readings; by default asked of `metrics` (siteMonthlyReadings). */
  readings?: (months: readonly ChartMonth[]) => Promise<MonthReadings[]>;
  history: MonthlyHistory;
  siteId: string;
  period: string;
  timeZone: string;
  now: Date;
}): Promise<MonthlyFigures[]> {
  const now = input.now.getTime();
  // The part of a month still to come is not counted; a month wholly to come has nothing.
  const months = chartMonths(input.period, input.timeZone).map((m) => ({
    ...m,
    to: Math.max(m.from, Math.min(m.to, now)),
  }));
  const slices = loopSlices();
  const figures: MonthlyFigures[] = [];
  for (const month of months) {
    const from = new Date(month.from);
    const to = new Date(month.to);
    let observed = 0;
    let up = 0;
    if (month.to > month.from) {
      const changes = await input.history.changes(from, to);
      const spans = input.history.maintenance(from, to);
      const siteSpans = spans.filter((s) => s.deviceId === null);
      const byDevice = new Map<string, StatusChange[]>();
      for (const change of changes) {
        const list = byDevice.get(change.deviceId);
        if (list) list.push(change);
        else byDevice.set(change.deviceId, [change]);
      }
      for (const [deviceId, list] of byDevice) {
        await slices.pause();
        const own = [...siteSpans, ...spans.filter((s) => s.deviceId === deviceId)];
        const device = availability(list, own, month.from, month.to);
        observed += device.observedS;
        up += device.upS;
      }
    }
    figures.push({
      month: month.month,
      from: from.toISOString(),
      to: to.toISOString(),
      availabilityPct: observed > 0 ? round((up / observed) * 100, 3) : null,
      responseMs: null,
      clockOffsetS: null,
      storageUsedPct: null,
      retentionDays: null,
      recordingPct: null,
    });
  }
  const metrics = input.metrics;
  const read =
    input.readings ??
    (metrics === null
      ? null
      : (m: readonly ChartMonth[]) => siteMonthlyReadings(metrics, input.siteId, m));
  if (read !== null) {
    const readings = await read(months);
    readings.forEach((month, i) => Object.assign(figures[i]!, month));
  }
  return figures;
}
