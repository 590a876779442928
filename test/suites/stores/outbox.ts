/**
 * The durable outbox (broker/notify/outbox.ts) on SQLite and on PostgreSQL
 * (test/suites/stores/backends.ts) with a controlled clock and in-test drivers: backoff
 * and the service's retry-after, the rate limit that merges into a digest instead of
 * queueing past it, the repeat of a row left in flight by a crash, a channel's own alert
 * after failing for long; and what a pair's two nodes make of one outbox (issue 17): two
 * connections claiming at once never take the same row, a row whose sender died is
 * claimed again once its claim runs out, a standby's claim is refused by the fence.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLog, type Log } from '../../../broker/log.js';
import type { ChannelRegistry, OutgoingMessage } from '../../../broker/notify/deps.js';
import { NotLeaderWriteError, type SqlDatabase } from '../../../broker/sql/types.js';
import { Outbox, type Outcome } from '../../../broker/notify/outbox.js';
import type { StoreBackend } from './backends.js';
import { fakeChannel, fakeRegistry, type FakeChannel } from '../../unit/broker/notify/fakes.js';

const msg = (n: number): OutgoingMessage => ({
  kind: 'ticket',
  language: 'en',
  title: `ticket ${n}`,
  markdown: `**ticket ${n}**`,
  text: `ticket ${n}`,
  to: [],
  ticketIds: [n],
});

export function outboxSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let clock: number;
  const now = () => new Date(clock);

  beforeEach(async () => {
    db = await backend.open();
    clock = Date.parse('2026-12-06T12:00:00Z');
  });

  function outboxOf(
    channels: FakeChannel[],
    extra: Partial<ConstructorParameters<typeof Outbox>[0]> = {},
  ) {
    return new Outbox({ db, channels: fakeRegistry(channels), log: silentLog, now, ...extra });
  }

  describe('Outbox', () => {
    it('marks a row delivered and tells the timeline', async () => {
      const robot = fakeChannel('a');
      const outcomes: Outcome[] = [];
      const outbox = outboxOf([robot], { onOutcome: (_row, o) => outcomes.push(o) });
      await outbox.start();
      const id = await outbox.enqueue('a', msg(1));
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 1 });
      expect(robot.sent.map((m) => m.title)).toEqual(['ticket 1']);
      expect(outcomes).toEqual([{ delivered: true }]);
      await outbox.stop();
    });

    it('retries a retryable failure after the backoff or the service retry-after, whichever is later', async () => {
      const robot = fakeChannel('a', {
        answers: [
          {
            delivered: false,
            code: '130101',
            message: 'send too fast',
            retryable: true,
            retryAfterMs: 30_000,
          },
          { delivered: false, code: 'timeout', message: 'no answer', retryable: true },
          { delivered: true },
        ],
      });
      const outbox = outboxOf([robot], { settings: { retryFirstMs: 5_000 } });
      await outbox.start();
      const id = await outbox.enqueue('a', msg(1));
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({
        state: 'pending',
        attempts: 1,
        errorCode: '130101',
      });
      expect((await outbox.get(id))!.nextAt).toBe(clock + 30_000);
      clock += 29_000;
      await outbox.runDue();
      await outbox.idle();
      expect(robot.sent).toHaveLength(1);
      clock += 1_000;
      await outbox.runDue();
      await outbox.idle();
      // Second failure: backoff of attempt 2 is 10 s.
      expect(await outbox.get(id)).toMatchObject({
        state: 'pending',
        attempts: 2,
        errorCode: 'timeout',
      });
      expect((await outbox.get(id))!.nextAt).toBe(clock + 10_000);
      clock += 10_000;
      await outbox.runDue();
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 3 });
      expect(await outbox.counters()).toMatchObject({ delivered: 1, retried: 2, failed: 0 });
      await outbox.stop();
    });

    it('gives up at once on a refusal that no retry changes', async () => {
      const robot = fakeChannel('a', {
        answers: [
          { delivered: false, code: '310000', message: 'sign not match', retryable: false },
        ],
      });
      const outcomes: Outcome[] = [];
      const outbox = outboxOf([robot], { onOutcome: (_row, o) => outcomes.push(o) });
      await outbox.start();
      const id = await outbox.enqueue('a', msg(1));
      await outbox.idle();
      expect(await outbox.get(id)).toMatchObject({ state: 'failed', errorCode: '310000' });
      expect(outcomes).toEqual([
        { delivered: false, code: '310000', message: 'sign not match', final: true },
      ]);
      await outbox.stop();
    });

    it('paces a channel within its limit a minute: what waits goes as one digest at the pace', async () => {
      // 5 a minute: a burst of 1, then one every 15 s (paced: 1 + 60 / 15 - 1 = 5 in any 60 s).
      const robot = fakeChannel('a', { perMinute: 5 });
      const outbox = outboxOf([robot]);
      // Queued before start, as after a restart with a backlog: one pass sees them all.
      await outbox.start();
      await outbox.stop();
      const fresh = outboxOf([robot]);
      for (let n = 1; n <= 12; n++) await fresh.enqueue('a', msg(n));
      await fresh.start();
      await fresh.idle();
      expect(robot.sent).toHaveLength(1);
      const digest = robot.sent[0]!;
      expect(digest.kind).toBe('digest');
      expect(digest.ticketIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(digest.title).toBe('12 notifications');
      expect((await fresh.counters()).merged).toBe(12);
      // Two more wait, unmerged, for the pace, then go together.
      await fresh.enqueue('a', msg(13));
      await fresh.enqueue('a', msg(14));
      await fresh.idle();
      clock += 14_000;
      await fresh.runDue();
      await fresh.idle();
      expect(robot.sent).toHaveLength(1);
      clock += 1_001;
      await fresh.runDue();
      await fresh.idle();
      expect(robot.sent.slice(1).map((m) => m.ticketIds)).toEqual([[13, 14]]);
      await fresh.stop();
    });

    it('a steady burst: never more than the limit in any 60 s, and nothing waits past the pace', async () => {
      // DingTalk as we send it: 18 a minute, a burst of 3, then one every 4 s.
      const robot = fakeChannel('a', { perMinute: 18 });
      const outbox = outboxOf([robot]);
      await outbox.start();
      const sentAt: number[] = [];
      const queuedAt = new Map<number, number>();
      const waited: number[] = [];
      // Two tickets a second for two minutes, far past what the robot takes alone.
      for (let n = 1; n <= 240; n++) {
        if (n % 2 === 1) clock += 1_000;
        queuedAt.set(n, clock);
        await outbox.enqueue('a', msg(n));
        await outbox.runDue();
        await outbox.idle();
        for (const message of robot.sent.slice(sentAt.length)) {
          sentAt.push(clock);
          for (const id of message.ticketIds) waited.push(clock - queuedAt.get(id)!);
        }
      }
      for (const at of sentAt) {
        expect(sentAt.filter((t) => t > at - 60_000 && t <= at).length).toBeLessThanOrEqual(18);
      }
      // Every ticket queued but the last few was carried, none later than the pace (4 s).
      expect(waited.length).toBeGreaterThan(230);
      expect(Math.max(...waited)).toBeLessThanOrEqual(4_000);
      await outbox.stop();
    });

    it('sends a row left in flight by a crash once more and counts it', async () => {
      const robot = fakeChannel('a');
      const first = outboxOf([robot]);
      await first.start();
      await first.stop();
      // Queued while stopped: pending; then one marked in flight as a crashed process leaves it.
      const started = await first.enqueue('a', msg(1));
      const waiting = await first.enqueue('a', msg(2));
      await db.run("UPDATE notify_outbox SET state = 'sending', attempts = 1 WHERE id = ?", [
        started,
      ]);
      const lines: string[] = [];
      const log: Log = { ...silentLog, warn: (line) => lines.push(line) };
      const second = outboxOf([robot], { log });
      await second.start();
      await second.idle();
      expect((await second.counters()).repeats).toBe(1);
      expect(lines.join('\n')).toMatch(/1 notification\(s\) were in flight/);
      expect(await second.get(started)).toMatchObject({
        state: 'delivered',
        repeated: true,
        attempts: 2,
      });
      expect(await second.get(waiting)).toMatchObject({
        state: 'delivered',
        repeated: false,
        attempts: 1,
      });
      expect(robot.sent.map((m) => m.title)).toEqual(['ticket 1', 'ticket 2']);
      await second.stop();
    });

    it('sends a repeat alone, never folded into a digest, even when the pace merges the rest', async () => {
      // 5 a minute: a burst of 1, then one every 15 s.
      const robot = fakeChannel('a', { perMinute: 5 });
      const first = outboxOf([robot]);
      await first.start();
      await first.stop();
      const started = await first.enqueue('a', msg(1));
      const waiting = [await first.enqueue('a', msg(2)), await first.enqueue('a', msg(3))];
      await db.run("UPDATE notify_outbox SET state = 'sending', attempts = 1 WHERE id = ?", [
        started,
      ]);
      const second = outboxOf([robot]);
      await second.start();
      await second.idle();
      expect(robot.sent.map((m) => m.title)).toEqual(['ticket 1']);
      expect(await second.get(started)).toMatchObject({ state: 'delivered', repeated: true });
      clock += 15_001;
      await second.runDue();
      await second.idle();
      expect(robot.sent.slice(1).map((m) => m.ticketIds)).toEqual([[2, 3]]);
      for (const id of waiting) expect(await second.get(id)).toMatchObject({ state: 'merged' });
      await second.stop();
    });

    it('alerts through the other channels once when a channel failed every attempt for long', async () => {
      const broken = fakeChannel('a', {
        answers: [
          { delivered: false, code: '93000', message: 'invalid webhook url', retryable: true },
        ],
      });
      const other = fakeChannel('b');
      const outbox = outboxOf([broken, other], {
        settings: {
          alertAfterMs: 10 * 60_000,
          retryFirstMs: 60_000,
          retryMaxMs: 60_000,
          attempts: 100,
        },
        alertTargets: () => ({ channelIds: ['a', 'b'], language: 'en' }),
      });
      await outbox.start();
      await outbox.enqueue('a', msg(1));
      for (let minute = 0; minute <= 12; minute++) {
        await outbox.runDue();
        await outbox.idle();
        clock += 60_000;
      }
      expect((await outbox.counters()).alerts).toBe(1);
      expect(other.sent).toHaveLength(1);
      expect(other.sent[0]).toMatchObject({ kind: 'channel-alert', language: 'en' });
      expect(other.sent[0]!.text).toMatch(
        /Channel "robot a" has failed every delivery for 10 min \(93000/,
      );
      await outbox.stop();
    });
  });

  describe('a graceful stop', () => {
    /** A robot that answers `delivered` after `ms`, or never (until aborted) when null. */
    function slowRobot(ms: number | null) {
      const sent: string[] = [];
      let started = 0;
      const registry: ChannelRegistry = {
        ...fakeRegistry([fakeChannel('a')]),
        driver: async () => ({
          type: 'dingtalk',
          perMinute: 20,
          send: (message, signal) => {
            started++;
            return new Promise((resolve) => {
              const answer = () => {
                sent.push(message.title);
                resolve({ delivered: true });
              };
              if (ms !== null) setTimeout(answer, ms);
              signal.addEventListener('abort', () =>
                resolve({ delivered: false, code: 'aborted', message: 'aborted', retryable: true }),
              );
            });
          },
        }),
      };
      return { registry, sent, started: () => started };
    }

    it('waits for the answer of what is in flight and records it, so the next start repeats nothing', async () => {
      const robot = slowRobot(150);
      const first = new Outbox({ db, channels: robot.registry, log: silentLog });
      await first.start();
      const inFlight = await first.enqueue('a', msg(1));
      const queued = await first.enqueue('a', msg(2));
      await expect.poll(() => robot.started()).toBe(1);
      await first.stop();
      expect(await first.get(inFlight)).toMatchObject({ state: 'delivered', attempts: 1 });
      // Not started before the stop: it waits in the database, as pending, not in flight.
      expect(await first.get(queued)).toMatchObject({ state: 'pending', attempts: 0 });

      const after = slowRobot(0);
      const second = new Outbox({ db, channels: after.registry, log: silentLog });
      await second.start();
      await second.idle();
      expect((await second.counters()).repeats).toBe(0);
      expect(after.sent).toEqual(['ticket 2']);
      await second.stop();
    });

    it('gives a request that does not answer only stopWaitMs, then leaves it to be repeated', async () => {
      const robot = slowRobot(null);
      const lines: string[] = [];
      const first = new Outbox({
        db,
        channels: robot.registry,
        log: { ...silentLog, warn: (line) => lines.push(line) },
        settings: { stopWaitMs: 100 },
      });
      await first.start();
      const id = await first.enqueue('a', msg(1));
      await expect.poll(() => robot.started()).toBe(1);
      const t0 = Date.now();
      await first.stop();
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(await first.get(id)).toMatchObject({ state: 'sending' });
      expect(lines.join('\n')).toMatch(/still waiting for an answer after 100 ms/);
      const after = slowRobot(0);
      // On PostgreSQL the other node may still be sending a row left `sending`: it goes
      // again once its claim ran out, here a clock past it (SQLite: at once, one broker).
      const later = () => new Date(Date.now() + 2 * 60_000);
      const second = new Outbox({ db, channels: after.registry, log: silentLog, now: later });
      await second.start();
      await second.idle();
      expect((await second.counters()).repeats).toBe(1);
      expect(await second.get(id)).toMatchObject({ state: 'delivered', repeated: true });
      await second.stop();
    });
  });

  describe('a channel held back by its window', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('waits for the window to free instead of looking again every 10 ms, then sends the rest as one digest', async () => {
      // Faked timers against a database answering over a socket do not interleave as they
      // would in time; the timer's arithmetic is the same on both engines.
      if (backend.dialect !== 'sqlite') return;
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      vi.setSystemTime(clock);
      const robot = fakeChannel('a', { perMinute: 1 });
      const registry = fakeRegistry([robot]);
      let looks = 0;
      const counted = {
        ...registry,
        driver: async (id: string) => {
          looks++;
          return registry.driver(id);
        },
      };
      // The real clock of the outbox, faked by vitest along with its timers.
      const outbox = new Outbox({ db, channels: counted, log: silentLog });
      await outbox.start();
      await outbox.enqueue('a', msg(1));
      await outbox.idle();
      expect(robot.sent).toHaveLength(1);
      await outbox.enqueue('a', msg(2));
      await outbox.enqueue('a', msg(3));
      await outbox.idle();
      looks = 0;
      await vi.advanceTimersByTimeAsync(59_000);
      // Before the fix: a pass every 10 ms, 5,900 in the minute, each reading every due row.
      expect(looks).toBeLessThanOrEqual(2);
      expect(robot.sent).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1_100);
      await outbox.idle();
      expect(robot.sent).toHaveLength(2);
      expect(robot.sent[1]).toMatchObject({ kind: 'digest', ticketIds: [2, 3] });
      // Merged once, when it went: not a digest rebuilt at every look.
      expect((await outbox.counters()).merged).toBe(2);
      await outbox.stop();
    });
  });

  describe('a refusal no retry changes', () => {
    it('alerts through the other channels at once, not after a spell of failures', async () => {
      const revoked = fakeChannel('a', {
        answers: [
          { delivered: false, code: '300005', message: 'token is not exist', retryable: false },
        ],
      });
      const other = fakeChannel('b');
      const outbox = outboxOf([revoked, other], {
        alertTargets: () => ({ channelIds: ['b'], language: 'en' }),
      });
      await outbox.start();
      await outbox.enqueue('a', msg(1));
      await outbox.idle();
      await outbox.idle();
      expect((await outbox.counters()).alerts).toBe(1);
      expect(other.sent.map((m) => m.text)).toEqual([
        'Channel "robot a" refused a notification for good (300005: token is not exist): a revoked token, a changed secret or a deleted robot. Its pages go through other channels meanwhile. Check the channel\'s settings.',
      ]);
      // Once per spell.
      await outbox.enqueue('a', msg(2));
      await outbox.idle();
      expect((await outbox.counters()).alerts).toBe(1);
      await outbox.stop();
    });
  });

  describe('failures of the message, not the channel', () => {
    it('does not count a message without recipients into the channel failure spell', async () => {
      const sms = fakeChannel('sms', {
        type: 'sms',
        perMinute: null,
        answers: [
          {
            delivered: false,
            code: 'no-recipient',
            message: 'nobody has a phone',
            retryable: false,
          },
        ],
      });
      const other = fakeChannel('b');
      const outbox = outboxOf([sms, other], {
        settings: { alertAfterMs: 10 * 60_000 },
        alertTargets: () => ({ channelIds: ['b'], language: 'en' }),
      });
      await outbox.start();
      for (let minute = 0; minute <= 12; minute += 6) {
        await outbox.enqueue('sms', msg(minute));
        await outbox.runDue();
        await outbox.idle();
        clock += 6 * 60_000;
      }
      expect(sms.sent).toHaveLength(3);
      expect((await outbox.counters()).alerts).toBe(0);
      expect(other.sent).toHaveLength(0);
      await outbox.stop();
    });
  });

  describe('SMS pacing', () => {
    it('texts at most smsPerMinute a minute per SMS channel and merges the rest, with the first device and the count', async () => {
      // 2 a minute: a burst of 1, then one every 60 s.
      const sms = fakeChannel('sms', { type: 'sms', perMinute: null });
      const outbox = outboxOf([sms], { settings: { smsPerMinute: 2 } });
      await outbox.start();
      await outbox.stop();
      const texted = outboxOf([sms], { settings: { smsPerMinute: 2 } });
      await texted.enqueue('sms', { ...msg(1), sms: { device: 'cam-01', count: '1' } });
      await texted.start();
      await texted.idle();
      for (let n = 2; n <= 5; n++)
        await texted.enqueue('sms', { ...msg(n), sms: { device: `cam-0${n}`, count: '1' } });
      await texted.runDue();
      await texted.idle();
      expect(sms.sent).toHaveLength(1);
      expect(sms.sent[0]!.sms).toMatchObject({ device: 'cam-01' });
      clock += 60_001;
      await texted.runDue();
      await texted.idle();
      expect(sms.sent).toHaveLength(2);
      expect(sms.sent[1]!.sms).toMatchObject({ device: 'cam-02', count: '4' });
      await texted.stop();
    });
  });

  describe('two nodes on one outbox', () => {
    it('never gives one row to two connections claiming at once', async () => {
      const robot = fakeChannel('a', { perMinute: null });
      const one = outboxOf([robot]);
      await one.migrate();
      const ids: number[] = [];
      for (let n = 1; n <= 40; n++) ids.push(await one.enqueue('a', msg(n)));
      const other = await backend.reopen(db);
      const two = new Outbox({ db: other, channels: fakeRegistry([robot]), log: silentLog, now });
      const claimed = await Promise.all(ids.flatMap((id) => [one.claim(id), two.claim(id)]));
      const won = claimed.filter((row) => row !== undefined).map((row) => row.id);
      expect(won.sort((a, b) => a - b)).toEqual(ids);
      for (const id of ids)
        expect(await one.get(id)).toMatchObject({ state: 'sending', attempts: 1 });
    });

    it('sends each row once when both nodes run their passes at the same time', async () => {
      // One SQLite file has one broker: two connections of one process would wait on each
      // other's write lock synchronously (better-sqlite3), which no deployment does.
      if (backend.dialect !== 'postgres') return;
      const robot = fakeChannel('a', { perMinute: null, type: 'webhook' });
      const one = outboxOf([robot]);
      await one.start();
      await one.stop();
      for (let n = 1; n <= 30; n++) await one.enqueue('a', msg(n));
      const a = outboxOf([robot]);
      const b = new Outbox({
        db: await backend.reopen(db),
        channels: fakeRegistry([robot]),
        log: silentLog,
        now,
      });
      await Promise.all([a.start(), b.start()]);
      await Promise.all([a.idle(), b.idle()]);
      const titles = robot.sent.map((m) => m.title);
      expect(new Set(titles).size).toBe(30);
      expect(titles).toHaveLength(30);
      expect((await a.counters()).delivered).toBe(30);
      await Promise.all([a.stop(), b.stop()]);
    });

    it('claims a row again, as a repeat, once the claim of a sender that died ran out', async () => {
      const robot = fakeChannel('a');
      const dead = outboxOf([robot], { settings: { claimMs: 60_000, sendTimeoutMs: 15_000 } });
      await dead.migrate();
      const id = await dead.enqueue('a', msg(1));
      // Claimed, then its node died before it could record anything.
      expect(await dead.claim(id)).toMatchObject({ state: 'sending', attempts: 1 });
      const other = await backend.reopen(db);
      const survivor = new Outbox({
        db: other,
        channels: fakeRegistry([robot]),
        log: silentLog,
        now,
        settings: { claimMs: 60_000, sendTimeoutMs: 15_000 },
      });
      // Within the claim it is the other's: not taken.
      clock += 59_000;
      expect(await survivor.claim(id)).toBeUndefined();
      clock += 1_000;
      await survivor.start();
      await survivor.idle();
      expect(robot.sent.map((m) => m.title)).toEqual(['ticket 1']);
      expect(await survivor.get(id)).toMatchObject({
        state: 'delivered',
        repeated: true,
        attempts: 2,
      });
      expect((await survivor.counters()).repeats).toBe(1);
      await survivor.stop();
    });

    it("refuses a standby's claim by the fence: nothing sent, the row waits for the leader", async () => {
      if (backend.dialect !== 'postgres') return; // A SQLite file has one node, no fence.
      const robot = fakeChannel('a');
      const leader = outboxOf([robot]);
      await leader.migrate();
      const id = await leader.enqueue('a', msg(1));
      const fenced = await backend.reopen(db, { fence: { name: 'broker', token: null } });
      const standby = new Outbox({
        db: fenced,
        channels: fakeRegistry([robot]),
        log: silentLog,
        now,
      });
      await expect(standby.claim(id)).rejects.toThrow(NotLeaderWriteError);
      await standby.start();
      await standby.runDue();
      await standby.idle();
      expect(robot.sent).toHaveLength(0);
      expect(await leader.get(id)).toMatchObject({ state: 'pending', attempts: 0 });
      await standby.stop();
      await leader.start();
      await leader.idle();
      expect(robot.sent.map((m) => m.title)).toEqual(['ticket 1']);
      await leader.stop();
    });
  });
}
