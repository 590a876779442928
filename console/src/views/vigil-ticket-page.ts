import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ApiRequestError } from '../data/api.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import { deadlinesOf } from '../data/tickets.js';
import type { Ticket, TicketAction } from '../data/types.js';
import { actionsAllowedIn } from '../../../shared/ticket-workflow.js';
import { formatFull } from '../format.js';
import { href } from '../router.js';
import { ticketTitle } from '../wording.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';
import '../components/vigil-countdown.js';
import '../components/vigil-timeline.js';

type ActionName = TicketAction['action'];

const deadlineAttr = {
  respond: 'respond-by',
  onSite: 'on-site-by',
  resolve: 'resolve-by',
  partReplaced: 'part-replaced-by',
  partShipped: 'part-shipped-by',
} as const;

/**
 * One ticket: its facts, countdowns, timeline and the actions its step allows (the
 * broker's table). The ticket comes from the store when it holds it (kept current by
 * the live stream), else it is loaded once.
 *
 * Test hooks: `[data-testid="ticket-page"][data-status]`, `button[data-action="acknowledge"]`
 * etc., `[data-testid="action-form"]`, `[data-testid="action-error"]`.
 */
@customElement('vigil-ticket-page')
export class VigilTicketPage extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .deadlines {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 0.8rem;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-bottom: 0.6rem;
      }
      form {
        display: grid;
        gap: 0.5rem;
        max-width: 36rem;
      }
      textarea {
        min-height: 4rem;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;
  @property({ type: Number }) ticketId = 0;

  @state() private _loaded: Ticket | null = null;
  @state() private _missing = false;
  @state() private _form: ActionName | null = null;
  @state() private _busy = false;
  @state() private _error: string | null = null;
  @state() private _saved = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this._loaded = await this.session.client.fetchTicket(this.ticketId);
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 404) this._missing = true;
      else this._error = error instanceof Error ? error.message : String(error);
    }
  }

  /** The freshest copy: the live store's once it has one newer than the loaded one. */
  private get ticket(): Ticket | null {
    return this.state.tickets.get(this.ticketId) ?? this._loaded;
  }

  override render() {
    const t = strings.tickets;
    const k = strings.ticket;
    if (this._missing) return html`<p role="alert">${k.notFound(this.ticketId)}</p>`;
    const ticket = this.ticket;
    if (ticket === null) {
      return this._error === null
        ? html`<p role="status">${strings.loading}</p>`
        : html`<p class="error" role="alert">${this._error}</p>`;
    }
    const role = this.state.user?.role;
    const canAct = role === 'operator' || role === 'admin';
    const allowed = actionsAllowedIn(ticket.status);
    return html`
      <article data-testid="ticket-page" data-ticket-id=${ticket.id} data-status=${ticket.status}>
        <p><a href=${href.tickets()}>← ${strings.nav.tickets}</a></p>
        <h2>${t.number(ticket.id)} ${ticketTitle(ticket)}</h2>
        <div class="card">
          <dl class="facts">
            <dt>${strings.tickets.filterPriority}</dt>
            <dd><span class="pill">${t.priority[ticket.priority]}</span></dd>
            <dt>${strings.tickets.filterStatus}</dt>
            <dd data-testid="ticket-status">${t.status[ticket.status]}</dd>
            <dt>${strings.device.site}</dt>
            <dd><a href=${href.fleet(ticket.siteId)}>${ticket.siteId}</a></dd>
            ${
              ticket.deviceId === null
                ? nothing
                : html`<dt>${strings.fleet.columns.device}</dt>
                    <dd><a href=${href.device(ticket.deviceId)}>${ticket.deviceId}</a></dd>`
            }
            ${this.reporter(ticket)}
            <dt>${ticket.source === 'manual' ? strings.newTicket.reportedAt : k.detectedAt}</dt>
            <dd>${formatFull(ticket.openedAt)}</dd>
            ${this.fact(t.engineer, ticket.engineer)} ${this.fact(t.cause, ticket.cause)}
            ${this.fact(t.fix, ticket.fix)} ${this.fact(t.confirmation, ticket.confirmation)}
          </dl>
          <p><a href=${href.report(ticket.id)} data-testid="report-link">${k.report}</a></p>
        </div>
        <div class="card deadlines" role="group" aria-label=${t.deadlinesLabel}>
          ${deadlinesOf(ticket).map(
            (d) =>
              html`<vigil-countdown
                data-deadline=${deadlineAttr[d.kind]}
                label=${t.deadline[d.kind]}
                .clock=${d}
              ></vigil-countdown>`,
          )}
        </div>
        <section class="card" aria-labelledby="actions-title">
          <h3 id="actions-title">${k.actions}</h3>
          ${
            canAct
              ? html`<div class="actions">
                  ${allowed.map(
                    (action) =>
                      html`<button
                        type="button"
                        data-action=${action}
                        aria-expanded=${this._form === action ? 'true' : 'false'}
                        @click=${() => this.choose(action)}
                      >
                        ${this.actionLabel(action)}
                      </button>`,
                  )}
                </div>`
              : html`<p class="muted">
                  ${role === 'customer' ? strings.portal.ticketFollow : k.viewerOnly}
                </p>`
          }
          ${this._form === null ? nothing : this.renderForm(this._form)}
          ${this._error === null ? nothing : html`<p class="error" role="alert" data-testid="action-error">${this._error}</p>`}
          ${this._saved ? html`<p class="ok" role="status">${k.done}</p>` : nothing}
        </section>
        <section class="card">
          <h3>${t.timeline}</h3>
          <vigil-timeline .entries=${ticket.timeline}></vigil-timeline>
        </section>
      </article>
    `;
  }

  /**
   * Where the ticket came from; for a manual one who reported it, how, and what they
   * said. A ticket of an older broker has no source: it was detected.
   */
  private reporter(ticket: Ticket) {
    const n = strings.newTicket;
    const manual = ticket.source === 'manual';
    return html`<dt>${n.source}</dt>
      <dd data-testid="ticket-source" data-source=${manual ? 'manual' : 'detected'}>
        ${n.sources[manual ? 'manual' : 'detected']}
      </dd>
      ${
        manual
          ? html`<dt>${n.reportedBy}</dt>
              <dd data-testid="reported-by">
                ${n.reporter(
                  ticket.reportedBy ?? '',
                  ticket.reportedVia ? n.via[ticket.reportedVia] : null,
                )}
              </dd>
              ${this.fact(n.descriptionLabel, ticket.description || null)}`
          : nothing
      }`;
  }

  private fact(label: string, value: string | null) {
    return value === null
      ? nothing
      : html`<dt>${label}</dt>
          <dd>${value}</dd>`;
  }

  private actionLabel(action: ActionName): string {
    const k = strings.ticket;
    const labels: Record<ActionName, string> = {
      acknowledge: k.acknowledge,
      dispatch: k.dispatch,
      'on-site': k.onSite,
      note: k.note,
      resolve: k.resolve,
      close: k.close,
    };
    return labels[action];
  }

  private choose(action: ActionName): void {
    this._saved = false;
    this._error = null;
    // Acknowledging and arriving need no text: done in one click.
    if (action === 'acknowledge' || action === 'on-site') void this.send({ action });
    else this._form = action;
  }

  private renderForm(action: ActionName) {
    const k = strings.ticket;
    const field = (name: string, label: string, multiline = false) =>
      multiline
        ? html`<label>${label}<textarea name=${name} required></textarea></label>`
        : html`<label>${label}<input name=${name} required autocomplete="off" /></label>`;
    return html`<form data-testid="action-form" data-form=${action} @submit=${this._submit}>
      ${action === 'dispatch' ? field('engineer', k.engineerLabel) : nothing}
      ${action === 'note' ? field('text', k.noteLabel, true) : nothing}
      ${action === 'resolve' ? html`${field('cause', k.causeLabel, true)}${field('fix', k.fixLabel, true)}` : nothing}
      ${action === 'close' ? field('confirmation', k.confirmationLabel, true) : nothing}
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this._busy}>
          ${this.actionLabel(action)}
        </button>
      </div>
    </form>`;
  }

  private _submit(event: SubmitEvent): void {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const value = (name: string) => String(data.get(name) ?? '').trim();
    let action: TicketAction;
    switch (this._form) {
      case 'dispatch':
        action = { action: 'dispatch', engineer: value('engineer') };
        break;
      case 'note':
        action = { action: 'note', text: value('text') };
        break;
      case 'resolve':
        action = { action: 'resolve', cause: value('cause'), fix: value('fix') };
        break;
      case 'close':
        if (!confirm(strings.ticket.closeConfirm)) return;
        action = { action: 'close', confirmation: value('confirmation') };
        break;
      default:
        return;
    }
    void this.send(action);
  }

  private async send(action: TicketAction): Promise<void> {
    this._busy = true;
    this._error = null;
    try {
      this._loaded = await this.session.client.ticketAction(this.ticketId, action);
      this.session.applyOwn([{ type: 'ticket', ticket: this._loaded }]);
      this._form = null;
      this._saved = true;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    } finally {
      this._busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-ticket-page': VigilTicketPage;
  }
}
