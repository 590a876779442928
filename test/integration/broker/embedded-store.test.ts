/**
 * What only the embedded store does (the rest is the conformance suite,
 * metrics-store.test.ts): the upgrade of a data folder of the first version, reads and
 * writes that leave the event loop free, and reader and writer threads that fail without
 * taking reads or readings with them.
 * Real SQLite files in a temporary folder.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../broker/db.js';
import { aggregatePoints } from '../../../broker/metrics/aggregate.js';
import { EmbeddedMetricsStore } from '../../../broker/metrics/embedded.js';
import type { MetricPoint, TrendBucket } from '../../../broker/metrics/store.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Migration 1 exactly as the first version shipped it (broker/metrics/embedded.ts, 0.1.0). */
const V1_SQL = `CREATE TABLE points (
      measurement TEXT NOT NULL,
      time INTEGER NOT NULL,
      tags TEXT NOT NULL,
      fields TEXT NOT NULL
    );
    CREATE INDEX points_measurement_time ON points (measurement, time);`;

function camera(time: number, device: string, fields: MetricPoint['fields']): MetricPoint {
  return {
    measurement: 'device',
    // Not in sorted order: the first version stored them sorted (its canonical JSON).
    tags: { site: 'site-a', device, kind: 'camera', agent: 'gw-01' },
    fields,
    time: new Date(time),
  };
}

/** `rounds` poll rounds of `devices` cameras every 15 s, devices mixed as they arrive live. */
function fleet(start: number, rounds: number, devices = 500): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let r = 0; r < rounds; r++)
    for (let d = 0; d < devices; d++)
      points.push(
        camera(start + r * 15_000 + d * 20, `cam-${d}`, {
          up: true,
          responseMs: (r + d) % 97,
        }),
      );
  return points;
}

function sameBuckets(actual: TrendBucket[], expected: TrendBucket[]): void {
  expect(actual.map((b) => [b.time.getTime(), b.count, b.min, b.max])).toEqual(
    expected.map((b) => [b.time.getTime(), b.count, b.min, b.max]),
  );
  actual.forEach((b, i) => expect(b.mean).toBeCloseTo(expected[i]?.mean as number, 6));
}

