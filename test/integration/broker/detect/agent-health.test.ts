/**
 * An agent's health message through the whole broker (real Aedes, real mqtt.js, the
 * embedded metrics store, the ticket desk): every number it carries is stored in the
 * `agent` measurement, and a gateway running out of disk gets its general ticket.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { agentHealthExample, type AgentHealth } from '../../../../shared/messages/agent-health.js';
import { topics } from '../../../../shared/topics.js';
import { startTestBroker } from '../../../helpers/broker.js';

describe('agent health to the metrics store and the gateway rule', () => {
  let broker: RunningBroker;
  let client: MqttClient | undefined;

  beforeEach(async () => {
    broker = await startTestBroker();
  });

  afterEach(async () => {
    await client?.endAsync(true);
    await broker.stop();
  });

  it('stores spool, MQTT and last-good-poll figures, and opens a ticket for a full gateway disk', async () => {
    const agent = await broker.agents.add('site-a', 'gw-01');
    client = await connectAsync(broker.mqttUrl, {
      username: agent.username,
      password: agent.password,
      reconnectPeriod: 0,
    });
    const ts = Date.now();
    const health: AgentHealth = {
      ...agentHealthExample,
      siteId: 'site-a',
      agentId: 'gw-01',
      ts: new Date(ts).toISOString(),
      lastPollAt: new Date(ts - 2000).toISOString(),
      spool: { depth: 120, bytes: 48_000, oldestAgeS: 35.5, dropped: 7 },
      mqtt: { connected: true, inFlight: 4 },
      lastOkPollAt: {
        'cam-01': new Date(ts - 1000).toISOString(),
        'cam-02': new Date(ts - 300_000).toISOString(),
        'cam-03': null,
      },
      gateway: { cpuLoadPct: 12, memUsedPct: 40, diskUsedPct: 97.5, uptimeS: 3600 },
    };
    await client.publishAsync(topics.agentHealth('site-a', 'gw-01'), JSON.stringify(health), {
      qos: 1,
    });
    await broker.pipeline.idle();
    await broker.metricsWriter.flush();
    const points = await broker.metrics.query({
      measurement: 'agent',
      tags: { site: 'site-a', agent: 'gw-01' },
      from: new Date(ts - 60_000),
      to: new Date(ts + 60_000),
    });
    expect(points).toHaveLength(1);
    expect(points[0]?.fields).toMatchObject({
      diskUsedPct: 97.5,
      gatewayUptimeS: 3600,
      lastPollAgeS: 2,
      spoolDepth: 120,
      spoolBytes: 48_000,
      spoolOldestAgeS: 35.5,
      spoolDropped: 7,
      mqttConnected: 1,
      mqttInFlight: 4,
      lastOkPollMaxAgeS: 300,
      devicesNeverOk: 1,
    });
    const open = await broker.tickets.list({ status: 'open' });
    expect(open).toEqual([
      expect.objectContaining({
        siteId: 'site-a',
        fault: 'degraded:gateway-resources',
        priority: 'general',
      }),
    ]);
    expect(open[0]?.title).toMatch(/disk 98 % used/);
  });
});
