/**
 * The inspection report's 12-month charts as inline SVG (no script, no external file): the
 * page prints and goes into a PDF as it is (issued reports print it with chromium), and the
 * console shows the same markup. One small chart per figure of `report.monthly`
 * (broker/inspection/trends.ts), one point per calendar month in the customer's zone,
 * labelled in the report's language.
 *
 * A month without a reading is a gap: no point, and the line breaks there. Drawing it as
 * zero would show a recorder with no readings as an empty disk, or a site not yet
 * monitored as down.
 *
 * Pure, and imports types only: the console's bundle takes it at runtime without the API
 * schemas (test/unit/console/bundle-imports.test.ts). broker/inspection/charts.ts is the
 * broker's name for it.
 */
import type { MonthlyFigures } from './api/inspection.js';
import type { WordingLocale } from './wording/render.js';

type Figure = Exclude<keyof MonthlyFigures, 'month' | 'from' | 'to'>;

interface Series {
  figure: Figure;
  /** 0 to 100: the axis never leaves it. */
  percent: boolean;
}

/** The charts, in the order the report shows them. */
export const CHART_SERIES: readonly Series[] = [
  { figure: 'availabilityPct', percent: true },
  { figure: 'storageUsedPct', percent: true },
  { figure: 'retentionDays', percent: false },
  { figure: 'recordingPct', percent: true },
  { figure: 'responseMs', percent: false },
  { figure: 'clockOffsetS', percent: false },
];

interface ChartWords {
  heading: string;
  /** Title and unit of each figure. */
  figures: Record<Figure, { title: string; unit: string }>;
  /** The x axis label of a month; `withYear` on the first point and on January. */
  month(year: number, month: number, withYear: boolean): string;
  noData: string;
  /** A chart's title with its unit. */
  label(title: string, unit: string): string;
  /** The text of a point for screen readers and a tooltip. */
  point(month: string, value: string): string;
}

const MONTHS_EN = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/** zh-CN and en, as every document (shared/wording/documents.ts holds the page's own words). */
export const CHART_WORDS: Record<WordingLocale, ChartWords> = {
  'zh-CN': {
    heading: '近12个月趋势',
    figures: {
      availabilityPct: { title: '可用率', unit: '%' },
      storageUsedPct: { title: '存储使用率（最满的录像机）', unit: '%' },
      retentionDays: { title: '录像保存天数（最短）', unit: '天' },
      recordingPct: { title: '录像连续率', unit: '%' },
      responseMs: { title: '平均响应时间', unit: '毫秒' },
      clockOffsetS: { title: '最大时钟偏差', unit: '秒' },
    },
    month: (year, month, withYear) => (withYear ? `${year}年${month}月` : `${month}月`),
    noData: '无数据',
    label: (title, unit) => `${title}（${unit}）`,
    point: (month, value) => `${month}：${value}`,
  },
  en: {
    heading: 'The last 12 months',
    figures: {
      availabilityPct: { title: 'Availability', unit: '%' },
      storageUsedPct: { title: 'Storage used (fullest recorder)', unit: '%' },
      retentionDays: { title: 'Recordings kept (shortest)', unit: 'days' },
      recordingPct: { title: 'Recording continuity', unit: '%' },
      responseMs: { title: 'Mean response time', unit: 'ms' },
      clockOffsetS: { title: 'Largest clock offset', unit: 's' },
    },
    month: (year, month, withYear) =>
      withYear ? `${MONTHS_EN[month - 1]} ${year}` : MONTHS_EN[month - 1]!,
    noData: 'no data',
    label: (title, unit) => `${title} (${unit})`,
    point: (month, value) => `${month}: ${value}`,
  },
};

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Up to 2 decimals, no trailing zeros: 99.5, 12, 0.25. */
const num = (value: number) => String(Math.round(value * 100) / 100);

// The drawing, in SVG user units (about pixels on screen; the page scales it to print).
const WIDTH = 340;
const HEIGHT = 150;
const LEFT = 40;
const RIGHT = 8;
const TOP = 22;
const BOTTOM = 34;

