import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import {
  customerCreateFromForm,
  customerPatchFromForm,
  deadlineFields,
  knownTimeZones,
  priorities,
} from '../data/customers.js';
import { recentPeriods } from '../data/inspection.js';
import { screenTimeZone } from '../format.js';
import '../components/vigil-issued-reports.js';
import { ApiRequestError } from '../data/api.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import type { Customer, CustomerFigures, CustomerWarranty } from '../data/types.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';

/**
 * Customers and their contracts: everyone signed in reads them; an admin adds one (id,
 * name, time zone, language) and changes its zone, language and deadlines per priority.
 * The broker checks every value and its refusal is shown as it says it (an unknown zone
 * names one to send). Beside each, the figures its contract is judged by for a month or
 * quarter (GET /api/customers/:id/figures): availability and deadlines met over its sites.
 *
 * Test hooks: `[data-testid="customer"][data-id]`, `[data-testid="customer-form"]`,
 * `[data-testid="customer-edit"][data-id]`.
 */
@customElement('vigil-customers')
export class VigilCustomers extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .fields {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: end;
      }
      .fields label {
        display: flex;
        flex-direction: column;
      }
      .deadlines input {
        width: 6rem;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _customers: Customer[] = [];
  @state() private _error: string | null = null;
  @state() private _notice: string | null = null;
  /** The id of the customer being edited. */
  @state() private _editing: string | null = null;
  /** The period of the figures; the last month by default (the current one runs on). */
  @state() private _period = recentPeriods(new Date(), 2, screenTimeZone()).months[1]!;
  @state() private _figures: Record<string, CustomerFigures> = {};
  /** Every site the broker knows (described or reporting), for an admin to give to a customer. */
  @state() private _siteIds: string[] = [];
  /** Per customer, its devices leaving warranty within 90 days (docs/PARTS.md). */
  @state() private _warranty: Record<string, CustomerWarranty> = {};

  private readonly _zones = knownTimeZones();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this._customers = await this.session.client.fetchCustomers();
      if (this.admin) {
        this._siteIds = (await this.session.client.fetchRollup()).map((site) => site.siteId);
      }
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
      return;
    }
    await this.loadFigures();
    await this.loadWarranty();
  }

  private async loadWarranty(): Promise<void> {
    const lists: Record<string, CustomerWarranty> = {};
    try {
      for (const customer of this._customers) {
        lists[customer.id] = await this.session.client.fetchCustomerWarranty(customer.id);
      }
      this._warranty = lists;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  /** The expiry list of every customer: the broker applies the warranty rule, this only shows it. */
  private renderWarranty() {
    const e = strings.customers.expiry;
    return this._customers.map((customer) => {
      const list = this._warranty[customer.id];
      if (list === undefined) return nothing;
      return html`<section class="card" data-testid="warranty-${customer.id}">
        <h3>${customer.name} · ${e.title(list.days)}</h3>
        ${
          list.devices.length === 0
            ? html`<p class="muted">${e.none}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>${e.site}</th>
                    <th>${e.device}</th>
                    <th>${e.serial}</th>
                    <th>${e.start}</th>
                    <th>${e.end}</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${list.devices.map(
                    (d) =>
                      html`<tr>
                        <td>${d.siteName}</td>
                        <td>${d.deviceName ?? d.deviceId}</td>
                        <td>${d.serialNumber ?? '–'}</td>
                        <td>${d.startsOn ?? '–'}</td>
                        <td>${d.endsOn}</td>
                        <td>${e.left(d.daysLeft)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>`;
    });
  }

  /** Each customer's issued inspection reports, versions and sign-offs (docs/CUSTOMERS.md). */
  private renderIssued() {
    const staff = this.state.user?.role === 'operator' || this.admin;
    return this._customers.map(
      (customer) =>
        html`<section class="card" data-testid="issued-${customer.id}">
          <vigil-issued-reports
            .session=${this.session}
            .customer=${customer}
            ?staff=${staff}
            ?signer=${this.state.user?.role === 'customer'}
          ></vigil-issued-reports>
        </section>`,
    );
  }

  private async loadFigures(): Promise<void> {
    const period = this._period;
    const figures: Record<string, CustomerFigures> = {};
    try {
      for (const customer of this._customers) {
        figures[customer.id] = await this.session.client.fetchCustomerFigures(customer.id, period);
      }
      if (period === this._period) this._figures = figures;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private readonly pickPeriod = (event: Event): void => {
    this._period = (event.target as HTMLSelectElement).value;
    this._figures = {};
    void this.loadFigures();
  };

  private get admin(): boolean {
    return this.state.user?.role === 'admin';
  }

  override render() {
    const c = strings.customers;
    return html`
      <h2>${c.title}</h2>
      <p class="muted">${c.intro}</p>
      <datalist id="zones">
        ${this._zones.map((zone) => html`<option value=${zone}></option>`)}
      </datalist>
      ${this.admin ? this.renderCreate() : html`<p class="muted">${c.adminOnly}</p>`}
      <div class="fields">
        <label
          >${c.figures}
          <select data-testid="customer-period" @change=${this.pickPeriod}>
            ${(() => {
              const { months, quarters } = recentPeriods(new Date(), 12, screenTimeZone());
              return [...months, ...quarters].map(
                (period) =>
                  html`<option value=${period} ?selected=${period === this._period}>
                    ${period}
                  </option>`,
              );
            })()}
          </select></label
        >
      </div>
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      ${this._notice === null ? nothing : html`<p role="status">${this._notice}</p>`}
      ${
        this._customers.length === 0
          ? html`<p>${c.empty}</p>`
          : html`<table class="card">
              <thead>
                <tr>
                  <th>${c.name}</th>
                  <th>${c.id}</th>
                  <th>${c.timeZone}</th>
                  <th>${c.locale}</th>
                  <th>${c.sites}</th>
                  <th>${c.deadlines}</th>
                  <th>${c.availability} · ${c.compliance}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${this._customers.map((customer) => this.renderRow(customer))}
              </tbody>
            </table>`
      }
      ${this.renderWarranty()} ${this.renderIssued()}
    `;
  }

  private renderCreate() {
    const c = strings.customers;
    return html`<form class="fields" data-testid="customer-form" @submit=${this.create}>
      <label>${c.id}<input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}" /></label>
      <label>${c.name}<input name="name" required /></label>
      ${this.zoneAndLocale('Asia/Shanghai', 'zh-CN')}
      <button type="submit">${c.add}</button>
    </form>`;
  }

  private zoneAndLocale(timeZone: string, locale: string) {
    const c = strings.customers;
    return html`<label title=${c.timeZoneHint}
        >${c.timeZone}<input name="timeZone" list="zones" required .value=${timeZone}
      /></label>
      <label
        >${c.locale}<select name="locale">
          ${(['zh-CN', 'en'] as const).map(
            (value) =>
              html`<option value=${value} ?selected=${value === locale}>
                ${c.locales[value]}
              </option>`,
          )}
        </select></label
      >`;
  }

  private renderRow(customer: Customer) {
    const c = strings.customers;
    const { contract } = customer;
    const minutes = (value: number | null) => (value === null ? c.none : String(value));
    return html`<tr data-testid="customer" data-id=${customer.id}>
        <td>${customer.name}</td>
        <td><code>${customer.id}</code></td>
        <td>${customer.timeZone}</td>
        <td>${c.locales[customer.locale] ?? customer.locale}</td>
        <td>
          ${customer.sites.length === 0 ? c.noSites : customer.sites.join(', ')}
          ${this.admin ? this.renderAddSite(customer) : nothing}
        </td>
        <td>
          ${priorities.map((priority) => {
            const terms = contract.sla[priority];
            return html`<div>
              ${c.priorities[priority]}: ${minutes(terms.respondMin)} / ${minutes(terms.onSiteMin)}
              / ${minutes(terms.resolveMin)}
            </div>`;
          })}
          <small class="muted"
            >${customer.contractIsTemplate ? c.template : c.own} ·
            ${c.warranty(contract.warrantyYears)} ·
            ${c.spareParts(contract.spareParts.stockedHours, contract.spareParts.unstockedHours)}</small
          >
        </td>
        <td data-testid="customer-figures">${this.renderFigures(this._figures[customer.id])}</td>
        <td>
          ${
            this.admin
              ? html`<button type="button" @click=${() => (this._editing = customer.id)}>
                  ${c.edit}
                </button>`
              : nothing
          }
        </td>
      </tr>
      ${this._editing === customer.id ? this.renderEdit(customer) : nothing}`;
  }

  /** The site editor's customer field: a site of the broker given to this customer. */
  private renderAddSite(customer: Customer) {
    const c = strings.customers;
    const others = this._siteIds.filter((id) => !customer.sites.includes(id));
    if (others.length === 0) return nothing;
    return html`<form
      class="row"
      data-testid="customer-add-site"
      @submit=${(event: SubmitEvent) => this.addSite(event, customer)}
    >
      <label
        >${c.pickSite}
        <select name="siteId">
          ${others.map((id) => html`<option value=${id}>${id}</option>`)}
        </select></label
      >
      <button type="submit">${c.addSite}</button>
    </form>`;
  }

  private async addSite(event: SubmitEvent, customer: Customer): Promise<void> {
    event.preventDefault();
    const siteId = String(new FormData(event.currentTarget as HTMLFormElement).get('siteId'));
    await this.write(async () => {
      await this.session.client.setSiteCustomer(siteId, customer.id);
      return customer;
    });
  }

  private renderFigures(figures: CustomerFigures | undefined) {
    const c = strings.customers;
    if (figures === undefined) return c.noFigure;
    const pct = (value: number | null) => (value === null ? c.noFigure : `${value} %`);
    return c.figuresValue(
      pct(figures.availabilityPct),
      pct(figures.compliancePct),
      figures.met,
      figures.breached,
    );
  }

  private renderEdit(customer: Customer) {
    const c = strings.customers;
    return html`<tr>
      <td colspan="8">
        <form
          data-testid="customer-edit"
          data-id=${customer.id}
          @submit=${(event: SubmitEvent) => this.save(event, customer)}
        >
          <div class="fields">
            <label>${c.name}<input name="name" required .value=${customer.name} /></label>
            ${this.zoneAndLocale(customer.timeZone, customer.locale)}
          </div>
          <table class="deadlines">
            <thead>
              <tr>
                <th>${c.deadlines}</th>
                <th>${c.respond}</th>
                <th title=${c.noneHint}>${c.onSite}</th>
                <th title=${c.noneHint}>${c.resolve}</th>
              </tr>
            </thead>
            <tbody>
              ${priorities.map(
                (priority) =>
                  html`<tr>
                    <th>${c.priorities[priority]}</th>
                    ${deadlineFields.map((field) => {
                      const value = customer.contract.sla[priority][field];
                      return html`<td>
                        <input
                          name=${`${priority}.${field}`}
                          type="number"
                          min="1"
                          step="1"
                          ?required=${field === 'respondMin'}
                          aria-label=${`${c.priorities[priority]} ${field}`}
                          .value=${value === null ? '' : String(value)}
                        />
                      </td>`;
                    })}
                  </tr>`,
              )}
            </tbody>
          </table>
          <button type="submit">${c.save}</button>
          <button type="button" @click=${() => (this._editing = null)}>${c.cancel}</button>
        </form>
      </td>
    </tr>`;
  }

  private readonly create = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    await this.write(async () => {
      const made = await this.session.client.createCustomer(
        customerCreateFromForm(new FormData(form)),
      );
      form.reset();
      return made;
    });
  };

  private async save(event: SubmitEvent, customer: Customer): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    await this.write(() =>
      this.session.client.updateCustomer(customer.id, customerPatchFromForm(data)),
    );
  }

  private async write(run: () => Promise<Customer>): Promise<void> {
    this._error = null;
    this._notice = null;
    try {
      const saved = await run();
      this._editing = null;
      this._notice = strings.customers.saved(saved.name);
      await this.load();
    } catch (error) {
      // The broker's refusal names each bad field and what to send (an unknown zone).
      this._error =
        error instanceof ApiRequestError
          ? [error.message, ...error.details].join(' ')
          : error instanceof Error
            ? error.message
            : String(error);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-customers': VigilCustomers;
  }
}
