/**
 * The incident report (故障报告) the contract requires for every fault: what failed, when
 * it was detected (or who reported it), who did what when, cause and fix as entered, and
 * the SLA outcome. JSON for systems, and one self-contained printable HTML page to hand to
 * the customer, both in the customer's language (zh-CN or en: shared/wording/) with its
 * times in the customer's zone and their UTC offset.
 */
import type { IncidentReport, Ticket } from '../../shared/api/tickets.js';
import { documentTime, documentWords } from '../../shared/wording/documents.js';
import type { Message } from '../../shared/wording/messages.js';
import { reasonLabel, say, type WordingLocale } from '../../shared/wording/render.js';

export function incidentReport(ticket: Ticket, at: Date): IncidentReport {
  const resolvedAt = ticket.resolvedAt;
  return {
    ticketId: ticket.id,
    siteId: ticket.siteId,
    deviceId: ticket.deviceId,
    title: ticket.title,
    titleMessage: ticket.titleMessage,
    fault: ticket.fault,
    priority: ticket.priority,
    detectedAt: ticket.openedAt,
    resolvedAt,
    closedAt: ticket.closedAt,
    durationS:
      resolvedAt === null ? null : (Date.parse(resolvedAt) - Date.parse(ticket.openedAt)) / 1000,
    engineer: ticket.engineer,
    cause: ticket.cause,
    fix: ticket.fix,
    confirmation: ticket.confirmation,
    covers: ticket.covers,
    steps: ticket.timeline,
    sla: ticket.sla,
    slaMet: ticket.sla.every((clock) => clock.state !== 'breached'),
    generatedAt: at.toISOString(),
    source: ticket.source,
    reportedBy: ticket.reportedBy,
    reportedVia: ticket.reportedVia,
    description: ticket.description,
  };
}

/**
 * The report for a reader of `locale`: its title and every step's text rendered from their
 * codes (STYLE habit 14), and the language and zone its document uses.
 */
export function incidentReportIn(
  report: IncidentReport,
  locale: WordingLocale,
  timeZone: string,
): IncidentReport {
  return {
    ...report,
    title: say(report.titleMessage as Message, locale),
    steps: report.steps.map((step) => ({ ...step, text: say(step.message as Message, locale) })),
    locale,
    timeZone,
  };
}

/** HTML text escaping (HTML Living Standard 13.1.2: text and attribute values). */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A fault code in words: the base faults by name, a degradation by its reason. */
export function faultName(fault: string, locale: WordingLocale): string {
  const named = documentWords[locale].incident.fault[fault];
  if (named !== undefined) return named;
  return fault.startsWith('degraded:')
    ? reasonLabel(fault.slice('degraded:'.length), locale)
    : fault;
}

/**
 * A printable page in `locale`: no scripts, no external files, print styles for A4. Times
 * in `timeZone` (the customer's) with their offset; UTC when the site has no zone.
 */
export function incidentReportHtml(
  report: IncidentReport,
  locale: WordingLocale = 'en',
  timeZone = 'UTC',
): string {
  const w = documentWords[locale];
  const k = w.incident;
  const e = (value: string | null) => escapeHtml(value ?? w.dash);
  const when = (iso: string | null) =>
    iso === null ? w.dash : escapeHtml(documentTime(iso, timeZone, locale));
  const row = (label: string, value: string) =>
    `<tr><th>${escapeHtml(label)}</th><td>${value}</td></tr>`;
  const headers = (names: readonly string[]) =>
    `<tr>${names.map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr>`;
  const duration = (seconds: number | null) =>
    seconds === null ? k.notResolved : w.duration(Math.round(seconds / 60));
  const steps = report.steps
    .map(
      (step) =>
        `<tr><td>${when(step.at)}</td><td>${e(k.step[step.kind] ?? step.kind)}</td><td>${e(step.actor === 'system' ? k.system : step.actor)}</td><td>${e(say(step.message as Message, locale))}</td></tr>`,
    )
    .join('\n');
  const sla = report.sla
    .map(
      (clock) =>
        `<tr><td>${e(k.deadline[clock.deadline] ?? clock.deadline)}</td><td>${e(w.minutes(clock.allowedMin))}</td><td>${when(clock.due)}</td><td>${when(clock.doneAt)}</td><td class="${clock.state}">${e(k.state[clock.state])}</td></tr>`,
    )
    .join('\n');
  // A manual ticket was reported by a person, not detected: say who opened it and how.
  const opening =
    report.source === 'manual'
      ? row(
          k.reported,
          escapeHtml(
            k.reportedBy(
              documentTime(report.detectedAt, timeZone, locale),
              report.reportedBy ?? w.dash,
              report.reportedVia ?? 'phone',
            ),
          ),
        ) + (report.description ? `\n${row(k.description, e(report.description))}` : '')
      : row(k.detected, when(report.detectedAt));
  return `<!doctype html>
<html lang="${w.lang}"><head><meta charset="utf-8">
<title>${escapeHtml(k.title(report.ticketId))}</title>
<style>
  body { font: 11pt/1.4 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #111; }
  table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
  th, td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
  th { background: #eee; width: 12em; }
  .breached { color: #a00; font-weight: bold; } .met { color: #060; }
  .sign { margin-top: 3em; display: flex; gap: 4em; } .sign div { border-top: 1px solid #000; width: 16em; padding-top: 0.3em; }
  @media print { body { margin: 0; } @page { size: A4; margin: 15mm; } }
</style></head><body>
<h1>${escapeHtml(k.heading(report.ticketId))}</h1>
<table>
${row(k.whatFailed, e(say(report.titleMessage as Message, locale)))}
${row(k.siteDevice, `${e(report.siteId)} / ${e(report.deviceId)}`)}
${row(k.faultPriority, `${e(faultName(report.fault, locale))} / ${e(w.priority[report.priority])}`)}
${opening}
${row(k.resolved, `${when(report.resolvedAt)} (${escapeHtml(duration(report.durationS))})`)}
${row(k.engineer, e(report.engineer))}
${row(k.cause, e(report.cause))}
${row(k.fix, e(report.fix))}
${row(k.covers, report.covers.length > 0 ? e(report.covers.join(', ')) : w.dash)}
${row(k.confirmation, e(report.confirmation))}
${row(k.sla, report.slaMet ? `<span class="met">${escapeHtml(k.slaMet)}</span>` : `<span class="breached">${escapeHtml(k.slaBreached)}</span>`)}
</table>
<h2>${escapeHtml(k.deadlines)}</h2>
<table>${headers(k.deadlineColumns)}
${sla}
</table>
<h2>${escapeHtml(k.log)}</h2>
<table>${headers(k.logColumns(timeZone))}
${steps}
</table>
<div class="sign"><div>${escapeHtml(w.signProvider)}<br>${escapeHtml(w.signDate)}</div><div>${escapeHtml(w.signCustomer)}<br>${escapeHtml(w.signDate)}</div></div>
<p><small>${escapeHtml(w.generated(documentTime(report.generatedAt, timeZone, locale)))}</small></p>
</body></html>
`;
}
