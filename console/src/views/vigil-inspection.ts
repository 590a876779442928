import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ApiRequestError } from '../data/api.js';
import {
  currentMonth,
  inspectionCsv,
  isChartable,
  recentPeriods,
  trendFields,
  trendRows,
  trendSeries,
  weekDay,
} from '../data/inspection.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import type { InspectionReport } from '../data/types.js';
import {
  formatDay,
  formatDuration,
  formatFull,
  formatInZone,
  formatNumber,
  screenTimeZone,
} from '../format.js';
import { href } from '../router.js';
import { language, strings } from '../strings.js';
import { documentWords } from '../../../shared/wording/documents.js';
import type { Message } from '../../../shared/wording/messages.js';
import { say } from '../../../shared/wording/render.js';
import { controls, page } from '../theme.js';
import '../components/vigil-trend-chart.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { monthlyCharts } from '../../../shared/inspection-charts.js';

/**
 * The inspection report (巡检报告) of a site and a month or quarter, as the broker
 * computes it: availability chart and table, tickets by priority, weekly trends (uPlot,
 * or a table when the period has a single week), inventory changes, warranties ending,
 * the evaluation and improvement advice (评测和改进意见: each suggestion rendered from its
 * code and figures in the console's language), and a place for the customer's
 * confirmation. Printable on A4 and exportable as CSV, headers in the console's language.
 *
 * Test hooks: `[data-testid="inspection-site"]`, `[data-testid="inspection-period"]`,
 * `[data-testid="inspection-report"][data-site-id][data-period]`, `[data-testid="print"]`,
 * `[data-testid="csv"]`.
 */
