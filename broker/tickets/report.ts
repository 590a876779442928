/**
 * The incident report (事故报告) the contract requires for every fault: what failed, when
 * it was detected, who did what when, cause and fix as entered, and the SLA outcome.
 * JSON for systems, and one self-contained printable HTML page to hand to the customer.
 */
import type { IncidentReport, SlaDeadline, Ticket } from '../../shared/api/tickets.js';

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

const deadlineLabel: Record<SlaDeadline, string> = {
  respond: 'First response',
  'on-site': 'On site',
  resolve: 'Resolved',
  'part-replaced': 'Spare part replaced',
  'part-shipped': 'Spare part shipped',
};

function duration(seconds: number | null): string {
  if (seconds === null) return 'not resolved';
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** How the page writes a time: the zone it names and the text of an instant in it. */
export interface ReportClock {
  zone: string;
  format: (iso: string) => string;
}

/**
 * A printable page: no scripts, no external files, print styles for A4. Times as `clock`
 * writes them (the API gives the customer's zone with its offset); as stored, UTC, without.
 */
export function incidentReportHtml(
  report: IncidentReport,
  clock: ReportClock = { zone: 'UTC', format: (iso) => iso },
): string {
  const e = (value: string | null) => escapeHtml(value ?? '—');
  const when = (iso: string | null) => escapeHtml(iso === null ? '—' : clock.format(iso));
  const row = (label: string, value: string) => `<tr><th>${label}</th><td>${value}</td></tr>`;
  const steps = report.steps
    .map(
      (step) =>
        `<tr><td>${when(step.at)}</td><td>${e(step.kind)}</td><td>${e(step.actor)}</td><td>${e(step.text)}</td></tr>`,
    )
    .join('\n');
  const sla = report.sla
    .map(
      (clock) =>
        `<tr><td>${deadlineLabel[clock.deadline]}</td><td>${clock.allowedMin} min</td><td>${when(clock.due)}</td><td>${when(clock.doneAt)}</td><td class="${clock.state}">${clock.state}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Incident report, ticket ${report.ticketId}</title>
<style>
  body { font: 11pt/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
  table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
  th, td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
  th { background: #eee; width: 12em; }
  .breached { color: #a00; font-weight: bold; } .met { color: #060; }
  .sign { margin-top: 3em; display: flex; gap: 4em; } .sign div { border-top: 1px solid #000; width: 16em; padding-top: 0.3em; }
  @media print { body { margin: 0; } @page { size: A4; margin: 15mm; } }
</style></head><body>
<h1>Incident report — ticket ${report.ticketId}</h1>
<table>
${row('What failed', e(report.title))}
${row('Site / device', `${e(report.siteId)} / ${e(report.deviceId)}`)}
${row('Fault / priority', `${e(report.fault)} / ${e(report.priority)}`)}
${row('Detected', when(report.detectedAt))}
${row('Resolved', `${when(report.resolvedAt)} (${duration(report.durationS)})`)}
${row('Engineer', e(report.engineer))}
${row('Cause', e(report.cause))}
${row('Fix', e(report.fix))}
${row('Devices covered', report.covers.length > 0 ? e(report.covers.join(', ')) : '—')}
${row('Customer confirmation', e(report.confirmation))}
${row('SLA', report.slaMet ? '<span class="met">all deadlines met</span>' : '<span class="breached">deadline breached</span>')}
</table>
<h2>Deadlines</h2>
<table><tr><th>Deadline</th><th>Allowed</th><th>Due</th><th>Done</th><th>Outcome</th></tr>
${sla}
</table>
<h2>Service log</h2>
<table><tr><th>When (${escapeHtml(clock.zone)})</th><th>Step</th><th>Who</th><th>What</th></tr>
${steps}
</table>
<div class="sign"><div>Service provider</div><div>Customer</div></div>
<p><small>Generated ${when(report.generatedAt)} by Vigil.</small></p>
</body></html>
`;
}
