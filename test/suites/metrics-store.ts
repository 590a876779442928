/**
 * The conformance suite every metrics store passes (aedes-persistence's abstract tests,
 * telegraf's buffer suite): what the API and the reports rely on, checked the same way
 * against the embedded store and a real InfluxDB.
 *
 * `open` returns a fresh, unstarted store (its own file or database) and how to dispose
 * of it; the suite starts and stops it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aggregatePoints } from '../../broker/metrics/aggregate.js';
import { chartMonths, summarize } from '../../broker/inspection/trends.js';
import type { MetricPoint, MetricsStore, TrendBucket } from '../../broker/metrics/store.js';

export interface StoreUnderTest {
  store: MetricsStore;
  dispose(): Promise<void>;
  /**
   * Ages the raw readings out as the store's own retention does once they are older than
   * 30 days (metrics.rawDays), rollups kept: the embedded store's hourly retention run now,
   * InfluxDB's expired shard groups of `raw` dropped (its retention service drops whole
   * shard groups, every 30 minutes). Called after writing a year of history.
   */
  expireRaw(): Promise<void>;
}

/**
 * A fresh store; `rawDays` long enough to write a year of history at once (InfluxDB
 * refuses a point older than its policy's duration). Readings of a year ago arrive as they
 * happen in a real installation, not at once; expireRaw() then leaves what retention would.
 */
export type OpenStore = (options?: { rawDays?: number }) => Promise<StoreUnderTest>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** mulberry32: the same readings on every run, so a failure can be looked at again. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Same buckets, counts, minima and maxima; means as close as float sums in another order allow. */
function expectSameBuckets(actual: TrendBucket[], expected: TrendBucket[]): void {
  expect(actual.map((b) => [b.time.getTime(), b.count, b.min, b.max])).toEqual(
    expected.map((b) => [b.time.getTime(), b.count, b.min, b.max]),
  );
  actual.forEach((bucket, i) => expect(bucket.mean).toBeCloseTo(expected[i]?.mean as number, 6));
}

/** A whole hour, two hours ago: inside InfluxDB's 30-day raw policy, aligned for buckets. */
function baseTime(): number {
  return Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
}

function devicePoint(
  time: number,
  device: string,
  fields: Record<string, number | boolean>,
  site = 'site-a',
): MetricPoint {
  return {
    measurement: 'device',
    tags: { site, agent: 'gw-01', device, kind: 'camera' },
    fields,
    time: new Date(time),
  };
}

