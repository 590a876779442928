import { LitElement, css, html, unsafeCSS } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { drawSeries, uPlotCss } from '../chart.js';
import { PlotController } from '../controllers/plot.js';
import type { MetricSeries } from '../data/types.js';
import { strings } from '../strings.js';

/** One metric over time (uPlot). Test hook: `[data-testid="chart"][data-points]`. */
@customElement('vigil-chart')
export class VigilChart extends LitElement {
  static override styles = [
    unsafeCSS(uPlotCss),
    css`
      :host {
        display: block;
        min-height: 240px;
      }
    `,
  ];

  @property({ attribute: false }) series: MetricSeries | null = null;
  @property() label = '';
  /** The period shown, ms since the epoch. */
  @property({ type: Number }) from = 0;
  @property({ type: Number }) to = 0;

  private readonly plot = new PlotController(this);

  override render() {
    const points = this.series?.time.length ?? 0;
    return html`<div data-testid="chart" data-points=${points}>
      ${points === 0 ? html`<p>${strings.device.noData}</p>` : ''}
      <div class="plot"></div>
    </div>`;
  }

  override updated(): void {
    this.plot.draw((width) => {
      const target = this.renderRoot.querySelector<HTMLElement>('.plot');
      if (target === null || this.series === null || this.series.time.length === 0) return null;
      return drawSeries(target, this.series, {
        label: this.label,
        width,
        height: 220,
        locale: strings.locale,
        from: this.from,
        to: this.to,
      });
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-chart': VigilChart;
  }
}
