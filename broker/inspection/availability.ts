/**
 * The calendar and the availability arithmetic of the inspection report: a period's
 * local midnights in the customer's zone, and a device's availability over a range with
 * its maintenance windows taken out. Apart from report.ts so that the weekly and monthly
 * trends (trends.ts) use them without importing the report that imports the trends.
 */
import { dayNumber, zonedInstant } from '../oncall/rota.js';
import type { StatusChange } from './history.js';

/**
 * The zone of a site without a customer: the contract's customers are in China, and a
 * month is the customer's month (Beijing time has no daylight saving since 1991).
 */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The instant of local midnight at the start of the 1st of month `index` (0-based, may overflow). */
function monthStart(timeZone: string, year: number, index: number): Date {
  const first = new Date(Date.UTC(year, index, 1)).toISOString().slice(0, 10);
  // A midnight that a daylight-saving change skips (clocks forward at 00:00, as in
  // America/Santiago) starts the day at the first instant that exists (zonedInstant).
  return new Date(zonedInstant(timeZone, dayNumber(first), 0));
}

/**
 * "2026-11" -> November 2026; "2026-Q4" -> October to December 2026: from local midnight
 * of the first day to local midnight of the first day after, in `timeZone` (2026-11 in
 * Asia/Shanghai runs from 2026-10-31T16:00Z to 2026-11-30T16:00Z). In a zone with
 * daylight saving a month is an hour shorter or longer than its days.
 */
export function periodRange(
  period: string,
  timeZone: string = DEFAULT_TIME_ZONE,
): { from: Date; to: Date } {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  if (quarter) {
    const year = Number(quarter[1]);
    const first = (Number(quarter[2]) - 1) * 3;
    return { from: monthStart(timeZone, year, first), to: monthStart(timeZone, year, first + 3) };
  }
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  if (!month) throw new Error(`period "${period}" is neither YYYY-MM nor YYYY-Qn`);
  const year = Number(month[1]);
  const index = Number(month[2]) - 1;
  return { from: monthStart(timeZone, year, index), to: monthStart(timeZone, year, index + 1) };
}

interface Interval {
  from: number;
  to: number;
}

/** Length of `interval` outside every span. */
function outside(interval: Interval, spans: readonly Interval[]): number {
  let cuts: Interval[] = [interval];
  for (const span of spans) {
    const next: Interval[] = [];
    for (const part of cuts) {
      if (span.to <= part.from || span.from >= part.to) next.push(part);
      else {
        if (span.from > part.from) next.push({ from: part.from, to: span.from });
        if (span.to < part.to) next.push({ from: span.to, to: part.to });
      }
    }
    cuts = next;
  }
  return cuts.reduce((sum, part) => sum + (part.to - part.from), 0);
}

/** Status intervals of one device within [from, to), from its ordered changes. */
export function statusIntervals(
  changes: readonly StatusChange[],
  from: number,
  to: number,
): { status: string; from: number; to: number }[] {
  const intervals: { status: string; from: number; to: number }[] = [];
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!;
    const start = Math.max(Date.parse(change.at), from);
    const end = Math.min(i + 1 < changes.length ? Date.parse(changes[i + 1]!.at) : to, to);
    if (end > start) intervals.push({ status: change.status, from: start, to: end });
  }
  return intervals;
}

export interface AvailabilityFigures {
  observedS: number;
  maintenanceS: number;
  upS: number;
  downS: number;
  outages: { count: number; totalS: number; longestS: number };
  availabilityPct: number | null;
  mttrS: number | null;
  mtbfS: number | null;
}

export function availability(
  changes: readonly StatusChange[],
  spans: readonly Interval[],
  from: number,
  to: number,
): AvailabilityFigures {
  const intervals = statusIntervals(changes, from, to);
  let observed = 0;
  let down = 0;
  let count = 0;
  let longest = 0;
  // Consecutive down intervals (down -> down with new reasons) are one outage.
  let current = 0;
  let previousDown = false;
  for (const interval of intervals) {
    const counted = outside(interval, spans);
    const isDown = interval.status === 'down';
    if (interval.status !== 'unknown') observed += counted;
    if (isDown) {
      down += counted;
      if (!previousDown) {
        current = 0;
      }
      current += counted;
      if (!previousDown && counted > 0) count++;
      longest = Math.max(longest, current);
    }
    previousDown = isDown;
  }
  const maintenance = to - from - outside({ from, to }, spans);
  const up = observed - down;
  return {
    observedS: observed / 1000,
    maintenanceS: maintenance / 1000,
    upS: up / 1000,
    downS: down / 1000,
    outages: { count, totalS: down / 1000, longestS: longest / 1000 },
    availabilityPct: observed > 0 ? round((up / observed) * 100, 3) : null,
    mttrS: count > 0 ? down / 1000 / count : null,
    mtbfS: count > 0 ? up / 1000 / count : null,
  };
}

/** `value` to `digits` decimals, as every figure of a report is rounded. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
