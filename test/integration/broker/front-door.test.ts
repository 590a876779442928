/**
 * The front door with real parts: the whole broker in this process with TCP, TLS (a CA
 * made by openssl) and WebSocket listeners, real mqtt.js clients. Every refusal must be
 * refused AND written to the audit log (who, what topic, when); limits hold; the console
 * account reads the broker's $SYS figures, which GET /api/broker serves too. A client
 * flooding the front door is refused and audited every time, but logged once per cause
 * and interval, with the count (STYLE habit 16).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as mqttConnect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { NewAgentCredentials } from '../../../broker/agents/store.js';
import type { RunningBroker } from '../../../broker/app.js';
import { BrokerStats } from '../../../shared/api/broker.js';
import { deviceMetricsExample } from '../../../shared/messages/device-metrics.js';
import { topics } from '../../../shared/topics.js';
import { validator } from '../../../shared/validate.js';
import { startTestBroker } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';
import { makeCerts, startMutualTlsBroker, type TestCerts } from '../../helpers/certs.js';
import { recordingLog } from '../../helpers/logs.js';
import { connectPacket, remainingLength, utf8 } from '../../helpers/mqtt-packets.js';

const closed = (client: MqttClient) =>
  new Promise<void>((resolve) => client.once('close', () => resolve()));

/**
 * What a hostile client does: sends `head` (a fixed header announcing `announced` bytes,
 * and what fits after it), then streams the body in 64 KiB writes as fast as the broker
 * reads, until the broker closes. Resolves with how long that took and how much got out.
 */
async function streamHugePacket(
  socket: Socket,
  head: Buffer,
  announced: number,
): Promise<{ ms: number; sent: number; closedByBroker: boolean }> {
  const started = Date.now();
  const chunk = Buffer.alloc(64 * 1024, 120);
  let sent = 0;
  let open = true;
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  void gone.then(() => (open = false));
  socket.write(head);
  while (open && sent < announced) {
    if (!socket.write(chunk)) {
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), gone]);
    }
    sent += chunk.length;
  }
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
  return { ms: Date.now() - started, sent, closedByBroker: !open && sent < announced };
}

