/**
 * Escalation through the whole broker (broker/app.ts) on its real SQLite file, with the
 * real on-call store and channel store configured over the API, and a DingTalk robot
 * stand-in (test/standins/dingtalk.ts) that checks the signature, the mention and the
 * limit as DingTalk documents them:
 *
 *   ticket opened -> the on-call engineer's @-mention arrives -> not acknowledged ->
 *   again with the lead (short timer by config) -> the link's GET leaves it usable ->
 *   its POST acknowledges in the engineer's name -> nothing more is sent;
 *   a broker stopped while the robot holds its answer past the stop's wait sends that
 *   message once more at its next start and counts the repeat (a stop that gets its answer
 *   repeats nothing: test/unit/broker/notify/outbox.test.ts); a site no team covers pages the default channel, whose link asks
 *   for a name; the policies API refuses a step that cannot run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { deviceDown } from '../../../../broker/detect/rules/device-down.js';
import { oncallApiRoutes, oncallPath } from '../../../../shared/api/oncall.js';
import { notifyChannelPath } from '../../../../shared/api/notify.js';
import { notifyPolicyRoutes } from '../../../../shared/api/notify-policy.js';
import { sitePath } from '../../../../shared/api/sites.js';
import { DingTalkStandin } from '../../../standins/dingtalk.js';
import { loginToken, startTestBroker, type TestBrokerSettings } from '../../../helpers/broker.js';
import { eventually } from '../../../helpers/eventually.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';
import { camera } from './camera.js';

const ENGINEER_PHONE = '13800138000';
const LEAD_PHONE = '13900139000';

const settings: TestBrokerSettings = {
  notify: {
    // Links name this address; the test calls the broker's real one with the same path.
    publicUrl: 'https://vigil.example.com',
    policies: {
      emergency: {
        steps: [
          { when: 'opened', notify: ['engineer'], sms: true },
          // 1.5 s instead of 5 min: the step, not the wait, is under test.
          { when: 'unacknowledged', afterMin: 0.025, notify: ['engineer', 'lead'], sms: true },
        ],
      },
    },
    // A stop waits this long for a robot's answer (15 s by default) before leaving the
    // message in flight; the hung robot below never answers.
    outbox: { retryFirstMs: 200, retryMaxMs: 1000, stopWaitMs: 500 },
  },
};

describe('escalation through the broker', () => {
  let robot: DingTalkStandin;
  let dir: TempDir;
  let broker: RunningBroker | null = null;
  let admin: string;
  let channelId = '';

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${broker!.httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? (JSON.parse(text) as Record<string, unknown>) : null;
  };

  const start = async () => {
    broker = await startTestBroker({ settings, dataDir: dir.path });
    admin = await loginToken(broker);
  };

  beforeAll(async () => {
    robot = await new DingTalkStandin('robot-token-0001', 'SEC0123456789abcdef').start();
    dir = await tempDir('vigil-escalation-');
    await start();
    const channel = await call('POST', '/api/notify/channels', {
      name: 'East DingTalk group',
      type: 'dingtalk',
      url: robot.url,
      secret: robot.secret,
    });
    channelId = channel!.id as string;
    await call('POST', oncallApiRoutes.people, {
      id: 'zhang-wei',
      name: '张伟',
      phone: ENGINEER_PHONE,
    });
    await call('POST', oncallApiRoutes.people, { id: 'li-na', name: '李娜', phone: LEAD_PHONE });
    await call('POST', oncallApiRoutes.teams, {
      id: 'east',
      name: '华东',
      leadId: 'li-na',
      channelIds: [channel!.id],
    });
    await call('POST', oncallPath('rotations', 'east'), {
      personIds: ['zhang-wei'],
      handover: 'daily',
      handoverTime: '09:00',
      startDate: '2026-01-01',
    });
    await call('PUT', sitePath('plant-7'), { customer: 'Example Logistics Ltd' });
    await call('POST', oncallApiRoutes.coverage, { scope: 'site', key: 'plant-7', teamId: 'east' });
  });
  afterEach(() => {
    robot.hang = false;
  });
  afterAll(async () => {
    await broker?.stop();
    await robot?.stop();
    await dir?.remove();
  });

  it('pages the engineer, escalates to the lead, and stops when acknowledged from the link', async () => {
    const policies = await call('GET', notifyPolicyRoutes.policies);
    expect(policies).toMatchObject({
      emergency: { steps: [{ when: 'opened' }, { afterMin: 0.025 }] },
    });

    const [ticket] = await broker!.tickets.apply(deviceDown(camera('cam-03'), new Date()));
    const first = await eventually('the engineer is paged', () => robot.messages[0]);
    expect(first.mentioned).toEqual([ENGINEER_PHONE]);
    expect(first.notShown).toEqual([]);
    expect(first.text).toContain('Example Logistics Ltd');
    expect(first.text).toContain('(UTC+08:00)');

    const second = await eventually('the lead is paged too', () => robot.messages[1]);
    expect(second.mentioned.sort()).toEqual([ENGINEER_PHONE, LEAD_PHONE].sort());
    expect(second.title ?? second.text).toContain('仍未响应');

    const link = /https:\/\/vigil\.example\.com(\/ack\/[\w.-]+)/.exec(second.text)![1]!;
    // A chat app's preview: the page, and the link still usable.
    const page = await fetch(`${broker!.httpUrl}${link}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('确认响应');
    expect(html).toContain('<form method="post">');
    // When it opened, in the team's zone with its offset, not raw UTC (review 15, finding 15).
    expect(html).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+08:00\)/);
    expect((await broker!.tickets.get(ticket!.id))!.status).toBe('open');

    const done = await fetch(`${broker!.httpUrl}${link}`, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('已由 张伟 确认响应');
    const acknowledged = (await broker!.tickets.get(ticket!.id))!;
    expect(acknowledged).toMatchObject({ status: 'acknowledged', respondedBy: '张伟' });
    const again = await fetch(`${broker!.httpUrl}${link}`, { method: 'POST' });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('此链接已使用过');

    // Nothing more for this ticket: wait past another step's time.
    const sent = robot.messages.length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(robot.messages.length).toBe(sent);
    const kinds = acknowledged.timeline.map((t) => `${t.kind}/${t.actor}`);
    expect(kinds).toEqual(expect.arrayContaining(['notified/system', 'acknowledged/张伟']));
    expect(acknowledged.timeline.filter((t) => t.kind === 'notified')).toHaveLength(2);
  });

  it("lists the channel's deliveries for an admin, without their text (it holds live links)", async () => {
    const log = (await call('GET', notifyChannelPath('deliveries', channelId))) as unknown as {
      kind: string;
      state: string;
      ticketIds: number[];
      sentAt: string | null;
    }[];
    // The two pages of the test above, newest first, delivered.
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(log.slice(0, 2).map((d) => [d.kind, d.state])).toEqual([
      ['ticket', 'delivered'],
      ['ticket', 'delivered'],
    ]);
    expect(log[0]!.sentAt).not.toBeNull();
    expect(JSON.stringify(log)).not.toContain('/ack/');
    // Only an admin reads it; an unknown channel is a 404.
    const anonymous = await fetch(
      `${broker!.httpUrl}${notifyChannelPath('deliveries', channelId)}`,
    );
    expect(anonymous.status).toBe(401);
    const unknown = await fetch(`${broker!.httpUrl}${notifyChannelPath('deliveries', 'nope')}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(unknown.status).toBe(404);
  });

  it('sends a message still unanswered when the broker stopped once more at its next start, and counts it', async () => {
    robot.hang = true;
    const before = robot.requests.length;
    const [ticket] = await broker!.tickets.apply(deviceDown(camera('cam-04'), new Date()));
    await eventually('the request is in flight', () => robot.requests.length > before);
    await broker!.stop();
    broker = null;
    robot.hang = false;
    const received = robot.messages.length;
    await start();
    const repeated = await eventually('the message arrives after the restart', () =>
      robot.messages.slice(received).find((m) => m.text.includes('cam-04')),
    );
    expect(repeated.mentioned).toEqual([ENGINEER_PHONE]);
    expect((await broker!.escalations.outbox.counters()).repeats).toBe(1);
    // Once: the opened message is not sent a third time (the later step may follow).
    const opened = robot.messages.filter(
      (m) => m.text.includes('cam-04') && m.text.includes('新工单'),
    );
    expect(opened).toHaveLength(1);
    const timeline = (await broker!.tickets.get(ticket!.id))!.timeline;
    expect(timeline.find((t) => t.kind === 'notified')!.text).toBe(
      'Notified again after a restart through East DingTalk group: 张伟',
    );
  });
  it('pages the default channel for a site nobody covers; its link asks for a name', async () => {
    const noc = await new DingTalkStandin('noc-token-0002', null).start();
    try {
      await call('POST', '/api/notify/channels', {
        name: 'NOC group',
        type: 'dingtalk',
        url: noc.url,
        default: true,
      });
      const uncovered = { ...camera('cam-09'), siteId: 'plant-9' };
      const [ticket] = await broker!.tickets.apply(deviceDown(uncovered, new Date()));
      const page = await eventually('the default channel is paged', () => noc.messages[0]);
      expect(page.mentioned).toEqual([]);
      const link = /https:\/\/vigil\.example\.com(\/ack\/[\w.-]+)/.exec(page.text)![1]!;
      const form = await (await fetch(`${broker!.httpUrl}${link}`)).text();
      expect(form).toContain('<input name="name" required');
      const nameless = await fetch(`${broker!.httpUrl}${link}`, { method: 'POST' });
      expect(nameless.status).toBe(400);
      const done = await fetch(`${broker!.httpUrl}${link}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'Wang Fang' }).toString(),
      });
      expect(done.status).toBe(200);
      expect(await broker!.tickets.get(ticket!.id)).toMatchObject({
        status: 'acknowledged',
        respondedBy: 'Wang Fang',
      });
      // The team's robot heard nothing of it.
      expect(robot.messages.some((m) => m.text.includes('cam-09'))).toBe(false);
    } finally {
      await noc.stop();
    }
  });

  it('lets an admin replace the policies, refusing a step that cannot run with its path', async () => {
    const current = (await call('GET', notifyPolicyRoutes.policies)) as Record<string, unknown>;
    const refused = await fetch(`${broker!.httpUrl}${notifyPolicyRoutes.policies}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...current,
        serious: {
          steps: [{ when: 'unacknowledged', notify: ['lead'], sms: false }],
          digestEveryMin: null,
        },
      }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'VIGIL_BAD_REQUEST',
      details: [
        'serious/steps/0/afterMin: required for an unacknowledged step (minutes after opening)',
      ],
    });
    const quieter = {
      ...current,
      general: {
        steps: [{ when: 'sla-breach', notify: ['lead'], sms: false }],
        digestEveryMin: 60,
      },
    };
    expect(await call('PUT', notifyPolicyRoutes.policies, quieter)).toEqual(quieter);
    expect(await call('GET', notifyPolicyRoutes.policies)).toEqual(quieter);
  });
});
