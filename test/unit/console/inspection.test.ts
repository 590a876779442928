import { describe, expect, it } from 'vitest';
import {
  csvColumns,
  currentMonth,
  inspectionCsv,
  isChartable,
  recentPeriods,
  trendRows,
  trendSeries,
  weekDay,
} from '../../../console/src/data/inspection.js';
import type { InspectionReport, WeeklyTrend } from '../../../shared/api/inspection.js';
import { parseRoute, href } from '../../../console/src/router.js';

const report: InspectionReport = {
  siteId: 'demo-site',
  siteName: '演示站点',
  customer: 'Example, Ltd',
  period: '2026-11',
  from: '2026-11-01T00:00:00.000Z',
  to: '2026-12-01T00:00:00.000Z',
  generatedAt: '2026-11-26T08:00:00.000Z',
  availabilityPct: 99.5,
  devices: [
    {
      deviceId: 'cam-01',
      name: 'Gate "north", 1',
      kind: 'camera',
      availabilityPct: 99.5,
      observedS: 1000,
      maintenanceS: 0,
      outages: { count: 1, totalS: 5.4, longestS: 5.4 },
      mttrS: 5.4,
      mtbfS: 994.6,
      tickets: 1,
      firmware: '5.7.3',
      serialNumber: null,
      warranty: { endsOn: '2028-03-15', state: 'in-warranty' },
    },
  ],
  tickets: [],
  trends: [],
  inventoryChanges: [],
  warrantyEndingSoon: [],
  suggestions: [],
};

