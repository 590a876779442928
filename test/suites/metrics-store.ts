/**
 * The conformance suite every metrics store passes (aedes-persistence's abstract tests,
 * telegraf's buffer suite): what the API and the reports rely on, checked the same way
 * against the embedded store and a real InfluxDB.
 *
 * `open` returns a fresh, unstarted store (its own file or database) and how to dispose
 * of it; the suite starts and stops it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint, MetricsStore } from '../../broker/metrics/store.js';

export interface StoreUnderTest {
  store: MetricsStore;
  dispose(): Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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

export function metricsStoreSuite(name: string, open: () => Promise<StoreUnderTest>): void {
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
  });
}
