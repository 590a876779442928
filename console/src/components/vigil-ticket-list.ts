import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { clock } from '../controllers/clock.js';
import { byUrgency, deadlinesOf, isFinished, type TicketDeadline } from '../data/tickets.js';
import type { DeadlineKind, Device, Ticket } from '../data/types.js';
import { formatFull, formatTime } from '../format.js';
import { controls } from '../theme.js';
import { strings } from '../strings.js';
import { href } from '../router.js';
import { ticketTitle } from '../wording.js';
import './vigil-countdown.js';
import './vigil-timeline.js';

export interface ShowResolvedDetail {
  show: boolean;
}

/** Attribute values of the deadlines, named like the contract's columns. */
const deadlineAttr: Record<DeadlineKind, string> = {
  respond: 'respond-by',
  onSite: 'on-site-by',
  resolve: 'resolve-by',
  partReplaced: 'part-replaced-by',
  partShipped: 'part-shipped-by',
};

function byResolvedLast(a: Ticket, b: Ticket): number {
  const ra = Date.parse(a.resolvedAt ?? a.openedAt);
  const rb = Date.parse(b.resolvedAt ?? b.openedAt);
  return rb - ra || b.id - a.id;
}

/**
 * The ticket desk: open tickets with their deadlines counting down, and on request the
 * resolved ones with their history. Priorities, statuses and deadlines are the API's.
 *
 * Test hooks: `[data-testid="ticket"][data-ticket-id][data-priority][data-status]
 * [data-ticket-device]` (the device's id, named apart from the board's data-device-id)
 * `[data-source]` (detected or manual; a manual one's line has `[data-testid="reported-by"]`),
 * inside it `vigil-countdown[data-deadline="respond-by" |
 * "on-site-by" | "resolve-by"][data-state]`; the toggle is `[data-testid="show-resolved"]`
 * with aria-pressed.
 *
 * @fires vigil-show-resolved-change - CustomEvent<ShowResolvedDetail>, when the toggle is used.
 */
