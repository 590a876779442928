/** Durations, times and ages as the console writes them, in the current locale. */
import { instantOfLocal } from '../../shared/zoned-time.js';
import { strings } from './strings.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * "9 min 12 s", "1 h 5 min", "2 d 3 h": the two largest units. `round` says how the
 * seconds round: up for time left (it reaches 0 s at the deadline), down for time passed.
 * `coarse` drops the seconds once a minute has passed ("overdue 3 min").
 */
export function formatDuration(
  ms: number,
  { round = 'down', coarse = false }: { round?: 'up' | 'down'; coarse?: boolean } = {},
): string {
  const t = strings.time;
  const seconds = round === 'up' ? Math.ceil(ms / SECOND) : Math.floor(ms / SECOND);
  const total = Math.max(0, seconds) * SECOND;
  const parts: string[] = [];
  if (total >= DAY) {
    parts.push(t.day(Math.floor(total / DAY)));
    const hours = Math.floor((total % DAY) / HOUR);
    if (hours > 0) parts.push(t.hour(hours));
  } else if (total >= HOUR) {
    parts.push(t.hour(Math.floor(total / HOUR)));
    const minutes = Math.floor((total % HOUR) / MINUTE);
    if (minutes > 0) parts.push(t.minute(minutes));
  } else if (total >= MINUTE) {
    parts.push(t.minute(Math.floor(total / MINUTE)));
    const secs = Math.floor((total % MINUTE) / SECOND);
    if (!coarse && secs > 0) parts.push(t.second(secs));
  } else {
    parts.push(t.second(total / SECOND));
  }
  return parts.join(t.join);
}

interface Formatters {
  locale: string;
  timeOfDay: Intl.DateTimeFormat;
  dateAndTime: Intl.DateTimeFormat;
  fullDateTime: Intl.DateTimeFormat;
  day: Intl.DateTimeFormat;
  /** A calendar day (YYYY-MM-DD) is the same day in every zone: read and shown in UTC. */
  calendarDay: Intl.DateTimeFormat;
  month: Intl.DateTimeFormat;
  number: Intl.NumberFormat;
  percent: Intl.NumberFormat;
}

let cached: (Formatters & { zone: string | undefined }) | null = null;

/**
 * The zone the screens show times in: the signed-in user's choice (GET /api/auth/session
 * `timeZone`, issue 16 part 2: "screens in the signed-in user's zone, a setting,
 * defaulting to the browser's"); undefined: the browser's own.
 */
let screenZone: string | undefined;

/** Sets the screens' zone (an IANA name), or back to the browser's with null. */
export function setScreenZone(timeZone: string | null): void {
  screenZone = timeZone ?? undefined;
}

/** The zone the screens show times in now: the user's choice, else the browser's. */
export function screenTimeZone(): string {
  return screenZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The Intl formatters of the current language and zone, made again when either changes. */
function formatters(): Formatters {
  const locale = strings.locale;
  if (cached?.locale === locale && cached.zone === screenZone) return cached;
  const timeZone = screenZone;
  const zoned = timeZone === undefined ? {} : { timeZone };
  cached = {
    locale,
    zone: timeZone,
    timeOfDay: new Intl.DateTimeFormat(locale, {
      ...zoned,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }),
    dateAndTime: new Intl.DateTimeFormat(locale, {
      ...zoned,
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }),
    fullDateTime: new Intl.DateTimeFormat(locale, {
      ...zoned,
      dateStyle: 'medium',
      timeStyle: 'medium',
      hourCycle: 'h23',
    }),
    day: new Intl.DateTimeFormat(locale, { ...zoned, dateStyle: 'medium' }),
    calendarDay: new Intl.DateTimeFormat(locale, { timeZone: 'UTC', dateStyle: 'medium' }),
    month: new Intl.DateTimeFormat(locale, { ...zoned, year: 'numeric', month: 'long' }),
    number: new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }),
    percent: new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }),
  };
  return cached;
}