export function metricsStoreSuite(name: string, open: OpenStore): void {
  describe(`metrics store conformance: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: MetricsStore;
    let t0: number;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
      await store.start();
      t0 = baseTime();
    });

    afterEach(async () => {
      await store.stop();
      await subject.dispose();
    });

    it('answers its ping once started', async () => {
      expect(await store.ping()).toBe(true);
      expect(typeof store.kind).toBe('string');
    });

    it('returns written points with their tags and fields, oldest first', async () => {
      await store.write([
        devicePoint(t0 + 2 * MINUTE, 'cam-01', { up: true, responseMs: 14.5 }),
        devicePoint(t0 + 1 * MINUTE, 'cam-01', {
          up: true,
          responseMs: 12.25,
          clockOffsetS: -0.8,
          profiles: 2,
        }),
      ]);
      const points = await store.query({
        measurement: 'device',
        from: new Date(t0),
        to: new Date(t0 + HOUR),
      });
      expect(points).toEqual([
        devicePoint(t0 + 1 * MINUTE, 'cam-01', {
          up: true,
          responseMs: 12.25,
          clockOffsetS: -0.8,
          profiles: 2,
        }),
        devicePoint(t0 + 2 * MINUTE, 'cam-01', { up: true, responseMs: 14.5 }),
      ]);
    });

    it('keeps measurements apart', async () => {
      await store.write([
        devicePoint(t0, 'cam-01', { up: true }),
        {
          measurement: 'agent',
          tags: { site: 'site-a', agent: 'gw-01' },
          fields: { queueDepth: 3, cpuLoadPct: 7.5 },
          time: new Date(t0),
        },
      ]);
      const agent = await store.query({
        measurement: 'agent',
        from: new Date(t0),
        to: new Date(t0 + HOUR),
      });
      expect(agent).toEqual([
        {
          measurement: 'agent',
          tags: { site: 'site-a', agent: 'gw-01' },
          fields: { queueDepth: 3, cpuLoadPct: 7.5 },
          time: new Date(t0),
        },
      ]);
    });

    it('filters on tags, several at once', async () => {
      await store.write([
        devicePoint(t0 + 1000, 'cam-01', { responseMs: 1 }),
        devicePoint(t0 + 2000, 'cam-02', { responseMs: 2 }),
        devicePoint(t0 + 3000, 'cam-01', { responseMs: 3 }, 'site-b'),
      ]);
      const range = { measurement: 'device', from: new Date(t0), to: new Date(t0 + HOUR) };
      const cam01 = await store.query({ ...range, tags: { device: 'cam-01' } });
      expect(cam01.map((p) => p.fields.responseMs)).toEqual([1, 3]);
      const cam01SiteA = await store.query({
        ...range,
        tags: { device: 'cam-01', site: 'site-a' },
      });
      expect(cam01SiteA.map((p) => p.fields.responseMs)).toEqual([1]);
      expect(await store.query({ ...range, tags: { device: 'cam-99' } })).toEqual([]);
    });

    it('includes the start of a range and excludes its end', async () => {
      await store.write([
        devicePoint(t0 - 1, 'cam-01', { responseMs: 0 }),
        devicePoint(t0, 'cam-01', { responseMs: 1 }),
        devicePoint(t0 + MINUTE - 1, 'cam-01', { responseMs: 2 }),
        devicePoint(t0 + MINUTE, 'cam-01', { responseMs: 3 }),
      ]);
      const points = await store.query({
        measurement: 'device',
        from: new Date(t0),
        to: new Date(t0 + MINUTE),
      });
      expect(points.map((p) => p.fields.responseMs)).toEqual([1, 2]);
      const trend = await store.trend({
        measurement: 'device',
        field: 'responseMs',
        bucketS: 3600,
        from: new Date(t0),
        to: new Date(t0 + MINUTE),
      });
      expect(trend.map((b) => b.count)).toEqual([2]);
    });

    it('aggregates trends into epoch-aligned buckets, leaving empty buckets out', async () => {
      // Bucket 0 (t0 .. t0+5min): 10, 20, 60. Bucket 1: nothing. Bucket 2: 5. Another
      // device and a point without the field must not count.
      await store.write([
        devicePoint(t0 + 0 * MINUTE, 'cam-01', { responseMs: 10 }),
        devicePoint(t0 + 1 * MINUTE, 'cam-01', { responseMs: 20 }),
        devicePoint(t0 + 4 * MINUTE + 59_999, 'cam-01', { responseMs: 60 }),
        devicePoint(t0 + 2 * MINUTE, 'cam-01', { up: false }),
        devicePoint(t0 + 3 * MINUTE, 'cam-02', { responseMs: 1000 }),
        devicePoint(t0 + 12 * MINUTE, 'cam-01', { responseMs: 5 }),
      ]);
      const trend = await store.trend({
        measurement: 'device',
        field: 'responseMs',
        tags: { device: 'cam-01' },
        bucketS: 300,
        from: new Date(t0),
        to: new Date(t0 + 15 * MINUTE),
      });
      expect(trend).toEqual([
        { time: new Date(t0), mean: 30, min: 10, max: 60, count: 3 },
        { time: new Date(t0 + 10 * MINUTE), mean: 5, min: 5, max: 5, count: 1 },
      ]);
    });

    it('starts the first bucket on the epoch grid even when the range does not', async () => {
      await store.write([
        devicePoint(t0 + 7 * MINUTE, 'cam-01', { clockOffsetS: -1.5 }),
        devicePoint(t0 + 8 * MINUTE, 'cam-01', { clockOffsetS: 0.5 }),
      ]);
      const trend = await store.trend({
        measurement: 'device',
        field: 'clockOffsetS',
        bucketS: 600,
        from: new Date(t0 + 6 * MINUTE),
        to: new Date(t0 + 20 * MINUTE),
      });
      expect(trend).toHaveLength(1);
      expect(trend[0]?.time.getTime()).toBe(t0);
      expect(trend[0]).toMatchObject({ mean: -0.5, min: -1.5, max: 0.5, count: 2 });
    });

    it('round-trips booleans and leaves absent fields absent', async () => {
      await store.write([
        devicePoint(t0 + 1000, 'cam-01', { up: false }),
        devicePoint(t0 + 2000, 'cam-01', { up: true, responseMs: 9 }),
      ]);
      const points = await store.query({
        measurement: 'device',
        from: new Date(t0),
        to: new Date(t0 + HOUR),
      });
      expect(points.map((p) => p.fields)).toEqual([{ up: false }, { up: true, responseMs: 9 }]);
      expect(typeof points[0]?.fields.up).toBe('boolean');
    });

    it('answers empty ranges with nothing', async () => {
      await store.write([devicePoint(t0, 'cam-01', { responseMs: 1 })]);
      const empty = {
        measurement: 'device',
        from: new Date(t0 + MINUTE),
        to: new Date(t0 + 2 * MINUTE),
      };
      expect(await store.query(empty)).toEqual([]);
      expect(await store.trend({ ...empty, field: 'responseMs', bucketS: 60 })).toEqual([]);
      const never = {
        measurement: 'nothing_here',
        from: new Date(t0 - HOUR),
        to: new Date(t0 + HOUR),
      };
      expect(await store.query(never)).toEqual([]);
      expect(await store.trend({ ...never, field: 'responseMs', bucketS: 60 })).toEqual([]);
    });

    it('gives a trend over a period of days with a bucket of a day, as the inspection reports ask', async () => {
      const DAY = 24 * HOUR;
      const day0 = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
      const points: MetricPoint[] = [];
      // Three days, a reading every 10 minutes; day d answers in 10*(d+1) ms, with one
      // slow reading a day, and a second camera of another site that must not count.
      for (let d = 0; d < 3; d++) {
        for (let m = 0; m < 24 * 6; m++) {
          const slow = m === 77;
          const time = day0 + d * DAY + m * 10 * MINUTE;
          points.push(devicePoint(time, 'cam-01', { responseMs: slow ? 900 : 10 * (d + 1) }));
          points.push(devicePoint(time, 'cam-09', { responseMs: 5000 }, 'site-b'));
        }
      }
      await store.write(points);
      const trend = await store.trend({
        measurement: 'device',
        field: 'responseMs',
        tags: { site: 'site-a' },
        bucketS: 86_400,
        // Not on the 5-minute grid at either end: the first and last readings are out.
        from: new Date(day0 + 1000),
        to: new Date(day0 + 3 * DAY - 1000),
      });
      const day = (d: number, count: number) => {
        const normal = count - 1;
        return {
          time: new Date(day0 + d * DAY),
          mean: (normal * 10 * (d + 1) + 900) / count,
          min: 10 * (d + 1),
          max: 900,
          count,
        };
      };
      expect(trend).toHaveLength(3);
      expect(trend[0]).toEqual({ ...day(0, 143), mean: expect.closeTo(day(0, 143).mean, 9) });
      expect(trend[1]).toEqual({ ...day(1, 144), mean: expect.closeTo(day(1, 144).mean, 9) });
      expect(trend[2]).toEqual({ ...day(2, 144), mean: expect.closeTo(day(2, 144).mean, 9) });
    });

    it('gives the same 5-minute trend whatever part of the range is already rolled up', async () => {
      await store.write([
        devicePoint(t0 + 1 * MINUTE, 'cam-01', { responseMs: 10 }),
        devicePoint(t0 + 6 * MINUTE, 'cam-01', { responseMs: 30 }),
      ]);
      const query = {
        measurement: 'device',
        field: 'responseMs',
        bucketS: 300,
        from: new Date(t0),
        to: new Date(t0 + 20 * MINUTE),
      };
      expect(await store.trend(query)).toEqual([
        { time: new Date(t0), mean: 10, min: 10, max: 10, count: 1 },
        { time: new Date(t0 + 5 * MINUTE), mean: 30, min: 30, max: 30, count: 1 },
      ]);
      // A reading that arrives late (a replay after an outage) counts in the next trend.
      await store.write([devicePoint(t0 + 2 * MINUTE, 'cam-01', { responseMs: 20 })]);
      expect(await store.trend(query)).toEqual([
        { time: new Date(t0), mean: 15, min: 10, max: 20, count: 2 },
        { time: new Date(t0 + 5 * MINUTE), mean: 30, min: 30, max: 30, count: 1 },
      ]);
    });

    it('rollups give the same figures as the raw readings', async () => {
      // Two weeks (InfluxDB keeps raw points 30 days) of 3 cameras of site-a and 1 of
      // site-b, a reading every 5 to 9 minutes, sometimes without a response time.
      const random = seeded(12);
      const start = Math.floor(Date.now() / DAY) * DAY - 15 * DAY;
      const end = Date.now() - 10 * MINUTE;
      const cameras = [
        ['cam-01', 'site-a'],
        ['cam-02', 'site-a'],
        ['cam-03', 'site-a'],
        ['cam-04', 'site-b'],
      ] as const;
      const points: MetricPoint[] = [];
      for (const [device, site] of cameras) {
        for (let time = start + Math.floor(random() * MINUTE); time < end;) {
          const up = random() > 0.05;
          const fields: Record<string, number | boolean> = { up };
          if (up) fields.responseMs = Math.round(random() * 50_000) / 100;
          points.push(devicePoint(time, device, fields, site));
          time += 5 * MINUTE + Math.floor(random() * 4 * MINUTE);
        }
      }
      for (let i = 0; i < points.length; i += 5_000) await store.write(points.slice(i, i + 5_000));

      // Nowhere on the 5-minute grid, so every level of a store has edges to fill in.
      const from = start + 2 * DAY + 7 * MINUTE + 13_123;
      const to = end - DAY - 17_001;
      const inRange = (f: number, t: number, site: string) =>
        points.filter((p) => p.tags.site === site && p.time.getTime() >= f && p.time.getTime() < t);
      for (const [bucketS, span] of [
        [60, DAY + 5 * HOUR],
        [300, to - from],
        [3600, to - from],
        [86_400, to - from],
        [7 * 86_400, to - from],
      ] as const) {
        const range = {
          measurement: 'device',
          field: 'responseMs',
          tags: { site: 'site-a' },
          bucketS,
          from: new Date(to - span),
          to: new Date(to),
        };
        const raw = inRange(to - span, to, 'site-a');
        const expected = aggregatePoints(raw, 'responseMs', bucketS * 1000, 'device');
        expect([...expected.keys()].sort()).toEqual(['cam-01', 'cam-02', 'cam-03']);

        expectSameBuckets(
          await store.trend(range),
          aggregatePoints(raw, 'responseMs', bucketS * 1000).get('') ?? [],
        );
        // Every camera of site-a in one answer, and nothing of site-b.
        const byDevice = await store.trendBy({ ...range, by: 'device' });
        expect([...byDevice.keys()].sort()).toEqual(['cam-01', 'cam-02', 'cam-03']);
        for (const [device, buckets] of expected)
          expectSameBuckets(byDevice.get(device) ?? [], buckets);
      }

      // A reading of cam-02 that arrives five days late changes that day's figures.
      const daily = {
        measurement: 'device',
        field: 'responseMs',
        tags: { site: 'site-a', device: 'cam-02' },
        bucketS: 86_400,
        from: new Date(from),
        to: new Date(to),
      };
      const lateDay = Math.floor((end - 5 * DAY) / DAY) * DAY;
      const before = await store.trend(daily);
      const late = devicePoint(lateDay + 12 * HOUR + 1, 'cam-02', { up: true, responseMs: 9999 });
      await store.write([late]);
      const after = await store.trend(daily);
      const withLate = aggregatePoints(
        [...inRange(from, to, 'site-a'), late].filter((p) => p.tags.device === 'cam-02'),
        'responseMs',
        DAY,
      );
      expectSameBuckets(after, withLate.get('') ?? []);
      const dayOf = (buckets: TrendBucket[]) =>
        buckets.find((b) => b.time.getTime() === lateDay) as TrendBucket;
      expect(dayOf(after).count).toBe(dayOf(before).count + 1);
      expect(dayOf(after).max).toBe(9999);
    });

    it('counts a reading written twice once (a retried batch, the journal replayed after a crash)', async () => {
      const DAY0 = Math.floor(t0 / DAY) * DAY - 2 * DAY;
      const batch = [
        devicePoint(DAY0 + 1 * HOUR, 'cam-01', { up: true, responseMs: 10 }),
        devicePoint(DAY0 + 2 * HOUR, 'cam-01', { up: true, responseMs: 30 }),
      ];
      await store.write(batch);
      await store.write(batch);
      const range = { measurement: 'device', from: new Date(DAY0), to: new Date(DAY0 + DAY) };
      expect(await store.query(range)).toHaveLength(2);
      // Daily buckets read the daily rollup, 5-minute ones the 5-minute rollup.
      for (const bucketS of [86_400, 300]) {
        const trend = await store.trend({ ...range, field: 'responseMs', bucketS });
        expect(trend.reduce((sum, b) => sum + b.count, 0)).toBe(2);
        expect(trend.reduce((sum, b) => sum + (b.mean ?? 0) * b.count, 0)).toBe(40);
      }
    });

    it('writes 10,000 points in one call and reads them all back', async () => {
      const points: MetricPoint[] = [];
      for (let i = 0; i < 10_000; i++) {
        // 100 devices polled every 36 s: an hour of a mid-sized site.
        points.push(
          devicePoint(t0 + i * 360, `cam-${String(i % 100).padStart(3, '0')}`, {
            up: true,
            responseMs: i % 50,
          }),
        );
      }
      await store.write(points);
      const range = { measurement: 'device', from: new Date(t0), to: new Date(t0 + HOUR) };
      const back = await store.query(range);
      expect(back).toHaveLength(10_000);
      expect(back[0]).toEqual(points[0]);
      expect(back[9_999]).toEqual(points[9_999]);
      const trend = await store.trend({ ...range, field: 'responseMs', bucketS: 600 });
      expect(trend).toHaveLength(6);
      expect(trend.reduce((sum, b) => sum + b.count, 0)).toBe(10_000);
      expect(trend.every((b) => b.min === 0 && b.max === 49)).toBe(true);
      const cam007 = await store.query({ ...range, tags: { device: 'cam-007' } });
      expect(cam007).toHaveLength(100);
    });
    it(
      'answers 12 local months from its rollups once their raw readings are past retention',
      {
        timeout: 180_000,
      },
      async () => {
        // A year of history, as the inspection report's charts read it (broker/inspection/
        // trends.ts): one trend per local calendar month, daily buckets, summed up per month.
        const long = await open({ rawDays: 400 });
        await long.store.start();
        try {
          const history = long.store;
          const now = Date.now();
          const period = new Date(now).toISOString().slice(0, 7);
          const zones = ['Asia/Shanghai', 'America/New_York'];
          const monthsOf = (zone: string) =>
            chartMonths(period, zone).map((m) => ({ ...m, to: Math.min(m.to, now - 5 * MINUTE) }));
          const oldest = Math.min(...zones.map((zone) => monthsOf(zone)[0]!.from));
          // A month without any reading: a gap in the charts, not a month of zeros.
          const gap = monthsOf('Asia/Shanghai')[3]!;
          const random = seeded(7);
          const points: MetricPoint[] = [];
          const taken = new Set<string>();
          const poll = (time: number, device: string, site = 'site-a') => {
            // One reading per device and time (the same one again is counted once).
            if (time >= gap.from - DAY && time < gap.to + DAY) return;
            if (taken.has(`${device}@${time}`)) return;
            taken.add(`${device}@${time}`);
            points.push(
              devicePoint(
                time,
                device,
                {
                  up: true,
                  responseMs: Math.round(random() * 10_000) / 100,
                  storageUsedPct: Math.round(random() * 1000) / 10,
                  // A recorder's retention, measured on some polls only (hourly, by the agent).
                  ...(device === 'nvr-01' && random() < 0.5
                    ? { retentionDays: Math.round(random() * 600) / 10 }
                    : {}),
                },
                site,
              ),
            );
          };
          for (let time = oldest - DAY; time < now - 10 * MINUTE; time += 5 * HOUR + 17 * MINUTE) {
            poll(time, 'cam-01');
            poll(time + 7 * MINUTE, 'nvr-01');
            poll(time + 11 * MINUTE, 'cam-09', 'site-b');
          }
          // Readings a minute either side of every local month's edge: the part-days of UTC
          // at the edges come from the 5-minute rollup, and belong to one month each.
          for (const zone of zones)
            for (const month of monthsOf(zone)) {
              poll(month.from - MINUTE, 'cam-01');
              poll(month.from + MINUTE, 'nvr-01');
            }
          points.sort((a, b) => a.time.getTime() - b.time.getTime());
          for (let i = 0; i < points.length; i += 5_000)
            await history.write(points.slice(i, i + 5_000));
          await long.expireRaw();

          // The oldest months hold no raw reading any more; the last days still do.
          const first = monthsOf('Asia/Shanghai')[0]!;
          const range = { measurement: 'device', tags: { site: 'site-a' } };
          expect(
            await history.query({ ...range, from: new Date(first.from), to: new Date(first.to) }),
          ).toEqual([]);
          expect(
            (await history.query({ ...range, from: new Date(now - DAY), to: new Date(now) }))
              .length,
          ).toBeGreaterThan(0);

          for (const zone of zones) {
            const months = monthsOf(zone);
            expect(months).toHaveLength(12);
            for (const field of ['responseMs', 'storageUsedPct', 'retentionDays']) {
              const answers = await Promise.all(
                months.map((m) =>
                  history.trend({
                    ...range,
                    field,
                    bucketS: 86_400,
                    from: new Date(m.from),
                    to: new Date(m.to),
                  }),
                ),
              );
              answers.forEach((buckets, i) => {
                const month = months[i]!;
                const raw = points.filter(
                  (p) =>
                    p.tags.site === 'site-a' &&
                    p.time.getTime() >= month.from &&
                    p.time.getTime() < month.to,
                );
                const label = `${zone} ${month.month} ${field}`;
                const values = raw.flatMap((p) => {
                  const value = p.fields[field];
                  return typeof value === 'number' ? [value] : [];
                });
                if (values.length === 0) {
                  expect(buckets, label).toEqual([]);
                  expect(summarize(buckets, 'mean', month), label).toBeNull();
                  return;
                }
                expect(
                  buckets.reduce((n, b) => n + b.count, 0),
                  label,
                ).toBe(values.length);
                expect(Math.min(...buckets.map((b) => b.min!)), label).toBe(Math.min(...values));
                expect(Math.max(...buckets.map((b) => b.max!)), label).toBe(Math.max(...values));
                const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
                expect(summarize(buckets, 'mean', month), label).toBeCloseTo(mean, 6);
              });
            }
          }
          // The gap is a month with nothing, in the Beijing months, and the one before it not.
          const beijing = monthsOf('Asia/Shanghai');
          expect(
            points.some((p) => p.time.getTime() >= gap.from && p.time.getTime() < gap.to),
          ).toBe(false);
          expect(beijing[2]!.month < gap.month).toBe(true);

          // By device, as the weekly table asks: the oldest month of each device.
          const byDevice = await history.trendBy({
            ...range,
            by: 'device',
            field: 'responseMs',
            bucketS: 86_400,
            from: new Date(first.from),
            to: new Date(first.to),
          });
          expect([...byDevice.keys()].sort()).toEqual(['cam-01', 'nvr-01']);
          for (const [device, buckets] of byDevice) {
            const count = points.filter(
              (p) =>
                p.tags.device === device &&
                p.time.getTime() >= first.from &&
                p.time.getTime() < first.to,
            ).length;
            expect(
              buckets.reduce((n, b) => n + b.count, 0),
              device,
            ).toBe(count);
          }
        } finally {
          await long.store.stop();
          await long.dispose();
        }
      },
    );
  });
}
