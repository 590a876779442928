import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Session } from '../data/session.js';
import type { IncidentReport } from '../data/types.js';
import { formatDuration, formatFull } from '../format.js';
import { href } from '../router.js';
import { deadlineName, ticketTitle } from '../wording.js';
import { language, strings } from '../strings.js';
import { documentWords } from '../../../shared/wording/documents.js';
import { controls, page } from '../theme.js';
import '../components/vigil-timeline.js';

const deadlineLabel = (d: string) =>
  d === 'respond'
    ? strings.tickets.deadline.respond
    : d === 'on-site'
      ? strings.tickets.deadline.onSite
      : d === 'resolve'
        ? strings.tickets.deadline.resolve
        : // The spare-part clocks (docs/PARTS.md): their words are the shared wording's.
          deadlineName(d);

/**
 * The contract's incident report of one ticket, as the broker computes it, laid out for
 * A4 paper. Test hook: `[data-testid="incident-report"]`.
 */
@customElement('vigil-incident-report')
export class VigilIncidentReport extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      article {
        max-width: 48rem;
      }
      @media print {
        .no-print {
          display: none;
        }
        .card {
          border: none;
          padding: 0;
        }
      }
      @page {
        size: A4;
        margin: 18mm;
      }
      .sign {
        height: 5rem;
        border-bottom: 1px solid var(--vigil-text);
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ type: Number }) ticketId = 0;

  @state() private _report: IncidentReport | null = null;
  @state() private _error: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.session.client.fetchIncidentReport(this.ticketId).then(
      (report) => (this._report = report),
      (error: unknown) => (this._error = error instanceof Error ? error.message : String(error)),
    );
  }

  override render() {
    const k = strings.ticket;
    const t = strings.tickets;
    const n = strings.newTicket;
    if (this._error !== null) return html`<p class="error" role="alert">${this._error}</p>`;
    const r = this._report;
    if (r === null) return html`<p role="status">${strings.loading}</p>`;
    return html`<article data-testid="incident-report">
      <p class="no-print">
        <a href=${href.ticket(r.ticketId)}>← ${t.number(r.ticketId)}</a>
        <button type="button" @click=${() => window.print()}>${k.print}</button>
      </p>
      <h2>${k.reportTitle(r.ticketId)}</h2>
      <div class="card">
        <dl class="facts">
          <dt>${strings.device.site}</dt>
          <dd>${r.siteId}</dd>
          ${
            r.deviceId === null
              ? nothing
              : html`<dt>${strings.fleet.columns.device}</dt>
                  <dd>${r.deviceId}</dd>`
          }
          <dt>${t.filterPriority}</dt>
          <dd>${t.priority[r.priority]}</dd>
          ${
            // A manual ticket was reported by a person (who, how), not detected.
            r.source === 'manual'
              ? html`<dt>${n.reportedAt}</dt>
                  <dd data-testid="reported-at">${formatFull(r.detectedAt)}</dd>
                  <dt>${n.reportedBy}</dt>
                  <dd data-testid="reported-by">
                    ${n.reporter(r.reportedBy ?? '', r.reportedVia ? n.via[r.reportedVia] : null)}
                  </dd>
                  ${
                    r.description
                      ? html`<dt>${n.descriptionLabel}</dt>
                          <dd>${r.description}</dd>`
                      : nothing
                  }`
              : html`<dt>${k.detectedAt}</dt>
                  <dd data-testid="detected-at">${formatFull(r.detectedAt)}</dd>`
          }
          ${
            r.resolvedAt === null
              ? nothing
              : html`<dt>${k.resolvedAt}</dt>
                  <dd>${formatFull(r.resolvedAt)}</dd>`
          }
          ${
            r.closedAt === null
              ? nothing
              : html`<dt>${k.closedAt}</dt>
                  <dd>${formatFull(r.closedAt)}</dd>`
          }
          ${
            r.durationS === null
              ? nothing
              : html`<dt>${k.duration}</dt>
                  <dd>${formatDuration(r.durationS * 1000)}</dd>`
          }
          ${
            r.engineer === null
              ? nothing
              : html`<dt>${t.engineer}</dt>
                  <dd>${r.engineer}</dd>`
          }
          ${
            r.cause === null
              ? nothing
              : html`<dt>${t.cause}</dt>
                  <dd>${r.cause}</dd>`
          }
          ${
            r.fix === null
              ? nothing
              : html`<dt>${t.fix}</dt>
                  <dd>${r.fix}</dd>`
          }
          ${
            r.covers.length === 0
              ? nothing
              : html`<dt>${k.covers}</dt>
                  <dd>${r.covers.join(', ')}</dd>`
          }
        </dl>
        <p><strong>${ticketTitle(r)}</strong></p>
      </div>
      <div class="card">
        <h3>${t.deadlinesLabel}: ${r.slaMet ? k.slaMet : k.slaMissed}</h3>
        <table>
          <tbody>
            ${r.sla.map(
              (c) =>
                html`<tr>
                  <th scope="row">${deadlineLabel(c.deadline)}</th>
                  <td>${formatFull(c.due)}</td>
                  <td>${c.doneAt === null ? '–' : formatFull(c.doneAt)}</td>
                  <td>
                    ${
                      c.state === 'breached'
                        ? k.slaMissed
                        : c.state === 'met'
                          ? '✓'
                          : documentWords[language].incident.state[c.state]
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="card">
        <h3>${k.steps}</h3>
        <vigil-timeline .entries=${r.steps}></vigil-timeline>
      </div>
      <div class="card">
        <h3>${t.confirmation}</h3>
        <p>${r.confirmation ?? ''}</p>
        <p class="muted">${k.signature}</p>
        <div class="sign"></div>
      </div>
    </article>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-incident-report': VigilIncidentReport;
  }
}
