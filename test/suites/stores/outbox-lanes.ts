/**
 * The outbox's lanes, counters and spells (broker/notify/outbox.ts) on SQLite and on PostgreSQL (test/suites/stores/backends.ts)
 * with a controlled clock: one delivery id for every attempt of a row; SMS rows per phone,
 * each with its own pace and digests that never mix people (review 15, finding 14); the
 * service's retry-after holding the whole lane; an urgent row not sitting out a long wait;
 * an ordered channel keeping its order across a retry; counters per channel type and a
 * channel's failure spell kept across a restart (finding 16, issue 15 part 4).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import { silentLog } from '../../../broker/log.js';
import type { OutgoingMessage, Recipient } from '../../../broker/notify/deps.js';
import { Outbox } from '../../../broker/notify/outbox.js';
import type { StoreBackend } from './backends.js';
import { fakeChannel, fakeRegistry, type FakeChannel } from '../../unit/broker/notify/fakes.js';

const MIN = 60_000;

const someone = (name: string, phone: string | null): Recipient => ({
  name,
  phone,
  email: null,
  dingtalkUserId: null,
  wecomUserId: null,
  feishuOpenId: null,
});
const zhang = someone('张伟', '13800138000');
const li = someone('李娜', '13900139000');

const msg = (n: number, to: Recipient[] = [], extra: Partial<OutgoingMessage> = {}) =>
  ({
    kind: 'ticket',
    language: 'en',
    title: `ticket ${n}`,
    markdown: `**ticket ${n}**`,
    text: `ticket ${n}`,
    to,
    ticketIds: [n],
    sms: {
      priority: 'general',
      site: 's',
      device: `cam-${n}`,
      fault: 'down',
      deadline: '-',
      count: '1',
      ticket: String(n),
    },
    data: { lines: [{ title: `ticket ${n}`, ticketId: n, ackUrl: null }] },
    ...extra,
  }) satisfies OutgoingMessage;

export function outboxLanesSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let clock: number;
  const now = () => new Date(clock);

  beforeEach(async () => {
    db = await backend.open();
    clock = Date.parse('2026-12-06T12:00:00Z');
  });

  const outboxOf = (
    channels: FakeChannel[],
    extra: Partial<ConstructorParameters<typeof Outbox>[0]> = {},
  ) => new Outbox({ db, channels: fakeRegistry(channels), log: silentLog, now, ...extra });

  describe('one delivery id per notification', () => {
    it('gives every attempt of a row, and its repeat after a crash, the same stored id', async () => {
      const hook = fakeChannel('h', {
        type: 'webhook',
        perMinute: null,
        answers: [
          { delivered: false, code: 'http-503', message: 'HTTP 503', retryable: true },
          { delivered: true },
        ],
      });
      const first = outboxOf([hook], { settings: { retryFirstMs: 1000 } });
      await first.start();
      const id = await first.enqueue('h', msg(1));
      const other = await first.enqueue('h', msg(2));
      await first.idle();
      clock += 1000;
      await first.runDue();
      await first.idle();
      const ids = hook.contexts.map((c) => c?.deliveryId);
      expect(hook.sent.map((m) => m.ticketIds[0])).toEqual([1, 2, 1]);
      expect(hook.contexts.map((c) => c?.attempt)).toEqual([1, 1, 2]);
      expect(ids[2]).toBe(ids[0]);
      expect(ids[0]).toBe((await first.get(id))!.deliveryId);
      expect(ids[1]).toBe((await first.get(other))!.deliveryId);
      expect(ids[1]).not.toBe(ids[0]);
      await first.stop();

      // A row left in flight by a crash goes again under its id: a receiver can drop it.
      const third = await first.enqueue('h', msg(3));
      await db.run("UPDATE notify_outbox SET state = 'sending', attempts = 1 WHERE id = ?", [
        third,
      ]);
      const second = outboxOf([hook]);
      await second.start();
      await second.idle();
      expect(hook.contexts.at(-1)).toEqual({
        deliveryId: (await second.get(third))!.deliveryId,
        attempt: 2,
      });
      await second.stop();
    });
  });

  describe('SMS per recipient', () => {
    it('queues one row per phone and merges each phone’s texts apart, never mixing people', async () => {
      const sms = fakeChannel('sms', { type: 'sms', perMinute: null });
      const outbox = outboxOf([sms], { settings: { smsPerMinute: 5 } });
      await outbox.start();
      // Both are paged about ticket 1; only 张伟 about 2 and 3, only 李娜 about 4. Queued
      // in one transaction (as a step's pages are), so one pass sees them all.
      await db.transaction(async (tx) => {
        await outbox.enqueue('sms', msg(1, [zhang, li]), tx, 'sms');
        await outbox.enqueue('sms', msg(2, [zhang]), tx, 'sms');
        const urgent = msg(3, [zhang], { sms: { ...msg(3).sms, priority: 'emergency' } });
        await outbox.enqueue('sms', urgent, tx, 'sms');
        await outbox.enqueue('sms', msg(4, [li]), tx, 'sms');
      });
      outbox.wake();
      await outbox.idle();
      // The pace of 5 a minute lets one text a number go now: what waits for each number
      // goes as that number's digest, with only its own tickets.
      expect(sms.sent).toHaveLength(2);
      const forZhang = sms.sent.find((m) => m.to[0]!.phone === zhang.phone)!;
      const forLi = sms.sent.find((m) => m.to[0]!.phone === li.phone)!;
      expect(forZhang.to).toEqual([zhang]);
      expect(forZhang.ticketIds).toEqual([1, 2, 3]);
      // The text shows the most urgent of its tickets, and how many it holds.
      expect(forZhang.sms).toMatchObject({ priority: 'emergency', ticket: '3', count: '3' });
      expect(forLi.to).toEqual([li]);
      expect(forLi.ticketIds).toEqual([1, 4]);
      expect(forLi.sms).toMatchObject({ ticket: '1', count: '2' });
      // Alone on its number, the next text goes at once.
      await outbox.enqueue('sms', msg(5, [someone('王芳', '13700137000')]));
      await outbox.runDue();
      await outbox.idle();
      expect(sms.sent[2]).toMatchObject({ ticketIds: [5] });
      expect((await outbox.stats()).byType.sms).toMatchObject({
        delivered: 3,
        merged: 5,
        pending: 0,
      });
      await outbox.stop();
    });

    it('a row nobody in it can be texted at goes whole, to be refused as no-recipient', async () => {
      const sms = fakeChannel('sms', {
        type: 'sms',
        perMinute: null,
        answers: [
          { delivered: false, code: 'no-recipient', message: 'no phone', retryable: false },
        ],
      });
      const outbox = outboxOf([sms]);
      await outbox.start();
      const id = await outbox.enqueue('sms', msg(1, [someone('王芳', null)]));
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({
        state: 'failed',
        errorCode: 'no-recipient',
        lane: '',
      });
      // The message's fault, not the channel's.
      expect((await outbox.stats()).failing).toEqual([]);
      await outbox.stop();
    });
  });

  describe("the service's wait", () => {
    const limited = {
      delivered: false as const,
      code: 'isv.BUSINESS_LIMIT_CONTROL',
      message: '触发分钟级流控Permits:1',
      retryable: true,
      retryAfterMs: MIN,
      perRecipient: true,
    };

    it("holds the number's other texts, not the other numbers', and is no channel failure", async () => {
      const sms = fakeChannel('sms', {
        type: 'sms',
        perMinute: null,
        answers: [limited, { delivered: true }],
      });
      const outbox = outboxOf([sms], { settings: { smsPerMinute: 100 } });
      await outbox.start();
      await outbox.enqueue('sms', msg(1, [zhang]));
      await outbox.idle();
      await outbox.enqueue('sms', msg(2, [zhang]));
      await outbox.enqueue('sms', msg(3, [li]));
      await outbox.runDue();
      await outbox.idle();
      // 张伟's number waits its minute; 李娜's text goes.
      expect(sms.sent.map((m) => m.ticketIds[0])).toEqual([1, 3]);
      expect((await outbox.stats()).failing).toEqual([]);
      clock += MIN;
      await outbox.runDue();
      await outbox.idle();
      expect(sms.sent.slice(2).flatMap((m) => m.ticketIds)).toEqual([1, 2]);
      await outbox.stop();
    });

    it('gives up an urgent row the service would hold past urgentMaxWaitMs, and only that', async () => {
      const hour = { ...limited, message: '触发小时级流控Permits:5', retryAfterMs: 60 * MIN };
      const sms = fakeChannel('sms', { type: 'sms', perMinute: null, answers: [hour] });
      const outcomes: string[] = [];
      const outbox = outboxOf([sms], {
        onOutcome: (row, o) =>
          outcomes.push(`${row.message.title}:${o.delivered ? 'ok' : o.final}`),
        // Another channel carries it (the escalation says so from the step's channels).
        handOver: () => true,
      });
      await outbox.start();
      const urgent = await outbox.enqueue('sms', msg(1, [zhang], { urgent: true }));
      const calm = await outbox.enqueue('sms', msg(2, [li]));
      await outbox.idle();
      expect(outcomes).toEqual(['ticket 1:true', 'ticket 2:false']);
      expect(await outbox.get(urgent)).toMatchObject({ state: 'failed' });
      expect((await outbox.get(urgent))!.errorMessage).toMatch(
        /too long for an urgent notification/,
      );
      expect(await outbox.get(calm)).toMatchObject({ state: 'pending', nextAt: clock + 60 * MIN });
      await outbox.stop();
    });

    it('waits it out for an urgent row no other channel carries: late rather than never', async () => {
      const block = {
        delivered: false as const,
        code: '130101',
        message: 'send too fast',
        retryable: true,
        retryAfterMs: 10 * MIN,
      };
      const robot = fakeChannel('r', { answers: [block, { delivered: true }] });
      const outbox = outboxOf([robot], { handOver: () => false });
      await outbox.start();
      const id = await outbox.enqueue('r', msg(1, [], { urgent: true }));
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({ state: 'pending', nextAt: clock + 10 * MIN });
      clock += 10 * MIN;
      await outbox.runDue();
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 2 });
      await outbox.stop();
    });

    it("a robot's block holds the channel's next rows too", async () => {
      const robot = fakeChannel('r', {
        answers: [
          {
            delivered: false,
            code: '130101',
            message: 'send too fast',
            retryable: true,
            retryAfterMs: 10 * MIN,
          },
          { delivered: true },
        ],
      });
      const outbox = outboxOf([robot]);
      await outbox.start();
      await outbox.enqueue('r', msg(1));
      await outbox.idle();
      await outbox.enqueue('r', msg(2));
      await outbox.runDue();
      await outbox.idle();
      expect(robot.sent).toHaveLength(1);
      clock += 10 * MIN;
      await outbox.runDue();
      await outbox.idle();
      expect(robot.sent.slice(1).flatMap((m) => m.ticketIds)).toEqual([1, 2]);
      await outbox.stop();
    });
  });

  describe('an ordered channel', () => {
    it('sends nothing past a row waiting for its retry, then all in order', async () => {
      const hook = fakeChannel('h', {
        type: 'webhook',
        perMinute: null,
        ordered: true,
        answers: [
          { delivered: false, code: 'http-503', message: 'HTTP 503', retryable: true },
          { delivered: true },
        ],
      });
      const outbox = outboxOf([hook], { settings: { retryFirstMs: 1000 } });
      await outbox.start();
      await outbox.enqueue('h', msg(1));
      await outbox.idle();
      await outbox.enqueue('h', msg(2));
      await outbox.enqueue('h', msg(3));
      await outbox.runDue();
      await outbox.idle();
      expect(hook.sent.map((m) => m.ticketIds[0])).toEqual([1]);
      clock += 1000;
      await outbox.runDue();
      await outbox.idle();
      expect(hook.sent.map((m) => m.ticketIds[0])).toEqual([1, 1, 2, 3]);
      await outbox.stop();
    });
  });

  describe('counters and spells on disk', () => {
    it('keeps the counters per channel type and a failing spell across a restart', async () => {
      const down = { delivered: false as const, code: '-1', message: 'busy', retryable: true };
      const robot = fakeChannel('r', { answers: [{ delivered: true }] });
      const noc = fakeChannel('noc', { type: 'wecom' });
      const alerts = { alertTargets: () => ({ channelIds: ['noc'], language: 'en' as const }) };
      const first = outboxOf([robot, noc], { settings: { retryFirstMs: MIN }, ...alerts });
      await first.start();
      await first.enqueue('r', msg(1));
      await first.idle();
      robot.answers = [down];
      await first.enqueue('r', msg(2));
      await first.idle();
      const since = new Date(clock).toISOString();
      expect(await first.stats()).toMatchObject({
        byType: { dingtalk: { delivered: 1, retried: 1, pending: 1 } },
        failing: [{ channelId: 'r', type: 'dingtalk', since, alerted: false, code: '-1' }],
      });
      await first.stop();

      // Restarted 11 minutes later: the spell began before the restart, so the next failure
      // is past alertAfterMs (10 min) and raises the alert.
      clock += 11 * MIN;
      const second = outboxOf([robot, noc], { settings: { retryFirstMs: MIN }, ...alerts });
      await second.start();
      await second.idle();
      expect((await second.stats()).byType.dingtalk).toMatchObject({
        delivered: 1,
        retried: 2,
        alerts: 1,
      });
      expect((await second.stats()).failing).toEqual([
        { channelId: 'r', type: 'dingtalk', since, alerted: true, code: '-1' },
      ]);
      expect(noc.sent.map((m) => m.kind)).toEqual(['channel-alert']);
      expect(await second.counters()).toMatchObject({ delivered: 2, alerts: 1 });

      // It delivers again: the spell ends, on disk too.
      robot.answers = [{ delivered: true }];
      clock += 2 * MIN;
      await second.runDue();
      await second.idle();
      expect((await second.stats()).failing).toEqual([]);
      expect((await second.stats()).byType.dingtalk).toMatchObject({ delivered: 2, pending: 0 });
      await second.stop();
    });
  });

  describe('a message outside the queue (the test button)', () => {
    it("counts in the robot's window, and is refused with the wait when there is no room", async () => {
      const robot = fakeChannel('r', { perMinute: 18 });
      const outbox = outboxOf([robot]);
      await outbox.start();
      const driver = (await fakeRegistry([robot]).driver('r'))!;
      // The pace's burst of 3 (18 a minute): the queue takes it.
      for (const n of [1, 2, 3]) await outbox.enqueue('r', msg(n));
      await outbox.idle();
      expect(robot.sent).toHaveLength(3);
      const refused = await outbox.sendOutside('r', driver, msg(99));
      expect(refused).toMatchObject({ delivered: false, code: 'rate-limited', retryable: true });
      expect(robot.sent).toHaveLength(3);
      clock += (refused as { retryAfterMs: number }).retryAfterMs;
      expect(await outbox.sendOutside('r', driver, msg(99))).toEqual({ delivered: true });
      // It took the slot: the next queued row waits for the pace.
      await outbox.enqueue('r', msg(4));
      await outbox.idle();
      expect(robot.sent.map((m) => m.ticketIds[0])).toEqual([1, 2, 3, 99]);
      await outbox.stop();
    });
  });
}