/** "08:03:30" today, "26 Nov, 08:03" on another day (in the screens' zone). */
export function formatTime(at: string | number, now: number): string {
  const date = new Date(at);
  const f = formatters();
  // "Today" is the screens' zone's day, not the browser's.
  const sameDay = f.day.format(date) === f.day.format(new Date(now));
  return (sameDay ? f.timeOfDay : f.dateAndTime).format(date);
}

/** The full date and time, for tooltips. */
export function formatFull(at: string | number): string {
  return formatters().fullDateTime.format(new Date(at));
}

/**
 * The labels of a chart's time axis (chart.ts) in `timeZone`: the screens' zone for a
 * device's readings, the report's customer's for its weeks. uPlot formats in the
 * browser's zone by default, and a week that starts on Monday 00:00 in Beijing is Sunday
 * 16:00 UTC: the browser's or UTC's calendar would name the Sunday before.
 * `time`: hours and minutes (a day or less); `day-hour`: day and hour; `day`: the day.
 */
export function axisLabels(
  kind: 'time' | 'day-hour' | 'day',
  timeZone: string,
  locale: string = strings.locale,
): (ms: number) => string {
  const options: Intl.DateTimeFormatOptions =
    kind === 'time'
      ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : kind === 'day-hour'
        ? { month: 'numeric', day: 'numeric', hour: '2-digit', hourCycle: 'h23' }
        : { month: 'numeric', day: 'numeric' };
  const format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
  return (ms) => format.format(new Date(ms));
}

const zoned = new Map<string, Intl.DateTimeFormat>();

/**
 * Date and time as the clocks of `timeZone` read them, with the offset ("7 Dec 2026,
 * 09:00 GMT+8"): a team's hand-overs in the team's zone, which an admin elsewhere would
 * otherwise misread by hours.
 */
export function formatInZone(at: string | number, timeZone: string): string {
  const key = `${strings.locale}|${timeZone}`;
  let format = zoned.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(strings.locale, {
      timeZone,
      dateStyle: 'medium',
      timeStyle: 'short',
      hourCycle: 'h23',
    });
    // dateStyle and timeZoneName cannot be combined: the offset is its own formatter.
    zoned.set(key, format);
  }
  return `${format.format(new Date(at))} ${zoneOffset(at, timeZone)}`;
}

/** The zone's offset at `at` as "GMT+8", "GMT-4:30", "GMT+0" (or "GMT", as ICU versions word it). */
export function zoneOffset(at: string | number, timeZone: string): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(new Date(at))
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
}

/**
 * The screens' zone and its offset now ("Asia/Shanghai GMT+8"), to label what a date-time
 * input means.
 */
export function screenZoneLabel(now = Date.now()): string {
  const zone = screenTimeZone();
  return `${zone} ${zoneOffset(now, zone)}`;
}

/**
 * A `datetime-local` value as the user typed it, read in the screens' zone (their setting,
 * not the browser's, which an `<input>` would assume: a person in Shanghai at a computer
 * set to another zone types Shanghai times): its ISO instant; undefined when empty.
 */
export function fromZonedInput(value: string): string | undefined {
  return value === '' ? undefined : instantOfLocal(value, screenTimeZone());
}

/** "just now", "12 s ago", "3 min ago". */
export function formatAgo(at: string, now: number): string {
  const ms = now - Date.parse(at);
  if (ms < 5 * SECOND) return strings.time.justNow;
  return strings.time.ago(formatDuration(ms, { coarse: true }));
}

/** A calendar day ("2026-11-26" or a timestamp) in the current language. */
export function formatDay(day: string): string {
  // A bare YYYY-MM-DD is a calendar day, not an instant: the same day in every zone.
  if (/^\d{4}-\d{2}-\d{2}$/.test(day))
    return formatters().calendarDay.format(new Date(`${day}T12:00:00Z`));
  return formatters().day.format(new Date(day));
}

/** "November 2026" / "2026年11月". */
export function formatMonth(at: Date): string {
  return formatters().month.format(at);
}

export function formatNumber(value: number): string {
  return formatters().number.format(value);
}

/** 0.9987 -> "99.87%". */
export function formatPercent(share: number): string {
  return formatters().percent.format(share);
}
