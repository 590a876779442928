/**
 * The inspection report on a month of generated history with known outages, a known
 * maintenance window, known tickets and known readings: every figure must be the one
 * that was injected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InspectionReport } from '../../../shared/api/inspection.js';
import { validator } from '../../../shared/validate.js';
import { EmbeddedMetricsStore } from '../../../broker/metrics/embedded.js';
import type { MetricPoint } from '../../../broker/metrics/store.js';
import { camera, deskApi, makeDesk, type DeskFixture } from './detect/desk-fixture.js';
import { deviceDown } from '../../../broker/detect/rules/device-down.js';

const MIN = 60_000;
const site = 'demo-site';
const at = (iso: string) => new Date(iso);

describe('inspection report', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let metrics: EmbeddedMetricsStore;
  let dir: string;
  let token = '';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-inspection-'));
    metrics = new EmbeddedMetricsStore({ file: join(dir, 'metrics.db') });
    await metrics.start();
    f = await makeDesk({}, [
      camera('cam-01', { name: 'Gate' }),
      camera('cam-02', { name: 'Yard' }),
      camera('cam-03', { name: 'Dock' }),
      camera('nvr-01', { kind: 'nvr', name: 'Recorder' }),
    ]);
    const { history, sites, maintenance, tickets, customers } = f.desk;
    // The history below is written in UTC months: the customer's zone is UTC, so every
    // figure stays the one injected (periods in other zones: customers/periods.test.ts).
    await customers.create({ id: 'example-logistics', name: 'Example Logistics', timeZone: 'UTC' });
    await sites.put(site, {
      name: 'Demo plant',
      customer: 'Example Logistics',
      acceptedOn: '2023-12-15',
      retentionGoalDays: 30,
    });
    await sites.putDevice(site, 'cam-02', { replacedOn: '2026-06-01' });

    // Everyone up since before the month.
    for (const id of ['cam-01', 'cam-02', 'cam-03', 'nvr-01'])
      await history.record(site, id, 'up', at('2026-10-31T00:00:00Z'));
    // cam-01: three outages of 30 min, 2 h (half in maintenance) and 15 min.
    const outage = async (id: string, from: string, to: string) => {
      await history.record(site, id, 'down', at(from));
      await history.record(site, id, 'up', at(to));
    };
    await outage('cam-01', '2026-11-03T10:00:00Z', '2026-11-03T10:30:00Z');
    await outage('cam-01', '2026-11-10T02:00:00Z', '2026-11-10T04:00:00Z');
    await outage('cam-01', '2026-11-20T12:00:00Z', '2026-11-20T12:15:00Z');
    // cam-03: down across the month's end: 60 min fall in November.
    await outage('cam-03', '2026-11-30T23:00:00Z', '2026-12-01T01:00:00Z');
    f.clock.now = at('2026-11-01T00:00:00Z');
    await maintenance.create(
      {
        siteId: site,
        deviceId: 'cam-01',
        startsAt: '2026-11-10T03:00:00.000Z',
        endsAt: '2026-11-10T05:00:00.000Z',
        reason: 'cabling',
      },
      'alice',
    );
    await history.recordInventory(site, {
      deviceId: 'cam-02',
      at: '2026-11-15T09:00:00.000Z',
      kind: 'replaced',
      from: 'SN-OLD',
      to: 'SN-cam-02',
    });

    // Two emergency tickets: one answered in 5 min (met), one in 20 min (breached).
    const down = async (id: string, when: string) => {
      f.clock.now = at(when);
      await tickets.apply(deviceDown(camera(id, { status: 'down' }), f.clock.now));
      return (await tickets.list({ status: 'open', deviceId: id }))[0]!;
    };
    const t1 = await down('cam-01', '2026-11-03T10:00:00Z');
    f.clock.now = new Date(f.clock.now.getTime() + 5 * MIN);
    await tickets.act(t1.id, { action: 'resolve', cause: 'loose cable', fix: 'recrimped' }, 'olga');
    const t2 = await down('cam-03', '2026-11-30T23:00:00Z');
    f.clock.now = new Date(f.clock.now.getTime() + 20 * MIN);
    await tickets.tick();
    await tickets.act(t2.id, { action: 'acknowledge' }, 'olga');

    // Readings: NVR retention 40 days, then 20 in the third week; cam-02's clock 12 s off once.
    const points: MetricPoint[] = [];
    for (let day = 1; day <= 30; day++) {
      const time = at(`2026-11-${String(day).padStart(2, '0')}T12:00:00Z`);
      points.push({
        measurement: 'device',
        tags: { site, agent: 'gw-01', device: 'nvr-01', kind: 'nvr' },
        fields: {
          retentionDays: day >= 16 && day <= 22 ? 20 : 40,
          recordingsStopped: day === 3 ? 1 : 0,
        },
        time,
      });
      points.push({
        measurement: 'device',
        tags: { site, agent: 'gw-01', device: 'cam-02', kind: 'camera' },
        fields: { responseMs: 10, clockOffsetS: day === 9 ? -12 : 0.5 },
        time,
      });
    }
    await metrics.write(points);

    f.clock.now = at('2026-12-02T08:00:00Z');
    const api = await deskApi(
      f,
      { vera: { username: 'vera', password: 'viewer password 123', role: 'viewer' } },
      { metrics },
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

  const get = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  it('computes availability, outages, MTTR and MTBF as injected, maintenance excluded', async () => {
    const res = await get(`/api/sites/${site}/inspection?period=2026-11`);
    expect(res.statusCode).toBe(200);
    const report = res.json<InspectionReport>();
    expect(validator(InspectionReport)(report).ok).toBe(true);
    expect(report).toMatchObject({
      period: '2026-11',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
      customer: 'Example Logistics',
    });
    const cam1 = report.devices.find((d) => d.deviceId === 'cam-01')!;
    const month = 30 * 24 * 3600;
    // 2 h of maintenance; of the 2 h outage, 1 h was inside it.
    expect(cam1.maintenanceS).toBe(7200);
    expect(cam1.observedS).toBe(month - 7200);
    expect(cam1.outages).toEqual({ count: 3, totalS: (30 + 60 + 15) * 60, longestS: 3600 });
    expect(cam1.mttrS).toBe(35 * 60);
    expect(cam1.mtbfS).toBeCloseTo((month - 7200 - 105 * 60) / 3, 1);
    expect(cam1.availabilityPct).toBeCloseTo(((month - 7200 - 6300) / (month - 7200)) * 100, 3);
    const cam2 = report.devices.find((d) => d.deviceId === 'cam-02')!;
    expect(cam2).toMatchObject({
      availabilityPct: 100,
      outages: { count: 0, totalS: 0, longestS: 0 },
      mttrS: null,
    });
    const cam3 = report.devices.find((d) => d.deviceId === 'cam-03')!;
    expect(cam3.outages).toEqual({ count: 1, totalS: 3600, longestS: 3600 });

    // Tickets: emergency, 2 tickets; t1 met all three deadlines; t2 answered late and is
    // still not on site nor resolved two days later: three breaches.
    const emergency = report.tickets.find((t) => t.priority === 'emergency')!;
    expect(emergency).toMatchObject({ tickets: 2, met: 3, breached: 3, compliancePct: 50 });

    // Warranty: 3 years from acceptance (2023-12-15) ends within 90 days; the replaced
    // camera restarted its warranty.
    expect(cam1.warranty).toEqual({ endsOn: '2026-12-15', state: 'ending-soon' });
    expect(cam2.warranty).toEqual({ endsOn: '2029-06-01', state: 'in-warranty' });
    expect(report.warrantyEndingSoon).toEqual(['cam-01', 'cam-03', 'nvr-01']);
    expect(report.inventoryChanges).toEqual([
      {
        deviceId: 'cam-02',
        at: '2026-11-15T09:00:00.000Z',
        kind: 'replaced',
        from: 'SN-OLD',
        to: 'SN-cam-02',
      },
    ]);
  });

  it('gives weekly trends and suggestions with the figures behind them', async () => {
    const report = (
      await get(`/api/sites/${site}/inspection?period=2026-11`)
    ).json<InspectionReport>();
    const nvrWeeks = report.trends.filter((t) => t.deviceId === 'nvr-01');
    // ISO weeks touching November 2026: Mondays Oct 26, Nov 2, 9, 16, 23, 30.
    expect(nvrWeeks.map((w) => w.weekStart.slice(0, 10))).toEqual([
      '2026-10-26',
      '2026-11-02',
      '2026-11-09',
      '2026-11-16',
      '2026-11-23',
      '2026-11-30',
    ]);
    expect(nvrWeeks.map((w) => w.retentionDays)).toEqual([40, 40, 40, 20, 40, 40]);
    // Recording stopped on November 3 (a Tuesday): 6 of that week's 7 days continuous.
    expect(nvrWeeks.map((w) => w.recordingPct)).toEqual([100, 85.71, 100, 100, 100, 100]);
    const cam2Weeks = report.trends.filter((t) => t.deviceId === 'cam-02');
    // November 9 is a Monday: the third week.
    expect(cam2Weeks.map((w) => w.clockOffsetS)).toEqual([0.5, 0.5, 12, 0.5, 0.5, 0.5]);
    expect(cam2Weeks[0]?.responseMs).toBe(10);

    const byRule = (rule: string) => report.suggestions.filter((s) => s.rule === rule);
    expect(byRule('frequent-failures')).toEqual([
      expect.objectContaining({
        deviceId: 'cam-01',
        figures: { outages: 3, downMin: 105, longestMin: 60 },
      }),
    ]);
    // The customer's language (zh-CN by default); ?locale=en gives English (below).
    expect(byRule('frequent-failures')[0]?.text).toMatch(/交换机 PoE 供电端口/);
    expect(byRule('retention-below-goal')).toEqual([
      expect.objectContaining({ deviceId: 'nvr-01', figures: { retentionDays: 20, goalDays: 30 } }),
    ]);
    expect(byRule('clock-drift')[0]?.figures).toEqual({ clockOffsetS: 12 });
    expect(byRule('sla-breaches')[0]?.figures).toEqual({
      priority: 'emergency',
      met: 3,
      breached: 3,
    });
    expect(byRule('warranty-ending').map((s) => s.deviceId)).toEqual([
      'cam-01',
      'cam-03',
      'nvr-01',
    ]);
  });

  it('gives every device of the site its own trends, from one query per field for the whole site', async () => {
    const reading = (tags: Record<string, string>, iso: string, fields: MetricPoint['fields']) => ({
      measurement: 'device',
      tags: { agent: 'gw-01', kind: 'camera', ...tags },
      fields,
      time: at(iso),
    });
    await metrics.write([
      // cam-01: 30 ms in the mornings and 50 ms in the evenings of the week of November 2.
      ...['03', '04', '05'].flatMap((day) => [
        reading({ site, device: 'cam-01' }, `2026-11-${day}T06:00:00Z`, { responseMs: 30 }),
        reading({ site, device: 'cam-01' }, `2026-11-${day}T18:00:00Z`, { responseMs: 50 }),
      ]),
      // cam-03: one reading on the last day, its clock 3 s behind.
      reading({ site, device: 'cam-03' }, '2026-11-30T12:00:00Z', {
        responseMs: 5,
        clockOffsetS: -3,
      }),
      // Another site's cam-01, and a device this site does not list: in no figure.
      reading({ site: 'other-site', device: 'cam-01' }, '2026-11-03T12:00:00Z', {
        responseMs: 1000,
      }),
      reading({ site, device: 'cam-99' }, '2026-11-03T12:00:00Z', { responseMs: 1000 }),
    ]);
    const report = (
      await get(`/api/sites/${site}/inspection?period=2026-11`)
    ).json<InspectionReport>();
    const empty = { storageUsedPct: null, retentionDays: null, recordingPct: null };
    expect(report.trends.filter((t) => t.deviceId === 'cam-01')).toEqual([
      {
        deviceId: 'cam-01',
        weekStart: '2026-11-02T00:00:00.000Z',
        responseMs: 40,
        clockOffsetS: null,
        ...empty,
      },
    ]);
    expect(report.trends.filter((t) => t.deviceId === 'cam-03')).toEqual([
      {
        deviceId: 'cam-03',
        weekStart: '2026-11-30T00:00:00.000Z',
        responseMs: 5,
        clockOffsetS: 3,
        ...empty,
      },
    ]);
    // Unchanged by the others: the figures of the test above.
    const cam2Weeks = report.trends.filter((t) => t.deviceId === 'cam-02');
    expect(cam2Weeks.map((w) => [w.responseMs, w.clockOffsetS])).toEqual([
      [10, 0.5],
      [10, 0.5],
      [10, 12],
      [10, 0.5],
      [10, 0.5],
      [10, 0.5],
    ]);
    expect(
      report.trends.filter((t) => t.deviceId === 'nvr-01').map((w) => w.retentionDays),
    ).toEqual([40, 40, 40, 20, 40, 40]);
    // Device by device in the report's order, each device's weeks in order.
    expect(report.trends.map((t) => `${t.deviceId} ${t.weekStart.slice(0, 10)}`)).toEqual([
      'cam-01 2026-11-02',
      ...cam2Weeks.map((w) => `cam-02 ${w.weekStart.slice(0, 10)}`),
      'cam-03 2026-11-30',
      ...['10-26', '11-02', '11-09', '11-16', '11-23', '11-30'].map((d) => `nvr-01 2026-${d}`),
    ]);
  });

  it('counts every ticket of a period, more than one page of the ticket list', async () => {
    // 1,100 cameras each down once on November 12, besides the two tickets above; some in
    // the same clock beat (the same millisecond), as a site-wide event opens them.
    for (let i = 0; i < 1100; i++) {
      f.clock.now = new Date(Date.parse('2026-11-12T10:00:00Z') + Math.floor(i / 4) * 1000);
      const id = `cam-x${String(i).padStart(4, '0')}`;
      await f.desk.tickets.apply(deviceDown(camera(id, { status: 'down' }), f.clock.now));
    }
    f.clock.now = at('2026-12-02T08:00:00Z');
    const report = (
      await get(`/api/sites/${site}/inspection?period=2026-11`)
    ).json<InspectionReport>();
    expect(report.tickets.find((t) => t.priority === 'emergency')?.tickets).toBe(1102);
    expect(report.devices.find((d) => d.deviceId === 'cam-01')?.tickets).toBe(1);
  });

  it('covers a quarter and prints as HTML', async () => {
    const quarter = (
      await get(`/api/sites/${site}/inspection?period=2026-Q4`)
    ).json<InspectionReport>();
    expect(quarter).toMatchObject({
      from: '2026-10-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
    });
    // Only the past counts: October 1 to now (December 2, 08:00); cam-01 still 3 outages.
    expect(quarter.devices.find((d) => d.deviceId === 'cam-01')?.outages.count).toBe(3);
    const html = await get(`/api/sites/${site}/inspection.html?period=2026-11&locale=en`);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('Preventive inspection');
    expect(html.body).toContain('cabling and PoE');
    expect((await get(`/api/sites/${site}/inspection?period=2026-13`)).statusCode).toBe(400);
  });
});
