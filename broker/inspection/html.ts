/**
 * The inspection report as one printable page, to be handed to and signed by the customer.
 * Every time on it is the customer's local time with its UTC offset ("2026-11-01 00:00
 * (UTC+08:00)"): a document read in another zone, or across a daylight-saving change,
 * cannot be misread.
 */
import type { InspectionReport } from '../../shared/api/inspection.js';
import { localTime } from '../notify/compose.js';
import { escapeHtml as e } from '../tickets/report.js';

const hours = (s: number) => `${(s / 3600).toFixed(1)} h`;
const minutes = (s: number | null) => (s === null ? '—' : `${(s / 60).toFixed(0)} min`);
const pct = (value: number | null) => (value === null ? '—' : `${value} %`);

export function inspectionHtml(report: InspectionReport): string {
  // A report kept by a version before customers has no zone: its periods were UTC months.
  const timeZone = report.timeZone ?? 'UTC';
  const when = (iso: string) => e(localTime(iso, timeZone));
  const devices = report.devices
    .map(
      (d) =>
        `<tr><td>${e(d.deviceId)}</td><td>${e(d.name)}</td><td>${pct(d.availabilityPct)}</td><td>${d.outages.count}</td><td>${minutes(d.outages.totalS)}</td><td>${minutes(d.outages.longestS)}</td><td>${minutes(d.mttrS)}</td><td>${d.mtbfS === null ? '—' : hours(d.mtbfS)}</td><td>${hours(d.maintenanceS)}</td><td>${e(d.warranty.endsOn ?? '—')} (${d.warranty.state})</td></tr>`,
    )
    .join('\n');
  const tickets = report.tickets
    .map(
      (t) =>
        `<tr><td>${t.priority}</td><td>${t.tickets}</td><td>${t.met}</td><td>${t.breached}</td><td>${pct(t.compliancePct)}</td><td>${t.acknowledged ?? 0}: ${minutes(t.ackMedianS ?? null)} / ${minutes(t.ackMaxS ?? null)}</td></tr>`,
    )
    .join('\n');
  const suggestions = report.suggestions
    .map(
      (s) =>
        `<li>${e(s.text)} <small>(${Object.entries(s.figures)
          .map(([k, v]) => `${e(k)}: ${e(String(v))}`)
          .join(', ')})</small></li>`,
    )
    .join('\n');
  const changes = report.inventoryChanges
    .map(
      (c) =>
        `<tr><td>${when(c.at)}</td><td>${e(c.deviceId)}</td><td>${c.kind}</td><td>${e(c.from)} → ${e(c.to)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Inspection ${e(report.siteId)} ${e(report.period)}</title>
<style>
  body { font: 10pt/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
  table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
  th, td { border: 1px solid #999; padding: 0.25em 0.4em; text-align: left; }
  th { background: #eee; }
  .sign { margin-top: 3em; display: flex; gap: 4em; } .sign div { border-top: 1px solid #000; width: 16em; padding-top: 0.3em; }
  @media print { body { margin: 0; } @page { size: A4 landscape; margin: 12mm; } }
</style></head><body>
<h1>Preventive inspection — ${e(report.siteName)} (${e(report.siteId)}), ${e(report.period)}</h1>
<p>Customer: ${e(report.customer || '—')}. Period ${when(report.from)} to ${when(report.to)} (${e(timeZone)}). Site availability ${pct(report.availabilityPct)} (maintenance excluded).</p>
<h2>Devices</h2>
<table><tr><th>Device</th><th>Name</th><th>Availability</th><th>Outages</th><th>Down</th><th>Longest</th><th>MTTR</th><th>MTBF</th><th>Maintenance</th><th>Warranty</th></tr>
${devices}
</table>
<h2>Tickets and deadlines</h2>
<table><tr><th>Priority</th><th>Tickets</th><th>Deadlines met</th><th>Breached</th><th>Compliance</th><th>Acknowledged: median / slowest</th></tr>
${tickets}
</table>
<h2>Inventory changes</h2>
<table><tr><th>When</th><th>Device</th><th>Change</th><th>From → to</th></tr>
${changes || '<tr><td colspan="4">none</td></tr>'}
</table>
<h2>Suggestions</h2>
<ul>${suggestions || '<li>none</li>'}</ul>
<div class="sign"><div>Service provider</div><div>Customer</div></div>
<p><small>Generated ${when(report.generatedAt)} by Vigil.</small></p>
</body></html>
`;
}
