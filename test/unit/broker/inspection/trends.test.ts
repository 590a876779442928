/**
 * The report's calendar in the customer's zone: local ISO weeks clipped to the period,
 * the 12 months of the charts (months of 28 to 31 days, daylight saving), and how a range's
 * daily buckets sum up (recording continuity weighed by each bucket's part of the range).
 */
import { describe, expect, it } from 'vitest';
import {
  chartMonths,
  localWeeks,
  summarize,
  weekStart,
} from '../../../../broker/inspection/trends.js';

const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;

describe('local weeks', () => {
  it('starts each week on Monday 00:00 Beijing time and clips the first and last to the period', () => {
    const from = Date.parse('2026-10-31T16:00:00Z'); // 1 November 00:00 Beijing, a Sunday
    const to = Date.parse('2026-11-30T16:00:00Z');
    const weeks = localWeeks('Asia/Shanghai', from, to);
    expect(weeks.map((w) => iso(w.start))).toEqual([
      '2026-10-25T16:00:00.000Z',
      '2026-11-01T16:00:00.000Z',
      '2026-11-08T16:00:00.000Z',
      '2026-11-15T16:00:00.000Z',
      '2026-11-22T16:00:00.000Z',
      '2026-11-29T16:00:00.000Z',
    ]);
    expect(iso(weeks[0]!.from)).toBe('2026-10-31T16:00:00.000Z');
    expect(weeks[0]!.to - weeks[0]!.from).toBe(DAY);
    expect(iso(weeks[5]!.to)).toBe('2026-11-30T16:00:00.000Z');
    expect(weeks[5]!.to - weeks[5]!.from).toBe(DAY);
  });

  it('gives a week across the end of daylight saving its 169 hours (New York, November 2026)', () => {
    const weeks = localWeeks(
      'America/New_York',
      Date.parse('2026-11-01T04:00:00Z'),
      Date.parse('2026-12-01T05:00:00Z'),
    );
    // Clocks go back on Sunday 1 November: the week of Monday 26 October ends at 05:00 UTC.
    expect(iso(weeks[0]!.start)).toBe('2026-10-26T04:00:00.000Z');
    expect(iso(weeks[1]!.start)).toBe('2026-11-02T05:00:00.000Z');
    expect(weeks[0]!.to - weeks[0]!.from).toBe(25 * 3_600_000);
    expect(weeks[1]!.start - weeks[0]!.start).toBe(169 * 3_600_000);
    expect(iso(weekStart(Date.parse('2026-11-04T12:00:00Z'), 'America/New_York'))).toBe(
      '2026-11-02T05:00:00.000Z',
    );
  });
});

describe('chart months', () => {
  it('are the 12 months that end with the period, each from its local midnight', () => {
    const months = chartMonths('2026-11', 'Asia/Shanghai');
    expect(months.map((m) => m.month)).toEqual([
      '2025-12',
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
    ]);
    expect(iso(months[2]!.from)).toBe('2026-01-31T16:00:00.000Z');
    expect((months[2]!.to - months[2]!.from) / DAY).toBe(28);
    expect((months[0]!.to - months[0]!.from) / DAY).toBe(31);
    // Consecutive: each month ends where the next begins.
    for (let i = 1; i < 12; i++) expect(months[i]!.from).toBe(months[i - 1]!.to);
  });

  it("end with the quarter's last month, and follow daylight saving (Berlin's March is an hour short)", () => {
    const months = chartMonths('2026-Q4', 'Europe/Berlin');
    expect(months[0]!.month).toBe('2026-01');
    expect(months[11]!.month).toBe('2026-12');
    const march = months[2]!;
    expect(iso(march.from)).toBe('2026-02-28T23:00:00.000Z');
    expect(march.to - march.from).toBe(31 * DAY - 3_600_000);
  });
});

describe('summarize', () => {
  const bucket = (day: string, min: number, max: number, mean: number, count: number) => ({
    time: new Date(`${day}T00:00:00Z`),
    min,
    max,
    mean,
    count,
  });
  const range = {
    from: Date.parse('2026-11-01T16:00:00Z'),
    to: Date.parse('2026-11-03T16:00:00Z'),
  };
  const buckets = [
    bucket('2026-11-01', 0, 0, 0, 2), // 8 h of the range
    bucket('2026-11-02', 0, 1, 0.5, 4), // 24 h, a recording stopped
    bucket('2026-11-03', 2, 4, 3, 2), // 16 h
  ];

  it("weighs continuity by each bucket's part of the range", () => {
    expect(summarize(buckets.slice(0, 2), 'continuity', range)).toBeCloseTo((8 / 32) * 100, 9);
  });

  it('gives the mean of the readings, the least, the largest and the largest absolute value', () => {
    expect(summarize(buckets, 'mean', range)).toBeCloseTo((0 + 2 + 6) / 8, 9);
    expect(summarize(buckets, 'min', range)).toBe(0);
    expect(summarize(buckets, 'max', range)).toBe(4);
    expect(summarize([bucket('2026-11-02', -12, 0.5, -1, 3)], 'absmax', range)).toBe(12);
    expect(summarize([], 'mean', range)).toBeNull();
    expect(summarize([], 'continuity', range)).toBeNull();
  });
});