describe('the inspection screen', () => {
  it('exports one CSV row per device, quoted where RFC 4180 asks', () => {
    const csv = inspectionCsv(report, csvColumns);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(csvColumns.join(','));
    expect(lines[1]).toBe(
      'demo-site,2026-11,cam-01,"Gate ""north"", 1",camera,99.5,1,5,5,995,1,5.7.3,,2028-03-15,in-warranty',
    );
    expect(lines[2]).toBe('');
  });

  it('offers the current month and quarter first', () => {
    const now = new Date('2026-11-26T08:00:00Z');
    expect(currentMonth(now, 'Asia/Shanghai')).toBe('2026-11');
    const { months, quarters } = recentPeriods(now, 12, 'Asia/Shanghai');
    expect(months.slice(0, 3)).toEqual(['2026-11', '2026-10', '2026-09']);
    expect(quarters.slice(0, 2)).toEqual(['2026-Q4', '2026-Q3']);
  });

  it("names the current month on the zone's calendar", () => {
    // 1 December, 01:00 in Beijing: still November in UTC and in New York.
    const now = new Date('2026-11-30T17:00:00Z');
    expect(currentMonth(now, 'Asia/Shanghai')).toBe('2026-12');
    expect(currentMonth(now, 'UTC')).toBe('2026-11');
    expect(currentMonth(now, 'America/New_York')).toBe('2026-11');
    expect(recentPeriods(now, 2, 'Asia/Shanghai')).toEqual({
      months: ['2026-12', '2026-11'],
      quarters: ['2026-Q4'],
    });
    expect(recentPeriods(new Date('2027-01-15T00:00:00Z'), 2, 'UTC').quarters).toEqual([
      '2027-Q1',
      '2026-Q4',
    ]);
  });

  it('routes by hash, and links lead back to the same screen', () => {
    expect(parseRoute('')).toEqual({ screen: 'fleet', siteId: null });
    expect(parseRoute(href.ticket(17))).toEqual({ screen: 'ticket', ticketId: 17 });
    expect(parseRoute(href.report(17))).toEqual({ screen: 'report', ticketId: 17 });
    expect(parseRoute(href.device('cam 1'))).toEqual({ screen: 'device', deviceId: 'cam 1' });
    expect(parseRoute(href.inspection('demo-site', '2026-Q4'))).toEqual({
      screen: 'inspection',
      siteId: 'demo-site',
      period: '2026-Q4',
    });
    expect(parseRoute('#/tickets/abc')).toEqual({ screen: 'not-found' });
  });

  it('draws each weekly trend per device on the weeks of the whole report', () => {
    const week = (deviceId: string, weekStart: string, figures: Partial<WeeklyTrend>) => ({
      deviceId,
      weekStart,
      responseMs: null,
      clockOffsetS: null,
      storageUsedPct: null,
      retentionDays: null,
      recordingPct: null,
      ...figures,
    });
    const withTrends: InspectionReport = {
      ...report,
      devices: [...report.devices, { ...report.devices[0]!, deviceId: 'nvr-01', name: 'NVR' }],
      trends: [
        week('nvr-01', '2026-11-09T00:00:00.000Z', { recordingPct: 97.5, retentionDays: 28 }),
        week('cam-01', '2026-11-02T00:00:00.000Z', { responseMs: 120 }),
        week('cam-01', '2026-11-09T00:00:00.000Z', { responseMs: 180 }),
        week('nvr-01', '2026-11-02T00:00:00.000Z', { responseMs: 40, recordingPct: 100 }),
      ],
    };
    const response = trendSeries(withTrends, 'responseMs');
    expect(response.weeks).toEqual([
      Date.parse('2026-11-02T00:00:00Z'),
      Date.parse('2026-11-09T00:00:00Z'),
    ]);
    expect(response.devices).toEqual([
      { deviceId: 'cam-01', name: 'Gate "north", 1', values: [120, 180] },
      { deviceId: 'nvr-01', name: 'NVR', values: [40, null] },
    ]);
    expect(isChartable(response)).toBe(true);
    // The weeks start in the report's zone, and the charts label them there (format.ts
    // axisLabels); a report kept before customers had UTC weeks.
    expect(response.timeZone).toBe(withTrends.timeZone ?? 'UTC');
    expect(trendSeries({ ...withTrends, timeZone: 'Asia/Shanghai' }, 'responseMs').timeZone).toBe(
      'Asia/Shanghai',
    );
    // Only the NVR records: the cameras do not appear on the continuity chart.
    const recording = trendSeries(withTrends, 'recordingPct');
    expect(recording.devices).toEqual([{ deviceId: 'nvr-01', name: 'NVR', values: [100, 97.5] }]);
    // Nothing measured: no lines, shown as "no readings".
    expect(trendSeries(withTrends, 'clockOffsetS').devices).toEqual([]);
    expect(isChartable(trendSeries(withTrends, 'clockOffsetS'))).toBe(false);
  });

  it('shows a table, not a chart, when the period has a single week', () => {
    const oneWeek: InspectionReport = {
      ...report,
      trends: [
        {
          deviceId: 'cam-01',
          weekStart: '2026-11-23T00:00:00.000Z',
          responseMs: 95,
          clockOffsetS: 0.4,
          storageUsedPct: null,
          retentionDays: null,
          recordingPct: null,
        },
      ],
    };
    const trend = trendSeries(oneWeek, 'clockOffsetS');
    expect(trend.devices).toEqual([{ deviceId: 'cam-01', name: 'Gate "north", 1', values: [0.4] }]);
    expect(isChartable(trend)).toBe(false);
    // The one-week table: the rows with a reading, every figure in its columns.
    const empty = {
      ...oneWeek.trends[0]!,
      deviceId: 'cam-02',
      responseMs: null,
      clockOffsetS: null,
    };
    expect(trendRows({ ...oneWeek, trends: [empty, ...oneWeek.trends] })).toEqual(oneWeek.trends);
  });

  it("names a week by its Monday in the report's zone, not by the instant's UTC date", () => {
    // Monday 26 October 2026, 00:00 Beijing time, is Sunday 16:00 UTC.
    expect(weekDay('2026-10-25T16:00:00.000Z', 'Asia/Shanghai')).toBe('2026-10-26');
    expect(weekDay('2026-10-26T04:00:00.000Z', 'America/New_York')).toBe('2026-10-26');
    // A report kept before customers: UTC weeks.
    expect(weekDay('2026-11-02T00:00:00.000Z')).toBe('2026-11-02');
  });
});