describe('MQTT front door: TLS, WebSocket, audit, limits, roles', () => {
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
    certs = await makeCerts();
    broker = await startTestBroker({
      settings: {
        mqtt: {
          tls: { port: 0, cert: certs.certFile, key: certs.keyFile, ca: certs.caFile },
          ws: { port: 0 },
          limits: { maxPayloadBytes: 4096, maxTopicLevels: 8 },
        },
      },
      sweepIntervalMs: 100,
    });
    agent = await broker.agents.add('site-a', 'gw-01');
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker?.stop();
    await certs?.remove();
  });

  const audited = async (action: string, clientId: string) =>
    (await broker.audit.list({ limit: 1000 })).filter(
      (e) => e.action === action && e.clientId === clientId,
    );

  it('refuses a wrong password and audits who tried, from where, when', async () => {
    const error = await connect(tcp(), {
      username: agent.username,
      password: 'wrong-password-123',
      clientId: 'guesser',
    }).catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(4);
    const [entry] = await audited('connect', 'guesser');
    expect(entry).toMatchObject({
      username: 'site-a.gw-01',
      remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      topic: null,
      reason: 'wrong password',
    });
    expect(Date.now() - Date.parse(entry!.at)).toBeLessThan(10_000);
    expect(JSON.stringify(await broker.audit.list())).not.toContain('wrong-password-123');
  });

  it('refuses a revoked agent and audits it', async () => {
    const gone = await broker.agents.add('site-a', 'gw-gone');
    await broker.agents.revoke('site-a', 'gw-gone');
    const error = await connect(tcp(), {
      username: gone.username,
      password: gone.password,
      clientId: 'revoked-1',
    }).catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(5);
    expect(await audited('connect', 'revoked-1')).toMatchObject([
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
    expect(await audited('publish', 'astray')).toMatchObject([
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
    expect(await audited('subscribe', 'snoop')).toMatchObject([
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
    expect((await audited('publish', 'big'))[0]?.reason).toMatch(
      /payload of 5000 bytes over the limit of 4096/,
    );

    // Aedes refuses the depth before our hooks run; the refusal is audited all the same.
    const deep = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'deep',
    });
    const deepGone = closed(deep);
    deep.publish('vigil/v1/site-a/a/b/c/d/e/f/g/h', '{}', { qos: 1 });
    await deepGone;
    const [entry] = await audited('publish', 'deep');
    expect(entry).toMatchObject({
      username: 'site-a.gw-01',
      topic: 'vigil/v1/site-a/a/b/c/d/e/f/g/h',
      reason: 'topic of 11 levels over the limit of 8',
      remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(Date.now() - Date.parse(entry!.at)).toBeLessThan(10_000);

    // A too-deep filter and a wildcard in a PUBLISH topic: audited with the topic too.
    const deepFilter = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'deep-filter',
    });
    const filterGone = closed(deepFilter);
    deepFilter.subscribe('vigil/v1/site-a/a/b/c/d/e/f/g/h', { qos: 1 }, () => {});
    await filterGone;
    expect(await audited('subscribe', 'deep-filter')).toMatchObject([
      {
        topic: 'vigil/v1/site-a/a/b/c/d/e/f/g/h',
        reason: 'topic of 11 levels over the limit of 8',
      },
    ]);
  });

  it('refuses an MQTT 5 client (Aedes 1.2 speaks 3.1.1), and audits why', async () => {
    const error = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'speaks-v5',
      protocolVersion: 5,
      connectTimeout: 3000,
    }).catch((e: unknown) => e);
    // CONNACK return code 1 (MQTT 3.1.1 section 3.2.2.3), which mqtt.js words clearly.
    expect(error).toMatchObject({ code: 1, message: expect.stringMatching(/protocol version/) });
    // Aedes audits after it wrote the CONNACK.
    for (let i = 0; i < 50 && (await audited('connect', 'speaks-v5')).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await audited('connect', 'speaks-v5')).toMatchObject([
      { username: 'site-a.gw-01', reason: expect.stringContaining('not MQTT 5') },
    ]);
  });

  it('closes a connection announcing a 200 MiB PUBLISH on its header, without buffering it, and audits it', async () => {
    const topic = topics.deviceMetrics('site-a', 'cam-01');
    const socket = netConnect(broker.mqtt.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(connectPacket('hoarder', agent.username, agent.password));
    // CONNACK: 0x20 0x02 0x00 0x00 (accepted).
    const connack = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    expect([...connack]).toEqual([0x20, 2, 0, 0]);

    global.gc?.();
    const before = process.memoryUsage();
    const announced = 200 * 1024 * 1024;
    const variable = Buffer.concat([utf8(topic), Buffer.from([0, 1])]);
    const head = Buffer.concat([
      Buffer.from([0x32]),
      remainingLength(variable.length + announced),
      variable,
    ]);
    const outcome = await streamHugePacket(socket, head, announced);
    const after = process.memoryUsage();

    expect(outcome.closedByBroker).toBe(true);
    expect(outcome.ms).toBeLessThan(3000);
    // What the broker took in before closing: socket buffers' worth, not 200 MiB.
    expect(outcome.sent).toBeLessThan(32 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * 1024 * 1024);
    expect(await audited('publish', 'hoarder')).toMatchObject([
      {
        username: 'site-a.gw-01',
        topic,
        reason: `PUBLISH of ${1 + 4 + variable.length + announced} bytes announced, over the limit of ${4096 + 1024}`,
      },
    ]);
  });

  it('closes an oversize CONNECT before the client logged in, and audits the address', async () => {
    const socket = netConnect(broker.mqtt.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const announced = 50 * 1024 * 1024;
    const head = Buffer.concat([Buffer.from([0x10]), remainingLength(announced)]);
    const outcome = await streamHugePacket(socket, head, announced);
    expect(outcome.closedByBroker).toBe(true);
    const entry = (await broker.audit.list({ limit: 1000 })).find((e) =>
      e.reason.startsWith('CONNECT of'),
    );
    expect(entry).toMatchObject({
      action: 'connect',
      username: null,
      remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      reason: `CONNECT of ${1 + 4 + announced} bytes announced, over the limit of ${4096 + 1024}`,
    });
  });

  it('holds the same limits over WebSocket: an oversize message, and a huge PUBLISH in small ones', async () => {
    const url = `ws://127.0.0.1:${broker.mqtt.wsPort}/mqtt`;
    const open = async (clientId: string) => {
      const socket = new WebSocket(url, 'mqtt');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const connack = new Promise((resolve) => socket.once('message', resolve));
      socket.send(connectPacket(clientId, agent.username, agent.password));
      await connack;
      return socket;
    };
    const closeCode = (socket: WebSocket) =>
      new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

    // One WebSocket message over twice the packet limit: ws refuses it with 1009.
    const big = await open('ws-big');
    const bigClosed = closeCode(big);
    big.send(Buffer.alloc(3 * (4096 + 1024), 120));
    expect(await bigClosed).toBe(1009);
    expect((await audited('connect', 'ws-big'))[0]?.reason).toBe(
      `WebSocket message over the limit of ${2 * (4096 + 1024)} bytes`,
    );

    // A 200 MiB PUBLISH announced, its body coming in small messages: closed on the header.
    const hoarder = await open('ws-hoarder');
    const hoarderClosed = closeCode(hoarder);
    const topic = topics.deviceMetrics('site-a', 'cam-01');
    const variable = Buffer.concat([utf8(topic), Buffer.from([0, 1])]);
    hoarder.send(
      Buffer.concat([
        Buffer.from([0x32]),
        remainingLength(variable.length + 200 * 1024 * 1024),
        variable,
      ]),
    );
    const chunk = Buffer.alloc(4096, 120);
    let sent = 0;
    while (hoarder.readyState === WebSocket.OPEN && sent < 64 * 1024 * 1024) {
      hoarder.send(chunk);
      sent += chunk.length;
      if (sent % (1024 * 1024) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await hoarderClosed;
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(await audited('publish', 'ws-hoarder')).toMatchObject([
      {
        username: 'site-a.gw-01',
        topic,
        remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        reason: expect.stringMatching(/^PUBLISH of \d+ bytes announced/),
      },
    ]);

    // A refusal by our hooks over WebSocket names the address too.
    const astray = await open('ws-astray');
    const astrayClosed = closeCode(astray);
    const name = utf8(topics.deviceMetrics('site-b', 'cam-01'));
    const body = Buffer.concat([name, Buffer.from([0, 2]), Buffer.from('{}')]);
    astray.send(Buffer.concat([Buffer.from([0x32]), remainingLength(body.length), body]));
    await astrayClosed;
    expect((await audited('publish', 'ws-astray'))[0]?.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('still takes a message at the payload limit, and one of many small packets in one write', async () => {
    const client = await connect(tcp(), {
      username: agent.username,
      password: agent.password,
      clientId: 'at-limit',
    });
    const reading = JSON.stringify({ ...deviceMetricsExample, siteId: 'site-a', agentId: 'gw-01' });
    const padded = Buffer.alloc(4096, 32);
    padded.write(reading);
    await client.publishAsync(topics.deviceMetrics('site-a', 'cam-01'), padded, { qos: 1 });
    // A burst written together: many packets per chunk the broker reads.
    await Promise.all(
      Array.from({ length: 200 }, (_, seq) =>
        client.publishAsync(
          topics.deviceMetrics('site-a', 'cam-01'),
          JSON.stringify({ ...deviceMetricsExample, siteId: 'site-a', agentId: 'gw-01', seq }),
          { qos: 1 },
        ),
      ),
    );
    expect(client.connected).toBe(true);
    expect(await audited('publish', 'at-limit')).toEqual([]);
  });

  it('refuses connections over the rate limit, and audits them', async () => {
    const limited = await startTestBroker({
      settings: { mqtt: { limits: { connectionsPerSecond: 1 } } },
    });
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
        (await limited.audit.list()).filter((e) => e.reason.includes('new connections per second')),
      ).toHaveLength(2);
    } finally {
      await limited.stop();
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
    await eventually("the broker's $SYS figures", () =>
      figures.has('$SYS/vigil/broker/journal/depth'),
    );
    expect(Number(figures.get('$SYS/vigil/broker/mqtt/refused/connect'))).toBeGreaterThanOrEqual(2);

    const gone = closed(client);
    client.publish(topics.agentCommands('site-a', 'gw-01'), '{}', { qos: 1 });
    await gone;
    expect((await audited('publish', 'noc-wall-1'))[0]?.reason).toBe(
      'a console account may not publish',
    );

    const response = await fetch(`${broker.httpUrl}/api/broker`);
    expect(response.status).toBe(200);
    const stats = (await response.json()) as unknown;
    expect(validator(BrokerStats)(stats).ok).toBe(true);
    // The figures count what the audit log holds: every refusal of the tests above.
    const refusals = await broker.audit.list({ limit: 1000 });
    const rows = (action: string) => refusals.filter((e) => e.action === action).length;
    expect(rows('connect')).toBeGreaterThanOrEqual(5);
    expect(rows('subscribe')).toBe(2);
    expect(stats).toMatchObject({
      mqtt: { refused: { connect: rows('connect'), subscribe: rows('subscribe') } },
      journal: { full: false },
    });
  });
});

describe('MQTT over TLS with required client certificates (requireClientCert)', () => {
  let certs: TestCerts;
  // Impostors: a CA of another name, and one named like ours (same subject, other key).
  let otherCa: TestCerts;
  let lookalikeCa: TestCerts;
  let broker: RunningBroker;
  let agent: NewAgentCredentials;
  const log = recordingLog();

  beforeAll(async () => {
    [certs, otherCa, lookalikeCa] = await Promise.all([
      makeCerts(),
      makeCerts({ caName: 'Some other CA' }),
      makeCerts(),
    ]);
    broker = await startMutualTlsBroker(certs, log);
    agent = await broker.agents.add('site-a', 'gw-01');
  });

  afterAll(async () => {
    await broker?.stop();
    await Promise.all([certs?.remove(), otherCa?.remove(), lookalikeCa?.remove()]);
  });

  const options = (extra: IClientOptions): IClientOptions => ({
    reconnectPeriod: 0,
    connectTimeout: 5000,
    username: agent.username,
    password: agent.password,
    ca: certs.ca,
    ...extra,
  });
  const tlsUrl = () => `mqtts://127.0.0.1:${broker.mqtt.tlsPort}`;

  /**
   * One connection attempt, to its end: mqtt.js' connectAsync never settles when the
   * socket closes before a CONNACK, which is what a refused certificate looks like.
   */
  function attempt(
    extra: IClientOptions,
  ): Promise<{ connected: boolean; error: (Error & { code?: string | number }) | null }> {
    return new Promise((resolve) => {
      const client = mqttConnect(tlsUrl(), options(extra));
      let error: (Error & { code?: string | number }) | null = null;
      client.on('error', (e) => (error = e));
      client.once('connect', () => client.end(true, () => resolve({ connected: true, error })));
      client.once('close', () => client.end(true, () => resolve({ connected: false, error })));
    });
  }

  const certRefusals = async () =>
    (await broker.audit.list()).filter((e) => e.reason.startsWith('VIGIL_MQTT_CLIENT_CERT'));

  it('lets in a client whose certificate our CA signed, and it still needs its password', async () => {
    const client = await connectAsync(
      tlsUrl(),
      options({ clientId: 'mtls-ok', cert: certs.clientCert, key: certs.clientKey }),
    );
    await client.publishAsync(
      topics.deviceMetrics('site-a', 'cam-01'),
      JSON.stringify({ ...deviceMetricsExample, siteId: 'site-a', agentId: 'gw-01', seq: 1 }),
      { qos: 1 },
    );
    await client.endAsync();
    expect(broker.journal.stats.appended).toBeGreaterThanOrEqual(1);

    const wrong = await attempt({
      clientId: 'mtls-wrong-password',
      cert: certs.clientCert,
      key: certs.clientKey,
      password: 'not-the-password',
    });
    expect(wrong).toMatchObject({ connected: false, error: { code: 4 } });
    expect(await certRefusals()).toEqual([]);
  });

  it('refuses a client without a certificate at the TLS handshake: "certificate required"', async () => {
    const outcome = await attempt({ clientId: 'mtls-none' });
    // Before any MQTT: the TLS alert 116, which OpenSSL words "certificate required".
    expect(outcome.connected).toBe(false);
    expect(outcome.error?.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(outcome.error?.message).toContain('certificate required');
    expect(await certRefusals()).toMatchObject([
      {
        action: 'connect',
        remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        reason: expect.stringContaining('the client sent no certificate'),
      },
    ]);
    expect(log.lines.join('\n')).toMatch(
      /refused TLS connection at .* from 127\.0\.0\.1:\d+: VIGIL_MQTT_CLIENT_CERT: .*no certificate.*mqtt\.tls\.ca/,
    );
  });

  it('refuses a client whose certificate another CA signed, even one named like ours', async () => {
    const before = (await certRefusals()).length;
    for (const impostor of [otherCa, lookalikeCa]) {
      const outcome = await attempt({
        clientId: 'mtls-impostor',
        cert: impostor.clientCert,
        key: impostor.clientKey,
      });
      // Node's TLS server ends the connection after the handshake, before any MQTT: the
      // client never gets a CONNACK, so its password was never checked.
      expect(outcome.connected).toBe(false);
      expect(outcome.error?.code).not.toBe(4);
    }
    // Newest first: the lookalike's, then the other CA's.
    const refusals = await certRefusals();
    const reasons = refusals.slice(0, refusals.length - before).map((e) => e.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/not signed by mqtt\.tls\.ca .*\(CERT_SIGNATURE_FAILURE\)/),
      expect.stringMatching(/not signed by mqtt\.tls\.ca .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/),
    ]);
    expect((await broker.audit.list()).filter((e) => e.clientId === 'mtls-impostor')).toEqual([]);
  });

  it('refuses plain MQTT on the TLS port, and the audit says what was likely meant', async () => {
    const client = mqttConnect(`mqtt://127.0.0.1:${broker.mqtt.tlsPort}`, options({}));
    client.on('error', () => {});
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.end(true);
    expect((await broker.audit.list())[0]?.reason).toMatch(
      /^TLS handshake refused: ERR_SSL_\w+ \(a client using mqtt:\/\/ on the mqtts:\/\/ port/,
    );
  });
});

/** Reads MQTT packets off a raw socket (MQTT 3.1.1 section 2.2): counts by type, SUBACK codes. */
function packetReader(socket: Socket): { count(type: number): number; subackCodes: number[] } {
  const counts = new Map<number, number>();
  const subackCodes: number[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let length = 0;
      let at = 1;
      let byte = 0x80;
      for (let multiplier = 1; byte & 0x80; multiplier *= 128) {
        if (at >= pending.length) return;
        byte = pending[at++]!;
        length += (byte & 0x7f) * multiplier;
      }
      if (pending.length < at + length) return;
      const type = pending[0]! >> 4;
      counts.set(type, (counts.get(type) ?? 0) + 1);
      // SUBACK: packet id (2 bytes), then one return code per filter (section 3.9.3).
      if (type === 9) subackCodes.push(...pending.subarray(at + 2, at + length));
      pending = pending.subarray(at + length);
    }
  });
  return { count: (type) => counts.get(type) ?? 0, subackCodes };
}

/**
 * How many events the log told of for the lines matching `pattern`: a line written at once
 * is one, a summary ("N more like this since ...; the first: ...") is N.
 */
function told(lines: string[], pattern: RegExp): { lines: number; events: number } {
  let written = 0;
  let events = 0;
  for (const line of lines) {
    const summary = / (\d+) more like this since .*; the first: (.*)$/.exec(line);
    if (summary ? !pattern.test(summary[2]!) : !pattern.test(line)) continue;
    written++;
    events += summary ? Number(summary[1]) : 1;
  }
  return { lines: written, events };
}

describe('a client flooding the front door: every message refused and counted, a few lines logged', () => {
  /** Repeated lines of one client and cause at most this often (BrokerOptions.logIntervalMs). */
  const LOG_INTERVAL_MS = 1000;
  const BAD_SUBSCRIPTIONS = 1000;
  const BAD_PAYLOADS = 1000;
  const MALFORMED_CONNECTIONS = 200;
  let broker: RunningBroker;
  const log = recordingLog();

  beforeAll(async () => {
    broker = await startTestBroker({ log, logIntervalMs: LOG_INTERVAL_MS });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses 2,000 bad messages on one connection and 200 malformed connections, audits and counts each, logs one line per cause and interval with the count, and acknowledges a good agent throughout', async () => {
    const flood = await broker.agents.add('site-a', 'gw-flood');
    const good = await broker.agents.add('site-a', 'gw-good');
    const started = Date.now();

    const socket = netConnect(broker.mqttPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const packets = packetReader(socket);
    socket.write(connectPacket('flood', flood.username, flood.password));
    await eventually('the CONNACK', () => packets.count(2) === 1);
    // In one write: SUBSCRIBEs to another agent's commands (refused with 0x80, the
    // connection stays, section 3.9.3) and QoS 1 PUBLISHes whose payload is not JSON (on
    // disk and acknowledged, then rejected by the pipeline as dead letters).
    const forbidden = utf8(topics.agentCommands('site-a', 'gw-good'));
    const stream: Buffer[] = [];
    for (let i = 0; i < BAD_SUBSCRIPTIONS; i++) {
      const body = Buffer.concat([
        Buffer.from([(i + 1) >> 8, (i + 1) & 0xff]),
        forbidden,
        Buffer.from([1]),
      ]);
      stream.push(Buffer.from([0x82]), remainingLength(body.length), body);
    }
    for (let i = 0; i < BAD_PAYLOADS; i++) {
      const id = BAD_SUBSCRIPTIONS + i + 1;
      const body = Buffer.concat([
        utf8(topics.deviceMetrics('site-a', `cam-${i % 10}`)),
        Buffer.from([id >> 8, id & 0xff]),
        Buffer.from(`not JSON ${i}`),
      ]);
      stream.push(Buffer.from([0x32]), remainingLength(body.length), body);
    }
    socket.write(Buffer.concat(stream));

    // Malformed packets before any CONNECT (both QoS bits set, section 3.3.1.2): Aedes'
    // parser refuses each and closes the connection.
    for (let i = 0; i < MALFORMED_CONNECTIONS; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const raw = netConnect(broker.mqttPort, '127.0.0.1');
          raw.on('error', () => {});
          const gone = new Promise((resolve) => raw.once('close', resolve));
          raw.write(Buffer.from([0x36, 5, 0, 1, 0x61, 0, 1]));
          await gone;
        }),
      );
    }

    // A well-behaved agent meanwhile: every reading acknowledged (PUBACK once journaled).
    const client = await connectAsync(broker.mqttUrl, {
      username: good.username,
      password: good.password,
      clientId: 'good',
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    for (let seq = 1; seq <= 20; seq++) {
      await client.publishAsync(
        topics.deviceMetrics('site-a', 'cam-01'),
        JSON.stringify({ ...deviceMetricsExample, siteId: 'site-a', agentId: 'gw-good', seq }),
        { qos: 1 },
      );
    }
    await eventually(
      'a SUBACK and a PUBACK for every packet of the flood',
      () => packets.count(9) === BAD_SUBSCRIPTIONS && packets.count(4) === BAD_PAYLOADS,
    );
    await broker.pipeline.idle();
    expect(client.connected).toBe(true);
    expect(socket.destroyed).toBe(false);
    await client.endAsync();

    // Every one refused or rejected, audited and counted, as before.
    expect(packets.subackCodes).toEqual(Array(BAD_SUBSCRIPTIONS).fill(0x80));
    expect(broker.audit.refused).toEqual({
      connect: MALFORMED_CONNECTIONS,
      publish: 0,
      subscribe: BAD_SUBSCRIPTIONS,
    });
    expect(await broker.audit.list({ limit: 10_000, username: flood.username })).toHaveLength(
      BAD_SUBSCRIPTIONS,
    );
    const malformed = (await broker.audit.list({ limit: 10_000 })).filter((e) =>
      e.reason.startsWith('malformed packet'),
    );
    expect(malformed).toHaveLength(MALFORMED_CONNECTIONS);
    expect(broker.pipeline.counters).toEqual({ processed: 20, rejected: BAD_PAYLOADS });

    // The log: once the last interval is over, every event told, in a few lines.
    await new Promise((resolve) => setTimeout(resolve, 2 * LOG_INTERVAL_MS + 200));
    const elapsedIntervals = Math.ceil((Date.now() - started) / LOG_INTERVAL_MS);
    const causes = {
      subscriptions: told(
        log.lines,
        /refused subscription at .*site-a\.gw-flood .*an agent may subscribe only to/,
      ),
      payloads: told(
        log.lines,
        /rejected a message of client "flood" .* at decode: the payload is not JSON/,
      ),
      // Who: the address it connected from, also once its socket is gone.
      malformed: told(log.lines, /refused connect at .* from 127\.0\.0\.1:\d+: malformed packet: /),
    };
    expect(causes).toMatchObject({
      subscriptions: { events: BAD_SUBSCRIPTIONS },
      payloads: { events: BAD_PAYLOADS },
      malformed: { events: MALFORMED_CONNECTIONS },
    });
    // One line at once, then at most one per interval (and one for the last interval).
    for (const { lines } of Object.values(causes)) {
      expect(lines).toBeGreaterThanOrEqual(2);
      expect(lines).toBeLessThanOrEqual(elapsedIntervals + 1);
    }
    // Everything the broker logged (the malformed connections' "dropped" lines too): a
    // few lines for 2,200 bad messages, where every one had a line before.
    expect(log.lines.length).toBeLessThanOrEqual(4 * (elapsedIntervals + 1) + 5);
  });
});
