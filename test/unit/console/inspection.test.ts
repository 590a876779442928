import { describe, expect, it } from 'vitest';
import {
  csvColumns,
  currentMonth,
  inspectionCsv,
  recentPeriods,
} from '../../../console/src/data/inspection.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
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
    expect(currentMonth(now)).toBe('2026-11');
    const { months, quarters } = recentPeriods(now, 12);
    expect(months.slice(0, 3)).toEqual(['2026-11', '2026-10', '2026-09']);
    expect(quarters.slice(0, 2)).toEqual(['2026-Q4', '2026-Q3']);
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
});
