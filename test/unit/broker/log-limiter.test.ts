import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Log } from '../../../broker/log.js';
import { causeOf, hostOf, LogLimiter } from '../../../broker/log-limiter.js';

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (l) => lines.push(`info ${l}`),
    warn: (l) => lines.push(`warn ${l}`),
    error: (l) => lines.push(`error ${l}`),
  };
}

describe('LogLimiter: one line per cause and interval, with the count', () => {
  let log: ReturnType<typeof recordingLog>;

  beforeEach(() => {
    // Fake timers fake Date too: the limiter's clock and its timer move together.
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00.000Z') });
    log = recordingLog();
  });

  afterEach(() => vi.useRealTimers());

  it('writes the first line at once, counts the rest, and writes the count when the interval is over', () => {
    const limiter = new LogLimiter(log, { intervalMs: 60_000 });
    for (let i = 0; i < 2000; i++) limiter.warn('gw-01|bad', `bad message ${i}`);
    expect(log.lines).toEqual(['warn bad message 0']);
    expect(limiter.held).toBe(1999);

    vi.advanceTimersByTime(59_999);
    expect(log.lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(log.lines).toEqual([
      'warn bad message 0',
      'warn 1999 more like this since 2026-01-01T00:00:00.000Z (one line per client and cause every 60 s); the first: bad message 1',
    ]);

    // Quiet for an interval: the next one is written at once again, and nothing more.
    vi.advanceTimersByTime(60_000);
    limiter.warn('gw-01|bad', 'bad message 2000');
    expect(log.lines.at(-1)).toBe('warn bad message 2000');
    vi.advanceTimersByTime(10 * 60_000);
    expect(log.lines).toHaveLength(3);
  });

  it('keeps a steady flood to one line per interval, and the counts add up', () => {
    const limiter = new LogLimiter(log, { intervalMs: 10_000 });
    // 100 messages a second for 95 s.
    for (let ms = 0; ms < 95_000; ms += 10) {
      limiter.error('gw-01|bad', `bad at ${ms}`);
      vi.advanceTimersByTime(10);
    }
    limiter.flush();
    // The first line, one per 10 s interval after it, and the flush.
    expect(log.lines.length).toBeLessThanOrEqual(1 + 10 + 1);
    expect(log.lines.length).toBeGreaterThanOrEqual(10);
    const counted = log.lines
      .slice(1)
      .map((line) => Number(/^error (\d+) more like this/.exec(line)?.[1]));
    expect(counted.every((n) => n > 0)).toBe(true);
    expect(1 + counted.reduce((a, b) => a + b, 0)).toBe(9500);
  });

  it('follows each key on its own, with its own level', () => {
    const limiter = new LogLimiter(log, { intervalMs: 60_000 });
    limiter.warn('gw-01|schema', 'gw-01 schema');
    limiter.warn('gw-02|schema', 'gw-02 schema');
    limiter.info('gw-01|dropped', 'gw-01 dropped');
    limiter.warn('gw-01|schema', 'gw-01 schema again');
    limiter.info('gw-01|dropped', 'gw-01 dropped again');
    expect(log.lines).toEqual(['warn gw-01 schema', 'warn gw-02 schema', 'info gw-01 dropped']);
    vi.advanceTimersByTime(60_000);
    expect(log.lines.slice(3)).toEqual([
      expect.stringMatching(/^warn 1 more like this .*; the first: gw-01 schema again$/),
      expect.stringMatching(/^info 1 more like this .*; the first: gw-01 dropped again$/),
    ]);
  });

  it('writes what is still counted on flush (stop), and nothing after it', () => {
    const limiter = new LogLimiter(log, { intervalMs: 60_000 });
    limiter.warn('k', 'one');
    limiter.warn('k', 'two');
    limiter.warn('k', 'three');
    vi.advanceTimersByTime(5000);
    limiter.flush();
    expect(log.lines).toEqual([
      'warn one',
      'warn 2 more like this since 2026-01-01T00:00:00.000Z (one line per client and cause every 60 s); the first: two',
    ]);
    vi.advanceTimersByTime(10 * 60_000);
    expect(log.lines).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes a late message into the count when its interval is over before the timer ran', () => {
    let now = 0;
    // A clock of its own that runs ahead of the (fake) timers.
    const limiter = new LogLimiter(log, { intervalMs: 1000, now: () => now });
    limiter.warn('k', 'a');
    limiter.warn('k', 'b');
    now = 1500;
    limiter.warn('k', 'c');
    expect(log.lines).toEqual([
      'warn a',
      'warn 2 more like this since 1970-01-01T00:00:00.000Z (one line per client and cause every 1 s); the first: b',
    ]);
  });

  it('bounds the keys: a client making up causes shares one key beyond maxKeys', () => {
    const limiter = new LogLimiter(log, { intervalMs: 60_000, maxKeys: 10 });
    for (let i = 0; i < 5000; i++) limiter.warn(`cause-${i}`, `line ${i}`);
    // Ten keys, then one shared for the other 4,990.
    expect(log.lines).toHaveLength(11);
    expect(log.lines[10]).toBe('warn (one of more than 10 clients and causes at once) line 10');
    limiter.flush();
    expect(log.lines).toHaveLength(12);
    expect(log.lines[11]).toMatch(
      /^warn 4989 more like this .*the first: \(one of more .*\) line 11$/,
    );
  });

  it('makes room again once the keys are quiet for an interval', () => {
    const limiter = new LogLimiter(log, { intervalMs: 1000, maxKeys: 2 });
    limiter.warn('a', 'a');
    limiter.warn('b', 'b');
    vi.advanceTimersByTime(1000);
    limiter.warn('c', 'c');
    expect(log.lines).toEqual(['warn a', 'warn b', 'warn c']);
  });
});

describe('causeOf and hostOf: keys a client cannot multiply', () => {
  it('keeps the cause and leaves out the details, the quoted text and the numbers', () => {
    expect(causeOf('deviceState does not match its schema: status must be one of up, down')).toBe(
      'deviceState does not match its schema',
    );
    expect(causeOf('site "site-b" is not the agent\'s site "site-a"')).toBe(
      'site "" is not the agent\'s site ""',
    );
    expect(causeOf('payload of 5000 bytes over the limit of 4096')).toBe(
      causeOf('payload of 9999999 bytes over the limit of 4096'),
    );
    expect(causeOf('x'.repeat(1000))).toHaveLength(120);
  });

  it('drops the port, which changes with every connection', () => {
    expect(hostOf('192.0.2.7:51234')).toBe('192.0.2.7');
    expect(hostOf('::1:51234')).toBe('::1');
    expect(hostOf('::1:?')).toBe('::1:?');
    expect(hostOf('unknown address')).toBe('unknown address');
  });
});
