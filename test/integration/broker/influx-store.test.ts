/**
 * What only the InfluxDB store does: lay out the database (retention policies, the
 * 5-minute rollup) on a real influxd, again on every start, and say clearly when
 * InfluxDB cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InfluxMetricsStore,
  RAW_POLICY,
  ROLLUP_POLICY,
  ROLLUP_QUERY,
} from '../../../broker/metrics/influx.js';
import { VigilError } from '../../../shared/errors.js';
import { startInfluxd, type RunningInfluxd } from '../../helpers/influxd.js';
import { influxd as influxdProgram, skipReason, titled } from '../../helpers/requires.js';
import { freePort } from '../../helpers/ports.js';

async function influxql(
  url: string,
  q: string,
): Promise<{
  results: { series?: { name: string; columns: string[]; values?: unknown[][] }[] }[];
}> {
  const response = await fetch(`${url}/query?${new URLSearchParams({ q })}`);
  return (await response.json()) as never;
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

  it('creates the database, the raw and rollup policies and the continuous query, again on every start', async () => {
    for (let start = 0; start < 2; start++) {
      const store = new InfluxMetricsStore({
        url: influxd.url,
        database: 'layout',
        rawRetentionDays: 30 + start,
      });
      await store.start();
      await store.stop();
    }
    const policies = await influxql(influxd.url, 'SHOW RETENTION POLICIES ON "layout"');
    const series = policies.results[0]?.series?.[0];
    const rows = (series?.values ?? []).map((row) =>
      Object.fromEntries(series!.columns.map((c, i) => [c, row[i]])),
    );
    // The second start altered the raw policy to 31 days: the config wins over what is there.
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: RAW_POLICY, duration: '744h0m0s', default: true }),
        expect.objectContaining({ name: ROLLUP_POLICY, duration: '17520h0m0s', default: false }),
      ]),
    );
    const queries = await influxql(influxd.url, 'SHOW CONTINUOUS QUERIES');
    const layout = queries.results[0]?.series?.find((s) => s.name === 'layout');
    expect(layout?.values).toHaveLength(1);
    expect(String(layout?.values?.[0]?.[0])).toBe(ROLLUP_QUERY);
    expect(String(layout?.values?.[0]?.[1])).toMatch(
      /INTO layout\.rollup_5m\.device .*GROUP BY time\(5m\), \*/,
    );
  });

  it('reads long trends from the 5-minute rollup, also where the raw readings are gone', async () => {
    const store = new InfluxMetricsStore({ url: influxd.url, database: 'rollup' });
    await store.start();
    try {
      // A year ago: only the rollup keeps it (raw is 30 days). Two 5-minute rows of one day.
      const DAY = 86_400_000;
      const day = Math.floor(Date.now() / DAY) * DAY - 365 * DAY;
      const tags = 'site=site-a,agent=gw-01,device=cam-01,kind=camera';
      const row = (t: number, sum: number, count: number, min: number, max: number) =>
        `device,${tags} responseMs_sum=${sum},responseMs_count=${count},responseMs_min=${min},responseMs_max=${max},responseMs_mean=${sum / count} ${t}`;
      const response = await fetch(
        `${influxd.url}/write?db=rollup&rp=${ROLLUP_POLICY}&precision=ms`,
        {
          method: 'POST',
          body: [row(day + 300_000, 100, 10, 5, 20), row(day + 600_000, 300, 10, 1, 90)].join('\n'),
        },
      );
      expect(response.status).toBe(204);
      const trend = await store.trend({
        measurement: 'device',
        field: 'responseMs',
        tags: { device: 'cam-01' },
        bucketS: 86_400,
        from: new Date(day),
        to: new Date(day + DAY),
      });
      expect(trend).toEqual([{ time: new Date(day), mean: 20, min: 1, max: 90, count: 20 }]);
    } finally {
      await store.stop();
    }
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
    await store.stop();
  });
});
