import { LitElement, css, html, unsafeCSS } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { drawWeekly, uPlotCss } from '../chart.js';
import { PlotController } from '../controllers/plot.js';
import { isChartable, type TrendSeries } from '../data/inspection.js';
import { strings } from '../strings.js';
import { page } from '../theme.js';

/**
 * One weekly trend of the inspection report: a uPlot line per device over the weeks of
 * the period, or "no readings" when no device measured it.
 *
 * Test hook: `[data-testid="trend"][data-field][data-kind="chart"|"empty"]`
 * with `data-devices` and `data-weeks`.
 */
@customElement('vigil-trend-chart')
export class VigilTrendChart extends LitElement {
  static override styles = [
    unsafeCSS(uPlotCss),
    page,
    css`
      :host {
        display: block;
        break-inside: avoid;
      }
      @media print {
        .plot {
          max-width: 17cm;
          overflow: hidden;
        }
      }
    `,
  ];

  @property({ attribute: false }) trend: TrendSeries | null = null;
  @property() label = '';

  private readonly plot = new PlotController(this);

  override render() {
    const trend = this.trend;
    if (trend === null) return html``;
    // One week is no series: the inspection screen shows its one table instead of charts.
    const kind = isChartable(trend) ? 'chart' : 'empty';
    return html`<figure
      data-testid="trend"
      data-field=${trend.field}
      data-kind=${kind}
      data-devices=${trend.devices.length}
      data-weeks=${trend.weeks.length}
    >
      <figcaption><strong>${this.label}</strong></figcaption>
      ${kind === 'empty' ? html`<p class="muted">${strings.inspection.noReadings}</p>` : ''}
      <div class="plot" role="img" aria-label=${this.label}></div>
    </figure>`;
  }

  override updated(): void {
    this.plot.draw((width) => {
      const target = this.renderRoot.querySelector<HTMLElement>('.plot');
      if (target === null || this.trend === null || !isChartable(this.trend)) return null;
      return drawWeekly(target, this.trend, {
        label: this.label,
        width,
        height: 200,
        locale: strings.locale,
      });
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-trend-chart': VigilTrendChart;
  }
}
