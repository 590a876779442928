/**
 * What only the InfluxDB store does, on a real influxd: lay out the database (retention
 * policies, the 5-minute and daily rollups by continuous queries) again on every start,
 * keep the rollups equal to the raw readings when readings come late (on read and in the
 * background), ask once per level for a whole site, rebuild the rollups of a database
 * written by the previous version, and say clearly when InfluxDB cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatePoints } from '../../../broker/metrics/aggregate.js';
import {
  DAY_POLICY,
  InfluxMetricsStore,
  LAYOUT_MEASUREMENT,
  RAW_POLICY,
  ROLLUP_POLICY,
  ROLLUP_QUERY,
} from '../../../broker/metrics/influx.js';
import type { MetricPoint, TrendBucket } from '../../../broker/metrics/store.js';
import { VigilError } from '../../../shared/errors.js';
import { eventually } from '../../helpers/eventually.js';
import { startInfluxd, type RunningInfluxd } from '../../helpers/influxd.js';
import { influxd as influxdProgram, skipReason, titled } from '../../helpers/requires.js';
import { freePort } from '../../helpers/ports.js';

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

async function influxql(url: string, q: string, db?: string): Promise<Series[]> {
  const params = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
  const response = await fetch(`${url}/query?${params}`, { method: 'POST' });
  const body = (await response.json()) as { results: { error?: string; series?: Series[] }[] };
  const failed = body.results.find((result) => result.error);
  if (failed) throw new Error(`${failed.error} (in: ${q})`);
  return body.results.flatMap((result) => result.series ?? []);
}

/** Rows of the series as objects, with the series' tags. */
function rows(series: Series[]): Record<string, unknown>[] {
  return series.flatMap((s) =>
    (s.values ?? []).map((row) => ({
      ...s.tags,
      ...Object.fromEntries(s.columns.map((c, i) => [c, row[i]])),
    })),
  );
}

