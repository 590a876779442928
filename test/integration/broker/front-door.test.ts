/**
 * The front door with real parts: the whole broker in this process with TCP, TLS (a CA
 * made by openssl) and WebSocket listeners, real mqtt.js clients. Every refusal must be
 * refused AND written to the audit log (who, what topic, when); limits hold; the console
 * account reads the broker's $SYS figures, which GET /api/broker serves too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewAgentCredentials } from '../../../broker/agents/store.js';
import { startBroker, type RunningBroker } from '../../../broker/app.js';
import { resolveConfig } from '../../../broker/config.js';
import { silentLog } from '../../../broker/log.js';
import { BrokerStats } from '../../../shared/api/broker.js';
import { deviceMetricsExample } from '../../../shared/messages/device-metrics.js';
import { topics } from '../../../shared/topics.js';
import { validator } from '../../../shared/validate.js';
import { makeCerts, type TestCerts } from '../../helpers/certs.js';

const closed = (client: MqttClient) =>
  new Promise<void>((resolve) => client.once('close', () => resolve()));

describe('MQTT front door: TLS, WebSocket, audit, limits, roles', () => {
  let dir: string;
  let certs: TestCerts;
  let broker: RunningBroker;
  let agent: NewAgentCredentials;
  const clients: MqttClient[] = [];

  async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
    const client = await connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    clients.push(client);
    return client;
  }
  const tcp = () => broker.mqttUrl;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-front-door-'));
    certs = await makeCerts();
    const config = resolveConfig(
      {
        dataDir: dir,
        mqtt: {
          host: '127.0.0.1',
          port: 0,
          tls: { port: 0, cert: certs.certFile, key: certs.keyFile, ca: certs.caFile },
          ws: { port: 0 },
          limits: { maxPayloadBytes: 4096, maxTopicLevels: 8 },
        },
        http: { host: '127.0.0.1', port: 0 },
        consoleDir: null,
      },
      { env: {} },
    );
    broker = await startBroker(config, {
      log: silentLog,
      env: { VIGIL_ADMIN_PASSWORD: 'test-admin-password' },
      sweepIntervalMs: 100,
    });
    agent = await broker.agents.add('site-a', 'gw-01');
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker?.stop();
    await certs?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const audited = (action: string, clientId: string) =>
    broker.audit
      .list({ limit: 1000 })
      .filter((e) => e.action === action && e.clientId === clientId);

  it('refuses a wrong password and audits who tried, from where, when', async () => {
    const error = await connect(tcp(), {
      username: agent.username,
      password: 'wrong-password-123',
      clientId: 'guesser',
    }).catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(4);
    const [entry] = audited('connect', 'guesser');
    expect(entry).toMatchObject({
      username: 'site-a.gw-01',
      remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      topic: null,
      reason: 'wrong password',
    });
    expect(Date.now() - Date.parse(entry!.at)).toBeLessThan(10_000);
    expect(JSON.stringify(broker.audit.list())).not.toContain('wrong-password-123');
  });

  it('refuses a revoked agent and audits it', async () => {
    const gone = await broker.agents.add('site-a', 'gw-gone');
    broker.agents.revoke('site-a', 'gw-gone');
    const error = await connect(tcp(), {
      username: gone.username,
      password: gone.password,
      clientId: 'revoked-1',
    }).catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(5);
    expect(audited('connect', 'revoked-1')).toMatchObject([
      { username: 'site-a.gw-gone', reason: 'the account was revoked' },
    ]);
  });

  it('refuses an agent of site A publishing under site B, and audits the topic', async () => {
    const client = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'astray',
    });
    const gone = closed(client);
    client.publish(topics.deviceMetrics('site-b', 'cam-01'), '{}', { qos: 1 });
    await gone;
    expect(audited('publish', 'astray')).toMatchObject([
      {
        username: 'site-a.gw-01',
        topic: 'vigil/v1/site-b/devices/cam-01/metrics',
        reason: 'site "site-b" is not the agent\'s site "site-a"',
      },
    ]);
  });

  it("refuses a subscription to another agent's commands, and audits it", async () => {
    const client = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'snoop',
    });
    // SUBACK 0x80 for the filter (MQTT 3.1.1 section 3.9.3); mqtt.js reports it as an error.
    const refused = await client
      .subscribeAsync(topics.agentCommands('site-a', 'gw-02'), { qos: 1 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(audited('subscribe', 'snoop')).toMatchObject([
      { username: 'site-a.gw-01', topic: 'vigil/v1/site-a/agents/gw-02/commands' },
    ]);
  });

  it('refuses a payload over the limit and a topic deeper than allowed', async () => {
    const big = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'big',
    });
    const bigGone = closed(big);
    big.publish(topics.deviceMetrics('site-a', 'cam-01'), Buffer.alloc(5000, 32), { qos: 1 });
    await bigGone;
    expect(audited('publish', 'big')[0]?.reason).toMatch(
      /payload of 5000 bytes over the limit of 4096/,
    );

    const deep = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'deep',
    });
    const deepGone = closed(deep);
    deep.publish('vigil/v1/site-a/a/b/c/d/e/f/g/h', '{}', { qos: 1 });
    await deepGone;
  });

  it('refuses connections over the rate limit, and audits them', async () => {
    const limitedDir = await mkdtemp(join(tmpdir(), 'vigil-rate-'));
    const limited = await startBroker(
      resolveConfig(
        {
          dataDir: limitedDir,
          mqtt: { host: '127.0.0.1', port: 0, limits: { connectionsPerSecond: 1 } },
          http: { host: '127.0.0.1', port: 0 },
          consoleDir: null,
        },
        { env: {} },
      ),
      { log: silentLog, env: { VIGIL_ADMIN_PASSWORD: 'test-admin-password' } },
    );
    try {
      const fleet = await limited.agents.add('site-a', 'gw-01');
      // A burst of twice the rate gets in; the rest of the burst is turned away.
      const outcomes = await Promise.all(
        [1, 2, 3, 4].map(
          (n) =>
            new Promise<'in' | 'refused'>((resolve) => {
              const client = mqttConnect(limited.mqttUrl, {
                username: fleet.username,
                password: fleet.password,
                clientId: `burst-${n}`,
                reconnectPeriod: 0,
                connectTimeout: 3000,
              });
              client.on('error', () => {});
              let admitted = false;
              client.once('connect', () => {
                admitted = true;
                client.end(true, () => resolve('in'));
              });
              client.once('close', () => {
                if (!admitted) client.end(true, () => resolve('refused'));
              });
            }),
        ),
      );
      expect(outcomes.filter((o) => o === 'in')).toHaveLength(2);
      expect(
        limited.audit.list().filter((e) => e.reason.includes('new connections per second')),
      ).toHaveLength(2);
    } finally {
      await limited.stop();
      await rm(limitedDir, { recursive: true, force: true });
    }
  });

  it('takes readings over TLS (server certificate from config) and over WebSocket', async () => {
    const reading = (seq: number) =>
      JSON.stringify({ ...deviceMetricsExample, siteId: 'site-a', agentId: 'gw-01', seq });
    const overTls = await connect(`mqtts://127.0.0.1:${broker.mqtt.tlsPort}`, {
      username: agent.username,
      password: agent.password,
      clientId: 'tls-1',
      ca: certs.ca,
      // A client certificate signed by the configured CA is accepted with the password.
      cert: certs.clientCert,
      key: certs.clientKey,
    });
    await overTls.publishAsync(topics.deviceMetrics('site-a', 'cam-01'), reading(1001), { qos: 1 });
    await overTls.endAsync();

    const overWs = await connect(`ws://127.0.0.1:${broker.mqtt.wsPort}/mqtt`, {
      username: agent.username,
      password: agent.password,
      clientId: 'ws-1',
    });
    await overWs.publishAsync(topics.deviceMetrics('site-a', 'cam-02'), reading(1002), { qos: 1 });
    await overWs.endAsync();
    expect(broker.journal.stats.appended).toBeGreaterThanOrEqual(2);

    // A client that does not trust our CA does not get in.
    const untrusted = await connect(`mqtts://127.0.0.1:${broker.mqtt.tlsPort}`, {
      username: agent.username,
      password: agent.password,
      clientId: 'tls-2',
      connectTimeout: 2000,
    }).catch((e: unknown) => e);
    expect(untrusted).toBeInstanceOf(Error);
  });

  it('lets the console account read $SYS figures but not publish; /api/broker serves the same figures', async () => {
    const consoleAccount = await broker.agents.addClient('console', 'noc-wall');
    const client = await connect(tcp(), {
      username: consoleAccount.username,
      password: consoleAccount.password,
      clientId: 'noc-wall-1',
    });
    const granted = await client.subscribeAsync('$SYS/vigil/broker/#', { qos: 0 });
    expect(granted[0]?.qos).toBe(0);
    const figures = new Map<string, string>();
    client.on('message', (topic, payload) => figures.set(topic, payload.toString()));
    broker.figures.publish();
    const deadline = Date.now() + 5000;
    while (!figures.has('$SYS/vigil/broker/journal/depth') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Number(figures.get('$SYS/vigil/broker/mqtt/refused/connect'))).toBeGreaterThanOrEqual(2);

    const gone = closed(client);
    client.publish(topics.agentCommands('site-a', 'gw-01'), '{}', { qos: 1 });
    await gone;
    expect(audited('publish', 'noc-wall-1')[0]?.reason).toBe('a console account may not publish');

    const response = await fetch(`${broker.httpUrl}/api/broker`);
    expect(response.status).toBe(200);
    const stats = (await response.json()) as unknown;
    expect(validator(BrokerStats)(stats).ok).toBe(true);
    expect(stats).toMatchObject({
      mqtt: { refused: { connect: 2, subscribe: 1 } },
      journal: { full: false },
    });
  });
});
