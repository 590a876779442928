/**
 * The escalation engine (broker/notify/escalation.ts) over a real ticket desk, on SQLite
 * and on PostgreSQL (test/suites/stores/backends.ts), with in-test channels and on-call answers (./fakes.ts) and a controlled clock:
 * who is paged where and in which words, the step after 5 minutes without
 * acknowledgement, acknowledgement stopping it, default channels for sites no team
 * covers, general tickets in digests, the timeline entries, a restart; and steps that fell
 * due while no node led, run late and once when a node starts (issue 17).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import { message } from '../../../shared/wording/messages.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import { deviceDown, deviceUp } from '../../../broker/detect/rules/device-down.js';
import { BrokerEvents } from '../../../broker/events.js';
import { silentLog, type Log } from '../../../broker/log.js';
import { defaultEscalationConfig, type EscalationConfig } from '../../../broker/notify/config.js';
import type { OnCallDirectory, Team } from '../../../broker/notify/deps.js';
import { Escalations } from '../../../broker/notify/escalation.js';
import { createTicketService } from '../../../broker/tickets/service.js';
import { defaultSla, type TicketService } from '../../../broker/tickets/types.js';
import type { StoreBackend } from './backends.js';
import {
  fakeChannel,
  fakeDirectory,
  fakeRegistry,
  person,
  type FakeChannel,
} from '../../unit/broker/notify/fakes.js';

const MIN = 60_000;
const lobbyDown: Device = {
  ...deviceExample,
  name: 'Lobby',
  status: 'down',
  reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.11:80' }],
};

const zhang = person('zhang-wei', '张伟', { phone: '13800138000', userName: 'zhangwei' });
const li = person('li-na', '李娜', { phone: '13900139000' });
const team: Team = {
  id: 'east',
  name: 'East',
  timeZone: 'Asia/Shanghai',
  language: 'zh-CN',
  leadId: 'li-na',
  supervisorId: null,
  managerId: null,
  channelIds: ['robot', 'sms'],
};

export function escalationSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let clock: number;
  const now = () => new Date(clock);
  let events: BrokerEvents;
  let tickets: TicketService;
  let robot: FakeChannel;
  let sms: FakeChannel;
  let noc: FakeChannel;
  let running: Escalations[];

  beforeEach(async () => {
    db = await backend.open();
    clock = Date.parse('2026-12-06T18:00:00Z'); // 02:00 in Shanghai: nobody watches the screen
    events = new BrokerEvents();
    tickets = createTicketService({ db, events, sla: defaultSla, now });
    await tickets.start();
    robot = fakeChannel('robot');
    sms = fakeChannel('sms', { type: 'sms', perMinute: null });
    noc = fakeChannel('noc', { default: true });
    running = [];
  });
  afterEach(async () => {
    for (const e of running) await e.stop();
  });

  async function start(
    directory: OnCallDirectory,
    config: Partial<EscalationConfig> = {},
    log: Log = silentLog,
    on: SqlDatabase = db,
  ): Promise<Escalations> {
    const escalations = new Escalations({
      db: on,
      events,
      tickets,
      directory,
      channels: fakeRegistry([robot, sms, noc]),
      sites: {
        get: (id) => ({ name: id === 'demo-site' ? 'Demo Mall' : id, customer: 'Acme Retail' }),
      },
      config: { ...defaultEscalationConfig, publicUrl: 'https://vigil.example.com', ...config },
      log,
      now,
    });
    await escalations.start();
    running.push(escalations);
    return escalations;
  }

  /** A general ticket: the camera's clock drifts. */
  function clockDrift(id: string) {
    return tickets.apply({
      kind: 'fault',
      siteId: 'demo-site',
      deviceId: id,
      fault: 'degraded:clock-drift',
      condition: 'degraded:clock-drift',
      title: message('title.degraded', {
        kind: 'camera',
        name: id,
        device: id,
        code: 'clock-drift',
      }),
      text: message('detected.degraded', { code: 'clock-drift', lines: [] }),
      covers: [],
      at: now(),
    });
  }

  async function settle(e: Escalations): Promise<void> {
    await e.run();
    await e.idle();
  }

  describe('Escalations', () => {
    it('pages the on-call engineer at once by robot and SMS, in Chinese, with local deadlines and links', async () => {
      const e = await start(fakeDirectory(team, { engineer: zhang, lead: li }));
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      expect(sms.sent).toHaveLength(1);
      const sent = robot.sent[0]!;
      expect(sent.to.map((p) => p.name)).toEqual(['张伟']);
      expect(sent.language).toBe('zh-CN');
      expect(sent.title).toBe(
        `【紧急】#${ticket!.id} 新工单：摄像机“Lobby”（cam-01）故障离线：无法连接`,
      );
      expect(sent.markdown).toContain('- **客户**：Acme Retail');
      expect(sent.markdown).toContain('- **站点**：Demo Mall (demo-site)');
      // Respond within 10 min of 18:00 UTC: 02:10 the next day in Shanghai.
      expect(sent.markdown).toContain('- **响应时限**：2026-12-07 02:10 (UTC+08:00)');
      expect(sent.markdown).toContain(
        `[查看工单](https://vigil.example.com/#/tickets/${ticket!.id})`,
      );
      expect(sent.markdown).toMatch(
        /\[确认响应\]\(https:\/\/vigil\.example\.com\/ack\/[\w-]+\.[\w-]+\)/,
      );
      expect(sent.text).not.toContain('**');
      expect(sms.sent[0]!.sms).toMatchObject({
        priority: 'emergency',
        site: 'demo-site',
        device: 'cam-01',
      });
      const timeline = (await tickets.get(ticket!.id))!.timeline;
      expect(timeline.filter((t) => t.kind === 'notified').map((t) => t.text)).toEqual([
        'Notified through robot robot: 张伟',
        'Notified through robot sms: 张伟',
      ]);
      expect(timeline.every((t) => t.kind !== 'notified' || t.actor === 'system')).toBe(true);
    });

    it('escalates to the lead after 5 min without acknowledgement, and stops once acknowledged', async () => {
      const e = await start(fakeDirectory(team, { engineer: zhang, lead: li }));
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      clock += 5 * MIN - 1;
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      clock += 1;
      await settle(e);
      expect(robot.sent).toHaveLength(2);
      expect(robot.sent[1]!.title).toContain('仍未响应');
      expect(robot.sent[1]!.to.map((p) => p.name)).toEqual(['张伟', '李娜']);

      // A second emergency, acknowledged within the 5 minutes: no second round.
      const other = (
        await tickets.apply(deviceDown({ ...lobbyDown, id: 'cam-02', name: 'Gate' }, now()))
      )[0]!;
      await settle(e);
      expect(robot.sent).toHaveLength(3);
      await tickets.act(other.id, { action: 'acknowledge' }, 'zhangwei');
      clock += 10 * MIN;
      await settle(e);
      expect(robot.sent).toHaveLength(3);
      expect((await tickets.get(ticket!.id))!.status).toBe('open');
    });

    it('runs a scheduled step by what it is, after a PUT of the policies inserted one before it', async () => {
      const e = await start(fakeDirectory(team, { engineer: zhang, lead: li }));
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      const policies = await e.currentPolicies();
      const [opened, ...rest] = policies.emergency.steps;
      await e.policies.save(
        {
          ...policies,
          emergency: {
            ...policies.emergency,
            steps: [
              opened!,
              { when: 'unacknowledged', afterMin: 30, notify: ['manager'], sms: false },
              ...rest,
            ],
          },
        },
        'admin',
      );
      clock += 5 * MIN;
      await settle(e);
      // The 5-minute step (engineer and lead), now second in the list, not the one in its place.
      expect(robot.sent.map((m) => m.to.map((p) => p.name))).toEqual([['张伟'], ['张伟', '李娜']]);
    });

    it("waits out the robot's block for an emergency when no other channel could carry it", async () => {
      robot.answers = [
        {
          delivered: false,
          code: '130101',
          message: 'send too fast',
          retryable: true,
          retryAfterMs: 10 * MIN,
        },
        { delivered: true },
      ];
      noc.enabled = false;
      const e = await start(fakeDirectory({ ...team, channelIds: ['robot'] }, { engineer: zhang }));
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      const page = (await e.outbox.list('robot'))[0]!;
      expect(page).toMatchObject({ state: 'pending', errorCode: '130101' });
      clock += 10 * MIN;
      await settle(e);
      // Sent again once the block is over (with the 5-minute step held behind it).
      expect(await e.outbox.get(page.id)).toMatchObject({ state: 'delivered', attempts: 2 });
    });

    it('pages the default channels for an emergency at a site no team covers', async () => {
      const e = await start(fakeDirectory(null));
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(noc.sent).toHaveLength(1);
      expect(noc.sent[0]!.to).toEqual([]);
      expect(robot.sent).toHaveLength(0);
    });

    it('bundles general tickets into one digest, sent before half of their response time', async () => {
      const e = await start(fakeDirectory(team, { engineer: zhang }));
      await clockDrift('cam-05');
      await e.idle(); // The engine takes the event in its turn: at this clock.
      clock += 5 * MIN;
      await clockDrift('cam-06');
      await e.idle(); // The engine takes the event in its turn: at this clock.
      await settle(e);
      expect(robot.sent).toHaveLength(0);
      clock += 25 * MIN - 1;
      await settle(e);
      expect(robot.sent).toHaveLength(0);
      clock += 1;
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      expect(robot.sent[0]!.kind).toBe('digest');
      expect(robot.sent[0]!.ticketIds).toHaveLength(2);
      // No SMS for general tickets.
      expect(sms.sent).toHaveLength(0);
    });

    it('texts each person apart, and digests of general tickets per number with only their own tickets', async () => {
      let engineer = zhang;
      const base = fakeDirectory(team, { engineer: zhang, lead: li });
      const directory: OnCallDirectory = {
        ...base,
        onCall: (siteId, at) => ({ ...base.onCall(siteId, at), engineer }),
      };
      const sendsSms = {
        ...defaultEscalationConfig.policies,
        general: {
          steps: [{ when: 'opened' as const, notify: ['engineer' as const], sms: true }],
          digestEveryMin: 30,
        },
      };
      const e = await start(directory, { policies: sendsSms });
      // The emergency's second step names the engineer and the lead: one text each.
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      clock += 5 * MIN;
      await settle(e);
      const second = sms.sent.slice(1);
      expect(second.map((m) => m.to.map((p) => p.name))).toEqual([['张伟'], ['李娜']]);

      // Two general tickets, the rota handing over between them: 张伟's and 李娜's.
      sms.sent.length = 0;
      const first = (await clockDrift('cam-05'))[0]!;
      await e.idle(); // The engine takes the event in its turn: at this clock.
      const third = (await clockDrift('cam-07'))[0]!;
      await e.idle(); // The engine takes the event in its turn: at this clock.
      engineer = li;
      const other = (await clockDrift('cam-06'))[0]!;
      await e.idle(); // The engine takes the event in its turn: at this clock.
      clock += 30 * MIN;
      await settle(e);
      const texts = sms.sent.filter((m) => m.ticketIds.some((id) => id !== 1));
      expect(texts.map((m) => [m.to.map((p) => p.name), m.ticketIds])).toEqual([
        [['张伟'], [first.id, third.id]],
        [['李娜'], [other.id]],
      ]);
      expect(texts[0]!.sms).toMatchObject({ count: '2' });
    });

    it("hands an emergency text the number's hour-level flow control holds to the default channel at once", async () => {
      sms.answers = [
        {
          delivered: false,
          code: 'isv.BUSINESS_LIMIT_CONTROL',
          message: '触发小时级流控Permits:5',
          retryable: true,
          retryAfterMs: 60 * MIN,
          perRecipient: true,
        },
      ];
      const e = await start(fakeDirectory(team, { engineer: zhang }));
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      await e.idle();
      // Not an hour later: now, through the default channel (and no alert: the channel is fine).
      expect(noc.sent.map((m) => [m.kind, m.to.map((p) => p.name)])).toEqual([
        ['ticket', ['张伟']],
      ]);
      const texts = (await tickets.get(ticket!.id))!.timeline.map((t) => t.text);
      expect(texts.join('\n')).toMatch(/handed to other channels/);
    });

    it('runs a step that fell due while the broker was down at the next start', async () => {
      const first = await start(fakeDirectory(team, { engineer: zhang, lead: li }));
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(first);
      await first.stop();
      running = [];
      clock += 30 * MIN;
      const second = await start(fakeDirectory(team, { engineer: zhang, lead: li }));
      await second.idle();
      expect(robot.sent).toHaveLength(2);
      expect(robot.sent[1]!.title).toContain('仍未响应');
    });

    it('pages again when a resolved ticket reopens, and not for a later change of an open one', async () => {
      const e = await start(fakeDirectory(team, { engineer: zhang }));
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      // A timeline entry of its own (the notification) changed the ticket: nothing new.
      await tickets.act(ticket!.id, { action: 'note', text: 'customer called' }, 'olga');
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      await tickets.apply(deviceUp(lobbyDown, now()));
      clock += 10 * MIN;
      const [reopened] = await tickets.apply(deviceDown(lobbyDown, now()));
      expect(reopened!.occurrences).toBe(2);
      await settle(e);
      expect(robot.sent).toHaveLength(2);
      expect(robot.sent[1]!.ticketIds).toEqual([ticket!.id]);
    });

    it('records a refused delivery on the timeline with the service code', async () => {
      robot.answers = [
        { delivered: false, code: '310000', message: 'sign not match', retryable: false },
      ];
      const e = await start(fakeDirectory(team, { engineer: zhang }));
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      const failed = (await tickets.get(ticket!.id))!.timeline.filter(
        (t) => t.kind === 'notify-failed',
      );
      expect(failed.map((t) => t.text)).toEqual([
        'Notification through robot robot to 张伟 failed (310000: sign not match); given up',
        'Channel robot robot refused this notification for good; sent through robot noc instead',
      ]);
    });
  });

  describe('bookkeeping and late retries', () => {
    it('drops a retry of a page whose ticket was acknowledged meanwhile', async () => {
      robot.answers = [
        {
          delivered: false,
          code: '45009',
          message: 'api freq out of limit',
          retryable: true,
          // Within notify.outbox.urgentMaxWaitS: an emergency waits it out on its own robot.
          retryAfterMs: MIN,
        },
        { delivered: true },
      ];
      const e = await start(fakeDirectory(team, { engineer: zhang }));
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      await tickets.act(ticket!.id, { action: 'acknowledge' }, 'zhangwei');
      clock += MIN;
      await e.outbox.runDue();
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      expect((await e.outbox.counters()).dropped).toBe(1);
      const row = (await e.outbox.list('robot'))[0]!;
      expect(row).toMatchObject({ state: 'failed', errorCode: 'not-needed' });
    });

    it('still chases a ticket whose first page threw: its steps are scheduled before it', async () => {
      const working = fakeDirectory(team, { engineer: zhang, lead: li });
      let calls = 0;
      const flaky: OnCallDirectory = {
        ...working,
        onCall: (siteId, at) => {
          if (calls++ === 0) throw new Error('rota store busy');
          return working.onCall(siteId, at);
        },
      };
      const e = await start(flaky);
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(robot.sent).toHaveLength(0);
      clock += 5 * MIN;
      await settle(e);
      expect(robot.sent).toHaveLength(1);
      expect(robot.sent[0]!.to.map((p) => p.name)).toEqual(['张伟', '李娜']);
    });
  });

  describe('when the usual channels cannot carry a page', () => {
    const lines: string[] = [];
    const log: Log = { ...silentLog, warn: (l) => lines.push(l), error: (l) => lines.push(l) };
    beforeEach(() => {
      lines.length = 0;
    });

    it('hands an emergency refused for good by the team robot to the default channel, and says so', async () => {
      robot.answers = [
        { delivered: false, code: '300005', message: 'token is not exist', retryable: false },
      ];
      const e = await start(fakeDirectory(team, { engineer: zhang }), {}, log);
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      await e.idle();
      // The page itself, and the robot's own alert (a refusal for good alerts at once).
      expect(noc.sent.map((m) => m.kind).sort()).toEqual(['channel-alert', 'ticket']);
      const page = noc.sent.find((m) => m.kind === 'ticket')!;
      expect(page.title).toBe(robot.sent[0]!.title);
      expect(page.to.map((p) => p.name)).toEqual(['张伟']);
      // Once: the team's SMS channel, which carried it, does not get it again.
      expect(sms.sent).toHaveLength(1);
      const texts = (await tickets.get(ticket!.id))!.timeline.map((t) => t.text);
      expect(texts).toContain(
        'Channel robot robot refused this notification for good; sent through robot noc instead',
      );
      expect(texts).toContain('Notified through robot noc: 张伟');
      expect(lines.join('\n')).toMatch(/refused notification \d+ for good; sent through robot noc/);
    });

    it('pages the default channel when every channel of the team is gone or disabled', async () => {
      const e = await start(fakeDirectory({ ...team, channelIds: ['deleted', 'robot'] }), {}, log);
      robot.enabled = false;
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(noc.sent).toHaveLength(1);
      expect(lines.join('\n')).toMatch(/no channel of team east can carry ticket/);
    });

    it('alerts through every other channel when the failing channel is the only default', async () => {
      noc.answers = [
        { delivered: false, code: '130101', message: 'send too fast', retryable: true },
      ];
      const e = await start(
        fakeDirectory(null),
        { outbox: { ...defaultEscalationConfig.outbox, alertAfterMs: 0 } },
        log,
      );
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      await e.idle();
      expect(robot.sent.map((m) => m.kind)).toEqual(['channel-alert']);
      // Not the SMS channel: the alert names nobody to text.
      expect(sms.sent).toHaveLength(0);
    });

    it('says on the timeline and in the log when a page reaches nobody', async () => {
      robot.enabled = false;
      noc.enabled = false;
      sms.enabled = false;
      const e = await start(fakeDirectory({ ...team, channelIds: ['robot'] }), {}, log);
      const [ticket] = await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(e);
      expect(sms.sent).toHaveLength(0);
      const failed = (await tickets.get(ticket!.id))!.timeline.filter(
        (t) => t.kind === 'notify-failed',
      );
      expect(failed.map((t) => t.text)).toEqual([
        'No channel reaches this site: nobody was notified. Give its team a channel, or mark a channel default',
      ]);
      expect(lines.join('\n')).toMatch(/no channel reaches site demo-site/);
    });
  });

  describe('a pair: steps that fell due while no node led', () => {
    it('runs them when a node starts, late and once, however many nodes start', async () => {
      const first = await start(fakeDirectory(team, { engineer: zhang, lead: li }));
      await tickets.apply(deviceDown(lobbyDown, now()));
      await settle(first);
      expect(robot.sent).toHaveLength(1);
      // The leader dies; nobody leads for 20 minutes, past the 5-minute step.
      await first.stop();
      running.splice(running.indexOf(first), 1);
      clock += 20 * MIN;
      // Two nodes start on the same database (the new leader, and a restarted one).
      const [a, b] = await Promise.all([
        start(
          fakeDirectory(team, { engineer: zhang, lead: li }),
          {},
          silentLog,
          await backend.reopen(db),
        ),
        start(fakeDirectory(team, { engineer: zhang, lead: li })),
      ]);
      await Promise.all([settle(a), settle(b)]);
      // The step ran once: the engineer and the lead, one robot message.
      expect(robot.sent).toHaveLength(2);
      expect(robot.sent[1]!.to.map((p) => p.name)).toEqual(['张伟', '李娜']);
      expect(await db.all('SELECT * FROM notify_escalation')).toEqual([]);
      await Promise.all([a.reload(), b.reload()]);
      await Promise.all([settle(a), settle(b)]);
      expect(robot.sent).toHaveLength(2);
    });
  });
}
