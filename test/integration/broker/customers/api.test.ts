/**
 * Customers through the real HTTP API over the ticket desk on a SQLite file: admins write
 * them, everyone signed in reads them; sites belong to them; their contract's deadlines
 * run a site's tickets; reports and figures are periods in their time zone, with an
 * outage across a month's local midnight split between the two months.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Customer, CustomerFigures } from '../../../../shared/api/customers.js';
import { InspectionReport } from '../../../../shared/api/inspection.js';
import { customerPath, inspectionPath, sitePath } from '../../../../shared/api/routes.js';
import type { Ticket } from '../../../../shared/api/tickets.js';
import { validator } from '../../../../shared/validate.js';
import { deviceDown } from '../../../../broker/detect/rules/device-down.js';
import { login } from '../api/fixture.js';
import { camera, deskApi, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';

const at = (iso: string) => new Date(iso);

describe('customers API', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let admin = '';
  let operator = '';
  let viewer = '';

  beforeEach(async () => {
    f = await makeDesk({}, [
      camera('cam-01', { siteId: 'north' }),
      camera('cam-02', { siteId: 'north' }),
      camera('cam-09', { siteId: 'south' }),
    ]);
    const { app: api, tokens } = await deskApi(f, {
      admin: { username: 'ada', password: 'admin password 12345', role: 'admin' },
      operator: { username: 'olga', password: 'operator password 123', role: 'operator' },
      viewer: { username: 'vera', password: 'viewer password 1234', role: 'viewer' },
    });
    app = api;
    admin = tokens.admin;
    operator = tokens.operator;
    viewer = tokens.viewer;
  });

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  /** Moves the clock past the sessions' 12 h and signs in again. */
  const later = async (iso: string) => {
    f.clock.now = at(iso);
    admin = (await login(app, { username: 'ada', password: 'admin password 12345' })).token;
    viewer = (await login(app, { username: 'vera', password: 'viewer password 1234' })).token;
  };

  const call = (
    token: string,
    method: 'GET' | 'PUT' | 'POST' | 'PATCH',
    url: string,
    payload?: object,
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  it('lets an admin create and change a customer, everyone read it, and audits the writes', async () => {
    const body = { id: 'acme', name: 'Acme Security', timeZone: 'Asia/Shanghai', locale: 'zh-CN' };
    expect((await call(operator, 'POST', '/api/customers', body)).statusCode).toBe(403);
    const made = await call(admin, 'POST', '/api/customers', body);
    expect(made.statusCode).toBe(201);
    expect(validator(Customer)(made.json()).ok).toBe(true);
    expect(made.json()).toMatchObject({ ...body, contractIsTemplate: true, sites: [] });
    expect((await call(admin, 'POST', '/api/customers', body)).statusCode).toBe(409);

    const bad = await call(admin, 'POST', '/api/customers', {
      id: 'x',
      name: 'X',
      timeZone: 'CST',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.join('\n')).toMatch(/timeZone: "CST".*Asia\/Shanghai/);

    const patch = { locale: 'en', contract: { sla: { emergency: { respondMin: 5 } } } };
    expect((await call(operator, 'PATCH', customerPath('acme'), patch)).statusCode).toBe(403);
    const changed = await call(admin, 'PATCH', customerPath('acme'), patch);
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      locale: 'en',
      contractIsTemplate: false,
      contract: { sla: { emergency: { respondMin: 5, onSiteMin: 120 } } },
    });

    const list = await call(viewer, 'GET', '/api/customers');
    expect(list.json().map((c: Customer) => c.id)).toEqual(['acme']);
    expect((await call(viewer, 'GET', customerPath('acme'))).json().locale).toBe('en');
    const missing = await call(viewer, 'GET', customerPath('nobody'));
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toMatch(/GET \/api\/customers/);
    // The routes are in the OpenAPI document, from their schemas.
    const doc = (await call(viewer, 'GET', '/api/openapi.json')).json<{ paths: object }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/customers',
        '/api/customers/{id}',
        '/api/customers/{id}/figures',
      ]),
    );
    expect(
      (await f.desk.audit.list()).map((a) => a.action).filter((a) => a.startsWith('customer.')),
    ).toEqual(['customer.patch', 'customer.create']);
  });

  it("puts a site under a customer, refuses an unknown one, and runs its tickets on the customer's deadlines", async () => {
    await call(admin, 'POST', '/api/customers', {
      id: 'acme',
      name: 'Acme',
      contract: { sla: { emergency: { respondMin: 5, onSiteMin: 60 } } },
    });
    const unknown = await call(admin, 'PUT', sitePath('north'), { customerId: 'ghost' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().details[0]).toMatch(/customerId: no customer "ghost"/);
    const site = await call(admin, 'PUT', sitePath('north'), { customerId: 'acme' });
    expect(site.json()).toMatchObject({ customerId: 'acme', customer: 'Acme' });
    expect((await call(viewer, 'GET', customerPath('acme'))).json().sites).toEqual(['north']);

    const open = async (id: string, siteId: string): Promise<Ticket> => {
      await f.desk.tickets.apply(deviceDown(camera(id, { siteId, status: 'down' }), f.clock.now));
      return (await f.desk.tickets.list({ status: 'open', deviceId: id }))[0]!;
    };
    const allowed = (ticket: Ticket) =>
      Object.fromEntries(ticket.sla.map((clock) => [clock.deadline, clock.allowedMin]));
    const north = await open('cam-01', 'north');
    expect(allowed(north)).toEqual({ respond: 5, 'on-site': 60, resolve: 240 });
    // Its printed incident report is a document for the customer: in its language (zh-CN),
    // Beijing time, with the offset.
    const html = await call(viewer, 'GET', `/api/tickets/${north.id}/report.html`);
    expect(html.body).toContain('时间（Asia/Shanghai）');
    expect(html.body).toContain('2026年11月26日 16:00（UTC+08:00）');
    // A site without a customer keeps the broker's deadlines.
    expect(allowed(await open('cam-09', 'south'))).toEqual({
      respond: 10,
      'on-site': 120,
      resolve: 240,
    });
  });

  it("splits an outage across a month's local midnight between the two months' reports", async () => {
    await call(admin, 'POST', '/api/customers', { id: 'acme', name: 'Acme' });
    await call(admin, 'PUT', sitePath('north'), { customerId: 'acme' });
    const { history } = f.desk;
    for (const id of ['cam-01', 'cam-02'])
      await history.record('north', id, 'up', at('2026-10-01T00:00:00Z'));
    // 23:30 to 00:30 Beijing time, 30 November into 1 December.
    await history.record('north', 'cam-01', 'down', at('2026-11-30T15:30:00Z'));
    await history.record('north', 'cam-01', 'up', at('2026-11-30T16:30:00Z'));
    await later('2026-12-06T00:00:00Z');

    const report = async (period: string) => {
      const res = await call(viewer, 'GET', inspectionPath('north', period));
      expect(res.statusCode).toBe(200);
      const body = res.json<InspectionReport>();
      expect(validator(InspectionReport)(body).ok).toBe(true);
      return body;
    };
    const november = await report('2026-11');
    expect(november).toMatchObject({
      period: '2026-11',
      timeZone: 'Asia/Shanghai',
      from: '2026-10-31T16:00:00.000Z',
      to: '2026-11-30T16:00:00.000Z',
    });
    const december = await report('2026-12');
    expect(december).toMatchObject({ timeZone: 'Asia/Shanghai', from: '2026-11-30T16:00:00.000Z' });
    const cam = (r: InspectionReport) => r.devices.find((d) => d.deviceId === 'cam-01')!;
    expect(cam(november).outages).toEqual({ count: 1, totalS: 1800, longestS: 1800 });
    expect(cam(december).outages).toEqual({ count: 1, totalS: 1800, longestS: 1800 });

    // The printed report shows Beijing time with its offset.
    const html = await call(viewer, 'GET', inspectionPath('north', '2026-11', true));
    expect(html.body).toContain('2026年11月1日 00:00（UTC+08:00）');
    expect(html.body).toContain('2026年12月1日 00:00（UTC+08:00）');

    // The customer's zone moves the edges: in New York November ends at 05:00Z.
    await call(admin, 'PATCH', customerPath('acme'), { timeZone: 'America/New_York' });
    expect(await report('2026-11')).toMatchObject({
      timeZone: 'America/New_York',
      from: '2026-11-01T04:00:00.000Z',
      to: '2026-12-01T05:00:00.000Z',
    });
  });

  it("gives a customer's availability and SLA compliance over its sites", async () => {
    await call(admin, 'POST', '/api/customers', { id: 'acme', name: 'Acme' });
    await call(admin, 'PUT', sitePath('north'), { customerId: 'acme' });
    await call(admin, 'PUT', sitePath('south'), { customerId: 'acme' });
    const { history, tickets } = f.desk;
    for (const [siteId, id] of [
      ['north', 'cam-01'],
      ['north', 'cam-02'],
      ['south', 'cam-09'],
    ] as const)
      await history.record(siteId, id, 'up', at('2026-10-31T16:00:00Z'));
    // cam-09 down for 3 h of November (Beijing time).
    await history.record('south', 'cam-09', 'down', at('2026-11-10T00:00:00Z'));
    await history.record('south', 'cam-09', 'up', at('2026-11-10T03:00:00Z'));
    // One emergency ticket answered in 4 min (respond met), resolved in 5 h (breached).
    f.clock.now = at('2026-11-10T00:00:00Z');
    await tickets.apply(
      deviceDown(camera('cam-09', { siteId: 'south', status: 'down' }), f.clock.now),
    );
    const ticket = (await tickets.list({ status: 'open', deviceId: 'cam-09' }))[0]!;
    f.clock.now = at('2026-11-10T00:04:00Z');
    await tickets.act(ticket.id, { action: 'acknowledge' }, 'olga');
    f.clock.now = at('2026-11-10T05:00:00Z');
    await tickets.act(
      ticket.id,
      { action: 'resolve', cause: 'PoE', fix: 'new switch port' },
      'olga',
    );
    await later('2026-12-06T00:00:00Z');

    const res = await call(viewer, 'GET', `${customerPath('acme', 'figures')}?period=2026-11`);
    expect(res.statusCode).toBe(200);
    const figures = res.json<CustomerFigures>();
    expect(validator(CustomerFigures)(figures).ok).toBe(true);
    const month = 30 * 86_400;
    expect(figures).toMatchObject({
      customerId: 'acme',
      timeZone: 'Asia/Shanghai',
      from: '2026-10-31T16:00:00.000Z',
      to: '2026-11-30T16:00:00.000Z',
      // Three cameras, a month each, 3 h down.
      availabilityPct: Math.round(((3 * month - 3 * 3600) / (3 * month)) * 100_000) / 1000,
      met: 1,
      breached: 2,
      compliancePct: 33.3,
    });
    expect(figures.sites.map((s) => [s.siteId, s.availabilityPct])).toEqual([
      ['north', 100],
      ['south', Math.round(((month - 3 * 3600) / month) * 100_000) / 1000],
    ]);
    const bad = await call(viewer, 'GET', `${customerPath('acme', 'figures')}?period=2026-13`);
    expect(bad.statusCode).toBe(400);
    expect(
      (await call(viewer, 'GET', `${customerPath('x', 'figures')}?period=2026-11`)).statusCode,
    ).toBe(404);
  });
});
