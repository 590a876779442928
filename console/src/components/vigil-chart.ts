import { LitElement, css, html, unsafeCSS } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { drawSeries, uPlotCss, type ChartHandle } from '../chart.js';
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

  private handle: ChartHandle | null = null;
  private observer: ResizeObserver | null = null;

  override render() {
    const points = this.series?.time.length ?? 0;
    return html`<div data-testid="chart" data-points=${points}>
      ${points === 0 ? html`<p>${strings.device.noData}</p>` : ''}
      <div class="plot"></div>
    </div>`;
  }

  override updated(): void {
    this.handle?.destroy();
    this.handle = null;
    const target = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (target === null || this.series === null || this.series.time.length === 0) return;
    this.handle = drawSeries(target, this.series, {
      label: this.label,
      width: Math.max(300, this.clientWidth),
      height: 220,
      locale: strings.locale,
      from: this.from,
      to: this.to,
    });
    this.observer ??= new ResizeObserver(() =>
      this.handle?.resize(Math.max(300, this.clientWidth)),
    );
    this.observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.observer = null;
    this.handle?.destroy();
    this.handle = null;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-chart': VigilChart;
  }
}
