/**
 * The broker's MQTT front door with real parts: the whole broker (startBroker) on port 0
 * with a SQLite file and the embedded metrics store, and real mqtt.js clients doing what
 * agents, misconfigured agents and intruders do.
 */
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStore, type NewAgentCredentials } from '../../../broker/agents/store.js';
import type { RunningBroker } from '../../../broker/app.js';
import { openSqlite } from '../../../broker/sql/sqlite.js';
import { deviceMetricsExample } from '../../../shared/messages/device-metrics.js';
import { deviceStateExample } from '../../../shared/messages/device-state.js';
import { topics } from '../../../shared/topics.js';
import { startTestBroker } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';
import { recordingLog, type RecordingLog } from '../../helpers/logs.js';

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

describe('MQTT front door (real Aedes, real mqtt.js)', () => {
  let broker: RunningBroker;
  let log: RecordingLog;
  let agent: NewAgentCredentials;
  const clients: MqttClient[] = [];

  async function connect(
    username: string,
    password: string,
    clientId = `test-${clients.length}`,
  ): Promise<MqttClient> {
    const options: IClientOptions = {
      username,
      password,
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    };
    const client = await connectAsync(broker.mqttUrl, options);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    log = recordingLog();
    broker = await startTestBroker({ log, sweepIntervalMs: 100 });
    agent = await broker.agents.add('site-a', 'gw-01');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker.stop();
  });

  it("takes a good agent's messages into the registry and the metrics store", async () => {
    const client = await connect(agent.username, agent.password);
    const now = Date.now();
    const state = {
      ...deviceStateExample,
      siteId: 'site-a',
      agentId: 'gw-01',
      status: 'up' as const,
      reasons: [],
      ts: new Date(now - 1000).toISOString(),
    };
    const metrics = {
      ...deviceMetricsExample,
      siteId: 'site-a',
      agentId: 'gw-01',
      ts: new Date(now).toISOString(),
    };
    await client.publishAsync(topics.deviceState('site-a', 'cam-01'), JSON.stringify(state), {
      qos: 1,
      retain: true,
    });
    await client.publishAsync(topics.deviceMetrics('site-a', 'cam-01'), JSON.stringify(metrics), {
      qos: 1,
    });

    const device = await eventually('cam-01 in the registry with its response time', () => {
      const found = broker.devices.get('site-a', 'cam-01');
      return found?.responseMs === 12.4 ? found : undefined;
    });
    expect(device).toMatchObject({ status: 'up', agentId: 'gw-01', lastSeen: metrics.ts });

    await broker.pipeline.idle();
    await broker.metricsWriter.flush();
    const points = await broker.metrics.query({
      measurement: 'device',
      tags: { site: 'site-a', device: 'cam-01' },
      from: new Date(Date.now() - 60_000),
      to: new Date(Date.now() + 60_000),
    });
    expect(points).toEqual([
      {
        measurement: 'device',
        tags: { site: 'site-a', agent: 'gw-01', device: 'cam-01', kind: 'camera' },
        fields: { up: true, responseMs: 12.4, clockOffsetS: -0.8, profiles: 2 },
        time: new Date(metrics.ts),
      },
    ]);
    const health = await broker.health();
    expect(health).toMatchObject({
      status: 'ok',
      mqtt: { clients: 1 },
      metricsStore: { kind: 'embedded', ok: true },
      pipeline: { processed: 2, rejected: 0 },
    });
  });

  it('refuses a wrong password and logs who tried from where, never the password', async () => {
    const error = await connect(agent.username, 'not-the-password-xyz', 'intruder-1').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: number }).code).toBe(4);
    expect((error as Error).message).toMatch(/Bad username or password/);
    const line = log.lines.find((l) => l.includes('refused connection'));
    expect(line).toBeDefined();
    expect(line).toContain('"intruder-1"');
    expect(line).toContain('"site-a.gw-01"');
    expect(line).toContain('127.0.0.1');
    expect(line).toContain('wrong password');
    expect(log.lines.join('\n')).not.toContain('not-the-password-xyz');
    expect(log.lines.join('\n')).not.toContain(agent.password);
  });

  it('refuses a client without credentials', async () => {
    const error = await connectAsync(broker.mqttUrl, {
      reconnectPeriod: 0,
      clientId: 'anonymous',
    }).catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(4);
    expect(log.lines.find((l) => l.includes('"anonymous"'))).toContain(
      'no username or password given',
    );
  });

  it('refuses a revoked agent, and closes its connection when it is revoked', async () => {
    const client = await connect(agent.username, agent.password, 'gw-01-live');
    const gone = closed(client);
    await broker.agents.revoke('site-a', 'gw-01');
    await gone;
    expect(log.lines.join('\n')).toMatch(
      /closing the connection of site-a\.gw-01 \(client "gw-01-live"/,
    );

    const error = await connect(agent.username, agent.password, 'gw-01-again').catch(
      (e: unknown) => e,
    );
    expect((error as { code?: number }).code).toBe(5);
    expect(log.lines.find((l) => l.includes('"gw-01-again"'))).toContain('the account was revoked');
  });

  it('closes the connection of an agent revoked by another process (vigil broker revoke-agent)', async () => {
    const client = await connect(agent.username, agent.password, 'gw-01-live');
    const gone = closed(client);
    // What the CLI does: its own connection to the same vigil.db.
    const db = openSqlite(join(broker.config.dataDir, 'vigil.db'));
    try {
      const cli = new AgentStore(db);
      await cli.start();
      expect(await cli.revoke('site-a', 'gw-01')).toBe(true);
    } finally {
      await db.close();
    }
    await gone;
    expect(broker.mqtt.clients).toBe(0);
  });

  it('refuses an agent of site A publishing under site B, and nothing of it reaches the registry', async () => {
    const client = await connect(agent.username, agent.password, 'gw-01-astray');
    const gone = closed(client);
    const state = { ...deviceStateExample, siteId: 'site-b', agentId: 'gw-01' };
    client.publish(topics.deviceState('site-b', 'cam-01'), JSON.stringify(state), { qos: 0 });
    await gone;
    const line = log.lines.find((l) => l.includes('refused publish'));
    expect(line).toContain('site-a.gw-01 (client "gw-01-astray" from 127.0.0.1');
    expect(line).toContain('"vigil/v1/site-b/devices/cam-01/state"');
    expect(line).toContain('site "site-b" is not the agent\'s site "site-a"');
    expect(line).toMatch(/at \d{4}-\d\d-\d\dT/);
    await broker.pipeline.idle();
    expect(broker.devices.list()).toEqual([]);
  });

  it("refuses a subscription to another agent's commands and grants its own", async () => {
    await broker.agents.add('site-a', 'gw-02');
    const client = await connect(agent.username, agent.password);
    const error = await client
      .subscribeAsync(
        [
          topics.agentCommands('site-a', 'gw-01'),
          topics.agentCommands('site-a', 'gw-02'),
          'vigil/v1/#',
        ],
        { qos: 1 },
      )
      .catch((e: unknown) => e as { packet?: { granted?: number[] } });
    // MQTT 3.1.1 section 3.9.3: 0x80 marks each refused filter (mqtt.js then rejects the
    // whole call, with the SUBACK attached); the connection stays.
    expect(error).toHaveProperty('packet');
    expect((error as { packet: { granted: number[] } }).packet.granted).toEqual([1, 128, 128]);
    expect(client.connected).toBe(true);
    // Both refusals audited; logged once per client and cause and interval (STYLE habit
    // 16): the first at once, the second counted and written with its count on stop.
    expect((await broker.audit.list()).filter((e) => e.action === 'subscribe')).toMatchObject([
      { topic: 'vigil/v1/#' },
      { topic: 'vigil/v1/site-a/agents/gw-02/commands' },
    ]);
    const refused = () => log.lines.filter((l) => l.includes('refused subscription'));
    expect(refused()).toEqual([
      expect.stringMatching(
        /^warn mqtt: refused subscription at .*: site-a\.gw-01 .* to "vigil\/v1\/site-a\/agents\/gw-02\/commands": an agent may subscribe only to/,
      ),
    ]);
    await broker.stop();
    expect(refused()).toEqual([
      refused()[0],
      expect.stringMatching(
        /^warn mqtt: 1 more like this since .*; the first: refused subscription at .* to "vigil\/v1\/#": an agent may subscribe only to/,
      ),
    ]);
  });

  it('keeps a message that fails its schema as a dead letter and goes on with the next', async () => {
    const client = await connect(agent.username, agent.password);
    const bad = { ...deviceStateExample, siteId: 'site-a', agentId: 'gw-01', status: 'melted' };
    const good = { ...deviceStateExample, siteId: 'site-a', agentId: 'gw-01', deviceId: 'cam-02' };
    await client.publishAsync(topics.deviceState('site-a', 'cam-01'), JSON.stringify(bad), {
      qos: 1,
    });
    await client.publishAsync(topics.deviceState('site-a', 'cam-02'), JSON.stringify(good), {
      qos: 1,
    });
    await eventually('cam-02 in the registry', () => broker.devices.get('site-a', 'cam-02'));
    expect(broker.devices.get('site-a', 'cam-01')).toBeUndefined();
    // The refused message's letter is stored, and the good one finished, after their
    // PUBACKs and after the registry shows cam-02: waited for, not assumed.
    await eventually(
      'both messages through the pipeline',
      () => broker.pipeline.counters.processed + broker.pipeline.counters.rejected === 2,
    );
    await eventually(
      'the dead letter stored',
      async () => (await broker.deadLetters.list()).length > 0,
    );
    expect(await broker.deadLetters.list()).toEqual([
      expect.objectContaining({
        topic: 'vigil/v1/site-a/devices/cam-01/state',
        stage: 'validate',
        reason: expect.stringMatching(/^deviceState does not match its schema: status/),
      }),
    ]);
    expect(broker.pipeline.counters).toEqual({ processed: 1, rejected: 1 });
    expect(client.connected).toBe(true);
  });

  it("takes an agent's last will, published by the broker after the connection dropped, as that agent's", async () => {
    const will = {
      v: 1,
      siteId: 'site-a',
      agentId: 'gw-01',
      ts: new Date().toISOString(),
      state: 'offline',
      reason: 'connection-lost',
    };
    const client = await connectAsync(broker.mqttUrl, {
      username: agent.username,
      password: agent.password,
      clientId: 'gw-01-will',
      reconnectPeriod: 0,
      will: {
        topic: topics.agentStatus('site-a', 'gw-01'),
        payload: Buffer.from(JSON.stringify(will)),
        qos: 1,
        retain: true,
      },
    });
    // The network goes away: no DISCONNECT, so the broker publishes the will (MQTT 3.1.1 section 3.1.2.5).
    client.stream.destroy();
    await eventually(
      'the will through the pipeline',
      () => broker.pipeline.counters.processed === 1,
    );
    expect(broker.pipeline.counters.rejected).toBe(0);
    client.end(true);
  });

  it('opens a ticket when a device goes down and resolves it when it comes back', async () => {
    const client = await connect(agent.username, agent.password);
    const base = { ...deviceStateExample, siteId: 'site-a', agentId: 'gw-01' };
    await client.publishAsync(
      topics.deviceState('site-a', 'cam-01'),
      JSON.stringify({ ...base, status: 'up', reasons: [] }),
      { qos: 1 },
    );
    await client.publishAsync(
      topics.deviceState('site-a', 'cam-01'),
      JSON.stringify({ ...base, status: 'down', seq: 43 }),
      { qos: 1 },
    );
    const open = await eventually(
      'an open ticket',
      async () => (await broker.tickets.list({ status: 'open' }))[0],
    );
    expect(open).toMatchObject({
      siteId: 'site-a',
      deviceId: 'cam-01',
      fault: 'device-down',
      priority: 'emergency',
    });
    await client.publishAsync(
      topics.deviceState('site-a', 'cam-01'),
      JSON.stringify({ ...base, status: 'up', reasons: [], seq: 44 }),
      { qos: 1 },
    );
    await eventually(
      'the ticket resolved',
      async () => (await broker.tickets.get(open.id))?.status === 'resolved',
    );
  });
});
