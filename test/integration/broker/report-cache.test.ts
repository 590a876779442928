/**
 * The report cache in a real broker (broker/app.ts: MQTT, journal, pipeline, metrics
 * writer, embedded store, API) fed by an agent's real messages over MQTT: the second
 * report of a past month is served from the cache (the `x-vigil-report-cache` header an
 * operator can read), a reading of today leaves it, and a late reading dated inside the
 * month (a spool flushed after a WAN cut) makes the next report compute again, with the
 * late reading in its figures. And a report whose trends cannot be read (InfluxDB down)
 * answers 503 with what to do instead of a month without data, keeps nothing in the
 * cache, and gives its figures once InfluxDB is back.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import type { BrokerStats } from '../../../shared/api/broker.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import { deviceStateExample } from '../../../shared/messages/device-state.js';
import { topics } from '../../../shared/topics.js';
import {
  connectAgent,
  loginToken,
  startTestBroker,
  type TestBrokerSettings,
} from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';
import { startInfluxd, type RunningInfluxd } from '../../helpers/influxd.js';
import { influxd as influxdProgram, skipReason, titled } from '../../helpers/requires.js';

const SITE = 'site-a';
const AGENT = 'gw-01';
const CAMERA = 'cam-01';

/** The UTC month before now: "2026-11" in December 2026. */
function lastMonth(): { period: string; lastDay: string } {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return {
    period: first.toISOString().slice(0, 7),
    lastDay: last.toISOString().slice(0, 10),
  };
}

let broker: RunningBroker;
let agent: MqttClient;
let token = '';
let seq = 0;
const { period, lastDay } = lastMonth();

async function start(settings: TestBrokerSettings = {}): Promise<void> {
  broker = await startTestBroker({ settings });
  const credentials = await broker.agents.add(SITE, AGENT);
  token = await loginToken(broker);
  agent = await connectAgent(broker, credentials);
  seq = 0;
}

async function stop(): Promise<void> {
  await agent?.endAsync(true);
  await broker?.stop();
}

/** The camera as its agent announced it at `ts` (a report lists the site's devices). */
async function announce(ts: string): Promise<void> {
  await agent.publishAsync(
    topics.deviceState(SITE, CAMERA),
    JSON.stringify({
      ...deviceStateExample,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts,
      deviceId: CAMERA,
      status: 'up',
      since: ts,
      reasons: [],
    }),
    { qos: 1, retain: true },
  );
}

/** The agent's reading of the camera, dated `ts` (QoS 1: resolves on the PUBACK). */
async function reading(ts: string, responseMs: number): Promise<void> {
  await agent.publishAsync(
    topics.deviceMetrics(SITE, CAMERA),
    JSON.stringify({
      v: 1,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts,
      deviceId: CAMERA,
      kind: 'camera',
      values: { up: true, responseMs },
    }),
    { qos: 1 },
  );
}

function fetchReport(): Promise<Response> {
  return fetch(`${broker.httpUrl}/api/sites/${SITE}/inspection?period=${period}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

async function report(): Promise<{ cache: string | null; responseMs: (number | null)[] }> {
  const response = await fetchReport();
  expect(response.status).toBe(200);
  const body = (await response.json()) as InspectionReport;
  return {
    cache: response.headers.get('x-vigil-report-cache'),
    responseMs: body.trends.filter((t) => t.deviceId === CAMERA).map((t) => t.responseMs),
  };
}

/** Readings the metrics writer has put in the store (GET /api/broker, public). */
async function written(): Promise<number> {
  const stats = (await (await fetch(`${broker.httpUrl}/api/broker`)).json()) as BrokerStats;
  return stats.metricsWriter.written;
}

describe('report cache in a real broker', () => {
  beforeEach(() => start());
  afterEach(() => stop());

  it('serves a past month again from the cache and computes it again after late data', async () => {
    // The camera as its agent announced it, and two readings on the month's last day.
    await announce(`${lastDay}T06:00:00.000Z`);
    await reading(`${lastDay}T06:00:00.000Z`, 10);
    await reading(`${lastDay}T07:00:00.000Z`, 20);
    await eventually('both readings in the report', async () => {
      const first = await report();
      return first.responseMs[0] === 15 && first;
    });
    // A report computed while a reading was still being written is not kept (report
    // cache: it may miss that reading), so the first computation may not fill the cache;
    // the next one with nothing in flight does, and from then on it is served from there.
    await eventually('the month kept in the cache', async () => (await report()).cache === 'hit');
    const again = await report();
    expect(again).toEqual({ cache: 'hit', responseMs: [15] });

    // A reading of today is no late data for last month: still from the cache.
    const before = await written();
    await reading(new Date().toISOString(), 500);
    await eventually('the reading of today written', async () => (await written()) > before);
    expect(await report()).toEqual({ cache: 'hit', responseMs: [15] });

    // The agent's spool, flushed after a WAN cut: a reading of last month's last day.
    await reading(`${lastDay}T08:00:00.000Z`, 60);
    const late = await eventually('the late reading in the report', async () => {
      const answer = await report();
      return answer.responseMs[0] === 30 && answer;
    });
    expect(late.cache).toBe('miss');
    expect(await report()).toEqual({ cache: 'hit', responseMs: [30] });
  });
});

const noInfluxd = skipReason(influxdProgram);

describe.skipIf(noInfluxd)(titled('a report while InfluxDB is down', noInfluxd), () => {
  let influxd: RunningInfluxd;

  beforeEach(async () => {
    influxd = await startInfluxd();
    // Raw readings kept two months: last month's last day is 31 days old on some days.
    await start({ influx: { url: influxd.url, database: 'reports' }, metrics: { rawDays: 62 } });
  });

  afterEach(async () => {
    await stop();
    await influxd?.stop();
  });

  it('answers 503 with what to do, caches nothing, and gives the figures once InfluxDB is back', async () => {
    const ts = `${lastDay}T06:00:00.000Z`;
    await announce(ts);
    await reading(ts, 42);
    await eventually('the reading written to InfluxDB', async () => (await written()) >= 1);

    await influxd.halt();
    const down = await fetchReport();
    expect(down.status).toBe(503);
    const error = (await down.json()) as { code: string; message: string };
    expect(error.code).toBe('VIGIL_METRICS_STORE_DOWN');
    expect(error.message).toMatch(/could not be read from the metrics store.*try again/);

    await influxd.resume();
    const back = await eventually('the report with its trends', async () => {
      const response = await fetchReport();
      if (response.status !== 200) return false;
      const body = (await response.json()) as InspectionReport;
      const trend = body.trends.find((t) => t.deviceId === CAMERA);
      return trend ? { cache: response.headers.get('x-vigil-report-cache'), trend } : false;
    });
    // Computed now, not an empty answer kept from the outage.
    expect(back.cache).toBe('miss');
    expect(back.trend.responseMs).toBe(42);
  });
});
