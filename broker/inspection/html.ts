/**
 * The inspection report as one printable page, to be handed to and signed by the customer,
 * in the customer's language (zh-CN or en): every heading, label, table header, unit and
 * date from shared/wording/documents.ts, every suggestion rendered from its code and
 * figures (shared/wording/, advice.*). Every time on it is the customer's local time with
 * its UTC offset ("2026年11月1日 00:00（UTC+08:00）"): a document read in another zone, or
 * across a daylight-saving change, cannot be misread.
 *
 * `renderInspectionHtml(report, locale)` is pure (the same report and locale give the same
 * page): issued reports freeze its output into their PDF (broker/inspection/issued/).
 */
import type { InspectionReport } from '../../shared/api/inspection.js';
import { documentTime, documentWords } from '../../shared/wording/documents.js';
import type { Message } from '../../shared/wording/messages.js';
import { say, type WordingLocale } from '../../shared/wording/render.js';
import { escapeHtml as e } from '../tickets/report.js';
import { monthlyCharts } from './charts.js';

/** The report as a printable page in `locale`. */
export function renderInspectionHtml(report: InspectionReport, locale: WordingLocale): string {
  const w = documentWords[locale];
  const i = w.inspection;
  // A report kept by a version before customers has no zone: its periods were UTC months.
  const timeZone = report.timeZone ?? 'UTC';
  const when = (iso: string) => e(documentTime(iso, timeZone, locale));
  const minutes = (s: number | null) => (s === null ? w.dash : w.minutes(Math.round(s / 60)));
  const hours = (s: number | null) =>
    s === null ? w.dash : w.hours(Math.round((s / 3600) * 10) / 10);
  const pct = (value: number | null) => (value === null ? w.dash : w.percent(value));
  const headers = (names: readonly string[]) =>
    `<tr>${names.map((name) => `<th>${e(name)}</th>`).join('')}</tr>`;
  const devices = report.devices
    .map(
      (d) =>
        `<tr><td>${e(d.deviceId)}</td><td>${e(d.name)}</td><td>${pct(d.availabilityPct)}</td><td>${d.outages.count}</td><td>${minutes(d.outages.totalS)}</td><td>${minutes(d.outages.longestS)}</td><td>${minutes(d.mttrS)}</td><td>${hours(d.mtbfS)}</td><td>${hours(d.maintenanceS)}</td><td>${d.warranty.endsOn === null ? w.dash : e(w.day(d.warranty.endsOn))}<br><small>${e(i.warranty[d.warranty.state])}</small></td></tr>`,
    )
    .join('\n');
  const tickets = report.tickets
    .map(
      (t) =>
        `<tr><td>${e(w.priority[t.priority])}</td><td>${t.tickets}</td><td>${t.met}</td><td>${t.breached}</td><td>${pct(t.compliancePct)}</td><td>${e(i.acknowledged(t.acknowledged ?? 0, minutes(t.ackMedianS ?? null), minutes(t.ackMaxS ?? null)))}</td></tr>`,
    )
    .join('\n');
  // The advice in the reader's language from its code and figures; a report kept before
  // codes has its text only.
  const advice = report.suggestions
    .map(
      (s) =>
        `<li data-rule="${e(s.rule)}">${e(s.message === undefined ? s.text : say(s.message as Message, locale))}</li>`,
    )
    .join('\n');
  const changes = report.inventoryChanges
    .map(
      (c) =>
        `<tr><td>${when(c.at)}</td><td>${e(c.deviceId)}</td><td>${e(i.change[c.kind])}</td><td>${e(c.from)} → ${e(c.to)}</td></tr>`,
    )
    .join('\n');
  const fact = (label: string, value: string) => `<tr><th>${e(label)}</th><td>${value}</td></tr>`;
  return `<!doctype html>
<html lang="${w.lang}"><head><meta charset="utf-8">
<title>${e(i.title(report.siteId, report.period))}</title>
<style>
  body { font: 10pt/1.4 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #111; }
  table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
  th, td { border: 1px solid #999; padding: 0.25em 0.4em; text-align: left; vertical-align: top; }
  th { background: #eee; }
  table.facts th { width: 16em; }
  .sign { margin-top: 3em; display: flex; gap: 4em; } .sign div { border-top: 1px solid #000; width: 16em; padding-top: 0.3em; }
  @media print { body { margin: 0; } @page { size: A4 landscape; margin: 12mm; } }
</style></head><body>
<h1>${e(i.heading(report.siteName, report.siteId, w.period(report.period)))}</h1>
<table class="facts">
${fact(i.customer, e(report.customer || w.dash))}
${fact(i.period, e(i.range(documentTime(report.from, timeZone, locale), documentTime(report.to, timeZone, locale), timeZone)))}
${fact(i.availability, pct(report.availabilityPct))}
</table>
<h2>${e(i.devices)}</h2>
<table>${headers(i.deviceColumns)}
${devices}
</table>
<h2>${e(i.tickets)}</h2>
<table>${headers(i.ticketColumns)}
${tickets}
</table>
${monthlyCharts(report.monthly, locale)}
<h2>${e(i.inventory)}</h2>
<table>${headers(i.inventoryColumns)}
${changes || `<tr><td colspan="4">${e(w.none)}</td></tr>`}
</table>
<h2>${e(i.advice)}</h2>
<ol class="advice">${advice || `<li>${e(i.noAdvice)}</li>`}</ol>
<div class="sign"><div>${e(w.signProvider)}<br>${e(w.signDate)}</div><div>${e(w.signCustomer)}<br>${e(w.signDate)}</div></div>
<p><small>${e(w.generated(documentTime(report.generatedAt, timeZone, locale)))}</small></p>
</body></html>
`;
}

/**
 * The page in the report's own language (the customer's, chosen when it was built); a
 * report kept before languages is English.
 */
export function inspectionHtml(
  report: InspectionReport,
  locale: WordingLocale = report.locale ?? 'en',
): string {
  return renderInspectionHtml(report, locale);
}
