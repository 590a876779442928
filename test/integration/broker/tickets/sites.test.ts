/** Site metadata over the API: edited by an admin, imported from CSV, read by anyone. */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCsv } from '../../../../broker/sites/csv.js';
import { camera, deskApi, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';

describe('sites API', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let admin = '';
  let operator = '';

  beforeEach(async () => {
    f = await makeDesk();
    const { app: api, tokens } = await deskApi(f, {
      admin: { username: 'ada', password: 'admin password 12345', role: 'admin' },
      operator: { username: 'olga', password: 'operator password 123', role: 'operator' },
    });
    app = api;
    admin = tokens.admin;
    operator = tokens.operator;
  });

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  const call = (token: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  it('edits a site and a device (admin only) and audits it', async () => {
    expect(
      (await call(operator, 'PUT', '/api/sites/demo-site', { customer: 'X' })).statusCode,
    ).toBe(403);
    const site = await call(admin, 'PUT', '/api/sites/demo-site', {
      name: 'Demo plant',
      customer: 'Example Logistics',
      acceptedOn: '2024-01-15',
      retentionGoalDays: 30,
    });
    expect(site.json()).toMatchObject({ customer: 'Example Logistics', acceptedOn: '2024-01-15' });
    const device = await call(admin, 'PUT', '/api/sites/demo-site/devices/cam-01', {
      criticality: 'high',
      recorderId: 'nvr-01',
    });
    expect(device.json()).toMatchObject({
      criticality: 'high',
      recorderId: 'nvr-01',
      warrantyEndsOn: null,
    });
    const read = await call(operator, 'GET', '/api/sites/demo-site');
    expect(read.json().devices).toHaveLength(1);
    // The site's changes (the logins of the test's users are audited too).
    const siteChanges = (await f.desk.audit.list()).filter((a) => a.action.startsWith('site.'));
    expect(siteChanges.map((a) => a.action)).toEqual(['site.device', 'site.put']);
  });

  it('imports CSV with quotes; refuses the whole file when a row is wrong', async () => {
    const csv = [
      'site,name,customer,accepted_on,retention_goal_days,device,criticality,recorder,warranty_ends_on,replaced_on',
      'north,North depot,"Acme, Inc.",2024-03-01,45,,,,,',
      'north,,,,,cam-01,high,nvr-01,,',
      'north,,,,,cam-02,low,nvr-01,,2026-02-10',
      'north,,,,,nvr-01,,,2027-12-31,',
    ].join('\r\n');
    const res = await call(admin, 'POST', '/api/sites/import', { csv });
    expect(res.json()).toEqual({ sites: 1, devices: 3 });
    const site = (await call(operator, 'GET', '/api/sites/north')).json();
    expect(site).toMatchObject({
      customer: 'Acme, Inc.',
      retentionGoalDays: 45,
      acceptedOn: '2024-03-01',
    });
    expect(site.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'cam-01',
      'cam-02',
      'nvr-01',
    ]);

    const bad = await call(admin, 'POST', '/api/sites/import', {
      csv: 'site,device,criticality\nsouth,cam-01,urgent\n',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toEqual(['line 2: criticality "urgent" is not high, normal or low']);
    expect(
      (await call(operator, 'GET', '/api/sites')).json().map((s: { id: string }) => s.id),
    ).toEqual(['north']);
  });

  it('parses RFC 4180 quoting', async () => {
    expect(parseCsv('a,"b ""c""","d\ne"\n1,2,3')).toEqual([
      ['a', 'b "c"', 'd\ne'],
      ['1', '2', '3'],
    ]);
  });

  it('rolls every site up from the registry, maintenance and agent liveness', async () => {
    type Rollup = { siteId: string; name: string; state: string; counts: object };
    const rollup = async () =>
      Object.fromEntries(
        ((await call(operator, 'GET', '/api/rollup')).json() as Rollup[]).map((r) => [r.siteId, r]),
      );
    f.registry.put(camera('cam-01', { siteId: 'demo-site' }));
    f.registry.put(camera('cam-02', { siteId: 'demo-site', status: 'down' }));
    f.registry.put(camera('cam-09', { siteId: 'north' }));
    await call(admin, 'PUT', '/api/sites/north', { name: 'North yard' });
    let sites = await rollup();
    expect(sites['demo-site']).toMatchObject({
      state: 'down',
      counts: { up: 1, down: 1, degraded: 0, unknown: 0 },
    });
    expect(sites['north']).toMatchObject({ name: 'North yard', state: 'ok' });

    // The gateway agent goes away: the detector's site ticket makes the site unreachable.
    f.agentOnline('gw-01');
    f.agentOffline('gw-01', 'connection-lost');
    await f.advance(5 * 60_000, false);
    expect((await f.open()).map((t) => t.fault)).toContain('site-unreachable');
    // A site-wide window in force on the other site.
    await f.desk.maintenance.create(
      { siteId: 'north', durationMin: 30, reason: 'switch upgrade' },
      'ada',
    );
    sites = await rollup();
    expect(sites['demo-site']).toMatchObject({ state: 'unreachable', agentsOffline: 1 });
    expect(sites['north']).toMatchObject({ state: 'maintenance', inMaintenance: true });

    // The agent is back, the window over: the figures follow.
    f.agentOnline('gw-01');
    await f.advance(31 * 60_000);
    sites = await rollup();
    expect(sites['demo-site']).toMatchObject({ state: 'down', agentsOffline: 0 });
    expect(sites['north']).toMatchObject({ state: 'ok', inMaintenance: false });
  });
});
