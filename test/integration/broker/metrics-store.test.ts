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
  return {
    store: new EmbeddedMetricsStore({ file: join(dir, 'metrics.db') }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

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
  metricsStoreSuite('InfluxDB 1.x', async () => ({
    store: new InfluxMetricsStore({ url: influxd.url, database: `conformance_${++databases}` }),
    dispose: async () => {},
  }));
});
