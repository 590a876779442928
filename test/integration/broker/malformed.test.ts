/**
 * Malformed payloads at a steady rate (random bytes, a wrong schema, over the size
 * limit, JSON nested 100,000 deep) from one agent, while another agent publishes good
 * readings: the broker keeps serving, counts every bad one, and loses no good one.
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import { deviceMetricsExample } from '../../../shared/messages/device-metrics.js';
import { topics } from '../../../shared/topics.js';
import { startTestBroker } from '../../helpers/broker.js';

const DURATION_MS = 4000;
const INTERVAL_MS = 10;

describe('malformed payloads under load', () => {
  let broker: RunningBroker;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    broker = await startTestBroker();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker.stop();
  });

  it('keeps serving, counts the bad ones, and stores every good reading', async () => {
    const good = await broker.agents.add('site-a', 'gw-good');
    const bad = await broker.agents.add('site-a', 'gw-bad');
    const open = (credentials: typeof good) => {
      const client = connect(broker.mqttUrl, {
        username: credentials.username,
        password: credentials.password,
        clientId: credentials.username,
        clean: false,
        reconnectPeriod: 50,
      });
      client.on('error', () => {});
      clients.push(client);
      return client;
    };
    const goodClient = open(good);
    const badClient = open(bad);
    await new Promise((resolve) => goodClient.once('connect', resolve));

    const t0 = Date.now() - 60_000;
    const acked = new Set<number>();
    let seq = 0;
    let badSent = 0;
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const kinds = [
      () => randomBytes(200),
      () =>
        JSON.stringify({
          ...deviceMetricsExample,
          siteId: 'site-a',
          agentId: 'gw-bad',
          values: 'fast',
        }),
      () => deep,
      () => Buffer.alloc(300 * 1024, 120), // over the 256 KiB limit: refused, connection closed
    ];
    const started = Date.now();
    const timer = setInterval(() => {
      const n = seq++;
      const payload = JSON.stringify({
        ...deviceMetricsExample,
        siteId: 'site-a',
        agentId: 'gw-good',
        deviceId: 'cam-good',
        seq: n,
        ts: new Date(t0 + n).toISOString(),
      });
      goodClient.publish(topics.deviceMetrics('site-a', 'cam-good'), payload, { qos: 1 }, (e) => {
        if (!e) acked.add(n);
      });
      if (badClient.connected) {
        const make = kinds[badSent % kinds.length]!;
        badSent++;
        // QoS 0: a refused QoS 1 message would be re-sent on every reconnect, forever.
        badClient.publish(topics.deviceMetrics('site-a', 'cam-bad'), make(), { qos: 0 });
      }
    }, INTERVAL_MS);
    await new Promise((resolve) => setTimeout(resolve, DURATION_MS));
    clearInterval(timer);
    const deadline = Date.now() + 10_000;
    while (acked.size < seq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await broker.pipeline.idle();
    await broker.metricsWriter.flush();

    const stored = await broker.metrics.query({
      measurement: 'device',
      tags: { device: 'cam-good' },
      from: new Date(t0),
      to: new Date(t0 + seq + 1),
    });
    const storedSeqs = new Set(stored.map((point) => point.time.getTime() - t0));
    const lost = [...acked].filter((n) => !storedSeqs.has(n));
    const rejected = broker.pipeline.counters.rejected;
    const refusedBig = (await broker.audit.list({ limit: 10_000 })).filter(
      (e) => e.clientId === bad.username,
    );
    console.log(
      `malformed: ${badSent} bad payloads in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${rejected} dead letters, ${refusedBig.length} refused over the size limit); ` +
        `good readings: ${seq} sent, ${acked.size} acknowledged, ${storedSeqs.size} stored, lost ${lost.length}`,
    );
    expect(acked.size).toBe(seq);
    expect(lost).toEqual([]);
    expect(rejected).toBeGreaterThan(badSent / 2);
    expect(refusedBig.length).toBeGreaterThan(0);
    expect(await broker.deadLetters.count()).toBe(rejected);
    expect((await broker.health()).status).toBe('ok');
  });
});
