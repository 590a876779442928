/**
 * The inspection report's 12-month charts through the API: a site of a Beijing customer
 * with a year of history (status changes and readings, the readings' raw points already
 * past the embedded store's 30 days), its November report. The printed page has one point
 * per month in every chart, labelled in Chinese; the JSON has the 12 local months with the
 * figures injected; the weekly table's weeks start on Monday 00:00 Beijing time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import { ReportCache } from '../../../broker/inspection/cache.js';
import { CHART_SERIES } from '../../../broker/inspection/charts.js';
import { EmbeddedMetricsStore } from '../../../broker/metrics/embedded.js';
import type { MetricPoint } from '../../../broker/metrics/store.js';
import { camera, deskApi, makeDesk, type DeskFixture } from './detect/desk-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const site = 'demo-site';
/** Beijing midnight of a day: 16:00 UTC the day before. */
const beijing = (day: string) => Date.parse(`${day}T00:00:00+08:00`);

describe('inspection charts over 12 months', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let metrics: EmbeddedMetricsStore;
  let dir: string;
  let token = '';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-inspection-charts-'));
    metrics = new EmbeddedMetricsStore({ file: join(dir, 'metrics.db') });
    await metrics.start();
    f = await makeDesk({}, [camera('cam-01', { name: 'Gate' }), camera('nvr-01', { kind: 'nvr' })]);
    const { history, sites, customers } = f.desk;
    await customers.create({
      id: 'acme',
      name: 'Acme',
      timeZone: 'Asia/Shanghai',
      locale: 'zh-CN',
    });
    await sites.put(site, { name: 'Plant', customerId: 'acme', retentionGoalDays: 30 });
    for (const id of ['cam-01', 'nvr-01'])
      await history.record(site, id, 'up', new Date(beijing('2025-11-20')));
    // cam-01 down for an hour on the 1st of every month from 00:30 Beijing time: in that
    // month's report, not the month before (00:30 Beijing is 16:30 UTC the day before).
    const points: MetricPoint[] = [];
    for (let m = 0; m < 12; m++) {
      const first = new Date(Date.UTC(2025, 11 + m, 1)).toISOString().slice(0, 10);
      const down = beijing(first) + HOUR / 2;
      await history.record(site, 'cam-01', 'down', new Date(down));
      await history.record(site, 'cam-01', 'up', new Date(down + HOUR));
    }
    // A reading a day at noon Beijing time, December 2025 to November 2026; the month of
    // index m answers in 10 + m ms and the recorder is 50 + m % used.
    for (let day = beijing('2025-12-01'); day < beijing('2026-12-01'); day += DAY) {
      const month = new Date(day + 8 * HOUR).toISOString().slice(0, 7);
      const m = (Number(month.slice(0, 4)) - 2025) * 12 + Number(month.slice(5)) - 12;
      const time = new Date(day + 12 * HOUR);
      const tags = { site, agent: 'gw-01' };
      points.push(
        {
          measurement: 'device',
          tags: { ...tags, device: 'cam-01', kind: 'camera' },
          fields: { up: true, responseMs: 10 + m, clockOffsetS: 0.5 },
          time,
        },
        {
          measurement: 'device',
          tags: { ...tags, device: 'nvr-01', kind: 'nvr' },
          fields: { up: true, storageUsedPct: 50 + m, retentionDays: 31, recordingsStopped: 0 },
          time,
        },
      );
    }
    await metrics.write(points);
    // The readings older than 30 days leave the raw table; the charts read the rollups.
    await metrics.applyRetention();

    f.clock.now = new Date('2026-12-02T08:00:00Z');
    const api = await deskApi(
      f,
      { vera: { username: 'vera', password: 'viewer password 123', role: 'viewer' } },
      { metrics, reportCache: new ReportCache() },
    );
    app = api.app;
    token = api.tokens.vera;
  });

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
    await metrics?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (url: string) => {
    const response = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode, response.body).toBe(200);
    return response;
  };

  it('prints a chart per figure with a point for each of the 12 months, in Chinese', async () => {
    const html = (await get(`/api/sites/${site}/inspection.html?period=2026-11`)).body;
    expect(html).toContain('近12个月趋势');
    const charts = html.split('<svg').slice(1);
    expect(charts).toHaveLength(CHART_SERIES.length);
    for (const chart of charts) {
      const months = [...chart.matchAll(/<circle class="point" data-month="([\d-]+)"/g)].map(
        (m) => m[1],
      );
      expect(months, chart.slice(0, 80)).toHaveLength(12);
      expect(months[0]).toBe('2025-12');
      expect(months[11]).toBe('2026-11');
    }
    expect(html).not.toContain('<script');
    // November is over: asked again, the weeks and the months come from the report cache,
    // not one reading read.
    let trends = 0;
    const trend = metrics.trend.bind(metrics);
    const trendBy = metrics.trendBy.bind(metrics);
    metrics.trend = (query) => (trends++, trend(query));
    metrics.trendBy = (query) => (trends++, trendBy(query));
    const again = await get(`/api/sites/${site}/inspection.html?period=2026-11&locale=en`);
    expect(again.headers['x-vigil-report-cache']).toBe('hit');
    expect(trends).toBe(0);
    expect(again.body).toContain('The last 12 months');
    expect(again.body.match(/<circle class="point"/g)).toHaveLength(12 * CHART_SERIES.length);
  });

  it('gives the 12 local months with the figures injected, and weeks from Monday 00:00 Beijing', async () => {
    const report = JSON.parse(
      (await get(`/api/sites/${site}/inspection?period=2026-11`)).body,
    ) as InspectionReport;
    const monthly = report.monthly!;
    expect(monthly.map((m) => m.month)).toEqual([
      '2025-12',
      ...Array.from({ length: 11 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`),
    ]);
    // February 2026 in Beijing: from 16:00 UTC on 31 January, 28 days of two devices, one
    // hour down.
    const february = monthly[2]!;
    expect(february.from).toBe('2026-01-31T16:00:00.000Z');
    expect(february.to).toBe('2026-02-28T16:00:00.000Z');
    const observedH = 28 * 24 * 2;
    expect(february.availabilityPct).toBe(Math.round(((observedH - 1) / observedH) * 1e5) / 1e3);
    monthly.forEach((month, m) => {
      expect(month.responseMs, month.month).toBe(10 + m);
      expect(month.storageUsedPct, month.month).toBe(50 + m);
      expect(month.retentionDays, month.month).toBe(31);
      expect(month.recordingPct, month.month).toBe(100);
      expect(month.clockOffsetS, month.month).toBe(0.5);
    });
    // November 2026 starts on a Sunday: its first week is Monday 26 October, Beijing time.
    const weeks = report.trends.filter((t) => t.deviceId === 'nvr-01').map((t) => t.weekStart);
    expect(weeks).toEqual([
      '2026-10-25T16:00:00.000Z',
      '2026-11-01T16:00:00.000Z',
      '2026-11-08T16:00:00.000Z',
      '2026-11-15T16:00:00.000Z',
      '2026-11-22T16:00:00.000Z',
      '2026-11-29T16:00:00.000Z',
    ]);
  });
});
