import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import { filterTickets, type TicketFilter } from '../data/tickets.js';
import type { ManualTicketRequest, Priority, Ticket, TicketStatus } from '../data/types.js';
import { href } from '../router.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';
import '../components/vigil-ticket-list.js';

const priorities: readonly Priority[] = ['emergency', 'serious', 'general'];
const statuses: readonly TicketStatus[] = ['open', 'acknowledged', 'dispatched', 'on-site'];

/**
 * The ticket desk: filters over the open tickets, then the list most urgent first with
 * the countdowns; for an operator or admin, a "new ticket" form for a fault a caller
 * reports that no check can see (POST /api/tickets: the broker decides the priority when
 * none is chosen, and checks site and device). Test hooks: `[data-testid="filter-priority"]`,
 * `[data-testid="filter-site"]`, `[data-testid="filter-status"]`, `[data-testid="new-ticket"]`
 * (the button), `[data-testid="new-ticket-form"]` (fields named siteId, deviceId, title,
 * description, priority), `[data-testid="new-ticket-error"]`, `[data-testid="new-ticket-opened"]`.
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
      form {
        display: grid;
        gap: 0.5rem;
        max-width: 36rem;
      }
      label {
        display: grid;
        gap: 0.2rem;
      }
      textarea {
        min-height: 5rem;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) tickets: readonly Ticket[] = [];
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _filter: TicketFilter = { priority: null, siteId: null, status: null };
  /** The "new ticket" form is shown. */
  @state() private _reporting = false;
  /** The site chosen in the form: its devices fill the device list. */
  @state() private _site = '';
  @state() private _busy = false;
  @state() private _error: string | null = null;
  @state() private _opened: number | null = null;

  /** Every site the console knows: described ones and those whose agent reports devices. */
  private knownSites(): string[] {
    const ids = new Set(this.state.sites.map((site) => site.id));
    for (const device of this.state.devices.values()) ids.add(device.siteId);
    return [...ids].sort();
  }

  /** The devices of a site: watched ones with their names, and described ones. */
  private devicesOf(siteId: string): { id: string; name: string }[] {
    const devices = new Map<string, string>();
    for (const device of this.state.devices.values())
      if (device.siteId === siteId) devices.set(device.id, device.name);
    for (const device of this.state.sites.find((site) => site.id === siteId)?.devices ?? [])
      if (!devices.has(device.deviceId)) devices.set(device.deviceId, device.deviceId);
    return [...devices]
      .map(([id, name]) => ({ id, name }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

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
    const role = this.state.user?.role;
    // A customer account reports its own faults (the portal; the API keeps it to its sites).
    const canReport = role === 'operator' || role === 'admin' || role === 'customer';
    return html`
      <h2>${t.deskTitle}</h2>
      ${canReport ? this.renderReport() : nothing}
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

  private renderReport() {
    const n = strings.newTicket;
    // The portal's words for a customer, who reports for itself; the contract sets the
    // priority of its reports (it has no priority to choose).
    const customer = this.state.user?.role === 'customer';
    const p = strings.portal;
    const opened =
      this._opened === null
        ? nothing
        : html`<p class="ok" role="status" data-testid="new-ticket-opened">
            <a href=${href.ticket(this._opened)}>${n.opened(this._opened)}</a>
          </p>`;
    if (!this._reporting) {
      return html`<div class="row">
        <button
          type="button"
          data-testid="new-ticket"
          aria-expanded="false"
          @click=${() => {
            this._reporting = true;
            this._opened = null;
            this._error = null;
          }}
        >
          ${customer ? p.reportOpen : n.open}
        </button>
        ${opened}
      </div>`;
    }
    const t = strings.tickets;
    return html`<section class="card" aria-labelledby="new-ticket-heading">
      <h3 id="new-ticket-heading">${customer ? p.reportOpen : n.heading}</h3>
      <p class="muted">${customer ? p.reportHint : n.hint}</p>
      <form data-testid="new-ticket-form" @submit=${this._submit}>
        <label
          >${n.site}
          <select
            name="siteId"
            required
            @change=${(e: Event) => (this._site = (e.target as HTMLSelectElement).value)}
          >
            <option value="">${n.chooseSite}</option>
            ${this.knownSites().map(
              (id) => html`<option value=${id} ?selected=${this._site === id}>${id}</option>`,
            )}
          </select></label
        >
        <label
          >${n.device}
          <select name="deviceId">
            <option value="">${n.wholeSite}</option>
            ${this.devicesOf(this._site).map(
              (d) =>
                html`<option value=${d.id}>
                  ${d.name === d.id ? d.id : `${d.name} (${d.id})`}
                </option>`,
            )}
          </select></label
        >
        <label
          >${n.title}
          <input
            name="title"
            required
            maxlength="200"
            autocomplete="off"
            placeholder=${n.titlePlaceholder}
        /></label>
        <label
          >${customer ? p.reportDescription : n.description}
          <textarea name="description" maxlength="4000"></textarea>
        </label>
        ${
          customer
            ? nothing
            : html`<label
                >${n.priority}
                <select name="priority">
                  <option value="">${n.byContract}</option>
                  ${priorities.map((p) => html`<option value=${p}>${t.priority[p]}</option>`)}
                </select></label
              >`
        }
        <div class="row">
          <button class="primary" type="submit" ?disabled=${this._busy}>${n.submit}</button>
          <button type="button" @click=${() => (this._reporting = false)}>${n.cancel}</button>
        </div>
      </form>
      ${
        this._error === null
          ? nothing
          : html`<p class="error" role="alert" data-testid="new-ticket-error">${this._error}</p>`
      }
    </section>`;
  }

  private _submit(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const value = (name: string) => String(data.get(name) ?? '').trim();
    const deviceId = value('deviceId');
    const priority = value('priority') as Priority | '';
    const report: ManualTicketRequest = {
      siteId: value('siteId'),
      title: value('title'),
      description: value('description'),
      ...(deviceId === '' ? {} : { deviceId }),
      ...(priority === '' ? {} : { priority }),
    };
    void this.send(report, form);
  }

  private async send(report: ManualTicketRequest, form: HTMLFormElement): Promise<void> {
    this._busy = true;
    this._error = null;
    try {
      const ticket = await this.session.client.openTicket(report);
      // The live stream brings it too; this shows it at once.
      this.session.applyOwn([{ type: 'ticket', ticket }]);
      form.reset();
      this._site = '';
      this._reporting = false;
      this._opened = ticket.id;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    } finally {
      this._busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-ticket-desk': VigilTicketDesk;
  }
}
