import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeviceState } from '../../../agent/device-state.js';
import { Liveness } from '../../../agent/liveness.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import {
  PollStartedError,
  Scheduler,
  type PollNext,
  type SchedulerOptions,
} from '../../../agent/scheduler.js';

const base: SchedulerOptions = {
  intervalMs: 1000,
  recheckMs: 200,
  jitterPct: 0,
  concurrency: 4,
  pollTimeoutMs: 500,
  random: () => 0.5,
};

/** Records when each device's poll started, in fake milliseconds since the test began. */
function recorder() {
  const started = new Map<string, number[]>();
  const t0 = Date.now();
  return {
    started,
    mark(id: string): void {
      started.set(id, [...(started.get(id) ?? []), Date.now() - t0]);
    },
  };
}

/** A poll that hangs until its deadline aborts it (as a hanging camera's poll does). */
function hangUntilAborted(signal: AbortSignal): Promise<PollNext> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/** Stops while fake time runs on, so polls in flight can reach their end. */
async function stopAll(scheduler: Scheduler): Promise<void> {
  const stopped = scheduler.stop();
  await vi.advanceTimersByTimeAsync(2000);
  await stopped;
}

describe('scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls every device once per interval', async () => {
    const log = recorder();
    const scheduler = new Scheduler(['a', 'b'], async (id) => (log.mark(id), 'interval'), base);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(3500);
    await stopAll(scheduler);
    expect(log.started.get('a')).toEqual([0, 1000, 2000, 3000]);
    expect(log.started.get('b')).toEqual([0, 1000, 2000, 3000]);
  });

  it('polls a device added while running (adopted from discovery) from then on', async () => {
    const log = recorder();
    const scheduler = new Scheduler(['a'], async (id) => (log.mark(id), 'interval'), base);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1500);
    expect(scheduler.add('b')).toBe(true);
    expect(scheduler.add('b')).toBe(false);
    expect(scheduler.add('a')).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    await stopAll(scheduler);
    expect(log.started.get('a')).toEqual([0, 1000, 2000, 3000]);
    expect(log.started.get('b')).toEqual([1500, 2500, 3500]);
  });

  it('keeps every delay within the jitter and spreads the first polls', async () => {
    let n = 0;
    const randoms = [0, 1, 0.25, 0.75];
    const log = recorder();
    const scheduler = new Scheduler(['a'], async (id) => (log.mark(id), 'interval'), {
      ...base,
      jitterPct: 10,
      random: () => randoms[n++ % randoms.length]!,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(5000);
    await stopAll(scheduler);
    const times = log.started.get('a')!;
    expect(times[0]).toBe(0); // random 0 of a 100 ms spread
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(900);
      expect(gap).toBeLessThanOrEqual(1100);
    }
    expect(new Set(times.slice(1).map((t, i) => t - times[i]!)).size).toBeGreaterThan(1);
  });

  // recheck: soon (recheckMs, 200); recheck-now: at once, the failure already waited out a
  // deadline (a timer of 0 ms, which Node runs after 1 ms).
  it.each([
    ['recheck' as const, [0, 1000, 1200, 2200]],
    ['recheck-now' as const, [0, 1000, 1001, 2001]],
  ])('looks again when a poll asks for it (%s)', async (next, starts) => {
    const log = recorder();
    let calls = 0;
    const scheduler = new Scheduler(
      ['a'],
      async (id) => {
        log.mark(id);
        calls += 1;
        return calls === 2 ? next : 'interval';
      },
      base,
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(2500);
    await stopAll(scheduler);
    expect(log.started.get('a')).toEqual(starts);
  });

  it('polls a down device on a growing delay, and at the interval once it answers', async () => {
    const log = recorder();
    let calls = 0;
    const scheduler = new Scheduler(
      ['a'],
      async (id) => {
        log.mark(id);
        calls += 1;
        return calls <= 4 ? 'backoff' : 'interval';
      },
      { ...base, maxBackoffMs: 4000 },
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(16_500);
    await stopAll(scheduler);
    // 2, 4, then capped at 4 intervals; back to 1 s once it answers.
    expect(log.started.get('a')).toEqual([0, 2000, 6000, 10_000, 14_000, 15_000, 16_000]);
  });

  it('pollSoon polls a device now, outside its schedule', async () => {
    const log = recorder();
    const scheduler = new Scheduler(['a', 'b'], async (id) => (log.mark(id), 'interval'), base);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(300);
    expect(scheduler.pollSoon('b')).toBe(true);
    expect(scheduler.pollSoon('nope')).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    await stopAll(scheduler);
    expect(log.started.get('b')).toEqual([0, 300, 1300]);
    expect(log.started.get('a')).toEqual([0, 1000]);
  });

  it('never runs more polls at once than the concurrency limit', async () => {
    let running = 0;
    let most = 0;
    const ids = Array.from({ length: 10 }, (_, i) => `d${i}`);
    const scheduler = new Scheduler(
      ids,
      async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 100));
        running -= 1;
        return 'interval';
      },
      { ...base, concurrency: 3 },
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(scheduler.active).toBe(3);
    expect(scheduler.waiting).toBe(7);
    await vi.advanceTimersByTimeAsync(3000);
    await stopAll(scheduler);
    expect(most).toBe(3);
  });

  it('a hanging device never delays the others', async () => {
    const log = recorder();
    const errors: unknown[] = [];
    const ids = ['hung', 'cam-1', 'cam-2', 'cam-3'];
    const scheduler = new Scheduler(
      ids,
      (id, signal) => {
        log.mark(id);
        return id === 'hung' ? hangUntilAborted(signal) : Promise.resolve('interval');
      },
      { ...base, concurrency: 2, onError: (_id, error) => errors.push(error) },
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(5050);
    await stopAll(scheduler);
    // Every healthy device was polled on time, every interval, despite one slot held.
    for (const id of ['cam-1', 'cam-2', 'cam-3']) {
      expect(log.started.get(id)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    }
    // The hanging one was cut at its deadline each time and polled again.
    expect(log.started.get('hung')).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('frees the slot of a poll that ignores its deadline', async () => {
    const errors: string[] = [];
    const log = recorder();
    const scheduler = new Scheduler(
      ['stuck', 'ok'],
      (id) => {
        log.mark(id);
        return id === 'stuck'
          ? new Promise<PollNext>(() => undefined)
          : Promise.resolve('interval');
      },
      {
        ...base,
        concurrency: 1,
        onError: (id, e) => errors.push(`${id}: ${(e as Error).message}`),
      },
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1500);
    expect(errors).toEqual(['stuck: the poll of stuck did not end within its 500 ms deadline']);
    expect(log.started.get('ok')?.length).toBeGreaterThanOrEqual(1);
    await stopAll(scheduler);
  });

  it('reports a poll that throws and keeps polling that device', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const scheduler = new Scheduler(
      ['a'],
      async () => {
        calls += 1;
        throw new Error('bug');
      },
      { ...base, onError: (_id, e) => errors.push(e) },
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(2100);
    await stopAll(scheduler);
    expect(calls).toBe(3);
    expect(errors).toHaveLength(3);
  });

  it('stop() cancels the timers and waits for the polls in flight', async () => {
    let finished = 0;
    let started = 0;
    const scheduler = new Scheduler(
      ['a', 'b'],
      async () => {
        started += 1;
        await new Promise((r) => setTimeout(r, 300));
        finished += 1;
        return 'interval';
      },
      base,
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toBe(2);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await stopping;
    expect(finished).toBe(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(started).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });
  describe('liveness probe between polls', () => {
    const probing = (task: (id: string, signal: AbortSignal) => Promise<boolean>) => ({
      ...base,
      intervalMs: 60_000,
      probe: { intervalMs: 400, timeoutMs: 150, task },
    });

    it('probes every device once per probe interval, spread over it, never all at once', async () => {
      const log = recorder();
      const scheduler = new Scheduler(
        ['a', 'b', 'c', 'd'],
        async () => 'interval',
        probing(async (id) => (log.mark(id), false)),
      );
      scheduler.start();
      await vi.advanceTimersByTimeAsync(1250);
      await stopAll(scheduler);
      // One device per 100 ms tick: each every 400 ms, a tick apart from the next.
      expect(log.started.get('b')).toEqual([100, 500, 900]);
      expect(log.started.get('c')).toEqual([200, 600, 1000]);
      expect(log.started.get('d')).toEqual([300, 700, 1100]);
      expect(log.started.get('a')).toEqual([400, 800, 1200]);
    });

    it('a probe asking for it polls the device at once, also a down device in its backoff', async () => {
      const polls = recorder();
      let askFor = '';
      const scheduler = new Scheduler(
        ['a', 'b'],
        async (id) => (polls.mark(id), 'backoff'),
        probing(async (id) => id === askFor),
      );
      scheduler.start();
      await vi.advanceTimersByTimeAsync(1000);
      askFor = 'a';
      await vi.advanceTimersByTimeAsync(400);
      askFor = '';
      await vi.advanceTimersByTimeAsync(2000);
      await stopAll(scheduler);
      // Polled at start, then (its backoff is 2 minutes) only when its probe asked.
      expect(polls.started.get('a')).toEqual([0, 1200]);
      expect(polls.started.get('b')).toEqual([0]);
    });

    it('does not probe a device whose poll runs or whose recheck is due', async () => {
      const probes = recorder();
      const scheduler = new Scheduler(
        ['a'],
        async () => {
          // Each poll takes 450 ms, then asks for a recheck 200 ms later.
          await new Promise((r) => setTimeout(r, 450));
          return 'recheck';
        },
        { ...probing(async (id) => (probes.mark(id), false)), pollTimeoutMs: 5000 },
      );
      scheduler.start();
      await vi.advanceTimersByTimeAsync(1250);
      await stopAll(scheduler);
      // Polls 0-450 and 650-1100, rechecks due 450-650 and 1100-1300: the probes due at
      // 400, 800 and 1200 all found the device busy.
      expect(probes.started.get('a') ?? []).toEqual([]);
    });

    it("abandons a probe still waiting when the device's poll starts", async () => {
      const reasons: unknown[] = [];
      const scheduler = new Scheduler(['a'], async () => 'interval', {
        ...probing(
          (_id, signal) =>
            new Promise<boolean>((resolve) => {
              signal.addEventListener('abort', () => {
                reasons.push(signal.reason);
                resolve(false);
              });
            }),
        ),
        pollTimeoutMs: 5000,
      });
      scheduler.start();
      await vi.advanceTimersByTimeAsync(450); // the probe of 400 waits for its answer
      scheduler.pollSoon('a');
      await vi.advanceTimersByTimeAsync(10);
      await stopAll(scheduler);
      expect(reasons[0]).toBeInstanceOf(PollStartedError);
    });

    it("a device slow under its own poll is not down at that poll's first failure", async () => {
      const state = new DeviceState();
      let slow = false;
      let hanging = false;
      const liveness = new Liveness({
        ask: (_id, signal) =>
          hanging
            ? new Promise((_, reject) =>
                signal.addEventListener(
                  'abort',
                  () => reject(new OnvifError('timeout', 'the probe was cancelled')),
                  { once: true },
                ),
              )
            : Promise.resolve(),
        status: () => state.status,
        suspect: () => state.suspect(),
      });
      const scheduler = new Scheduler(
        ['a'],
        async () => {
          if (!slow) {
            state.record({ ok: true, values: { up: true }, degraded: [] });
            return 'interval';
          }
          // A poll whose last request times out (5 s in the agent; 600 ms here).
          await new Promise((r) => setTimeout(r, 600));
          const { recheck } = state.record({
            ok: false,
            values: { up: false },
            failure: { code: 'timeout', message: 'no answer within 600 ms' },
          });
          return recheck ? 'recheck' : 'backoff';
        },
        { ...probing((id, signal) => liveness.probe(id, signal)), pollTimeoutMs: 5000 },
      );
      scheduler.start();
      await vi.advanceTimersByTimeAsync(1150); // polled at 0, probed at 400 and 800: up
      expect(state.status).toBe('up');
      // From now on the device is slow: the probe of 1200 waits, and its poll starts at
      // 1250 (the NOC's poll command), to fail at 1850.
      hanging = true;
      slow = true;
      await vi.advanceTimersByTimeAsync(100);
      scheduler.pollSoon('a');
      await vi.advanceTimersByTimeAsync(700);
      // One failure: a recheck comes (at 2050), the device is not down yet.
      expect(state.status).toBe('up');
      expect(liveness.stats().checksOnFailure).toBe(0);
      await vi.advanceTimersByTimeAsync(800);
      // The recheck failed too: two failures, down.
      expect(state.status).toBe('down');
      await stopAll(scheduler);
    });

    it('aborts a probe at its deadline and asks for nothing', async () => {
      const polls = recorder();
      const aborted: number[] = [];
      const errors: unknown[] = [];
      const t0 = Date.now();
      const scheduler = new Scheduler(['a'], async (id) => (polls.mark(id), 'interval'), {
        ...probing(
          (_id, signal) =>
            // A device that never answers; the question gives up when its deadline aborts it.
            new Promise<boolean>((resolve) => {
              signal.addEventListener('abort', () => {
                aborted.push(Date.now() - t0);
                resolve(false);
              });
            }),
        ),
        onError: (_id, error) => errors.push(error),
      });
      scheduler.start();
      await vi.advanceTimersByTimeAsync(1000);
      await stopAll(scheduler);
      // Probed at 400 and 800, each aborted 150 ms later.
      expect(aborted).toEqual([550, 950]);
      expect(polls.started.get('a')).toEqual([0]);
      expect(errors).toEqual([]);
    });
  });
});
