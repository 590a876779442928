/**
 * Periods of the inspection report and its CSV export. The figures themselves come from
 * the broker (GET /api/sites/:site/inspection); this only names periods and writes rows.
 */
import type { InspectionReport } from './types.js';

/** The weekly trend figures of the report (shared/api/inspection.ts WeeklyTrend). */
export type TrendField =
  'responseMs' | 'clockOffsetS' | 'storageUsedPct' | 'retentionDays' | 'recordingPct';

export const trendFields: readonly TrendField[] = [
  'responseMs',
  'clockOffsetS',
  'storageUsedPct',
  'retentionDays',
  'recordingPct',
];

/** One trend figure of every device that measured it, aligned on the report's weeks. */
export interface TrendSeries {
  field: TrendField;
  /** Week starts (Monday 00:00 in `timeZone`), ms since the epoch, ascending; shared by all fields. */
  weeks: number[];
  /** The report's zone (the customer's), where its weeks start; UTC for a report kept before customers. */
  timeZone: string;
  /** Devices with at least one reading of this field; `values[i]` belongs to `weeks[i]`. */
  devices: { deviceId: string; name: string; values: (number | null)[] }[];
}

/**
 * Pivots the report's per-device weekly rows into one series per device. Weeks are the
 * union over all devices and fields, so every chart of a report has the same x axis.
 */
export function trendSeries(report: InspectionReport, field: TrendField): TrendSeries {
  const weeks = [...new Set(report.trends.map((t) => Date.parse(t.weekStart)))].sort(
    (a, b) => a - b,
  );
  const column = new Map(weeks.map((week, index) => [week, index]));
  const names = new Map(report.devices.map((d) => [d.deviceId, d.name]));
  const byDevice = new Map<string, (number | null)[]>();
  for (const trend of report.trends) {
    const value = trend[field];
    if (value === null) continue;
    let values = byDevice.get(trend.deviceId);
    if (values === undefined) {
      values = weeks.map(() => null);
      byDevice.set(trend.deviceId, values);
    }
    values[column.get(Date.parse(trend.weekStart)) ?? 0] = value;
  }
  const devices = [...byDevice]
    .map(([deviceId, values]) => ({ deviceId, name: names.get(deviceId) ?? deviceId, values }))
    .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  return { field, weeks, timeZone: report.timeZone ?? 'UTC', devices };
}

/** A line needs two weeks; with fewer (or no readings) the screen shows a table instead. */
export function isChartable(trend: TrendSeries): boolean {
  return trend.weeks.length >= 2 && trend.devices.length > 0;
}

/** The report's weekly rows with at least one reading, by device then week: the table shown
 * when the period has no series to draw (a single week). */
export function trendRows(report: InspectionReport): InspectionReport['trends'] {
  return report.trends
    .filter((t) => trendFields.some((field) => t[field] !== null))
    .sort(
      (a, b) =>
        a.deviceId.localeCompare(b.deviceId, undefined, { numeric: true }) ||
        a.weekStart.localeCompare(b.weekStart),
    );
}

/**
 * The calendar day a week starts on, in the report's zone: the broker's weeks start on
 * Monday 00:00 in the customer's zone, which in Beijing is Sunday 16:00 UTC, so the
 * instant's UTC date would name the Sunday before. A report kept before customers has no
 * zone: its weeks were UTC.
 */
export function weekDay(weekStart: string, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    timeZone,
  }).formatToParts(new Date(weekStart));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/**
 * The month as the API names it ("2026-11") on the calendar of `timeZone` (the screens
 * pass the user's zone, format.ts screenTimeZone; the runtime's without it): the broker
 * reads the period in the customer's zone, so on 1 December at 06:00 in Beijing the
 * current month is December, not UTC's November.
 */
export function currentMonth(now: Date = new Date(), timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    ...(timeZone === undefined ? {} : { timeZone }),
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}`;
}

/** The last `count` months and the quarters they fall in, newest first (see currentMonth). */
export function recentPeriods(
  now: Date = new Date(),
  count = 12,
  timeZone?: string,
): { months: string[]; quarters: string[] } {
  const [year, month] = currentMonth(now, timeZone).split('-').map(Number);
  const months: string[] = [];
  const quarters: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(year!, month! - 1 - i, 1));
    months.push(`${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`);
    const quarter = `${at.getUTCFullYear()}-Q${Math.floor(at.getUTCMonth() / 3) + 1}`;
    if (!quarters.includes(quarter)) quarters.push(quarter);
  }
  return { months, quarters };
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
function field(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One row per device, with a header row; lines end in CRLF (RFC 4180 section 2). `names`
 * gives the kind and warranty state in the reader's language (their codes without it).
 */
export function inspectionCsv(
  report: InspectionReport,
  header: readonly string[],
  names?: { kind: Readonly<Record<string, string>>; warranty: Readonly<Record<string, string>> },
): string {
  const rows = report.devices.map((d) => [
    report.siteId,
    report.period,
    d.deviceId,
    d.name,
    names?.kind[d.kind] ?? d.kind,
    d.availabilityPct,
    d.outages.count,
    Math.round(d.outages.totalS),
    d.mttrS === null ? null : Math.round(d.mttrS),
    d.mtbfS === null ? null : Math.round(d.mtbfS),
    d.tickets,
    d.firmware,
    d.serialNumber,
    d.warranty.endsOn,
    names?.warranty[d.warranty.state] ?? d.warranty.state,
  ]);
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

export const csvColumns = [
  'site',
  'period',
  'device',
  'name',
  'kind',
  'availability_pct',
  'outages',
  'outage_s',
  'mttr_s',
  'mtbf_s',
  'tickets',
  'firmware',
  'serial',
  'warranty_ends_on',
  'warranty_state',
] as const;
