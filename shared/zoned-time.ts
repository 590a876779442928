/**
 * The clocks of an IANA time zone, from the ICU data of Intl (no date library): what the
 * zone's clocks read at an instant, and the instant at which they read a given local
 * time. One home for both: the on-call rota's hand-overs (broker/oncall/rota.ts), the
 * reports' months and weeks (broker/inspection/), and the console's date-time inputs,
 * which a person types in their own zone (the user's setting, not the browser's).
 * Schema-free, so the console may use it.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** True when Intl knows the IANA zone name (as the team's time zone must be). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Readings already made: onCallAt asks for the same hand-over instants again and again. */
const readings = new Map<string, number>();
const MAX_READINGS = 50_000;

/** The wall-clock reading in the zone at `at`, as if it were UTC (epoch ms, whole seconds). */
function wallClock(timeZone: string, at: number): number {
  const key = `${timeZone}|${at}`;
  const known = readings.get(key);
  if (known !== undefined) return known;
  const part: Record<string, number> = {};
  for (const { type, value } of formatter(timeZone).formatToParts(at)) {
    if (type !== 'literal') part[type] = Number(value);
  }
  const reading = Date.UTC(
    part.year!,
    part.month! - 1,
    part.day!,
    part.hour!,
    part.minute!,
    part.second!,
  );
  if (readings.size >= MAX_READINGS) readings.clear();
  readings.set(key, reading);
  return reading;
}

/** Local time minus UTC at `at`, in ms (+8 h for Asia/Shanghai). */
export function zoneOffsetMs(timeZone: string, at: number): number {
  const whole = Math.floor(at / 1000) * 1000;
  return wallClock(timeZone, whole) - whole;
}

/** The local calendar day at `at`, as days since 1970-01-01. */
export function localDay(timeZone: string, at: number): number {
  return Math.floor((at + zoneOffsetMs(timeZone, at)) / DAY_MS);
}

/**
 * The instant at which the zone's clocks read `minutes` past midnight of local day `day`.
 * A reading that happens twice (autumn, clocks back) is the earlier; one that never happens
 * (spring, clocks forward) is moved on by the gap, so 02:30 on the spring day in Berlin is
 * 03:30 CEST: the "compatible" disambiguation of TC39 Temporal, which RFC 5545 section
 * 3.3.5 also prescribes for calendar events.
 */
export function zonedInstant(timeZone: string, day: number, minutes: number): number {
  const local = day * DAY_MS + minutes * MINUTE_MS;
  const before = zoneOffsetMs(timeZone, local - DAY_MS);
  const after = zoneOffsetMs(timeZone, local + DAY_MS);
  const fits = [before, after]
    .map((offset) => local - offset)
    .filter((at) => zoneOffsetMs(timeZone, at) === local - at)
    .sort((a, b) => a - b);
  // No fit: the reading falls in the gap; the offset from before the change moves it past it.
  return fits[0] ?? local - before;
}

/** "2026-12-07" as days since 1970-01-01. */
export function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y!, m! - 1, d!) / DAY_MS;
}

/** A `datetime-local` value: "2026-12-07T09:30", seconds optional (HTML Living Standard 2.3.5.5). */
const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;

/**
 * The instant (ISO 8601, UTC) at which the clocks of `timeZone` read `local`, a
 * `datetime-local` value ("2026-12-07T09:30"); undefined for a value of another shape. A
 * reading the zone skips (spring) or repeats (autumn) is taken as zonedInstant says.
 */
export function instantOfLocal(local: string, timeZone: string): string | undefined {
  const match = LOCAL_DATE_TIME.exec(local);
  if (match === null) return undefined;
  const [, date, hour, minute, second] = match;
  const minutes = Number(hour) * 60 + Number(minute);
  const at = zonedInstant(timeZone, dayNumber(date!), minutes) + Number(second ?? 0) * 1000;
  return new Date(at).toISOString();
}

/** What the clocks of `timeZone` read at `at`, as a `datetime-local` value ("2026-12-07T09:30"). */
export function localOfInstant(at: string | number, timeZone: string): string {
  const whole = Math.floor(new Date(at).getTime() / 60_000) * 60_000;
  return new Date(wallClock(timeZone, whole)).toISOString().slice(0, 16);
}
