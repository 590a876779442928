/**
 * The one file that knows uPlot: draws a time series (mean with min-max band) into an
 * element and gives back a handle to resize or destroy it.
 */
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import type { MetricSeries } from './data/types.js';

export { uPlotCss };

export interface ChartHandle {
  resize(width: number): void;
  destroy(): void;
}

export function drawSeries(
  target: HTMLElement,
  series: MetricSeries,
  opts: {
    label: string;
    width: number;
    height: number;
    locale: string;
    /** The period asked for, in ms: the x axis spans it even where readings are missing. */
    from: number;
    to: number;
  },
): ChartHandle {
  const time = series.time.map((ms) => ms / 1000);
  // Times of day over a day or less, days over longer periods: labels stay short.
  const short = opts.to - opts.from <= 86_400_000;
  const fmt = new Intl.DateTimeFormat(
    opts.locale,
    short
      ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { month: 'numeric', day: 'numeric', hour: '2-digit', hourCycle: 'h23' },
  );
  const plot = new uPlot(
    {
      width: opts.width,
      height: opts.height,
      scales: { x: { time: true, range: [opts.from / 1000, opts.to / 1000] } },
      axes: [
        {
          space: 90,
          values: (_u, ticks) => ticks.map((t) => fmt.format(new Date(t * 1000))),
        },
        { label: opts.label },
      ],
      series: [
        {},
        { label: opts.label, stroke: '#1d4ed8', width: 2 },
        { label: 'min', stroke: '#93c5fd', width: 1 },
        { label: 'max', stroke: '#93c5fd', width: 1 },
      ],
    },
    [time, series.mean, series.min, series.max] as uPlot.AlignedData,
    target,
  );
  return {
    resize: (width) => plot.setSize({ width, height: opts.height }),
    destroy: () => plot.destroy(),
  };
}

/** Line colours for several devices in one chart; distinguishable and AA on white. */
const palette = ['#1d4ed8', '#b45309', '#047857', '#b91c1c', '#6d28d9', '#0e7490', '#be185d'];

/** Several devices' weekly figures on one chart: one line (with points) per device. */
export function drawWeekly(
  target: HTMLElement,
  data: { weeks: number[]; devices: { name: string; values: (number | null)[] }[] },
  opts: { label: string; width: number; height: number; locale: string },
): ChartHandle {
  // Weeks start on Monday 00:00 UTC (the report's weeks): label them in UTC, or a browser
  // west of Greenwich would name the Sunday before.
  const fmt = new Intl.DateTimeFormat(opts.locale, {
    month: 'numeric',
    day: 'numeric',
    timeZone: 'UTC',
  });
  const weeks = data.weeks.map((ms) => ms / 1000);
  const plot = new uPlot(
    {
      width: opts.width,
      height: opts.height,
      scales: { x: { time: true } },
      axes: [
        {
          // A tick on each week start (Monday, UTC): the data has nothing in between.
          splits: () => weeks,
          values: (_u, ticks) => ticks.map((t) => fmt.format(new Date(t * 1000))),
        },
        { label: opts.label },
      ],
      series: [
        {},
        ...data.devices.map((device, index) => ({
          label: device.name,
          stroke: palette[index % palette.length] ?? '#1d4ed8',
          width: 2,
          points: { show: true, size: 6 },
        })),
      ],
    },
    [weeks, ...data.devices.map((d) => d.values)] as uPlot.AlignedData,
    target,
  );
  return {
    resize: (width) => plot.setSize({ width, height: opts.height }),
    destroy: () => plot.destroy(),
  };
}
