/**
 * The conformance suite of the ticket desk's store (broker/tickets/store.ts, through the
 * service that is its only user), run on SQLite and on PostgreSQL
 * (test/suites/stores/backends.ts). Beyond the desk's rules it holds what a pair of
 * broker nodes on one database needs (issue 17 part 3): a ticket one node opens is the
 * other's with its clocks; no fault ever gets two open tickets, also when two
 * connections open it at the same instant; and the clocks run on from the database on
 * the node that takes over, each warning and breach raised once.
 */
import { beforeEach, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import { Ticket } from '../../../shared/api/tickets.js';
import { validator } from '../../../shared/validate.js';
import { say } from '../../../shared/wording/render.js';
import { BrokerEvents } from '../../../broker/events.js';
import { deviceDown, deviceUp } from '../../../broker/detect/rules/device-down.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import { createTicketService } from '../../../broker/tickets/service.js';
import { ticketMigrations, TicketStore } from '../../../broker/tickets/store.js';
import { defaultSla, type TicketService } from '../../../broker/tickets/types.js';
import type { SlaAlert } from '../../../shared/api/live.js';
import type { StoreBackend } from './backends.js';

const checkTicket = validator(Ticket);

const lobbyDown: Device = {
  ...deviceExample,
  name: 'Lobby',
  status: 'down',
  reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.11:80' }],
};
const lobbyUp: Device = { ...lobbyDown, status: 'up', reasons: [] };

export function ticketStoreSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let clock: Date;
  let events: BrokerEvents;
  let emitted: Ticket[];
  let alerts: SlaAlert[];
  let service: TicketService;
  let maintenance: boolean;

  /** A desk on `on` sharing this test's clock, events and maintenance switch. */
  async function desk(on: SqlDatabase, own = events): Promise<TicketService> {
    const made = createTicketService({
      db: on,
      events: own,
      sla: defaultSla,
      now: () => clock,
      underMaintenance: () => maintenance,
    });
    await made.start();
    return made;
  }

  /**
   * A connection for a writer racing this test's one: on PostgreSQL another connection
   * (the other node). On SQLite the same one: a broker holds one connection to vigil.db,
   * and a second connection in the same process would wait for a lock (busy_timeout)
   * that the awaited transaction holding it can never release while the synchronous
   * driver blocks the event loop; the race on SQLite is between two callers of one
   * connection, whose transactions take turns.
   */
  const rival = async () => (backend.dialect === 'postgres' ? backend.reopen(db) : db);

  const down = (device = lobbyDown, on = service) => on.apply(deviceDown(device, clock));
  const up = (device = lobbyUp, on = service) => on.apply(deviceUp(device, clock));

  beforeEach(async () => {
    db = await backend.open();
    clock = new Date('2026-11-26T08:03:15.500Z');
    maintenance = false;
    events = new BrokerEvents();
    emitted = [];
    alerts = [];
    events.on('ticket', (ticket) => emitted.push(ticket));
    events.on('sla', (alert) => alerts.push(alert));
    service = await desk(db);
  });

  it('opens one emergency ticket for a camera that goes down, with the contract deadlines', async () => {
    const [ticket] = await down();
    expect(ticket).toMatchObject({
      id: 1,
      siteId: 'demo-site',
      deviceId: 'cam-01',
      fault: 'device-down',
      priority: 'emergency',
      status: 'open',
      title: 'Camera "Lobby" (cam-01) is down: unreachable',
      openedAt: '2026-11-26T08:03:15.500Z',
      respondBy: '2026-11-26T08:13:15.500Z', // + 10 min
      onSiteBy: '2026-11-26T10:03:15.500Z', // + 2 h
      resolveBy: '2026-11-26T12:03:15.500Z', // + 4 h
      resolvedAt: null,
      respondedAt: null,
      covers: [],
      occurrences: 1,
      sla: [
        { deadline: 'respond', state: 'running', allowedMin: 10, due: '2026-11-26T08:13:15.500Z' },
        { deadline: 'on-site', state: 'running', allowedMin: 120 },
        { deadline: 'resolve', state: 'running', allowedMin: 240 },
      ],
      timeline: [
        {
          at: '2026-11-26T08:03:15.500Z',
          kind: 'detected',
          actor: 'system',
          text: 'Device down: connect ECONNREFUSED 192.0.2.11:80',
        },
      ],
    });
    expect(checkTicket(ticket).ok).toBe(true);
    expect(emitted).toEqual([ticket]);
    expect(await service.list({ status: 'open' })).toEqual([ticket]);
    expect(await service.get(1)).toEqual(ticket);
  });

  it('does not open a second ticket when the device is reported down again', async () => {
    await down();
    clock = new Date('2026-11-26T08:04:00.000Z');
    expect(await down()).toEqual([]);
    expect(await service.list({ status: 'all' })).toHaveLength(1);
    expect(emitted).toHaveLength(1);
  });

  it('resolves the ticket when the device is up, then opens a new one on a failure after the relapse hour', async () => {
    const [opened] = await down();
    clock = new Date('2026-11-26T08:09:02.000Z');
    const [resolved] = await up();
    expect(resolved).toMatchObject({
      id: opened?.id,
      status: 'resolved',
      resolvedAt: '2026-11-26T08:09:02.000Z',
    });
    expect(resolved?.timeline.at(-1)).toEqual({
      at: '2026-11-26T08:09:02.000Z',
      kind: 'resolved',
      actor: 'system',
      text: 'Resolved automatically: the device is up again',
      message: { code: 'resolved.device-up', params: {} },
    });
    expect(checkTicket(resolved).ok).toBe(true);
    expect(emitted.map((t) => t.status)).toEqual(['open', 'resolved']);
    expect(await service.list({ status: 'open' })).toEqual([]);

    // A second "up" has nothing to resolve.
    expect(await up()).toEqual([]);

    clock = new Date('2026-11-26T09:10:00.000Z');
    const [again] = await down();
    expect(again).toMatchObject({ id: 2, status: 'open', openedAt: '2026-11-26T09:10:00.000Z' });
    expect((await service.list({ status: 'all' })).map((t) => [t.id, t.status])).toEqual([
      [2, 'open'],
      [1, 'resolved'],
    ]);
  });

  it('reopens a relapse within the hour with its clocks started again', async () => {
    const [opened] = await down();
    await service.act(opened!.id, { action: 'acknowledge' }, 'li.wei');
    clock = new Date('2026-11-26T08:09:00.000Z');
    await up();
    clock = new Date('2026-11-26T08:30:00.000Z');
    const [reopened] = await down();
    expect(reopened).toMatchObject({ id: opened!.id, status: 'open', occurrences: 2 });
    const clocks = Object.fromEntries(reopened!.sla.map((c) => [c.deadline, c]));
    // Acknowledged before the recovery: the response stays met; the rest run from now.
    expect(clocks.respond).toMatchObject({ state: 'met' });
    expect(clocks['on-site']).toMatchObject({ state: 'running', due: '2026-11-26T10:30:00.000Z' });
    expect(clocks.resolve).toMatchObject({ state: 'running', due: '2026-11-26T12:30:00.000Z' });
    expect(reopened!.resolveBy).toBe('2026-11-26T12:30:00.000Z');
  });

  it('keeps one open ticket per device: other devices get their own', async () => {
    await down();
    const [other] = await down({ ...lobbyDown, id: 'nvr-01', kind: 'nvr', name: 'Rack' });
    expect(other?.title).toBe('NVR "Rack" (nvr-01) is down: unreachable');
    // Same device id on another site is another device.
    expect(await down({ ...lobbyDown, siteId: 'other-site' })).toHaveLength(1);
    expect(await service.list({ status: 'open' })).toHaveLength(3);
  });

  it('lists open tickets by priority then response deadline, all tickets newest first', async () => {
    await db.run(
      `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at, respond_by)
       VALUES ('demo-site', ?, 'device-down', 'general', 'open', '{"code":"text","params":{"text":"slow"}}', ?, ?)`,
      ['cam-09', '2026-11-26T07:00:00.000Z', '2026-11-26T09:00:00.000Z'],
    );
    clock = new Date('2026-11-26T08:30:00.000Z');
    await down({ ...lobbyDown, id: 'cam-02' });
    clock = new Date('2026-11-26T08:10:00.000Z');
    await down({ ...lobbyDown, id: 'cam-03' });
    expect((await service.list({ status: 'open' })).map((t) => t.deviceId)).toEqual([
      'cam-03', // emergency, respond by 08:20
      'cam-02', // emergency, respond by 08:40
      'cam-09', // general
    ]);
    expect((await service.list({ status: 'all' })).map((t) => t.deviceId)).toEqual([
      'cam-02',
      'cam-03',
      'cam-09',
    ]);
    expect(await service.list({ status: 'all', limit: 1 })).toHaveLength(1);
  });

  it('limits a list to the sites asked for in the query itself: the limit counts their tickets', async () => {
    // Customer A's five tickets, then B's five more recent ones (newest first would be B's).
    for (let i = 0; i < 10; i++) {
      clock = new Date(Date.UTC(2026, 10, 26, 8, i));
      const siteId = i < 5 ? 'alpha-site' : 'bravo-site';
      await down({ ...lobbyDown, siteId, id: `cam-${i}` });
    }
    const alpha = await service.list({ status: 'all', limit: 3, sites: ['alpha-site'] });
    expect(alpha.map((t) => [t.siteId, t.deviceId])).toEqual([
      ['alpha-site', 'cam-4'],
      ['alpha-site', 'cam-3'],
      ['alpha-site', 'cam-2'],
    ]);
    const open = await service.list({ status: 'open', limit: 4, sites: ['alpha-site', 'x'] });
    expect(open.map((t) => t.siteId)).toEqual(Array(4).fill('alpha-site'));
    expect(await service.list({ status: 'all', sites: ['bravo-site'] })).toHaveLength(5);
    // A customer without sites sees no ticket, not every ticket.
    expect(await service.list({ status: 'all', sites: [] })).toEqual([]);
    expect(await service.list({ status: 'all', limit: 3 })).toHaveLength(3);
  });

  it('takes the work order steps once: a second person taking the same step is refused', async () => {
    const [opened] = await down();
    const other = await desk(await rival());
    const results = await Promise.allSettled([
      service.act(opened!.id, { action: 'acknowledge' }, 'li.wei'),
      other.act(opened!.id, { action: 'acknowledge' }, 'wang.fang'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const ticket = await service.get(opened!.id);
    expect(ticket?.timeline.filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
    expect(ticket?.sla.find((c) => c.deadline === 'respond')).toMatchObject({ state: 'met' });
  });

  it('shows a ticket opened on one connection to another (the other node) with its clocks', async () => {
    const [opened] = await down();
    const other = await desk(await backend.reopen(db), new BrokerEvents());
    const seen = await other.get(opened!.id);
    expect(seen).toEqual(opened);
    expect(seen?.sla.map((c) => [c.deadline, c.state, c.due])).toEqual([
      ['respond', 'running', '2026-11-26T08:13:15.500Z'],
      ['on-site', 'running', '2026-11-26T10:03:15.500Z'],
      ['resolve', 'running', '2026-11-26T12:03:15.500Z'],
    ]);
    // The other node finds it open: the same fault is no new ticket there.
    expect(await down(lobbyDown, other)).toEqual([]);
    clock = new Date('2026-11-26T08:05:00.000Z');
    expect(await up(lobbyUp, other)).toMatchObject([{ id: opened!.id, status: 'resolved' }]);
    expect(await service.get(opened!.id)).toMatchObject({ status: 'resolved' });
  });

  it('never opens two tickets for one fault when two connections open it at the same instant', async () => {
    const others = [service];
    for (let i = 0; i < 3; i++) others.push(await desk(await rival()));
    for (const id of ['cam-01', 'cam-02', 'cam-03', 'cam-04', 'cam-05']) {
      const device = { ...lobbyDown, id };
      const opened = await Promise.all(others.map((one) => down(device, one)));
      expect(opened.flat()).toHaveLength(1);
    }
    const all = await service.list({ status: 'all' });
    expect(all.map((t) => t.deviceId).sort()).toEqual([
      'cam-01',
      'cam-02',
      'cam-03',
      'cam-04',
      'cam-05',
    ]);
    // Every open ticket has its whole timeline and clocks: no half-written loser left.
    for (const ticket of all) {
      expect(ticket.timeline).toHaveLength(1);
      expect(ticket.sla).toHaveLength(3);
    }
    const clocks = await db.all<{ n: number }>('SELECT count(*) AS n FROM ticket_sla');
    expect(Number(clocks[0]?.n)).toBe(15);
  });

  it('leaves the losing insert of a race out at the store too, with no error and nothing written', async () => {
    const stores = [
      new TicketStore(db, { now: () => clock }),
      new TicketStore(await rival(), { now: () => clock }),
    ];
    const ticket = {
      siteId: 'demo-site',
      deviceId: null,
      fault: 'site-unreachable',
      priority: 'emergency' as const,
      title: { code: 'text', params: { text: 'site' } } as never,
      openedAt: clock,
      respondBy: new Date(clock.getTime() + 600_000),
      onSiteBy: null,
      resolveBy: null,
    };
    const entry = {
      at: clock.toISOString(),
      kind: 'detected',
      actor: 'system',
      message: { code: 'text', params: { text: 'site' } } as never,
    };
    const allowed = { respond: 10, 'on-site': null, resolve: null };
    const results = await Promise.all(stores.map((s) => s.insertOpen(ticket, entry, allowed)));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const rows = await db.all<{ n: number }>('SELECT count(*) AS n FROM ticket_timeline');
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('has the database refuse a second open ticket inserted directly by SQL', async () => {
    await down();
    const insert = (status: string) =>
      db.run(
        `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at)
         VALUES ('demo-site', 'cam-01', 'device-down', 'emergency', ?, '{"code":"text","params":{"text":"duplicate"}}', ?)`,
        [status, clock.toISOString()],
      );
    await expect(insert('open')).rejects.toThrow(/UNIQUE|unique/);
    await expect(insert('acknowledged')).rejects.toThrow(/UNIQUE|unique/);
    // A finished ticket does not hold the slot.
    await expect(insert('resolved')).resolves.toBeDefined();
    await expect(insert('closed')).resolves.toBeDefined();
  });

  it('holds the rule for site-wide faults too (no device id)', async () => {
    const insert = () =>
      db.run(
        `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at)
         VALUES ('demo-site', NULL, 'site-unreachable', 'emergency', 'open', '{"code":"text","params":{"text":"site"}}', ?)`,
        [clock.toISOString()],
      );
    await insert();
    await expect(insert()).rejects.toThrow(/UNIQUE|unique/);
  });

  it('keeps the tickets across a restart', async () => {
    await down();
    service = await desk(await backend.reopen(db));
    expect(await service.list({ status: 'open' })).toHaveLength(1);
    expect(await down()).toEqual([]);
  });

  it('runs the SLA clocks on from the database on the node that takes over: each alert once', async () => {
    const [opened] = await down();
    // 08:11:16: past 80 % of the 10 minutes to respond: the first node warns.
    clock = new Date('2026-11-26T08:11:16.000Z');
    expect((await service.tick()).map((a) => [a.kind, a.deadline])).toEqual([
      ['warning', 'respond'],
    ]);
    // The first node is gone; the second starts from what the database holds.
    const taken: SlaAlert[] = [];
    const otherEvents = new BrokerEvents();
    otherEvents.on('sla', (alert) => taken.push(alert));
    const other = await desk(await backend.reopen(db), otherEvents);
    expect(await other.tick()).toEqual([]); // warned already: not again
    clock = new Date('2026-11-26T08:13:16.000Z');
    expect((await other.tick()).map((a) => [a.kind, a.deadline])).toEqual([['breach', 'respond']]);
    expect(await other.tick()).toEqual([]);
    expect(taken).toHaveLength(1);
    const ticket = await other.get(opened!.id);
    expect(ticket?.sla.find((c) => c.deadline === 'respond')).toMatchObject({
      state: 'breached',
      warnedAt: '2026-11-26T08:11:16.000Z',
      breachedAt: '2026-11-26T08:13:16.000Z',
    });
    expect(ticket?.timeline.map((e) => e.kind)).toEqual(['detected', 'sla-warning', 'sla-breach']);
  });

  it('raises each alert once when two nodes beat at the same instant', async () => {
    await down();
    const other = await desk(await rival());
    clock = new Date('2026-11-26T08:13:16.000Z');
    const [mine, theirs] = await Promise.all([service.tick(), other.tick()]);
    expect([...mine, ...theirs].map((a) => [a.kind, a.deadline])).toEqual([['breach', 'respond']]);
    expect(alerts).toHaveLength(1);
  });

  it('keeps a maintenance pause across a takeover: the new node resumes the clocks with the pause added', async () => {
    const [opened] = await down();
    clock = new Date('2026-11-26T08:05:00.000Z');
    maintenance = true;
    await service.tick();
    expect((await service.get(opened!.id))?.sla.map((c) => c.state)).toEqual([
      'paused',
      'paused',
      'paused',
    ]);
    // 30 minutes of maintenance, then the other node leads and the window is over.
    clock = new Date('2026-11-26T08:35:00.000Z');
    maintenance = false;
    const other = await desk(await backend.reopen(db));
    await other.tick();
    const ticket = await other.get(opened!.id);
    expect(ticket?.sla.find((c) => c.deadline === 'respond')).toMatchObject({
      state: 'running',
      due: '2026-11-26T08:43:15.500Z', // 08:13:15.5 + 30 min
      pausedMs: 30 * 60_000,
    });
    expect(ticket?.respondBy).toBe('2026-11-26T08:43:15.500Z');
    expect(ticket?.timeline.map((e) => e.kind)).toEqual(['detected', 'paused', 'resumed']);
  });

  it('runs detections in the order they were handed over, each at its instant', async () => {
    const opened = down();
    const downAt = clock.toISOString();
    clock = new Date('2026-11-26T08:04:00.000Z');
    const resolved = up();
    clock = new Date('2026-11-26T09:00:00.000Z');
    expect(await opened).toMatchObject([{ status: 'open', openedAt: downAt }]);
    expect(await resolved).toMatchObject([
      { status: 'resolved', resolvedAt: '2026-11-26T08:04:00.000Z' },
    ]);
    await service.idle();
  });

  it('starts the spare-part clocks and ends them', async () => {
    const [opened] = await down();
    const said = { code: 'text', params: { text: 'part' } } as never;
    const started = await service.clock(
      opened!.id,
      'part-replaced',
      240,
      'part-needed',
      'li',
      said,
    );
    expect(started?.sla.at(-1)).toMatchObject({ deadline: 'part-replaced', state: 'running' });
    const ended = await service.clock(opened!.id, 'part-replaced', null, 'replaced', 'li', said);
    expect(ended?.sla.at(-1)).toMatchObject({ deadline: 'part-replaced', state: 'met' });
    expect(await service.clock(opened!.id, 'part-replaced', null, 'replaced', 'li', said)).toBe(
      undefined,
    );
  });

  it('keeps the English title and timeline of a ticket written before messages had codes', async () => {
    // A database as the broker left it before migration 3: titles and entries as text.
    const old = await backend.open();
    await old.migrate('tickets', ticketMigrations.slice(0, 2));
    await old.run(
      `INSERT INTO tickets (site_id, device_id, fault, priority, status, title, opened_at)
       VALUES ('demo-site', 'cam-01', 'device-down', 'emergency', 'open', ?, ?)`,
      ['Camera "Lobby" (cam-01) is down: unreachable', clock.toISOString()],
    );
    await old.run(
      `INSERT INTO ticket_timeline (ticket_id, at, kind, actor, text)
       VALUES (1, ?, 'note', 'li.wei', '客户已通知')`,
      [clock.toISOString()],
    );
    const upgraded = await desk(old);
    const ticket = (await upgraded.get(1))!;
    expect(ticket.title).toBe('Camera "Lobby" (cam-01) is down: unreachable');
    expect(ticket.titleMessage).toEqual({
      code: 'text',
      params: { text: 'Camera "Lobby" (cam-01) is down: unreachable' },
    });
    expect(ticket.timeline).toEqual([
      {
        at: clock.toISOString(),
        kind: 'note',
        actor: 'li.wei',
        text: '客户已通知',
        message: { code: 'text', params: { text: '客户已通知' } },
      },
    ]);
    expect(say(ticket.titleMessage as never, 'zh-CN')).toBe(ticket.title);
    expect(checkTicket(ticket).ok).toBe(true);
    // Upgraded tables take the newest clocks (migration 6 widened the deadline check).
    const said = { code: 'text', params: { text: 'part' } } as never;
    expect(await upgraded.clock(1, 'part-shipped', 60, 'part-needed', 'li', said)).toBeDefined();
  });

  it('keeps the tickets of the version before manual tickets detected, and the one-open rule for them, after migration 5', async () => {
    const old = await backend.open();
    await old.migrate(
      'tickets',
      ticketMigrations.filter((m) => m.version <= 4),
    );
    await old.run(
      `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at)
       VALUES ('demo-site', 'cam-03', 'device-down', 'emergency', 'open', ?, '2026-11-26T08:00:00.000Z')`,
      [JSON.stringify({ code: 'text', params: { text: 'cam-03 down' } })],
    );
    const store = new TicketStore(old);
    await store.start();
    const before = await store.findOpen('demo-site', 'cam-03', 'device-down');
    expect(before).toMatchObject({ source: 'detected', reportedBy: null, description: null });
    const again = {
      siteId: 'demo-site',
      deviceId: 'cam-03',
      fault: 'device-down',
      priority: 'emergency' as const,
      title: { code: 'text' as const, params: { text: 'cam-03 down' } },
      openedAt: new Date('2026-11-26T08:05:00.000Z'),
      respondBy: null,
      onSiteBy: null,
      resolveBy: null,
    };
    const first = {
      at: '2026-11-26T08:05:00.000Z',
      kind: 'detected',
      actor: 'system',
      message: again.title,
    };
    const none = { respond: null, 'on-site': null, resolve: null };
    // The rebuilt index still refuses a second open detected ticket of the fault ...
    expect(await store.insertOpen(again, first, none)).toBeUndefined();
    // ... and takes manual ones, two on the same device.
    const manual = { ...again, fault: 'manual', source: 'manual' as const, reportedBy: 'olga' };
    expect(await store.insertOpen(manual, first, none)).toMatchObject({ source: 'manual' });
    expect(await store.insertOpen(manual, first, none)).toMatchObject({ source: 'manual' });
    expect(await store.list({ status: 'open' })).toHaveLength(3);
  });
}