@customElement('vigil-inspection')
export class VigilInspection extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .bars {
        display: grid;
        gap: 0.25rem;
      }
      .bar {
        display: grid;
        grid-template-columns: 12rem 1fr 5rem;
        gap: 0.5rem;
        align-items: center;
        font-size: 0.85rem;
      }
      .track {
        display: block;
        height: 0.8rem;
        background: var(--vigil-unknown-bg);
        border-radius: 3px;
        overflow: hidden;
      }
      .fill {
        display: block;
        height: 100%;
        background: var(--vigil-up);
        print-color-adjust: exact;
        -webkit-print-color-adjust: exact;
      }
      .fill[data-low] {
        background: var(--vigil-down);
      }
      .sign {
        height: 6rem;
        border: 1px solid var(--vigil-border);
        border-radius: var(--vigil-radius);
      }
      .headline {
        font-size: 2rem;
        font-weight: 700;
      }
      @media print {
        .no-print {
          display: none !important;
        }
        .card {
          break-inside: avoid;
          border-color: #999;
        }
        table {
          font-size: 9pt;
        }
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;
  @property({ attribute: false }) siteId: string | null = null;
  @property({ attribute: false }) period: string | null = null;

  @state() private _report: InspectionReport | null = null;
  @state() private _error: string | null = null;
  @state() private _loading = false;

  private loadedFor = '';

  private sites(): { id: string; name: string }[] {
    const ids = new Set([
      ...this.state.sites.map((s) => s.id),
      ...[...this.state.devices.values()].map((d) => d.siteId),
    ]);
    return [...ids].sort().map((id) => ({
      id,
      name: this.state.sites.find((s) => s.id === id)?.name ?? id,
    }));
  }

  override willUpdate(): void {
    const site = this.siteId ?? this.sites()[0]?.id ?? null;
    const period = this.period ?? currentMonth(new Date(), screenTimeZone());
    const key = `${site}|${period}`;
    if (site !== null && key !== this.loadedFor) {
      this.loadedFor = key;
      void this.load(site, period);
    }
  }

  private async load(site: string, period: string): Promise<void> {
    this._loading = true;
    this._error = null;
    try {
      this._report = await this.session.client.fetchInspection(site, period);
    } catch (error) {
      this._report = null;
      this._error =
        error instanceof ApiRequestError && error.status === 404 && error.code === 'VIGIL_NOT_FOUND'
          ? error.message
          : error instanceof Error
            ? error.message
            : String(error);
    } finally {
      this._loading = false;
    }
  }

  override render() {
    const i = strings.inspection;
    const sites = this.sites();
    const site = this.siteId ?? sites[0]?.id ?? '';
    const period = this.period ?? currentMonth(new Date(), screenTimeZone());
    const { months, quarters } = recentPeriods(new Date(), 12, screenTimeZone());
    return html`
      <h2>${i.title}</h2>
      <form class="row no-print" @change=${this._pick}>
        <label
          >${i.site}
          <select name="site" data-testid="inspection-site">
            ${sites.map((s) => html`<option value=${s.id} ?selected=${s.id === site}>${s.name}</option>`)}
          </select></label
        >
        <label
          >${i.period}
          <select name="period" data-testid="inspection-period">
            <optgroup label=${i.month}>
              ${months.map((m) => html`<option value=${m} ?selected=${m === period}>${m}</option>`)}
            </optgroup>
            <optgroup label=${i.quarter}>
              ${quarters.map((q) => html`<option value=${q} ?selected=${q === period}>${q}</option>`)}
            </optgroup>
          </select></label
        >
        <button
          type="button"
          data-testid="print"
          @click=${() => window.print()}
          ?disabled=${this._report === null}
        >
          ${i.print}
        </button>
        <button
          type="button"
          data-testid="csv"
          @click=${this._csv}
          ?disabled=${this._report === null}
        >
          ${i.csv}
        </button>
      </form>
      ${sites.length === 0 ? html`<p class="muted">${i.pick}</p>` : nothing}
      ${this._loading ? html`<p role="status" class="no-print">${strings.loading}</p>` : nothing}
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      ${this._report === null ? nothing : this.renderReport(this._report)}
    `;
  }

  private renderReport(r: InspectionReport) {
    const i = strings.inspection;
    const pct = (v: number | null) => (v === null ? '–' : `${formatNumber(v)} %`);
    return html`<article
      data-testid="inspection-report"
      data-site-id=${r.siteId}
      data-period=${r.period}
    >
      <section class="card">
        <h3>${[r.siteName, r.customer, r.period].filter((part) => part !== '').join(' · ')}</h3>
        <p class="muted" data-testid="inspection-period">
          ${
            r.timeZone === undefined
              ? html`${formatFull(r.from)} – ${formatFull(r.to)}`
              : html`${formatInZone(r.from, r.timeZone)} – ${formatInZone(r.to, r.timeZone)}
                (${r.timeZone})`
          }
        </p>
        <p>
          ${i.availability}:
          <span class="headline" data-testid="availability">${pct(r.availabilityPct)}</span>
        </p>
      </section>
      <section class="card">
        <h3>${i.availability}</h3>
        <div class="bars" role="img" aria-label=${i.availability}>
          ${r.devices.map(
            (d) =>
              html`<div class="bar">
                <span>${d.name}</span>
                <span class="track"
                  ><span
                    class="fill"
                    ?data-low=${d.availabilityPct !== null && d.availabilityPct < 99}
                    style="width:${d.availabilityPct ?? 0}%"
                  ></span
                ></span>
                <span>${pct(d.availabilityPct)}</span>
              </div>`,
          )}
        </div>
      </section>
      <section class="card">
        <h3>${i.devices}</h3>
        <table>
          <thead>
            <tr>
              <th>${strings.fleet.columns.device}</th>
              <th>${i.availability}</th>
              <th>${strings.device.outages}</th>
              <th>MTTR</th>
              <th>MTBF</th>
              <th>${i.tickets}</th>
              <th>${strings.device.firmware}</th>
              <th>${strings.device.warranty}</th>
            </tr>
          </thead>
          <tbody>
            ${r.devices.map(
              (d) =>
                html`<tr>
                  <td>
                    <a href=${href.device(d.deviceId)}>${d.name}</a>
                    <small class="muted">${d.deviceId}</small>
                  </td>
                  <td>${pct(d.availabilityPct)}</td>
                  <td>
                    ${d.outages.count}
                    (${formatDuration(d.outages.totalS * 1000, { coarse: true })})
                  </td>
                  <td>
                    ${d.mttrS === null ? '–' : formatDuration(d.mttrS * 1000, { coarse: true })}
                  </td>
                  <td>
                    ${d.mtbfS === null ? '–' : formatDuration(d.mtbfS * 1000, { coarse: true })}
                  </td>
                  <td>${d.tickets}</td>
                  <td>${d.firmware ?? '–'}</td>
                  <td>${d.warranty.endsOn ?? '–'}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h3>${i.tickets}</h3>
        <table>
          <tbody>
            ${r.tickets.map(
              (t) =>
                html`<tr>
                  <th scope="row">${strings.tickets.priority[t.priority]}</th>
                  <td>${t.tickets}</td>
                  <td>✓ ${t.met} · ✗ ${t.breached}</td>
                  <td>${pct(t.compliancePct)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section class="card" data-testid="trends">
        <h3>${i.trends}</h3>
        ${this.renderTrends(r)}
        ${
          // The 12 months as the printed report draws them (shared/inspection-charts.ts):
          // our own SVG of numbers and fixed labels, every text escaped there.
          r.monthly && r.monthly.length > 0
            ? html`<div data-testid="monthly-charts" class="monthly-charts">
                ${unsafeHTML(monthlyCharts(r.monthly, language))}
              </div>`
            : nothing
        }
      </section>
      <section class="card">
        <h3>${i.inventoryChanges}</h3>
        ${
          r.inventoryChanges.length === 0
            ? html`<p class="muted">${i.none}</p>`
            : html`<table data-testid="inventory-changes">
                <tbody>
                  ${r.inventoryChanges.map(
                    (c) =>
                      html`<tr>
                        <td>${formatFull(c.at)}</td>
                        <td>${c.deviceId}</td>
                        <td>${i.change[c.kind] ?? c.kind}</td>
                        <td>${c.from} → ${c.to}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
        <h3>${i.warrantyEndingSoon}</h3>
        <p data-testid="warranty-ending">
          ${r.warrantyEndingSoon.length === 0 ? i.none : r.warrantyEndingSoon.join(', ')}
        </p>
      </section>
      <section class="card" data-testid="advice">
        <h3>${documentWords[language].inspection.advice}</h3>
        ${
          r.suggestions.length === 0
            ? html`<p class="muted">${documentWords[language].inspection.noAdvice}</p>`
            : html`<ul data-testid="suggestions">
                ${r.suggestions.map(
                  // The suggestion's code and figures in the console's language; a report
                  // from a broker before codes has its text only.
                  (s) =>
                    html`<li data-rule=${s.rule}>
                      ${s.message === undefined ? s.text : say(s.message as Message, language)}
                    </li>`,
                )}
              </ul>`
        }
      </section>
      <section class="card">
        <h3>${i.confirmation}</h3>
        <p class="muted">${i.confirmationHint}</p>
        <div class="sign" data-testid="confirmation-box"></div>
      </section>
    </article>`;
  }

  /** A chart per figure over the weeks; one table of every figure when there is one week. */
  private renderTrends(r: InspectionReport) {
    const i = strings.inspection;
    const series = trendFields.map((field) => trendSeries(r, field));
    if (series.some(isChartable)) {
      return series.map(
        (trend) =>
          html`<vigil-trend-chart
            .trend=${trend}
            label=${i.trend[trend.field] ?? trend.field}
          ></vigil-trend-chart>`,
      );
    }
    const rows = trendRows(r);
    if (rows.length === 0) return html`<p class="muted">${i.noReadings}</p>`;
    const names = new Map(r.devices.map((d) => [d.deviceId, d.name]));
    const value = (v: number | null) => (v === null ? '–' : formatNumber(v));
    return html`<table data-testid="trend-table">
      <thead>
        <tr>
          <th>${strings.fleet.columns.device}</th>
          <th>${i.week}</th>
          ${trendFields.map((field) => html`<th>${i.trend[field] ?? field}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (t) =>
            html`<tr>
              <td>${names.get(t.deviceId) ?? t.deviceId}</td>
              <td>${formatDay(weekDay(t.weekStart, r.timeZone))}</td>
              ${trendFields.map((field) => html`<td>${value(t[field])}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private _pick(event: Event): void {
    const form = (event.target as HTMLElement).closest('form');
    if (form === null) return;
    const data = new FormData(form);
    location.hash = href.inspection(String(data.get('site')), String(data.get('period')));
  }

  private _csv(): void {
    if (this._report === null) return;
    const words = documentWords[language];
    const text = inspectionCsv(this._report, words.inspection.csvColumns, {
      kind: words.kind,
      warranty: words.inspection.warranty,
    });
    // A byte order mark so spreadsheet programs read the Chinese names as UTF-8.
    const blob = new Blob(['\ufeff', text], { type: 'text/csv;charset=utf-8' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `inspection-${this._report.siteId}-${this._report.period}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1_000);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-inspection': VigilInspection;
  }
}
