/**
 * The 12-month charts: one point per month with a value, a gap (no point, the line broken)
 * for a month without one, never a zero; labels in the report's language; no script.
 */
import { describe, expect, it } from 'vitest';
import type { MonthlyFigures } from '../../../../shared/api/inspection.js';
import { CHART_SERIES, monthlyChart, monthlyCharts } from '../../../../broker/inspection/charts.js';

function months(values: (number | null)[]): MonthlyFigures[] {
  return values.map((value, i) => {
    const month = new Date(Date.UTC(2025, 11 + i, 1)).toISOString().slice(0, 7);
    return {
      month,
      from: `${month}-01T00:00:00.000Z`,
      to: `${month}-01T00:00:00.000Z`,
      availabilityPct: value,
      responseMs: value === null ? null : value * 2,
      clockOffsetS: null,
      storageUsedPct: value,
      retentionDays: value === null ? null : 30,
      recordingPct: 100,
    };
  });
}

const availability = CHART_SERIES.find((s) => s.figure === 'availabilityPct')!;
const points = (svg: string) => [...svg.matchAll(/<circle class="point" data-month="([\d-]+)"/g)];

describe('monthly charts', () => {
  it('leaves a month without readings as a gap, not a zero', () => {
    const values = [99, 98.5, null, 97, 99.9, 100, 99, 99, 99, 99, 99, 99.5];
    const svg = monthlyChart(months(values), availability, 'en');
    expect(points(svg).map((m) => m[1])).not.toContain('2026-02');
    expect(points(svg)).toHaveLength(11);
    expect(svg).not.toMatch(/data-value="0"/);
    // The line breaks at the gap: one run of two months before it, one of nine after.
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map(
      (m) => m[1]!.split(' ').length,
    );
    expect(lines).toEqual([2, 9]);
    // Every month has its label on the axis, the gap too.
    expect(svg.match(/class="month"/g)).toHaveLength(12);
  });

  it('labels the axes and titles in Chinese for zh-CN, in English for en', () => {
    const figures = months([99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88]);
    const zh = monthlyCharts(figures, 'zh-CN');
    expect(zh).toContain('近12个月趋势');
    expect(zh).toContain('可用率（%）');
    expect(zh).toContain('录像保存天数（最短）（天）');
    // December 2025 to November 2026: 12月 with its year, then 1月 (a new year) ... 11月.
    expect(zh).toMatch(/class="month"[^>]*>12月</);
    expect(zh).toMatch(/class="month"[^>]*>1月</);
    expect(zh).toContain('2026年1月：98 %');
    expect(zh).not.toMatch(/Availability|Jan/);
    const en = monthlyCharts(figures, 'en');
    expect(en).toContain('Availability (%)');
    expect(en).toMatch(/class="month"[^>]*>Jan</);
    expect(en).not.toContain('可用率');
  });

  it('draws a chart per figure, each with 12 points when every month has readings, and no script', () => {
    const html = monthlyCharts(months(Array.from({ length: 12 }, (_, i) => 90 + i)), 'en');
    const charts = html.split('<svg').slice(1);
    expect(charts).toHaveLength(CHART_SERIES.length);
    // clockOffsetS is null in every month here: "no data", not a line at zero.
    for (const chart of charts) {
      if (chart.includes('data-chart="clockOffsetS"')) {
        expect(points(chart)).toHaveLength(0);
        expect(chart).toContain('no data');
      } else expect(points(chart)).toHaveLength(12);
    }
    expect(html).not.toMatch(/<script|\son\w+=/i);
  });

  it('keeps a percentage axis within 0 to 100 and escapes nothing unsafe', () => {
    const svg = monthlyChart(months(Array(12).fill(100)), availability, 'en');
    const ticks = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => Number(m[1]));
    expect(Math.max(...ticks)).toBeLessThanOrEqual(100);
    expect(Math.min(...ticks)).toBeGreaterThanOrEqual(0);
    expect(monthlyCharts(undefined, 'en')).toBe('');
  });
});
