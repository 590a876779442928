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
import { influxdAvailable, startInfluxd, type RunningInfluxd } from '../../helpers/influxd.js';
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

describe.runIf(influxdAvailable())('InfluxDB store on a real influxd', () => {
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
