import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { Ticket } from '../../../../shared/api/tickets.js';
import { validator } from '../../../../shared/validate.js';
import { migrate, openDatabase, type Db } from '../../../../broker/db.js';
import { ticketMigrations } from '../../../../broker/tickets/store.js';
import { say } from '../../../../shared/wording/render.js';
import { BrokerEvents } from '../../../../broker/events.js';
import { createTicketService } from '../../../../broker/tickets/service.js';
import { defaultSla, type TicketService } from '../../../../broker/tickets/types.js';
import { deviceDown, deviceUp } from '../../../../broker/detect/rules/device-down.js';

const checkTicket = validator(Ticket);

const lobbyDown: Device = {
  ...deviceExample,
  name: 'Lobby',
  status: 'down',
  reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.11:80' }],
};
const lobbyUp: Device = { ...lobbyDown, status: 'up', reasons: [] };

describe('ticket service over a SQLite file', () => {
  let dir: string;
  let db: Db;
  let clock: Date;
  let events: BrokerEvents;
  let emitted: Ticket[];
  let service: TicketService;

  const down = (device = lobbyDown) => service.apply(deviceDown(device, clock));
  const up = (device = lobbyUp) => service.apply(deviceUp(device, clock));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-tickets-'));
    db = openDatabase(join(dir, 'vigil.db'));
    clock = new Date('2026-11-26T08:03:15.500Z');
    events = new BrokerEvents();
    emitted = [];
    events.on('ticket', (ticket) => emitted.push(ticket));
    service = createTicketService({ db, events, sla: defaultSla, now: () => clock });
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens one emergency ticket for a camera that goes down, with the contract deadlines', () => {
    const [ticket] = down();
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
    expect(service.list({ status: 'open' })).toEqual([ticket]);
    expect(service.get(1)).toEqual(ticket);
  });

  it('does not open a second ticket when the device is reported down again', () => {
    down();
    clock = new Date('2026-11-26T08:04:00.000Z');
    expect(down()).toEqual([]);
    expect(service.list({ status: 'all' })).toHaveLength(1);
    expect(emitted).toHaveLength(1);
  });

  it('resolves the ticket when the device is up, then opens a new one on a failure after the relapse hour', () => {
    const [opened] = down();
    clock = new Date('2026-11-26T08:09:02.000Z');
    const [resolved] = up();
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
    expect(service.list({ status: 'open' })).toEqual([]);

    // A second "up" has nothing to resolve.
    expect(up()).toEqual([]);

    clock = new Date('2026-11-26T09:10:00.000Z');
    const [again] = down();
    expect(again).toMatchObject({ id: 2, status: 'open', openedAt: '2026-11-26T09:10:00.000Z' });
    expect(service.list({ status: 'all' }).map((t) => [t.id, t.status])).toEqual([
      [2, 'open'],
      [1, 'resolved'],
    ]);
  });

  it('keeps one open ticket per device: other devices get their own', () => {
    down();
    const [other] = down({ ...lobbyDown, id: 'nvr-01', kind: 'nvr', name: 'Rack' });
    expect(other?.title).toBe('NVR "Rack" (nvr-01) is down: unreachable');
    // Same device id on another site is another device.
    expect(down({ ...lobbyDown, siteId: 'other-site' })).toHaveLength(1);
    expect(service.list({ status: 'open' })).toHaveLength(3);
  });

  it('lists open tickets by priority then response deadline, all tickets newest first', () => {
    const general = (id: string) =>
      db
        .prepare(
          `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at, respond_by)
           VALUES ('demo-site', ?, 'device-down', 'general', 'open', '{"code":"text","params":{"text":"slow"}}', ?, ?)`,
        )
        .run(id, '2026-11-26T07:00:00.000Z', '2026-11-26T09:00:00.000Z');
    general('cam-09');
    clock = new Date('2026-11-26T08:30:00.000Z');
    down({ ...lobbyDown, id: 'cam-02' });
    clock = new Date('2026-11-26T08:10:00.000Z');
    down({ ...lobbyDown, id: 'cam-03' });
    expect(service.list({ status: 'open' }).map((t) => t.deviceId)).toEqual([
      'cam-03', // emergency, respond by 08:20
      'cam-02', // emergency, respond by 08:40
      'cam-09', // general
    ]);
    expect(service.list({ status: 'all' }).map((t) => t.deviceId)).toEqual([
      'cam-02',
      'cam-03',
      'cam-09',
    ]);
    expect(service.list({ status: 'all', limit: 1 })).toHaveLength(1);
  });

  it('survives a race: a writer that finds the slot taken opens nothing and does not throw', () => {
    // A second service on its own connection to the same file, as a second broker
    // process would have; the database, not either service's memory, decides.
    const otherDb = openDatabase(join(dir, 'vigil.db'));
    try {
      const other = createTicketService({ db: otherDb, events, sla: defaultSla, now: () => clock });
      expect(down()).toHaveLength(1);
      expect(other.apply(deviceDown(lobbyDown, clock))).toEqual([]);
      expect(service.list({ status: 'all' })).toHaveLength(1);
    } finally {
      otherDb.close();
    }
  });

  it('has the database refuse a second open ticket inserted directly by SQL', () => {
    down();
    const insert = db.prepare(
      `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at)
       VALUES ('demo-site', 'cam-01', 'device-down', 'emergency', ?, '{"code":"text","params":{"text":"duplicate"}}', ?)`,
    );
    expect(() => insert.run('open', clock.toISOString())).toThrow(/UNIQUE constraint failed/);
    expect(() => insert.run('acknowledged', clock.toISOString())).toThrow(/UNIQUE/);
    // A finished ticket does not hold the slot.
    expect(() => insert.run('resolved', clock.toISOString())).not.toThrow();
    expect(() => insert.run('closed', clock.toISOString())).not.toThrow();
  });

  it('holds the rule for site-wide faults too (no device id)', () => {
    const insert = db.prepare(
      `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at)
       VALUES ('demo-site', NULL, 'site-unreachable', 'emergency', 'open', '{"code":"text","params":{"text":"site"}}', ?)`,
    );
    insert.run(clock.toISOString());
    expect(() => insert.run(clock.toISOString())).toThrow(/UNIQUE/);
  });

  it('keeps the tickets across a restart', () => {
    down();
    db.close();
    db = openDatabase(join(dir, 'vigil.db'));
    service = createTicketService({ db, events, sla: defaultSla, now: () => clock });
    expect(service.list({ status: 'open' })).toHaveLength(1);
    expect(down()).toEqual([]);
  });

  it('keeps the English title and timeline of a ticket written before messages had codes', () => {
    // A database as the broker left it before migration 3: titles and entries as text.
    const old = openDatabase(join(dir, 'before-codes.db'));
    try {
      migrate(old, 'tickets', ticketMigrations.slice(0, 2));
      old
        .prepare(
          `INSERT INTO tickets (site_id, device_id, fault, priority, status, title, opened_at)
           VALUES ('demo-site', 'cam-01', 'device-down', 'emergency', 'open', ?, ?)`,
        )
        .run('Camera "Lobby" (cam-01) is down: unreachable', clock.toISOString());
      old
        .prepare(
          `INSERT INTO ticket_timeline (ticket_id, at, kind, actor, text)
           VALUES (1, ?, 'note', 'li.wei', '客户已通知')`,
        )
        .run(clock.toISOString());
      const upgraded = createTicketService({ db: old, events, sla: defaultSla, now: () => clock });
      const ticket = upgraded.get(1)!;
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
    } finally {
      old.close();
    }
  });
});