/** The y axis: the values' range, padded; a percentage stays within 0 to 100. */
function axis(values: readonly number[], percent: boolean): { low: number; high: number } {
  let low = Math.min(...values);
  let high = Math.max(...values);
  const pad = high > low ? (high - low) * 0.1 : Math.max(Math.abs(high) * 0.05, 1);
  low -= pad;
  high += pad;
  // A figure that is never negative keeps its axis at or above zero.
  if (Math.min(...values) >= 0) low = Math.max(0, low);
  if (percent) high = Math.min(100, high);
  return { low, high };
}

/** One chart: an SVG of the figure over the months, gaps where a month has no value. */
export function monthlyChart(
  monthly: readonly MonthlyFigures[],
  series: Series,
  locale: WordingLocale,
): string {
  const words = CHART_WORDS[locale];
  const { title, unit } = words.figures[series.figure];
  const label = words.label(title, unit);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const step = plotW / Math.max(1, monthly.length);
  const x = (i: number) => LEFT + step * (i + 0.5);
  const values = monthly.map((m) => m[series.figure]);
  const present = values.filter((v): v is number => v !== null);
  const parts: string[] = [];
  parts.push(
    `<text x="${LEFT}" y="14" font-size="11" font-weight="bold">${esc(label)}</text>`,
    `<line x1="${LEFT}" y1="${TOP + plotH}" x2="${WIDTH - RIGHT}" y2="${TOP + plotH}" stroke="#999"/>`,
    `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + plotH}" stroke="#999"/>`,
  );
  monthly.forEach((m, i) => {
    const [year, month] = m.month.split('-').map(Number) as [number, number];
    const withYear = i === 0 || month === 1;
    const name = words.month(year, month, false);
    parts.push(
      `<text class="month" x="${num(x(i))}" y="${TOP + plotH + 12}" font-size="9" text-anchor="middle">${esc(name)}</text>`,
    );
    if (withYear)
      parts.push(
        `<text x="${num(x(i))}" y="${TOP + plotH + 23}" font-size="8" text-anchor="middle" fill="#555">${esc(String(year))}</text>`,
      );
  });
  if (present.length === 0) {
    parts.push(
      `<text x="${LEFT + plotW / 2}" y="${TOP + plotH / 2}" font-size="10" text-anchor="middle" fill="#777">${esc(words.noData)}</text>`,
    );
  } else {
    const { low, high } = axis(present, series.percent);
    const y = (v: number) => TOP + plotH - ((v - low) / (high - low)) * plotH;
    for (const tick of [low, high])
      parts.push(
        `<text x="${LEFT - 3}" y="${num(y(tick) + 3)}" font-size="9" text-anchor="end">${esc(num(tick))}</text>`,
        `<line x1="${LEFT}" y1="${num(y(tick))}" x2="${WIDTH - RIGHT}" y2="${num(y(tick))}" stroke="#ddd"/>`,
      );
    // The line runs through consecutive months with values; a gap ends it.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1)
        parts.push(
          `<polyline fill="none" stroke="#1f6fb2" stroke-width="1.5" points="${run.join(' ')}"/>`,
        );
      run = [];
    };
    values.forEach((value, i) => {
      if (value === null) return flush();
      run.push(`${num(x(i))},${num(y(value))}`);
    });
    flush();
    values.forEach((value, i) => {
      if (value === null) return;
      const month = monthly[i]!.month;
      const [year, m] = month.split('-').map(Number) as [number, number];
      const text = words.point(words.month(year, m, true), `${num(value)} ${unit}`);
      parts.push(
        `<circle class="point" data-month="${month}" data-value="${num(value)}" cx="${num(x(i))}" cy="${num(y(value))}" r="2.5" fill="#1f6fb2"><title>${esc(text)}</title></circle>`,
      );
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${series.figure}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="inherit">${parts.join('')}</svg>`;
}

/**
 * The charts section of the printed report: a heading and one chart per figure; empty for
 * a report without `monthly` (kept by an older version).
 */
export function monthlyCharts(
  monthly: readonly MonthlyFigures[] | undefined,
  locale: WordingLocale,
): string {
  if (monthly === undefined || monthly.length === 0) return '';
  const charts = CHART_SERIES.map((series) => monthlyChart(monthly, series, locale)).join('\n');
  return `<h2>${esc(CHART_WORDS[locale].heading)}</h2>
<div class="charts" style="display: flex; flex-wrap: wrap; gap: 0.5em 1.5em; break-inside: avoid; page-break-inside: avoid">
${charts}
</div>`;
}
