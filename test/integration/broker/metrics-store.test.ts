/**
 * The metrics-store conformance suite against both stores: the embedded one on a real
 * SQLite file, and InfluxDB on a real influxd (Debian's 1.6) started for this file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { EmbeddedMetricsStore } from '../../../broker/metrics/embedded.js';
import { InfluxMetricsStore } from '../../../broker/metrics/influx.js';
import { startInfluxd, type RunningInfluxd } from '../../helpers/influxd.js';
import { influxd as influxdProgram, skipReason, titled } from '../../helpers/requires.js';
import { metricsStoreSuite } from '../../suites/metrics-store.js';

metricsStoreSuite('embedded (SQLite file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-metrics-'));
  // The store takes readings of any age; its retention (30 days raw, 730 rollups) runs
  // hourly, and now when asked.
  const store = new EmbeddedMetricsStore({ file: join(dir, 'metrics.db') });
  return {
    store,
    dispose: () => rm(dir, { recursive: true, force: true }),
    expireRaw: async () => {
      await store.applyRetention();
    },
  };
});

const RAW_DAYS = 30;

/**
 * What InfluxDB's retention service does to `raw` once the points are older than its 30
 * days: it drops the shard groups that ended before (whole shards, never single points).
 * The store's rollups are settled first, as its continuous queries would have done long
 * before.
 */
async function expireInfluxRaw(
  url: string,
  database: string,
  store: InfluxMetricsStore,
): Promise<void> {
  await store.settle();
  const query = async (q: string, method: 'GET' | 'POST') => {
    const response = await fetch(`${url}/query?${new URLSearchParams({ q, epoch: 'ms' })}`, {
      method,
    });
    if (!response.ok) throw new Error(`${q}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as {
      results: { series?: { name: string; columns: string[]; values?: unknown[][] }[] }[];
    };
  };
  const cut = Date.now() - RAW_DAYS * 86_400_000;
  const shards = (await query('SHOW SHARDS', 'GET')).results[0]?.series ?? [];
  const mine = shards.find((series) => series.name === database);
  if (!mine) throw new Error(`SHOW SHARDS lists no shard of ${database}`);
  const column = (name: string) => mine.columns.indexOf(name);
  for (const row of mine.values ?? []) {
    const end = row[column('end_time')];
    const ended = typeof end === 'number' ? end : Date.parse(String(end));
    if (row[column('retention_policy')] === 'raw' && ended <= cut)
      await query(`DROP SHARD ${Number(row[column('id')])}`, 'POST');
  }
}

const noInfluxd = skipReason(influxdProgram);

describe.skipIf(noInfluxd)(titled('with a real influxd', noInfluxd), () => {
  let influxd: RunningInfluxd;
  let databases = 0;

  beforeAll(async () => {
    influxd = await startInfluxd();
  });

  afterAll(async () => {
    await influxd?.stop();
  });

  // A database of its own per test: no test sees another's points.
  metricsStoreSuite('InfluxDB 1.x', async (options = {}) => {
    const database = `conformance_${++databases}`;
    const store = new InfluxMetricsStore({
      url: influxd.url,
      database,
      ...(options.rawDays === undefined ? {} : { rawRetentionDays: options.rawDays }),
    });
    return {
      store,
      dispose: async () => {},
      expireRaw: () => expireInfluxRaw(influxd.url, database, store),
    };
  });
});
