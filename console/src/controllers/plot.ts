import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChartHandle } from '../chart.js';

const MIN_WIDTH = 300;

/**
 * The life of one uPlot chart inside an element: redrawn on demand, resized with the
 * element, destroyed when the element leaves the page. Shared by every chart element.
 */
export class PlotController implements ReactiveController {
  private handle: ChartHandle | null = null;
  private observer: ResizeObserver | null = null;

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  private get width(): number {
    return Math.max(MIN_WIDTH, this.host.clientWidth);
  }

  /** Replaces the chart with what `make` draws at the element's width (null: none). */
  draw(make: (width: number) => ChartHandle | null): void {
    this.handle?.destroy();
    this.handle = make(this.width);
    if (this.handle === null) return;
    this.observer ??= new ResizeObserver(() => this.handle?.resize(this.width));
    this.observer.observe(this.host);
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.handle?.destroy();
    this.handle = null;
  }
}
