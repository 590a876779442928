/**
 * The report cache in a real broker (broker/app.ts: MQTT, journal, pipeline, metrics
 * writer, embedded store, API) fed by an agent's real messages over MQTT: the second
 * report of a past month is served from the cache (the `x-vigil-report-cache` header an
 * operator can read), a reading of today leaves it, and a late reading dated inside the
 * month (a spool flushed after a WAN cut) makes the next report compute again, with the
 * late reading in its figures.
 */
import { connect, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import type { BrokerStats } from '../../../shared/api/broker.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import { deviceStateExample } from '../../../shared/messages/device-state.js';
import { topics } from '../../../shared/topics.js';
import { startTestBroker, TEST_ADMIN_PASSWORD } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';

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

describe('report cache in a real broker', () => {
  let broker: RunningBroker;
  let agent: MqttClient;
  let token = '';
  let seq = 0;
  const { period, lastDay } = lastMonth();

  beforeEach(async () => {
    broker = await startTestBroker();
    const credentials = await broker.agents.add(SITE, AGENT);
    const login = await fetch(`${broker.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    token = ((await login.json()) as { token: string }).token;
    agent = connect(broker.mqttUrl, {
      username: credentials.username,
      password: credentials.password,
      clientId: credentials.username,
      reconnectPeriod: 0,
    });
    agent.on('error', () => {});
    await new Promise((resolve) => agent.once('connect', resolve));
  });

  afterEach(async () => {
    await agent?.endAsync(true);
    await broker?.stop();
  });

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

  async function report(): Promise<{ cache: string | null; responseMs: (number | null)[] }> {
    const response = await fetch(
      `${broker.httpUrl}/api/sites/${SITE}/inspection?period=${period}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
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

  it('serves a past month again from the cache and computes it again after late data', async () => {
    // The camera as its agent announced it, and two readings on the month's last day.
    const ts = `${lastDay}T06:00:00.000Z`;
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
    await reading(`${lastDay}T06:00:00.000Z`, 10);
    await reading(`${lastDay}T07:00:00.000Z`, 20);
    await eventually('both readings in the report', async () => {
      const first = await report();
      return first.responseMs[0] === 15 && first;
    });

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
