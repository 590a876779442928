/**
 * The report cache alone (broker/inspection/cache.ts): what it keeps, what a late reading
 * drops, the race of a report computing while a late reading lands, and its bound. The
 * broker-level proof (real MQTT, real store) is test/integration/broker/report-cache.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { WeeklyTrend } from '../../../../shared/api/inspection.js';
import { ReportCache } from '../../../../broker/inspection/cache.js';
import type { MetricPoint } from '../../../../broker/metrics/store.js';

const november = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
const december = new Date('2026-12-06T10:00:00Z');

const trend = (responseMs: number): WeeklyTrend[] => [
  {
    deviceId: 'cam-01',
    weekStart: '2026-11-02T00:00:00.000Z',
    responseMs,
    clockOffsetS: null,
    storageUsedPct: null,
    retentionDays: null,
    recordingPct: null,
  },
];

const point = (site: string, iso: string): MetricPoint => ({
  measurement: 'device',
  tags: { site, device: 'cam-01' },
  fields: { responseMs: 1 },
  time: new Date(iso),
});

function ask(cache: ReportCache, site: string, value: number, range = november) {
  return cache.trends(site, range.from, range.to, december, async () => trend(value));
}

describe('report cache', () => {
  it('keeps a period that is over and answers it again without computing', async () => {
    const cache = new ReportCache();
    expect((await ask(cache, 'site-a', 10)).answer).toBe('miss');
    const again = await ask(cache, 'site-a', 99);
    expect(again).toEqual({ trends: trend(10), answer: 'hit' });
    expect(cache.stats).toEqual({ entries: 1, hits: 1, misses: 1, invalidated: 0 });
  });

  it('reads a period asked twice at once only once', async () => {
    const cache = new ReportCache();
    let computed = 0;
    let finish!: () => void;
    const slow = () =>
      new Promise<WeeklyTrend[]>((resolve) => {
        computed++;
        finish = () => resolve(trend(10));
      });
    const first = cache.trends('site-a', november.from, november.to, december, slow);
    const second = cache.trends('site-a', november.from, november.to, december, slow);
    finish();
    expect(await first).toEqual({ trends: trend(10), answer: 'miss' });
    expect(await second).toEqual({ trends: trend(10), answer: 'miss' });
    expect(computed).toBe(1);
    expect((await ask(cache, 'site-a', 99)).answer).toBe('hit');
  });

  it('computes a period that is not over every time', async () => {
    const cache = new ReportCache();
    const running = {
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    };
    expect((await ask(cache, 'site-a', 10, running)).answer).toBe('not-over');
    expect(await ask(cache, 'site-a', 11, running)).toEqual({
      trends: trend(11),
      answer: 'not-over',
    });
  });

  it("drops a period when a reading dated inside it is written, and only that site's", async () => {
    const cache = new ReportCache();
    await ask(cache, 'site-a', 10);
    await ask(cache, 'site-b', 20);
    // Readings of now, of the period's end (excluded) and of another site: nothing moves.
    cache.written([
      point('site-a', '2026-12-06T09:59:00Z'),
      point('site-a', '2026-12-01T00:00:00Z'),
    ]);
    expect((await ask(cache, 'site-a', 11)).answer).toBe('hit');
    cache.written([point('site-b', '2026-11-30T23:59:59Z')]);
    expect(await ask(cache, 'site-a', 11)).toEqual({ trends: trend(10), answer: 'hit' });
    expect(await ask(cache, 'site-b', 21)).toEqual({ trends: trend(21), answer: 'miss' });
    expect(cache.stats.invalidated).toBe(1);
  });

  it('does not keep an answer computed while a late reading landed', async () => {
    const cache = new ReportCache();
    let finish: (trends: WeeklyTrend[]) => void = () => {};
    const computing = cache.trends(
      'site-a',
      november.from,
      november.to,
      december,
      () => new Promise((resolve) => (finish = resolve)),
    );
    // The store was read before the late reading was written: the answer is stale.
    cache.written([point('site-a', '2026-11-15T12:00:00Z')]);
    finish(trend(10));
    expect((await computing).trends).toEqual(trend(10));
    expect(await ask(cache, 'site-a', 12)).toEqual({ trends: trend(12), answer: 'miss' });
    expect((await ask(cache, 'site-a', 13)).answer).toBe('hit');
  });

  it("keeps the charts' 12 months apart from the weekly trends of the same range, and drops them on a late reading", async () => {
    const cache = new ReportCache();
    const year = { from: new Date('2025-12-01T00:00:00Z'), to: november.to };
    const months = (value: number) => async () => [{ month: '2026-01', responseMs: value }];
    await ask(cache, 'site-a', 10, year);
    const first = await cache.trends('site-a', year.from, year.to, december, months(1), 'monthly');
    expect(first.answer).toBe('miss');
    const again = await cache.trends('site-a', year.from, year.to, december, months(2), 'monthly');
    expect(again).toEqual({ trends: [{ month: '2026-01', responseMs: 1 }], answer: 'hit' });
    expect((await ask(cache, 'site-a', 99, year)).trends).toEqual(trend(10));
    // A reading of January, late: both entries of the range go.
    cache.written([point('site-a', '2026-01-15T00:00:00Z')]);
    expect(
      (await cache.trends('site-a', year.from, year.to, december, months(3), 'monthly')).trends,
    ).toEqual([{ month: '2026-01', responseMs: 3 }]);
    expect(cache.stats.invalidated).toBe(2);
  });

  it('forgets the least recently used period past its bound', async () => {
    const cache = new ReportCache({ maxEntries: 2 });
    await ask(cache, 'site-a', 1);
    await ask(cache, 'site-b', 2);
    await ask(cache, 'site-a', 1); // site-a used last
    await ask(cache, 'site-c', 3);
    expect(cache.stats.entries).toBe(2);
    expect((await ask(cache, 'site-a', 9)).answer).toBe('hit');
    expect((await ask(cache, 'site-b', 9)).answer).toBe('miss');
  });
});