@customElement('vigil-ticket-list')
export class VigilTicketList extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: block;
      }
      header {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 0.5rem;
        margin-bottom: 0.75rem;
      }
      h2 {
        margin: 0;
        font-size: 1.1rem;
      }
      h2 .n {
        font-weight: 400;
        color: var(--vigil-muted);
      }
      button[aria-pressed='true'] {
        background: var(--vigil-info-bg);
        color: var(--vigil-info-text);
        border-color: var(--vigil-info);
      }
      .list {
        display: grid;
        gap: 0.6rem;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .ticket {
        display: grid;
        gap: 0.35rem;
        padding: 0.65rem 0.8rem;
        background: var(--vigil-surface);
        border: 1px solid var(--vigil-border);
        border-left: 6px solid var(--edge, var(--vigil-border));
        border-radius: var(--vigil-radius);
      }
      [data-priority='emergency'] {
        --edge: var(--vigil-down);
        --badge-bg: var(--vigil-down-bg);
        --badge-text: var(--vigil-down-text);
      }
      [data-priority='serious'] {
        --edge: var(--vigil-degraded);
        --badge-bg: var(--vigil-degraded-bg);
        --badge-text: var(--vigil-degraded-text);
      }
      [data-priority='general'] {
        --edge: var(--vigil-info);
        --badge-bg: var(--vigil-info-bg);
        --badge-text: var(--vigil-info-text);
      }
      .ticket.finished {
        --edge: var(--vigil-border);
      }
      .top {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem;
        font-size: 0.8rem;
      }
      .priority {
        padding: 0 0.45rem;
        border-radius: 999px;
        font-weight: 700;
        color: var(--badge-text);
        background: var(--badge-bg);
        border: 1px solid var(--edge);
      }
      .number {
        font-family: var(--vigil-mono);
        color: var(--vigil-muted);
      }
      .status {
        margin-left: auto;
        padding: 0 0.45rem;
        border-radius: var(--vigil-radius);
        border: 1px solid var(--vigil-border);
        color: var(--vigil-text);
      }
      h3 {
        margin: 0;
        font-size: 0.95rem;
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .meta {
        font-size: 0.8rem;
        color: var(--vigil-muted);
        font-variant-numeric: tabular-nums;
      }
      .deadlines {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 0.6rem;
        padding-top: 0.3rem;
        border-top: 1px solid var(--vigil-border);
      }
      details summary {
        cursor: pointer;
        font-size: 0.8rem;
        color: var(--vigil-muted);
      }
      details[open] summary {
        margin-bottom: 0.4rem;
      }
      .empty {
        margin: 0;
        padding: 1.25rem 1rem;
        text-align: center;
        color: var(--vigil-muted);
        background: var(--vigil-surface);
        border: 1px dashed var(--vigil-border);
        border-radius: var(--vigil-radius);
      }
      .resolved {
        margin-top: 1.5rem;
      }
      .loading {
        color: var(--vigil-muted);
        font-size: 0.875rem;
      }
    `,
  ];

  @property({ attribute: false }) tickets: readonly Ticket[] = [];

  /** The devices by id, for titles in languages other than the broker's. */
  @property({ attribute: false }) devices: ReadonlyMap<string, Device> = new Map();

  /** Whether the resolved tickets are shown (their list is loaded by the owner). */
  @property({ type: Boolean }) showResolved = false;

  /** True while the resolved tickets load. */
  @property({ type: Boolean }) loading = false;

  override render() {
    const t = strings.tickets;
    const open = this.tickets.filter((ticket) => !isFinished(ticket)).sort(byUrgency);
    return html`
      <header>
        <h2 id="tickets-title">${t.title} <span class="n">(${open.length})</span></h2>
        <button
          type="button"
          data-testid="show-resolved"
          aria-pressed=${this.showResolved ? 'true' : 'false'}
          @click=${this._toggle}
        >
          ${this.showResolved ? t.hideResolved : t.showResolved}
        </button>
      </header>
      ${
        open.length === 0
          ? html`<p class="empty" data-testid="no-tickets">${t.empty}</p>`
          : html`<ul class="list" aria-labelledby="tickets-title">
              ${repeat(
                open,
                (ticket) => ticket.id,
                (ticket) => html`<li>${this.renderTicket(ticket)}</li>`,
              )}
            </ul>`
      }
      ${this.showResolved ? this.renderResolved() : nothing}
    `;
  }

  private renderResolved() {
    const t = strings.tickets;
    const done = this.tickets.filter(isFinished).sort(byResolvedLast);
    return html`
      <section class="resolved" aria-labelledby="resolved-title" data-testid="resolved-tickets">
        <header><h2 id="resolved-title">${t.resolvedTitle}</h2></header>
        ${
          this.loading
            ? html`<p class="loading" role="status">${t.loadingResolved}</p>`
            : done.length === 0
              ? html`<p class="empty">${t.emptyResolved}</p>`
              : html`<ul class="list">
                  ${repeat(
                    done,
                    (ticket) => ticket.id,
                    (ticket) => html`<li>${this.renderTicket(ticket)}</li>`,
                  )}
                </ul>`
        }
      </section>
    `;
  }

  private renderTicket(ticket: Ticket) {
    const t = strings.tickets;
    const now = clock.now;
    const finished = isFinished(ticket);
    return html`
      <article
        class="ticket ${finished ? 'finished' : ''}"
        data-testid="ticket"
        data-ticket-id=${ticket.id}
        data-priority=${ticket.priority}
        data-status=${ticket.status}
        data-ticket-device=${ticket.deviceId ?? nothing}
        data-source=${ticket.source === 'manual' ? 'manual' : 'detected'}
        aria-label=${`${t.number(ticket.id)} ${ticketTitle(ticket)}`}
      >
        <div class="top">
          <span class="priority">${t.priority[ticket.priority]}</span>
          <span class="number">${t.number(ticket.id)}</span>
          <span class="status">${t.status[ticket.status]}</span>
        </div>
        <h3>
          <a href=${href.ticket(ticket.id)} data-testid="ticket-link">${ticketTitle(ticket)}</a>
        </h3>
        <div class="meta">
          <time datetime=${ticket.openedAt} title=${formatFull(ticket.openedAt)}
            >${t.openedAt(formatTime(ticket.openedAt, now))}</time
          >
          ${
            ticket.resolvedAt === null
              ? nothing
              : html` ·
                  <time datetime=${ticket.resolvedAt} title=${formatFull(ticket.resolvedAt)}
                    >${t.resolvedAt(formatTime(ticket.resolvedAt, now))}</time
                  >`
          }
          ${ticket.deviceId === null ? nothing : html` · ${t.device(ticket.deviceId)}`}
          ${
            ticket.source === 'manual'
              ? html` ·
                  <span data-testid="reported-by"
                    >${strings.newTicket.listReporter(ticket.reportedBy ?? '')}</span
                  >`
              : nothing
          }
        </div>
        <div class="deadlines" role="group" aria-label=${t.deadlinesLabel}>
          ${deadlinesOf(ticket).map((deadline) => this.renderDeadline(deadline))}
        </div>
        ${
          ticket.timeline.length === 0
            ? nothing
            : html`<details ?open=${finished}>
                <summary>${t.timeline} (${ticket.timeline.length})</summary>
                <vigil-timeline .entries=${ticket.timeline}></vigil-timeline>
              </details>`
        }
      </article>
    `;
  }

  private renderDeadline(deadline: TicketDeadline) {
    return html`<vigil-countdown
      data-testid="deadline"
      data-deadline=${deadlineAttr[deadline.kind]}
      label=${strings.tickets.deadline[deadline.kind]}
      .clock=${deadline}
    ></vigil-countdown>`;
  }

  private _toggle(): void {
    this.dispatchEvent(
      new CustomEvent<ShowResolvedDetail>('vigil-show-resolved-change', {
        detail: { show: !this.showResolved },
        bubbles: true,
        composed: true,
      }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-ticket-list': VigilTicketList;
  }
  interface HTMLElementEventMap {
    'vigil-show-resolved-change': CustomEvent<ShowResolvedDetail>;
  }
}
