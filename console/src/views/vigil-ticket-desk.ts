import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ConsoleState } from '../data/store.js';
import { filterTickets, type TicketFilter } from '../data/tickets.js';
import type { Priority, Ticket, TicketStatus } from '../data/types.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';
import '../components/vigil-ticket-list.js';

const priorities: readonly Priority[] = ['emergency', 'serious', 'general'];
const statuses: readonly TicketStatus[] = ['open', 'acknowledged', 'dispatched', 'on-site'];

/**
 * The ticket desk: filters over the open tickets, then the list most urgent first with
 * the countdowns. Test hooks: `[data-testid="filter-priority"]`, `[data-testid="filter-site"]`,
 * `[data-testid="filter-status"]`.
 */
@customElement('vigil-ticket-desk')
export class VigilTicketDesk extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .row {
        margin-bottom: 0.8rem;
      }
      vigil-ticket-list {
        max-width: 60rem;
      }
    `,
  ];

  @property({ attribute: false }) tickets: readonly Ticket[] = [];
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _filter: TicketFilter = { priority: null, siteId: null, status: null };

  override render() {
    const t = strings.tickets;
    const sites = [...new Set(this.tickets.map((ticket) => ticket.siteId))].sort();
    const select = <K extends keyof TicketFilter>(
      key: K,
      testid: string,
      label: string,
      options: readonly string[],
      name: (value: string) => string,
    ) =>
      html`<label
        >${label}
        <select
          data-testid=${testid}
          @change=${(e: Event) => {
            const value = (e.target as HTMLSelectElement).value;
            this._filter = { ...this._filter, [key]: value === '' ? null : value };
          }}
        >
          <option value="">${t.any}</option>
          ${options.map(
            (o) =>
              html`<option value=${o} ?selected=${this._filter[key] === o}>${name(o)}</option>`,
          )}
        </select></label
      >`;
    return html`
      <h2>${t.deskTitle}</h2>
      <div class="row">
        ${select('priority', 'filter-priority', t.filterPriority, priorities, (p) => t.priority[p as Priority])}
        ${select('status', 'filter-status', t.filterStatus, statuses, (s) => t.status[s as TicketStatus])}
        ${select('siteId', 'filter-site', t.filterSite, sites, (s) => s)}
      </div>
      <vigil-ticket-list
        .tickets=${filterTickets(this.tickets, this._filter)}
        .devices=${this.state.devices}
        ?showResolved=${this.state.ticketScope === 'all'}
        ?loading=${this.state.loadingTickets}
      ></vigil-ticket-list>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-ticket-desk': VigilTicketDesk;
  }
}
