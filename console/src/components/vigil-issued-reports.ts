import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { recentPeriods } from '../data/inspection.js';
import type { Session } from '../data/session.js';
import type { Customer, IssuedReportSummary } from '../data/types.js';
import { formatInZone } from '../format.js';
import { strings } from '../strings.js';
import { controls } from '../theme.js';

/**
 * A customer's issued inspection reports (GET /api/customers/:id/reports): each version
 * with its issue time, its sign-off or "not signed", and links to its PDF and page; for
 * the staff an "Issue report" form (site, period) and a sign-off form per version. The
 * broker decides everything (which periods may be issued, which dates a sign-off may
 * carry); its refusal is shown as it says it.
 *
 * Test hooks: `[data-testid="issued-report"][data-version]`, `[data-testid="issue-form"]`,
 * `[data-testid="sign-off-form"]`.
 */
@customElement('vigil-issued-reports')
export class VigilIssuedReports extends LitElement {
  static override styles = [
    controls,
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
      table {
        border-collapse: collapse;
        width: 100%;
      }
      th,
      td {
        text-align: left;
        padding: 0.25rem 0.5rem;
        vertical-align: top;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) customer!: Customer;
  /** Operator or admin: may issue and record sign-offs. */
  @property({ type: Boolean }) staff = false;
  /** The customer's own account (the portal): signs its reports on line, issues none. */
  @property({ type: Boolean }) signer = false;

  @state() private _reports: IssuedReportSummary[] = [];
  @state() private _error: string | null = null;
  @state() private _notice: string | null = null;
  @state() private _busy = false;
  /** The version whose sign-off form is open: "site period version". */
  @state() private _signing: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this._reports = await this.session.client.fetchIssuedReports(this.customer.id);
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private async issue(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const site = String(form.get('site') ?? '');
    const period = String(form.get('period') ?? '');
    this._busy = true;
    this._error = null;
    this._notice = null;
    try {
      const issued = await this.session.client.issueReport(site, period);
      this._notice = strings.customers.issued.issuedNotice(site, period, issued.version);
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    } finally {
      this._busy = false;
    }
  }

  private async signOff(event: SubmitEvent, report: IssuedReportSummary): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this._error = null;
    try {
      await this.session.client.signOffReport(report, {
        name: String(form.get('name') ?? ''),
        signedOn: String(form.get('signedOn') ?? ''),
        remarks: String(form.get('remarks') ?? ''),
      });
      this._signing = null;
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private renderIssue() {
    const t = strings.customers.issued;
    if (this.customer.sites.length === 0) return nothing;
    // Periods that are over, the last month first: the broker refuses a running one.
    const { months, quarters } = recentPeriods(new Date(), 13, this.customer.timeZone);
    return html`<form
      class="fields"
      data-testid="issue-form"
      @submit=${(event: SubmitEvent) => void this.issue(event)}
    >
      <label
        >${t.site}
        <select name="site">
          ${this.customer.sites.map((id) => html`<option value=${id}>${id}</option>`)}
        </select></label
      >
      <label
        >${t.period}
        <select name="period">
          ${[...months.slice(1), ...quarters.slice(1)].map(
            (period) => html`<option value=${period}>${period}</option>`,
          )}
        </select></label
      >
      <button type="submit" ?disabled=${this._busy}>${this._busy ? t.issuing : t.issue}</button>
    </form>`;
  }

  private renderSignOff(report: IssuedReportSummary) {
    const t = strings.customers.issued;
    return html`<tr>
      <td colspan="6">
        <form
          class="fields"
          data-testid="sign-off-form"
          @submit=${(event: SubmitEvent) => void this.signOff(event, report)}
        >
          <label>${t.name} <input name="name" required maxlength="100" /></label>
          <label>${t.signedOn} <input name="signedOn" type="date" required /></label>
          <label>${t.remarks} <input name="remarks" maxlength="2000" size="40" /></label>
          <button type="submit">${t.save}</button>
          <button type="button" @click=${() => (this._signing = null)}>${t.cancel}</button>
        </form>
      </td>
    </tr>`;
  }

  private renderRow(report: IssuedReportSummary) {
    const t = strings.customers.issued;
    const key = `${report.siteId} ${report.period} ${report.version}`;
    const client = this.session.client;
    return html`<tr
        data-testid="issued-report"
        data-site=${report.siteId}
        data-period=${report.period}
        data-version=${report.version}
      >
        <td>${report.siteName}</td>
        <td>${report.period}</td>
        <td>v${report.version}</td>
        <td>${formatInZone(report.issuedAt, report.timeZone)} · ${report.issuedBy}</td>
        <td data-testid="sign-off">
          ${
            report.signOffs.length === 0
              ? html`<span class="muted">${t.notSigned}</span>`
              : report.signOffs.map(
                  (s) => html`<div>${t.signedBy(s.name, s.signedOn, s.remarks)}</div>`,
                )
          }
        </td>
        <td>
          <a href=${client.issuedReportUrl(report, 'pdf')} target="_blank" rel="noopener"
            >${t.pdf}</a
          >
          ·
          <a href=${client.issuedReportUrl(report, 'html')} target="_blank" rel="noopener"
            >${t.page}</a
          >
          ${
            this.staff || this.signer
              ? html`<button type="button" @click=${() => (this._signing = key)}>
                  ${this.staff ? t.record : strings.portal.signOff}
                </button>`
              : nothing
          }
        </td>
      </tr>
      ${this._signing === key ? this.renderSignOff(report) : nothing}`;
  }

  override render() {
    const t = strings.customers.issued;
    return html`<h3>${this.customer.name} · ${t.title}</h3>
      <p class="muted">${t.intro}</p>
      ${this.staff ? this.renderIssue() : html`<p class="muted">${this.signer ? t.signHere : t.staffOnly}</p>`}
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      ${this._notice === null ? nothing : html`<p role="status">${this._notice}</p>`}
      ${
        this._reports.length === 0
          ? html`<p class="muted">${t.none}</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>${t.site}</th>
                  <th>${t.period}</th>
                  <th>${t.version}</th>
                  <th>${t.issuedAt}</th>
                  <th>${t.signOff}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${this._reports.map((report) => this.renderRow(report))}
              </tbody>
            </table>`
      }`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-issued-reports': VigilIssuedReports;
  }
}
