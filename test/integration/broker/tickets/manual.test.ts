/**
 * Manual tickets through the HTTP API (POST /api/tickets, issue 16 part 6): a fault a
 * person reports, with the contract's clocks and a timeline that says who opened it and
 * how; each stands alone beside the detected tickets of its device, and only a person
 * resolves it: the detector's recoveries (fed through the broker's real pipeline, as an
 * agent's messages would be) leave it open. Bad input, unknown sites and roles.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ticket, type ManualTicketRequest } from '../../../../shared/api/tickets.js';
import { validator } from '../../../../shared/validate.js';
import type { Message } from '../../../../shared/wording/messages.js';
import { say } from '../../../../shared/wording/render.js';
import { resolveDeskConfig } from '../../../../broker/wiring/desk-config.js';
import { camera, deskApi, deskUsers, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';

const MINUTE = 60_000;
const users = deskUsers;
type Who = keyof typeof users;
const checkTicket = validator(Ticket);

const blurred = {
  siteId: 'demo-site',
  deviceId: 'cam-03',
  title: 'The picture at the gate is blurred',
  description: 'The guard called at 09:10: out of focus since the storm last night.',
} satisfies ManualTicketRequest;

describe('manual tickets over the API', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let tokens: Record<Who, string>;

  const report = (body: unknown, who: Who | null = 'operator') =>
    app.inject({
      method: 'POST',
      url: '/api/tickets',
      headers: who === null ? {} : { authorization: `Bearer ${tokens[who]}` },
      payload: body as object,
    });
  const act = (id: number, body: object) =>
    app.inject({
      method: 'POST',
      url: `/api/tickets/${id}/actions`,
      headers: { authorization: `Bearer ${tokens.operator}` },
      payload: body,
    });
  const get = async (id: number) =>
    (
      await app.inject({
        method: 'GET',
        url: `/api/tickets/${id}`,
        headers: { authorization: `Bearer ${tokens.viewer}` },
      })
    ).json<Ticket>();
  async function opened(body: unknown = blurred, who: Who = 'operator'): Promise<Ticket> {
    const res = await report(body, who);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Ticket>();
  }

  async function start(config: Parameters<typeof resolveDeskConfig>[0] = {}): Promise<void> {
    f = await makeDesk(resolveDeskConfig(config), [camera('cam-03'), camera('cam-04')]);
    ({ app, tokens } = await deskApi(f, users));
  }

  beforeEach(() => start());
  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  it('opens with the contract clocks of general, says who reported it and how, and audits it', async () => {
    const openedAt = f.clock.now.toISOString();
    const ticket = await opened();
    expect(checkTicket(ticket).ok).toBe(true);
    expect(ticket).toMatchObject({
      siteId: 'demo-site',
      deviceId: 'cam-03',
      fault: 'manual',
      source: 'manual',
      reportedBy: 'olga',
      reportedVia: 'phone',
      description: blurred.description,
      priority: 'general',
      status: 'open',
      openedAt,
      title: blurred.title,
      titleMessage: { code: 'title.manual', params: { text: blurred.title } },
    });
    // General: respond within 2 h, resolve within 8 h, on site at an agreed time (no clock).
    expect(ticket.sla.map((c) => [c.deadline, c.allowedMin, c.state])).toEqual([
      ['respond', 120, 'running'],
      ['resolve', 480, 'running'],
    ]);
    expect(ticket.respondBy).toBe(new Date(Date.parse(openedAt) + 120 * MINUTE).toISOString());
    expect(ticket.onSiteBy).toBeNull();
    expect(ticket.timeline).toHaveLength(1);
    const [first] = ticket.timeline;
    expect(first).toMatchObject({
      kind: 'reported',
      actor: 'olga',
      at: openedAt,
      message: {
        code: 'reported.manual',
        params: { by: 'olga', via: 'phone', description: blurred.description },
      },
      text: `Ticket opened by olga, reported by phone: ${blurred.description}`,
    });
    expect(say(first!.message as Message, 'zh-CN')).toBe(
      `olga 开单，电话报修：${blurred.description}`,
    );
    // Emitted like every ticket change: the live stream, webhooks and escalation hear it.
    expect(f.emitted.map((t) => t.id)).toContain(ticket.id);
    expect(await f.desk.audit.list({})).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'olga',
          action: 'ticket.report',
          target: `ticket:${ticket.id}`,
        }),
      ]),
    );

    // The same clocks as a detected ticket: warning at 80 %, then breached, on the timeline.
    await f.advance(97 * MINUTE);
    expect((await get(ticket.id)).sla[0]).toMatchObject({ deadline: 'respond', state: 'warning' });
    await f.advance(24 * MINUTE);
    const late = await get(ticket.id);
    expect(late.sla[0]).toMatchObject({ deadline: 'respond', state: 'breached' });
    expect(late.timeline.map((e) => e.kind)).toEqual(['reported', 'sla-warning', 'sla-breach']);
    expect(f.alerts.filter((a) => a.ticketId === ticket.id).map((a) => a.kind)).toEqual([
      'warning',
      'breach',
    ]);
  });

  it('takes the priority the person chose, else the device criticality moves the default', async () => {
    const urgent = await opened({ ...blurred, priority: 'emergency' });
    expect(urgent.priority).toBe('emergency');
    expect(urgent.sla.map((c) => [c.deadline, c.allowedMin])).toEqual([
      ['respond', 10],
      ['on-site', 120],
      ['resolve', 240],
    ]);

    await f.desk.sites.putDevice('demo-site', 'cam-04', { criticality: 'high' });
    const gate = await opened({ ...blurred, deviceId: 'cam-04' });
    expect(gate.priority).toBe('serious');
    // A chosen priority is the person's call: criticality does not move it.
    expect((await opened({ ...blurred, deviceId: 'cam-04', priority: 'general' })).priority).toBe(
      'general',
    );
    // A fault of the whole site: no device.
    const site = await opened({
      siteId: 'demo-site',
      title: 'Gate barrier video',
      description: '',
    });
    expect(site).toMatchObject({ deviceId: null, priority: 'general', description: '' });
    expect(site.timeline[0]!.text).toBe('Ticket opened by olga, reported by phone');
  });

  it('follows the broker config for the default (tickets.priorities.manual)', async () => {
    await app.close();
    await f.cleanup();
    await start({ tickets: { priorities: { manual: 'serious' } } });
    expect((await opened()).priority).toBe('serious');
  });

  it('keeps two manual tickets of one device open, beside the detected one, through its recovery', async () => {
    const first = await opened();
    const second = await opened({
      ...blurred,
      title: 'Night vision does not switch on',
      description: '',
    });
    expect(second.id).not.toBe(first.id);

    // The camera fails and recovers: its detected ticket opens and resolves by itself.
    f.report('cam-03', 'down');
    await f.settle();
    const detected = (await f.open()).find((t) => t.source === 'detected');
    expect(detected).toMatchObject({ deviceId: 'cam-03', fault: 'device-down', status: 'open' });
    await f.advance(MINUTE);
    f.report('cam-03', 'up');
    await f.settle();
    await f.advance(MINUTE);
    expect((await get(detected!.id)).status).toBe('resolved');
    // ... and a relapse reopens the detected ticket, never a manual one.
    f.report('cam-03', 'down');
    await f.settle();
    expect((await get(detected!.id)).status).toBe('open');
    f.report('cam-03', 'up');
    await f.settle();

    for (const id of [first.id, second.id]) {
      const ticket = await get(id);
      expect(ticket.status).toBe('open');
      expect(ticket.resolvedAt).toBeNull();
      expect(ticket.timeline.map((e) => e.kind)).toEqual(['reported']);
    }
    const listed = await app.inject({
      method: 'GET',
      url: '/api/tickets?source=manual',
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    expect(
      listed
        .json<Ticket[]>()
        .map((t) => t.id)
        .sort(),
    ).toEqual([first.id, second.id].sort());

    // A broker restart changes nothing: the index and the lookups are in SQLite.
    await f.restart();
    f.report('cam-03', 'down');
    await f.settle();
    f.report('cam-03', 'up');
    await f.settle();
    expect((await get(first.id)).status).toBe('open');

    // A person resolves it through the work order, and closes it with the customer.
    let res = await act(first.id, { action: 'resolve', cause: 'lens fogged', fix: 'cleaned it' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'resolved', resolvedBy: 'olga' });
    res = await act(first.id, { action: 'close', confirmation: 'guard confirmed by phone' });
    expect(res.json()).toMatchObject({ status: 'closed' });
    expect((await get(second.id)).status).toBe('open');
  });

  it('answers bad input with the field and what to send', async () => {
    const bad = async (body: unknown, status: number, ...says: (string | RegExp)[]) => {
      const res = await report(body);
      expect(res.statusCode, res.body).toBe(status);
      const text = JSON.stringify(res.json());
      for (const said of says) expect(text).toMatch(said);
      return res.json<{ code: string; message: string; details?: string[] }>();
    };
    expect(
      await bad({ ...blurred, siteId: 'nowhere' }, 404, 'No site \\"nowhere\\"'),
    ).toMatchObject({ code: 'VIGIL_NOT_FOUND' });
    expect(
      await bad({ ...blurred, deviceId: 'cam-99' }, 400, 'no device \\"cam-99\\"'),
    ).toMatchObject({
      code: 'VIGIL_BAD_REQUEST',
      details: ['deviceId: not a device of site demo-site'],
    });
    await bad({ ...blurred, title: '' }, 400, 'title: must not have fewer than 1 characters');
    await bad({ ...blurred, title: '   ' }, 400, 'title: must hold more than spaces');
    await bad(
      { ...blurred, title: 'x'.repeat(201) },
      400,
      'title: must not have more than 200 characters',
    );
    await bad(
      { ...blurred, description: 'x'.repeat(4001) },
      400,
      'description: must not have more than 4000 characters',
    );
    await bad({ siteId: 'demo-site', title: 'no description' }, 400, /description/);
    await bad({ ...blurred, priority: 'urgent' }, 400, 'priority: must be one of');
    await bad({ ...blurred, status: 'closed' }, 400, 'unknown field(s) status');
    await bad({ ...blurred, siteId: '../etc' }, 400, /siteId/);
    // Nothing was opened by any of them.
    expect(await f.all()).toEqual([]);
    // At the limits it opens.
    await opened({ ...blurred, title: 'x'.repeat(200), description: 'y'.repeat(4000) });
  });

  it('lets an operator or admin open one; a viewer gets 403 and nobody logged in 401', async () => {
    const viewer = await report(blurred, 'viewer');
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json()).toMatchObject({
      code: 'VIGIL_FORBIDDEN',
      message: expect.stringContaining('Opening a ticket needs the operator role'),
    });
    expect((await report(blurred, null)).statusCode).toBe(401);
    expect(await f.all()).toEqual([]);
    expect((await opened(blurred, 'admin')).reportedBy).toBe('ada');
  });

  it('takes a site known only from its record, or only from its agent', async () => {
    await f.desk.sites.put('plant-9', { name: 'Plant 9', customer: 'Example Logistics Ltd' });
    await f.desk.sites.putDevice('plant-9', 'cam-21', {});
    expect((await opened({ ...blurred, siteId: 'plant-9', deviceId: 'cam-21' })).siteId).toBe(
      'plant-9',
    );
    // demo-site has no record: its agent's devices make it a site.
    expect(f.desk.sites.exists('demo-site')).toBe(false);
    expect((await opened({ ...blurred, deviceId: 'cam-04' })).deviceId).toBe('cam-04');
  });
});