describe('embedded metrics store', () => {
  let dir: string;
  const stores: EmbeddedMetricsStore[] = [];

  async function started(file: string, options = {}): Promise<EmbeddedMetricsStore> {
    const store = new EmbeddedMetricsStore({ file: join(dir, file), ...options });
    stores.push(store);
    await store.start();
    return store;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-embedded-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a data file of the first version and gives the same trends from its rollups', async () => {
    // Ten days of 3 cameras every 10 minutes, as the first version's write() stored them.
    const day0 = Math.floor(Date.now() / DAY) * DAY - 12 * DAY;
    const points: MetricPoint[] = [];
    for (let i = 0; i < 10 * 24 * 6; i++)
      for (const [n, device] of ['cam-01', 'cam-02', 'cam-03'].entries()) {
        const up = (i + n) % 17 !== 0;
        const fields: MetricPoint['fields'] = { up };
        if (up) fields.responseMs = ((i * 7 + n * 13) % 90) + 0.5;
        points.push(camera(day0 + i * 10 * MINUTE + n * 1000, device, fields));
      }
    points.push({
      measurement: 'agent',
      tags: { site: 'site-a', agent: 'gw-01' },
      fields: { queueDepth: 3, cpuLoadPct: 7.5 },
      time: new Date(day0 + HOUR),
    });
    const v1 = openDatabase(join(dir, 'v1.db'));
    v1.exec(V1_SQL);
    v1.prepare(
      "INSERT INTO schema_migrations (component, version, applied_at) VALUES ('metrics-embedded', 1, '2026-11-01T00:00:00.000Z')",
    ).run();
    const insert = v1.prepare(
      'INSERT INTO points (measurement, time, tags, fields) VALUES (?, ?, ?, ?)',
    );
    for (const p of points) {
      const sorted = Object.fromEntries(
        Object.entries(p.tags).sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      insert.run(p.measurement, p.time.getTime(), JSON.stringify(sorted), JSON.stringify(p.fields));
    }
    v1.close();

    const upgraded = await started('v1.db');
    const period = { measurement: 'device', field: 'responseMs', tags: { site: 'site-a' } };
    const from = day0 + 3 * HOUR + 7 * MINUTE;
    const to = day0 + 9 * DAY + 5 * HOUR;
    const inRange = points.filter(
      (p) => p.measurement === 'device' && p.time.getTime() >= from && p.time.getTime() < to,
    );
    for (const bucketS of [300, 3600, 86_400]) {
      const query = { ...period, bucketS, from: new Date(from), to: new Date(to) };
      const expected = aggregatePoints(inRange, 'responseMs', bucketS * 1000, 'device');
      const byDevice = await upgraded.trendBy({ ...query, by: 'device' });
      expect([...byDevice.keys()].sort()).toEqual(['cam-01', 'cam-02', 'cam-03']);
      for (const [device, buckets] of expected) sameBuckets(byDevice.get(device) ?? [], buckets);
    }
    expect(
      await upgraded.query({
        measurement: 'agent',
        from: new Date(day0),
        to: new Date(day0 + DAY),
      }),
    ).toEqual([points.at(-1)]);

    // The rollups the migration built are the ones write() keeps for the same readings.
    const fresh = await started('fresh.db');
    for (let i = 0; i < points.length; i += 1000) await fresh.write(points.slice(i, i + 1000));
    const rollups = (file: string, table: string) => {
      const db = openDatabase(join(dir, file));
      try {
        return db
          .prepare(
            `SELECT s.measurement, s.tags, f.name, r.bucket, r.count, r.min, r.max, round(r.sum, 6) AS sum
             FROM ${table} r JOIN series s ON s.id = r.series_id JOIN fields f ON f.id = r.field_id
             ORDER BY 1, 2, 3, 4`,
          )
          .all();
      } finally {
        db.close();
      }
    };
    for (const table of ['rollup_5m', 'rollup_1d']) {
      const built = rollups('v1.db', table);
      expect(built.length).toBeGreaterThan(0);
      expect(rollups('fresh.db', table)).toEqual(built);
    }
  });

  it('drops raw readings after 30 days and rollups after two years: old charts stay', async () => {
    const store = await started('retention.db');
    const day = (daysAgo: number) => Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY;
    for (const daysAgo of [1, 40, 800])
      await store.write([
        camera(day(daysAgo) + HOUR, 'cam-01', { up: true, responseMs: daysAgo }),
        camera(day(daysAgo) + 2 * HOUR, 'cam-01', { up: true, responseMs: daysAgo + 2 }),
      ]);
    const removed = await store.applyRetention();
    expect(removed.points).toBe(4);
    const dayOf = (daysAgo: number) => ({
      measurement: 'device',
      from: new Date(day(daysAgo)),
      to: new Date(day(daysAgo) + DAY),
    });
    const daily = (daysAgo: number) =>
      store.trend({ ...dayOf(daysAgo), field: 'responseMs', bucketS: 86_400 });
    expect(await store.query(dayOf(40))).toEqual([]);
    expect(await daily(40)).toEqual([
      { time: new Date(day(40)), mean: 41, min: 40, max: 42, count: 2 },
    ]);
    expect(await daily(800)).toEqual([]);
    expect((await store.query(dayOf(1))).map((p) => p.fields.responseMs)).toEqual([1, 3]);
  });

  it('keeps the event loop turning while a heavy trend runs', async () => {
    const store = await started('heavy.db');
    // 60 cameras, a reading every 15 s for a day: 345,600 readings, and a bucket of
    // 3599 s that no rollup holds, so the reader goes through every raw reading.
    const start = Math.floor(Date.now() / HOUR) * HOUR - 25 * HOUR;
    for (let c = 0; c < 60; c++) {
      const device = `cam-${String(c).padStart(2, '0')}`;
      const batch: MetricPoint[] = [];
      for (let t = start; t < start + DAY; t += 15_000)
        batch.push(camera(t, device, { up: true, responseMs: (t / 15_000 + c) % 97 }));
      for (let i = 0; i < batch.length; i += 10_000) await store.write(batch.slice(i, i + 10_000));
    }
    const range = { measurement: 'device', field: 'responseMs', from: new Date(start) };
    await store.trend({ ...range, bucketS: 10, to: new Date(start + MINUTE) }); // thread up

    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const heavy = store.trendBy({
      ...range,
      bucketS: 3599,
      to: new Date(start + DAY),
      by: 'device',
    });
    const ticksWhenAsked = ticks;
    const answer = await heavy;
    clearInterval(timer);
    expect(ticksWhenAsked).toBe(0);
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(answer.size).toBe(60);
    expect(answer.get('cam-07')?.reduce((n, b) => n + b.count, 0)).toBe(DAY / 15_000);
  });

  it('reads at a lower CPU priority than the event loop, which keeps its own', async () => {
    // Linux keeps a nice value per thread: /proc/self/task/<tid>/stat, field 19.
    const niceOf = async () => {
      const tasks = await readdir('/proc/self/task');
      return Promise.all(
        tasks.map(async (tid) => {
          const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8');
          return {
            tid: Number(tid),
            nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]),
          };
        }),
      );
    };
    const before = new Set((await niceOf()).map((t) => t.tid));
    const store = await started('nice.db');
    await store.write([camera(Date.now() - MINUTE, 'cam-01', { up: true, responseMs: 5 })]);
    await store.query({ measurement: 'device', from: new Date(0), to: new Date() }); // reader up
    const threads = await niceOf();
    const main = threads.find((t) => t.tid === process.pid);
    expect(main?.nice).toBe(0);
    // New threads of this store: the writer at the broker's priority, the reader lowered.
    const added = threads.filter((t) => !before.has(t.tid) && t.nice !== 0);
    expect(added.map((t) => t.nice)).toEqual([10]);
  });

  it('gives up a read that takes too long, says what to do, and answers the next one', async () => {
    const store = await started('slow.db', { queryTimeoutMs: 20 });
    const start = Math.floor(Date.now() / HOUR) * HOUR - 25 * HOUR;
    const batch: MetricPoint[] = [];
    for (let t = start; t < start + DAY; t += 1000)
      batch.push(camera(t, 'cam-01', { up: true, responseMs: t % 89 }));
    for (let i = 0; i < batch.length; i += 10_000) await store.write(batch.slice(i, i + 10_000));
    const query = { measurement: 'device', field: 'responseMs', from: new Date(start) };
    const tooLong = store.trend({ ...query, bucketS: 3599, to: new Date(start + DAY) });
    await expect(tooLong).rejects.toThrow(/no answer within 0.02 s.*shorter range/);
    const short = await store.query({ ...query, to: new Date(start + 3000) });
    expect(short.map((p) => p.time.getTime())).toEqual([start, start + 1000, start + 2000]);
  });

  it('rejects the reads of a reader thread that dies, and starts a new one', async () => {
    // A reader thread of a small heap that is asked for 200,000 raw readings runs out of
    // memory: that thread ends, not the broker.
    const store = await started('oom.db', { readerMemoryMb: 16 });
    const start = Math.floor(Date.now() / HOUR) * HOUR - 25 * HOUR;
    const batch: MetricPoint[] = [];
    for (let t = start; t < start + 200_000 * 250; t += 250)
      batch.push(camera(t, 'cam-01', { up: true, responseMs: t % 89, clockOffsetS: -0.25 }));
    for (let i = 0; i < batch.length; i += 10_000) await store.write(batch.slice(i, i + 10_000));
    const all = store.query({ measurement: 'device', from: new Date(start), to: new Date() });
    await expect(all).rejects.toThrow(/reader thread stopped .*ask again/);
    const one = await store.query({
      measurement: 'device',
      from: new Date(start),
      to: new Date(start + 1),
    });
    expect(one).toEqual([batch[0]]);
  });

  /** Raw points and rollup counts of `device` readings in [from, to), both from the store. */
  async function counted(store: EmbeddedMetricsStore, from: number, to: number) {
    const range = { measurement: 'device', from: new Date(from), to: new Date(to) };
    // Raw readings an hour at a time: query() refuses more than 200,000 points at once.
    let raw = 0;
    for (let at = from; at < to; at += HOUR) {
      const hour = { ...range, from: new Date(at), to: new Date(Math.min(at + HOUR, to)) };
      raw += (await store.query(hour)).length;
    }
    const daily = await store.trend({ ...range, field: 'responseMs', bucketS: 86_400 });
    return { raw, rolledUp: daily.reduce((n, b) => n + b.count, 0) };
  }

  it('keeps the event loop turning while a big batch of many devices is written', async () => {
    const store = await started('big-write.db');
    const start = Math.floor(Date.now() / DAY) * DAY - DAY;
    // 500 cameras, 100 poll rounds in one batch: 50,000 readings, seconds of SQLite work.
    const batch = fleet(start, 100);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const written = store.write(batch);
    const ticksWhenAsked = ticks;
    await written;
    clearInterval(timer);
    expect(ticksWhenAsked).toBe(0);
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(await counted(store, start, start + DAY)).toEqual({ raw: 50_000, rolledUp: 50_000 });
  });

  it('rejects the batch of a writer thread ended mid-batch, stores it whole or not at all, and writes on', async () => {
    const store = await started('killed.db', { writeTimeoutMs: 1000 });
    const start = Math.floor(Date.now() / DAY) * DAY - DAY;
    const before = fleet(start, 1, 100);
    await store.write(before);
    // 600,000 readings take several seconds (about 120,000 a second on a quiet 2-core
    // machine, bench:report): the writer thread is ended in the middle of them. (150,000
    // were done within the 1 s on a quiet machine.)
    const tooBig = fleet(start + HOUR, 1200);
    await expect(store.write(tooBig)).rejects.toThrow(
      /writer gave no answer within 1 s.*may not be stored and the metrics writer writes it again/,
    );
    const after = fleet(start + 2 * DAY - HOUR, 1, 100);
    await store.write(after);
    // Whole or nothing: ended between two statements the transaction is rolled back; a
    // loaded machine may reach the timeout inside its COMMIT, and then it is all there.
    const afterEnd = await counted(store, start, start + 2 * DAY);
    expect([200, 200 + tooBig.length]).toContain(afterEnd.raw);
    expect(afterEnd.rolledUp).toBe(afterEnd.raw);
    // The metrics writer's retry, in batches the thread commits in time: each point once.
    for (let i = 0; i < tooBig.length; i += 1000) await store.write(tooBig.slice(i, i + 1000));
    const all = await counted(store, start, start + 2 * DAY);
    expect(all.rolledUp).toBe(200 + tooBig.length);
    expect(await counted(store, start + HOUR, start + HOUR + 10 * MINUTE)).toEqual({
      raw: 40 * 500,
      rolledUp: 40 * 500,
    });
  });

  it('completes the writes in flight when it stops', async () => {
    const file = 'stopping.db';
    const store = await started(file);
    const start = Math.floor(Date.now() / DAY) * DAY - DAY;
    const rounds = fleet(start, 40);
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.write(rounds.slice(i * 1000, (i + 1) * 1000)),
    );
    await store.stop();
    await Promise.all(writes);
    await expect(store.write(rounds.slice(0, 1))).rejects.toThrow(/not started/);
    const reopened = await started(file);
    expect(await counted(reopened, start, start + DAY)).toEqual({ raw: 20_000, rolledUp: 20_000 });
  });

  it('refuses to start on a file it cannot open, saying which and what to check', async () => {
    const store = new EmbeddedMetricsStore({ file: join(dir, 'no-such-folder', 'metrics.db') });
    await expect(store.start()).rejects.toThrow(
      /cannot open or upgrade .*no-such-folder.*check that its folder exists/,
    );
    await expect(store.write([camera(Date.now(), 'cam-01', { up: true })])).rejects.toThrow(
      /not started/,
    );
  });
});