async function writeLines(url: string, db: string, rp: string, lines: string[]): Promise<void> {
  const response = await fetch(`${url}/write?db=${db}&rp=${rp}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  expect(response.status, await response.text()).toBe(204);
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const today = () => Math.floor(Date.now() / DAY) * DAY;

/** Deterministic pseudo-random numbers (Park-Miller), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
}

/**
 * `days` whole days before today of a site's cameras, NVR fields included, and its
 * agent's health, at irregular times; `fields` of the device points as given.
 */
function site(days: number, devices: number, seed: number): MetricPoint[] {
  const next = random(seed);
  const points: MetricPoint[] = [];
  const from = today() - days * DAY;
  for (let t = from; t + 7 * MINUTE <= today(); t += 7 * MINUTE) {
    for (let d = 0; d < devices; d++) {
      const time = t + Math.floor(next() * 7 * MINUTE);
      points.push({
        measurement: 'device',
        tags: { site: 'site-a', agent: 'gw-01', device: `dev-${d}`, kind: 'nvr' },
        fields: {
          up: true,
          responseMs: Math.round(next() * 5000) / 100,
          clockOffsetS: next() - 0.5,
          // A field the previous version did not roll up.
          ...(next() < 0.7 ? { recordingsStopped: next() < 0.9 ? 0 : 1 } : {}),
        },
        time: new Date(time),
      });
    }
    points.push({
      measurement: 'agent',
      tags: { site: 'site-a', agent: 'gw-01' },
      fields: { cpuLoadPct: Math.round(next() * 1000) / 10, queueDepth: 0 },
      time: new Date(t + 1000),
    });
  }
  return points;
}

/** Buckets compared with the reference, the mean to 9 digits (sums in another order). */
function expectSameBuckets(actual: TrendBucket[] | undefined, expected: TrendBucket[]): void {
  expect(actual).toEqual(expected.map((b) => ({ ...b, mean: expect.closeTo(b.mean!, 9) })));
}

const noInfluxd = skipReason(influxdProgram);

describe.skipIf(noInfluxd)(titled('InfluxDB store on a real influxd', noInfluxd), () => {
  let influxd: RunningInfluxd;

  beforeAll(async () => {
    influxd = await startInfluxd();
  });

  afterAll(async () => {
    await influxd?.stop();
  });

  it('creates the database, the raw and rollup policies and the continuous queries, again on every start', async () => {
    for (let start = 0; start < 2; start++) {
      const store = new InfluxMetricsStore({
        url: influxd.url,
        database: 'layout',
        rawRetentionDays: 30 + start,
      });
      await store.start();
      await store.stop();
    }
    const policies = rows(await influxql(influxd.url, 'SHOW RETENTION POLICIES ON "layout"'));
    // The second start altered the raw policy to 31 days: the config wins over what is there.
    expect(policies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: RAW_POLICY, duration: '744h0m0s', default: true }),
        expect.objectContaining({ name: ROLLUP_POLICY, duration: '17520h0m0s', default: false }),
        expect.objectContaining({ name: DAY_POLICY, duration: '17520h0m0s', default: false }),
      ]),
    );
    const queries = await influxql(influxd.url, 'SHOW CONTINUOUS QUERIES');
    const layout = queries.find((s) => s.name === 'layout');
    const cq = new Map(layout?.values?.map((row) => [String(row[0]), String(row[1])]));
    expect([...cq.keys()].sort()).toEqual(['agent_1d', 'agent_5m', 'device_1d', ROLLUP_QUERY]);
    // Every numeric field, not only the two the reports first needed.
    expect(cq.get(ROLLUP_QUERY)).toMatch(
      /recordingsStopped_sum.*INTO layout\.rollup_5m\.device FROM layout\.raw\.device GROUP BY time\(5m\), \*/,
    );
    expect(cq.get('agent_5m')).toMatch(/cpuLoadPct_count.*INTO layout\.rollup_5m\.agent /);
    expect(cq.get('device_1d')).toMatch(
      /RESAMPLE EVERY 1h FOR 2d .*sum\(responseMs_count\).*INTO layout\.rollup_1d\.device FROM layout\.rollup_5m\.device GROUP BY time\(1d\), \*/,
    );
  });

  it('reads long trends from the rollups, also where the raw readings are gone', async () => {
    const store = new InfluxMetricsStore({ url: influxd.url, database: 'rollup' });
    await store.start();
    try {
      // A year ago: only the rollups keep it (raw is 30 days). Two 5-minute rows of one
      // day, and that day's row.
      const day = today() - 365 * DAY;
      const tags = 'site=site-a,agent=gw-01,device=cam-01,kind=camera';
      const row = (t: number, sum: number, count: number, min: number, max: number) =>
        `device,${tags} responseMs_sum=${sum},responseMs_count=${count}i,responseMs_min=${min},responseMs_max=${max} ${t}`;
      await writeLines(influxd.url, 'rollup', ROLLUP_POLICY, [
        row(day + 300_000, 100, 10, 5, 20),
        row(day + 600_000, 300, 10, 1, 90),
      ]);
      await writeLines(influxd.url, 'rollup', DAY_POLICY, [row(day, 400, 20, 1, 90)]);
      const query = {
        measurement: 'device',
        field: 'responseMs',
        tags: { device: 'cam-01' },
        from: new Date(day),
        to: new Date(day + DAY),
      };
      expect(await store.trend({ ...query, bucketS: 86_400 })).toEqual([
        { time: new Date(day), mean: 20, min: 1, max: 90, count: 20 },
      ]);
      expect(await store.trend({ ...query, bucketS: 3600 })).toEqual([
        { time: new Date(day), mean: 20, min: 1, max: 90, count: 20 },
      ]);
    } finally {
      await store.stop();
    }
  });

  it('rolls every numeric field up into 5-minute and daily rows equal to the raw readings, in the background', async () => {
    const store = new InfluxMetricsStore({
      url: influxd.url,
      database: 'background',
      refreshEveryMs: 20,
    });
    await store.start();
    try {
      const points = site(2, 3, 7);
      await store.write(points);
      const device = points.filter((p) => p.measurement === 'device');
      const agent = points.filter((p) => p.measurement === 'agent');
      // Nobody reads: the timer alone rolls the past days up.
      const dayRows = await eventually('the daily rollup of both days', async () => {
        const found = rows(
          await influxql(
            influxd.url,
            `SELECT * FROM rollup_1d.device WHERE device = 'dev-1' AND recordingsStopped_count > 0`,
            'background',
          ),
        );
        return found.length === 2 && found;
      });
      const expected = aggregatePoints(device, 'recordingsStopped', DAY, 'device').get('dev-1')!;
      expect(
        dayRows.map((r) => [r.time, r.recordingsStopped_count, r.recordingsStopped_max]),
      ).toEqual(expected.map((b) => [b.time.getTime(), b.count, b.max]));
      await store.settle();
      const agentRows = rows(
        await influxql(influxd.url, `SELECT * FROM rollup_1d.agent`, 'background'),
      );
      expect(agentRows.map((r) => [r.time, r.cpuLoadPct_count, r.cpuLoadPct_max])).toEqual(
        aggregatePoints(agent, 'cpuLoadPct', DAY)
          .get('')!
          .map((b) => [b.time.getTime(), b.count, b.max]),
      );
      const fiveRows = rows(
        await influxql(
          influxd.url,
          `SELECT clockOffsetS_count FROM rollup_5m.device WHERE device = 'dev-1'`,
          'background',
        ),
      );
      const five = aggregatePoints(device, 'clockOffsetS', 5 * MINUTE, 'device').get('dev-1')!;
      expect(fiveRows.map((r) => [r.time, r.clockOffsetS_count])).toEqual(
        five.map((b) => [b.time.getTime(), b.count]),
      );
    } finally {
      await store.stop();
    }
  });

  it('counts a reading written late into a day already rolled up', async () => {
    const store = new InfluxMetricsStore({ url: influxd.url, database: 'late' });
    await store.start();
    try {
      const points = site(3, 2, 11);
      await store.write(points);
      await store.settle();
      const query = {
        measurement: 'device',
        field: 'responseMs',
        tags: { site: 'site-a' },
        bucketS: 86_400,
        from: new Date(today() - 3 * DAY),
        to: new Date(today()),
        by: 'device',
      };
      expectSameBuckets(
        (await store.trendBy(query)).get('dev-0'),
        aggregatePoints(points, 'responseMs', DAY, 'device').get('dev-0')!,
      );
      // The backlog of a WAN cut: a reading of two days ago, slower than any.
      const late: MetricPoint = {
        measurement: 'device',
        tags: { site: 'site-a', agent: 'gw-01', device: 'dev-0', kind: 'nvr' },
        fields: { up: true, responseMs: 9000 },
        time: new Date(today() - 2 * DAY + 3 * 3_600_000 + 1234),
      };
      await store.write([late]);
      const after = (await store.trendBy(query)).get('dev-0')!;
      expectSameBuckets(
        after,
        aggregatePoints([...points, late], 'responseMs', DAY, 'device').get('dev-0')!,
      );
      expect(after[1]?.max).toBe(9000);
    } finally {
      await store.stop();
    }
  });

  it('still counts a late reading after a restart that came before its rollup', async () => {
    // A store that leaves rollups to reads, stopped before anyone reads: the late
    // reading's stale mark must outlive it (the journal does not replay a written reading).
    const first = new InfluxMetricsStore({
      url: influxd.url,
      database: 'restart',
      refreshEveryMs: 3_600_000,
    });
    await first.start();
    const points = site(3, 1, 13);
    await first.write(points);
    await first.settle();
    const late: MetricPoint = {
      measurement: 'device',
      tags: { site: 'site-a', agent: 'gw-01', device: 'dev-0', kind: 'nvr' },
      fields: { up: true, responseMs: 7777 },
      time: new Date(today() - 3 * DAY + 5 * 3_600_000 + 42),
    };
    await first.write([late]);
    await first.stop();
    const second = new InfluxMetricsStore({
      url: influxd.url,
      database: 'restart',
      refreshEveryMs: 3_600_000,
    });
    await second.start();
    try {
      const trend = await second.trend({
        measurement: 'device',
        field: 'responseMs',
        bucketS: 86_400,
        from: new Date(today() - 3 * DAY),
        to: new Date(today()),
      });
      expectSameBuckets(trend, aggregatePoints([...points, late], 'responseMs', DAY).get('')!);
      expect(trend[0]?.max).toBe(7777);
      // Rolled up: nothing left to remember.
      await second.settle();
      expect(rows(await influxql(influxd.url, 'SELECT * FROM vigil_stale', 'restart'))).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it("asks InfluxDB once for a whole site's trend, not once per device", async () => {
    const store = new InfluxMetricsStore({ url: influxd.url, database: 'grouped' });
    await store.start();
    try {
      const points = site(3, 20, 3);
      await store.write(points);
      await store.settle();
      const requests = async () => {
        const stats = rows(await influxql(influxd.url, `SHOW STATS FOR 'httpd'`));
        return Number(stats[0]?.queryReq);
      };
      // SHOW STATS is itself a request: what two in a row count is the baseline.
      const baseline = -(await requests()) + (await requests());
      const before = await requests();
      const grouped = await store.trendBy({
        measurement: 'device',
        field: 'responseMs',
        tags: { site: 'site-a' },
        bucketS: 86_400,
        // Not on the 5-minute grid: raw, 5-minute and daily rows all answer a part.
        from: new Date(today() - 3 * DAY + 3_600_000 + 17),
        to: new Date(today()),
        by: 'device',
      });
      expect((await requests()) - before).toBe(baseline + 1);
      expect(grouped.size).toBe(20);
      const inRange = points.filter((p) => p.time.getTime() >= today() - 3 * DAY + 3_600_017);
      const expected = aggregatePoints(inRange, 'responseMs', DAY, 'device');
      for (const [device, buckets] of expected) expectSameBuckets(grouped.get(device), buckets);
    } finally {
      await store.stop();
    }
  });

  it('gives a database written by the previous version the same figures, and rolls up the fields it did not', async () => {
    const db = 'upgrade';
    const url = influxd.url;
    // The previous version's layout: raw, rollup_5m of two fields, no rollup_1d.
    await influxql(
      url,
      `CREATE DATABASE ${db}; CREATE RETENTION POLICY raw ON ${db} DURATION 30d REPLICATION 1 DEFAULT; ` +
        `CREATE RETENTION POLICY rollup_5m ON ${db} DURATION 730d REPLICATION 1`,
    );
    const oldFields = ['responseMs', 'clockOffsetS']
      .flatMap((f) => ['mean', 'min', 'max', 'count', 'sum'].map((a) => `${a}(${f}) AS ${f}_${a}`))
      .join(', ');
    await influxql(
      url,
      `CREATE CONTINUOUS QUERY device_5m ON ${db} BEGIN SELECT ${oldFields} INTO ${db}.rollup_5m.device FROM ${db}.raw.device GROUP BY time(5m), * END`,
    );
    const points = site(3, 4, 5);
    const line = (p: MetricPoint) =>
      `${p.measurement},${Object.entries(p.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')} ${Object.entries(p.fields)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')} ${p.time.getTime()}`;
    await writeLines(url, db, 'raw', points.map(line));
    // What its continuous query and its refresh on read left in rollup_5m.
    await influxql(
      url,
      `SELECT ${oldFields} INTO ${db}.rollup_5m.device FROM ${db}.raw.device WHERE time >= ${today() - 3 * DAY}ms AND time < ${today()}ms GROUP BY time(5m), *`,
    );
    // And a year ago, where only its rollup is left.
    const yearAgo = today() - 365 * DAY;
    await writeLines(url, db, 'rollup_5m', [
      `device,site=site-a,agent=gw-01,device=dev-0,kind=nvr responseMs_sum=100,responseMs_count=10i,responseMs_min=5,responseMs_max=20,responseMs_mean=10 ${yearAgo + 300_000}`,
      `device,site=site-a,agent=gw-01,device=dev-0,kind=nvr responseMs_sum=300,responseMs_count=10i,responseMs_min=1,responseMs_max=90,responseMs_mean=30 ${yearAgo + 900_000}`,
    ]);
    const query = {
      measurement: 'device',
      tags: { site: 'site-a' },
      bucketS: 86_400,
      from: new Date(today() - 3 * DAY),
      to: new Date(today()),
      by: 'device',
    };
    const expected = (field: string, from: MetricPoint[]) =>
      aggregatePoints(from, field, DAY, 'device');

    // A store that does nothing in the background: reads alone must be right at once.
    const store = new InfluxMetricsStore({ url, database: db, refreshEveryMs: 3_600_000 });
    await store.start();
    try {
      const device = points.filter((p) => p.measurement === 'device');
      for (const field of ['responseMs', 'recordingsStopped']) {
        const got = await store.trendBy({ ...query, field });
        for (const [id, buckets] of expected(field, device))
          expectSameBuckets(got.get(id), buckets);
      }
      expect(
        await store.trend({
          ...query,
          field: 'responseMs',
          tags: { device: 'dev-0' },
          from: new Date(yearAgo),
          to: new Date(yearAgo + DAY),
        }),
      ).toEqual([{ time: new Date(yearAgo), mean: 20, min: 1, max: 90, count: 20 }]);
      await store.settle();
      const agent = await store.trend({
        ...query,
        measurement: 'agent',
        field: 'cpuLoadPct',
        tags: {},
      });
      const agentPoints = points.filter((p) => p.measurement === 'agent');
      expectSameBuckets(agent, aggregatePoints(agentPoints, 'cpuLoadPct', DAY).get('')!);
      const queries = (await influxql(url, 'SHOW CONTINUOUS QUERIES')).find((s) => s.name === db);
      expect(queries?.values?.map((row) => row[0]).sort()).toEqual([
        'agent_1d',
        'agent_5m',
        'device_1d',
        'device_5m',
      ]);
    } finally {
      await store.stop();
    }
    // Rebuilt once: the next start finds the marker and leaves the rollups alone.
    const again = new InfluxMetricsStore({ url, database: db, refreshEveryMs: 3_600_000 });
    await again.start();
    await again.settle();
    await again.stop();
    const markers = rows(
      await influxql(url, `SELECT * FROM ${DAY_POLICY}.${LAYOUT_MEASUREMENT}`, db),
    );
    expect(markers).toHaveLength(1);
  });

  it('refuses to start when InfluxDB does not answer, saying where it looked', async () => {
    const port = await freePort();
    const store = new InfluxMetricsStore({
      url: `http://user:secret@127.0.0.1:${port}`,
      database: 'vigil',
      timeoutMs: 1000,
    });
    const error = await store.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VigilError);
    expect((error as VigilError).code).toBe('VIGIL_METRICS_STORE_DOWN');
    expect((error as VigilError).message).toContain(`http://127.0.0.1:${port}`);
    expect((error as VigilError).message).not.toContain('secret');
    expect(await store.ping()).toBe(false);
    const settled = await store.settle().catch((e: unknown) => e);
    expect((settled as VigilError).code).toBe('VIGIL_METRICS_STORE_DOWN');
    await store.stop();
  });
});
