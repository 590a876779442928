/**
 * Periods of the inspection report and its CSV export. The figures themselves come from
 * the broker (GET /api/sites/:site/inspection); this only names periods and writes rows.
 */
import type { InspectionReport } from './types.js';

/** The current month as the API names it ("2026-11", UTC like the API). */
export function currentMonth(now: Date = new Date()): string {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The last `count` months and the quarters they fall in, newest first. */
export function recentPeriods(
  now: Date = new Date(),
  count = 12,
): { months: string[]; quarters: string[] } {
  const months: string[] = [];
  const quarters: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    months.push(currentMonth(at));
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

/** One row per device, with a header row; lines end in CRLF (RFC 4180 section 2). */
export function inspectionCsv(report: InspectionReport, header: readonly string[]): string {
  const rows = report.devices.map((d) => [
    report.siteId,
    report.period,
    d.deviceId,
    d.name,
    d.kind,
    d.availabilityPct,
    d.outages.count,
    Math.round(d.outages.totalS),
    d.mttrS === null ? null : Math.round(d.mttrS),
    d.mtbfS === null ? null : Math.round(d.mtbfS),
    d.tickets,
    d.firmware,
    d.serialNumber,
    d.warranty.endsOn,
    d.warranty.state,
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
