/**
 * The contract's work order through the HTTP API, as the NOC uses it: list and filter,
 * acknowledge, dispatch an engineer, on site, note, resolve with cause and fix, close
 * with the customer's confirmation; roles; the audit trail; the incident report; the
 * SLA clocks with a controllable clock (warning at 80 % or the configured share, breach,
 * pause in maintenance).
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentReport, Ticket } from '../../../../shared/api/tickets.js';
import { validator } from '../../../../shared/validate.js';
import { resolveDeskConfig } from '../../../../broker/wiring/desk-config.js';
import { countdownState } from '../../../../console/src/countdown.js';
import { deadlinesOf } from '../../../../console/src/data/tickets.js';
import { camera, deskApi, deskUsers, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';

const MINUTE = 60_000;
const users = deskUsers;
const checkTicket = validator(Ticket);
const checkReport = validator(IncidentReport);

describe('ticket work order over the API', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let tokens: Record<keyof typeof users, string> = { viewer: '', operator: '', admin: '' };
  const as = (who: keyof typeof users) => ({ authorization: `Bearer ${tokens[who]}` });

  const act = (id: number, body: object, who: keyof typeof users = 'operator') =>
    app.inject({
      method: 'POST',
      url: `/api/tickets/${id}/actions`,
      headers: as(who),
      payload: body,
    });

  /** cam-03 down (an isolated failure: no hold): one open emergency ticket. */
  async function openTicket(): Promise<Ticket> {
    f.report('cam-03', 'down');
    await f.settle();
    const [ticket] = await f.open();
    if (!ticket) throw new Error('no ticket opened');
    return ticket;
  }

  /** The desk with `config` (the broker config file's shape), its API, and logged-in users. */
  async function start(config: Parameters<typeof resolveDeskConfig>[0] = {}): Promise<void> {
    f = await makeDesk(resolveDeskConfig(config), [camera('cam-03'), camera('cam-04')]);
    ({ app, tokens } = await deskApi(f, users));
  }

  beforeEach(() => start());

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  it('takes every step with who and when, meets the clocks, audits, and closes', async () => {
    const ticket = await openTicket();
    const opened = f.clock.now.getTime();

    await f.advance(2 * MINUTE);
    let res = await act(ticket.id, { action: 'acknowledge', note: 'looking' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'acknowledged',
      respondedBy: 'olga',
      respondedAt: new Date(opened + 2 * MINUTE).toISOString(),
    });

    await f.advance(3 * MINUTE);
    res = await act(ticket.id, { action: 'dispatch', engineer: 'Wang Lei' });
    expect(res.json()).toMatchObject({
      status: 'dispatched',
      engineer: 'Wang Lei',
      dispatchedBy: 'olga',
    });

    await f.advance(50 * MINUTE);
    res = await act(ticket.id, { action: 'on-site' });
    expect(res.json()).toMatchObject({ status: 'on-site', onSiteReportedBy: 'olga' });
    res = await act(ticket.id, { action: 'note', text: 'PoE port 7 dead' });
    expect(res.statusCode).toBe(200);

    // Closing before resolving is out of order: 409 with what to do.
    res = await act(ticket.id, { action: 'close', confirmation: 'ok' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'VIGIL_CONFLICT' });
    expect(res.json().message).toMatch(/Resolve it first/);

    await f.advance(10 * MINUTE);
    res = await act(ticket.id, {
      action: 'resolve',
      cause: 'PoE port failed',
      fix: 'moved to port 9',
    });
    const resolved = res.json<Ticket>();
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolvedBy: 'olga',
      cause: 'PoE port failed',
    });
    expect(resolved.sla.map((c) => [c.deadline, c.state])).toEqual([
      ['respond', 'met'],
      ['on-site', 'met'],
      ['resolve', 'met'],
    ]);

    res = await act(ticket.id, { action: 'close', confirmation: 'Customer Li confirmed by phone' });
    const closed = res.json<Ticket>();
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'olga' });
    expect(checkTicket(closed).ok).toBe(true);
    expect(closed.timeline.map((e) => [e.kind, e.actor])).toEqual([
      ['detected', 'system'],
      ['acknowledged', 'olga'],
      ['dispatched', 'olga'],
      ['on-site', 'olga'],
      ['note', 'olga'],
      ['resolved', 'olga'],
      ['closed', 'olga'],
    ]);

    // The audit trail: every action, who, when, what; admins only.
    expect((await app.inject({ url: '/api/audit', headers: as('operator') })).statusCode).toBe(403);
    const audit = (await app.inject({ url: '/api/audit', headers: as('admin') })).json();
    // The ticket's steps (the logins of the test's users are audited too).
    const steps = audit.filter((a: { action: string }) => a.action.startsWith('ticket.'));
    expect(steps.map((a: { action: string }) => a.action)).toEqual([
      'ticket.close',
      'ticket.resolve',
      'ticket.note',
      'ticket.on-site',
      'ticket.dispatch',
      'ticket.acknowledge',
    ]);
    expect(steps[0]).toMatchObject({ actor: 'olga', target: `ticket:${ticket.id}` });

    // The incident report, JSON and printable HTML.
    const report = (
      await app.inject({ url: `/api/tickets/${ticket.id}/report`, headers: as('viewer') })
    ).json();
    expect(checkReport(report).ok).toBe(true);
    expect(report).toMatchObject({
      engineer: 'Wang Lei',
      cause: 'PoE port failed',
      fix: 'moved to port 9',
      confirmation: 'Customer Li confirmed by phone',
      slaMet: true,
      durationS: 65 * 60,
    });
    const html = await app.inject({
      url: `/api/tickets/${ticket.id}/report.html?locale=en`,
      headers: as('viewer'),
    });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('Wang Lei');
    expect(html.body).toContain('all deadlines met');
  });

  it('lets a viewer read but not act', async () => {
    const ticket = await openTicket();
    const res = await act(ticket.id, { action: 'acknowledge' }, 'viewer');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('VIGIL_FORBIDDEN');
    expect(
      (await app.inject({ url: `/api/tickets/${ticket.id}`, headers: as('viewer') })).statusCode,
    ).toBe(200);
    expect((await f.desk.tickets.get(ticket.id))?.status).toBe('open');
  });

  it('filters and sorts the list', async () => {
    await openTicket();
    f.report('cam-04', 'degraded', { reasons: [{ code: 'clock-drift', message: '700 s' }] });
    await f.settle();
    const get = async (query: string) =>
      (await app.inject({ url: `/api/tickets?${query}`, headers: as('viewer') })).json<Ticket[]>();
    expect((await get('priority=general')).map((t) => t.fault)).toEqual(['degraded:clock-drift']);
    expect((await get('deviceId=cam-03')).map((t) => t.fault)).toEqual(['device-down']);
    expect((await get('fault=device-down&status=all')).length).toBe(1);
    expect((await get('sort=oldest')).map((t) => t.deviceId)).toEqual(['cam-03', 'cam-04']);
    expect((await get('state=acknowledged')).length).toBe(0);
  });

  it('SLA clocks: warning at 80 %, breach with escalation, in the live events', async () => {
    const ticket = await openTicket(); // emergency: respond within 10 min
    await f.advance(7 * MINUTE + 59_000);
    expect(f.alerts).toEqual([]);
    await f.advance(1000); // 8 min = 80 % of 10
    expect(f.alerts).toEqual([
      expect.objectContaining({ kind: 'warning', ticketId: ticket.id, deadline: 'respond' }),
    ]);
    expect((await f.desk.tickets.get(ticket.id))?.sla[0]?.state).toBe('warning');
    await f.advance(2 * MINUTE);
    expect(f.alerts.map((a) => [a.kind, a.deadline])).toEqual([
      ['warning', 'respond'],
      ['breach', 'respond'],
    ]);
    const breached = (await f.desk.tickets.get(ticket.id))!;
    expect(breached.sla[0]).toMatchObject({
      state: 'breached',
      breachedAt: f.clock.now.toISOString(),
    });
    expect(breached.timeline.at(-1)).toMatchObject({ kind: 'sla-breach', actor: 'system' });
    // Acknowledging late ends the clock, still breached.
    await act(ticket.id, { action: 'acknowledge' });
    expect((await f.desk.tickets.get(ticket.id))?.sla[0]?.state).toBe('breached');
    // No second alert for the same deadline.
    await f.advance(MINUTE);
    expect(f.alerts.filter((a) => a.deadline === 'respond')).toHaveLength(2);
  });

  it('SLA clocks: warnShare 0.5 in the broker config: the API sends warnAt at half the time, and the console warns with the broker', async () => {
    await app.close();
    await f.cleanup();
    await start({ tickets: { warnShare: 0.5 } });
    const fetch = async (id: number) => {
      const res = await app.inject({ url: `/api/tickets/${id}`, headers: as('viewer') });
      expect(res.statusCode).toBe(200);
      const ticket = res.json<Ticket>();
      expect(checkTicket(ticket).ok).toBe(true);
      return ticket;
    };
    /** What the console's countdown of the respond deadline says now, from what the API sent. */
    const screen = (ticket: Ticket) =>
      countdownState(deadlinesOf(ticket)[0]!, f.clock.now.getTime()).state;

    const ticket = await openTicket(); // emergency: respond within 10 min
    const opened = Date.parse(ticket.openedAt);
    let sent = await fetch(ticket.id);
    // Half of the 10 minutes, for every deadline the ticket has.
    expect(sent.sla.map((c) => [c.deadline, c.state, c.warnAt])).toEqual(
      sent.sla.map((c) => [
        c.deadline,
        'running',
        new Date(Date.parse(c.due) - c.allowedMin * MINUTE * 0.5).toISOString(),
      ]),
    );
    expect(sent.sla[0]).toMatchObject({
      deadline: 'respond',
      allowedMin: 10,
      warnAt: new Date(opened + 5 * MINUTE).toISOString(),
    });

    await f.advance(5 * MINUTE - 1000);
    sent = await fetch(ticket.id);
    expect([sent.sla[0]?.state, screen(sent), f.alerts]).toEqual(['running', 'ok', []]);
    // The console, still holding that copy, turns at warnAt as the broker does.
    await f.advance(1000);
    expect(screen(sent)).toBe('warning');
    expect(f.alerts).toEqual([
      expect.objectContaining({ kind: 'warning', ticketId: ticket.id, deadline: 'respond' }),
    ]);
    sent = await fetch(ticket.id);
    expect([sent.sla[0]?.state, screen(sent)]).toEqual(['warning', 'warning']);
  });

  it('SLA clocks pause during maintenance and resume with the due time moved', async () => {
    const ticket = await openTicket();
    const due = Date.parse(ticket.respondBy!);
    await f.advance(5 * MINUTE);
    const res = await app.inject({
      method: 'POST',
      url: '/api/maintenance',
      headers: as('operator'),
      payload: {
        siteId: 'demo-site',
        deviceId: 'cam-03',
        durationMin: 30,
        reason: 'replace camera',
      },
    });
    expect(res.statusCode).toBe(201);
    const window = res.json();
    expect(window.state).toBe('active');
    expect((await f.desk.tickets.get(ticket.id))?.sla.map((c) => c.state)).toEqual([
      'paused',
      'paused',
      'paused',
    ]);
    await f.advance(29 * MINUTE);
    expect(f.alerts).toEqual([]);
    const paused = (await f.desk.tickets.get(ticket.id))!;
    expect(Date.parse(paused.respondBy!)).toBe(due + 29 * MINUTE);

    // End the window early (PATCH endsAt = now): the clocks run again from where they stood.
    const end = await app.inject({
      method: 'PATCH',
      url: `/api/maintenance/${window.id}`,
      headers: as('operator'),
      payload: { endsAt: f.clock.now.toISOString() },
    });
    expect(end.statusCode).toBe(200);
    const resumed = (await f.desk.tickets.get(ticket.id))!;
    expect(resumed.sla[0]).toMatchObject({ state: 'running', pausedMs: 29 * MINUTE });
    expect(Date.parse(resumed.respondBy!)).toBe(due + 29 * MINUTE);
    expect(resumed.timeline.map((e) => e.kind)).toEqual(['detected', 'paused', 'resumed']);
    // 5 min used before, 3 more reach 80 %.
    await f.advance(3 * MINUTE);
    expect(f.alerts.map((a) => a.kind)).toEqual(['warning']);
  });

  it('maintenance windows: CRUD with roles, and nothing opens while one covers the site', async () => {
    const create = (who: keyof typeof users, payload: object) =>
      app.inject({ method: 'POST', url: '/api/maintenance', headers: as(who), payload });
    expect(
      (await create('viewer', { siteId: 'demo-site', durationMin: 60, reason: 'x' })).statusCode,
    ).toBe(403);
    const bad = await create('operator', { siteId: 'demo-site', reason: 'no end' });
    expect(bad.statusCode).toBe(400);
    const planned = await create('operator', {
      siteId: 'demo-site',
      startsAt: new Date(f.clock.now.getTime() + 60 * MINUTE).toISOString(),
      durationMin: 120,
      reason: 'NVR disk swap',
    });
    expect(planned.json()).toMatchObject({ state: 'planned', createdBy: 'olga', deviceId: null });
    const list = (await app.inject({ url: '/api/maintenance', headers: as('viewer') })).json();
    expect(list).toHaveLength(1);
    await f.advance(61 * MINUTE);
    f.report('cam-04', 'down');
    await f.settle();
    await f.advance(MINUTE);
    expect(await f.open()).toEqual([]);
    const id = planned.json().id;
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/maintenance/${id}`,
      headers: as('operator'),
    });
    expect(del.statusCode).toBe(200);
    await f.advance(1000);
    expect((await f.open()).map((t) => t.deviceId)).toEqual(['cam-04']);
  });
});
