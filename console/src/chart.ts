/**
 * The one file that knows uPlot: draws a time series (mean with min-max band) into an
 * element and gives back a handle to resize or destroy it.
 */
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import type { MetricSeries } from './data/types.js';
import { axisLabels, screenTimeZone } from './format.js';

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
    /** The zone the labels read in; the screens' (the user's setting) by default. */
    timeZone?: string;
  },
): ChartHandle {
  const time = series.time.map((ms) => ms / 1000);
  // Times of day over a day or less, days over longer periods: labels stay short.
  const short = opts.to - opts.from <= 86_400_000;
  const label = axisLabels(
    short ? 'time' : 'day-hour',
    opts.timeZone ?? screenTimeZone(),
    opts.locale,
  );
  const plot = new uPlot(
    {
      width: opts.width,
      height: opts.height,
      scales: { x: { time: true, range: [opts.from / 1000, opts.to / 1000] } },
      axes: [
        {
          space: 90,
          values: (_u, ticks) => ticks.map((t) => label(t * 1000)),
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
  data: {
    weeks: number[];
    /** Where the weeks start on Monday 00:00: the report's customer's zone. */
    timeZone: string;
    devices: { name: string; values: (number | null)[] }[];
  },
  opts: { label: string; width: number; height: number; locale: string },
): ChartHandle {
  // Labelled in the zone the weeks start in, or another zone's calendar (the browser's,
  // or UTC for Beijing's weeks) would name the Sunday before.
  const label = axisLabels('day', data.timeZone, opts.locale);
  const weeks = data.weeks.map((ms) => ms / 1000);
  const plot = new uPlot(
    {
      width: opts.width,
      height: opts.height,
      scales: { x: { time: true } },
      axes: [
        {
          // A tick on each week start: the data has nothing in between.
          splits: () => weeks,
          values: (_u, ticks) => ticks.map((t) => label(t * 1000)),
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
