/**
 * Issue 5: a late last will after a fast reconnect. The agent's link dies silently (a WAN
 * cut or a NAT reset the broker cannot see), the agent reconnects at once and publishes
 * its birth, and only then does the broker end the old connection and publish its will
 * (MQTT 3.1.1 section 3.1.2.5): on a takeover by the same client id [MQTT-3.1.4-2], or
 * after the old connection's keep-alive ran out [MQTT-3.1.2-24]. That will must not make
 * the retained status say offline, nor the detector open a site ticket, while the agent
 * is connected; a will of the agent's only connection (the agent is gone) still must.
 *
 * Real parts: the whole broker (startBroker) on port 0, real mqtt.js clients over TCP, and
 * a TCP relay between the agent and the broker that can be cut without the broker
 * noticing (the agent's side is closed, the broker's side stays open and hears nothing).
 */
import {
  createServer,
  connect as tcpConnect,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStore, type NewAgentCredentials } from '../../../broker/agents/store.js';
import type { RunningBroker } from '../../../broker/app.js';
import { openSqlite, type SqliteDatabase } from '../../../broker/sql/sqlite.js';
import { MqttServer } from '../../../broker/mqtt/server.js';
import { apiRoutes, siteApiRoutes } from '../../../shared/api/routes.js';
import type { SiteRollup } from '../../../shared/api/sites.js';
import type { Ticket } from '../../../shared/api/tickets.js';
import { agentOnlineExample, type AgentOffline } from '../../../shared/messages/agent-status.js';
import { deviceStateExample } from '../../../shared/messages/device-state.js';
import { topics } from '../../../shared/topics.js';
import { loginToken, startTestBroker } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';
import { recordingLog, type RecordingLog } from '../../helpers/logs.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

const SITE = 'site-a';
const AGENT = 'gw-01';
const ADMIN_PASSWORD = 'late-will admin password';
/** The detector's hold before a site ticket opens; short so the test does not wait 2 s. */
const HOLD_S = 0.3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A TCP relay the test can cut like a WAN link: cut() closes the agent's side and keeps
 * the broker's side open and silent, so the broker still believes the agent connected.
 */
class Link {
  private server: Server | null = null;
  private readonly pairs: { agent: Socket; broker: Socket }[] = [];

  constructor(private readonly brokerPort: number) {}

  async start(): Promise<number> {
    const server = createServer((agent) => {
      const broker = tcpConnect(this.brokerPort, '127.0.0.1');
      agent.on('error', () => {});
      broker.on('error', () => {});
      agent.pipe(broker);
      broker.pipe(agent);
      this.pairs.push({ agent, broker });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** The link dies silently: nothing more passes, the broker sees no FIN nor RST. */
  cut(): void {
    for (const { agent, broker } of this.pairs) {
      agent.unpipe(broker);
      broker.unpipe(agent);
      // What the broker sends from now on is lost on the way.
      broker.on('data', () => {});
      agent.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const { agent, broker } of this.pairs.splice(0)) {
      agent.destroy();
      broker.destroy();
    }
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('late last will after a fast reconnect (real broker, real mqtt.js, a cuttable link)', () => {
  let broker: RunningBroker;
  let log: RecordingLog;
  let agent: NewAgentCredentials;
  let link: Link;
  let token: string;
  const clients: MqttClient[] = [];
  const startedAt = new Date(Date.now() - 60_000).toISOString();
  let seq = 0;

  beforeEach(async () => {
    log = recordingLog();
    broker = await startTestBroker({
      settings: { detect: { holdS: HOLD_S } },
      log,
      adminPassword: ADMIN_PASSWORD,
    });
    agent = await broker.agents.add(SITE, AGENT);
    link = new Link(broker.mqttPort);
    token = await loginToken(broker, ADMIN_PASSWORD);
    seq = 0;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await link.stop();
    await broker.stop();
  });

  /** Connects as the agent does (agent/uplink.ts): fixed client id, persistent session, a retained will. */
  async function connectAgent(
    port: number,
    {
      clientId = `${SITE}.${AGENT}`,
      keepalive = 30,
    }: { clientId?: string; keepalive?: number } = {},
  ): Promise<MqttClient> {
    const will: AgentOffline = {
      v: 1,
      siteId: SITE,
      agentId: AGENT,
      ts: new Date().toISOString(),
      state: 'offline',
      reason: 'connection-lost',
    };
    const options: IClientOptions = {
      clientId,
      username: agent.username,
      password: agent.password,
      protocolVersion: 4,
      clean: false,
      keepalive,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: {
        topic: topics.agentStatus(SITE, AGENT),
        payload: Buffer.from(JSON.stringify(will)),
        qos: 1,
        retain: true,
      },
    };
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, options);
    client.on('error', () => {});
    clients.push(client);
    await client.subscribeAsync(topics.agentCommands(SITE, AGENT), { qos: 1 });
    return client;
  }

  /** The birth (AgentOnline, retained, QoS 1) the agent publishes on every connection. */
  async function birth(client: MqttClient): Promise<void> {
    const payload = {
      ...agentOnlineExample,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts: new Date().toISOString(),
      startedAt,
      devices: [],
    };
    await client.publishAsync(topics.agentStatus(SITE, AGENT), JSON.stringify(payload), {
      qos: 1,
      retain: true,
    });
  }

  async function cameraUp(client: MqttClient): Promise<void> {
    const state = {
      ...deviceStateExample,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts: new Date().toISOString(),
      status: 'up' as const,
      reasons: [],
    };
    await client.publishAsync(topics.deviceState(SITE, 'cam-01'), JSON.stringify(state), {
      qos: 1,
      retain: true,
    });
  }

  /** What a console subscribing now gets as the agent's retained status. */
  async function retainedStatus(): Promise<string> {
    const noc = await broker.agents.addClient('console', `noc-${clients.length}`);
    const subscriber = await connectAsync(broker.mqttUrl, {
      username: noc.username,
      password: noc.password,
      clientId: `noc-${clients.length}`,
      reconnectPeriod: 0,
    });
    clients.push(subscriber);
    const status = new Promise<string>((resolve) =>
      subscriber.on('message', (_topic, payload, packet) => {
        if (packet.retain) resolve((JSON.parse(payload.toString()) as { state: string }).state);
      }),
    );
    await subscriber.subscribeAsync(topics.agentStatus(SITE, AGENT), { qos: 1 });
    return await Promise.race([status, sleep(2000).then(() => 'no retained status')]);
  }

  /** A console watching the agent's status live: every state it is told, in order. */
  async function watchStatus(): Promise<string[]> {
    const noc = await broker.agents.addClient('console', 'noc-watch');
    const watcher = await connectAsync(broker.mqttUrl, {
      username: noc.username,
      password: noc.password,
      clientId: 'noc-watch',
      reconnectPeriod: 0,
    });
    clients.push(watcher);
    const states: string[] = [];
    watcher.on('message', (_topic, payload) =>
      states.push((JSON.parse(payload.toString()) as { state: string }).state),
    );
    await watcher.subscribeAsync(topics.agentStatus(SITE, AGENT), { qos: 1 });
    return states;
  }

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  async function siteState(): Promise<string | undefined> {
    const rollup = await api<SiteRollup[]>(siteApiRoutes.rollup);
    return rollup.find((site) => site.siteId === SITE)?.state;
  }

  async function siteTickets(): Promise<Ticket[]> {
    const tickets = await api<Ticket[]>(apiRoutes.tickets);
    return tickets.filter((t) => t.siteId === SITE && t.fault === 'site-unreachable');
  }

  /** Lets the detector's hold pass and evaluate, as its timer would. */
  async function afterTheHold(): Promise<void> {
    await broker.pipeline.idle();
    await sleep(HOLD_S * 1000 + 100);
    await broker.desk.tick();
    await broker.pipeline.idle();
  }

  it('keeps the agent online when its old connection is taken over by its reconnect (same client id)', async () => {
    const first = await connectAgent(await link.start());
    await cameraUp(first);
    await birth(first);
    await broker.pipeline.idle();
    expect(await siteState()).toBe('ok');
    const told = await watchStatus();
    await eventually('the watcher told the retained birth', () => told.length === 1);

    link.cut();
    // The agent noticed (its own keep-alive) and reconnects at once, directly: the broker
    // still holds the old connection and takes it over [MQTT-3.1.4-2].
    const second = await connectAgent(broker.mqttPort);
    await birth(second);
    await broker.pipeline.idle();

    expect(await retainedStatus()).toBe('online');
    // Without the fix the will came between the births: the NOC saw the agent flicker
    // offline and the detector held a site-unreachable condition.
    expect(told).toEqual(['online', 'online']);
    // The pipeline (journal, dedupe, detector) got the agent's three messages, no will.
    expect(broker.pipeline.counters).toEqual({ processed: 3, rejected: 0 });
    await afterTheHold();
    expect(await siteTickets()).toEqual([]);
    expect(await siteState()).toBe('ok');
    expect(second.connected).toBe(true);
    expect(log.lines.join('\n')).toMatch(
      /info .*last will of site-a\.gw-01 \(client "site-a\.gw-01" from .*\) not published: the agent is connected again as client "site-a\.gw-01"/,
    );
  });

  it('keeps the agent online, warning once, when two gateways use the same credentials', async () => {
    const told = await watchStatus();
    // Two gateways configured alike: same account, same client id; each connection takes
    // over the other's [MQTT-3.1.4-2], as their reconnect loops would forever.
    for (let round = 0; round < 4; round++) {
      const gateway = await connectAgent(broker.mqttPort);
      await birth(gateway);
    }
    await broker.pipeline.idle();
    await eventually('the watcher told the four births', () => told.length === 4);
    expect(told).toEqual(['online', 'online', 'online', 'online']);
    expect(await retainedStatus()).toBe('online');
    const warnings = log.lines.filter((l) => l.includes('two gateways may be using the same'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warn mqtt: the connection of site-a\.gw-01 was replaced 3 times/);
    await afterTheHold();
    expect(await siteTickets()).toEqual([]);
  });

  it('keeps the agent online when the old connection times out after a new one came (another client id)', async () => {
    // Keep-alive 1 s: the broker ends the silent connection after 1.5 s [MQTT-3.1.2-24].
    const first = await connectAgent(await link.start(), { keepalive: 1 });
    await cameraUp(first);
    await birth(first);
    await broker.pipeline.idle();

    link.cut();
    const second = await connectAgent(broker.mqttPort, { clientId: `${SITE}.${AGENT}.new` });
    await birth(second);
    await broker.pipeline.idle();
    // The old connection's keep-alive runs out now.
    await eventually('the old connection ended by its keep-alive', () =>
      log.lines.some((l) => l.includes('keep alive timeout')),
    );
    await broker.pipeline.idle();

    expect(await retainedStatus()).toBe('online');
    await afterTheHold();
    expect(await siteTickets()).toEqual([]);
    expect(await siteState()).toBe('ok');
    expect(log.lines.join('\n')).toMatch(/info .*last will .*not published/);
  });

  it('publishes the will and opens the site ticket when the agent is gone for good', async () => {
    const first = await connectAgent(await link.start(), { keepalive: 1 });
    await cameraUp(first);
    await birth(first);
    await broker.pipeline.idle();

    link.cut();
    await eventually('the retained status offline', async () =>
      (await retainedStatus()) === 'offline' ? true : undefined,
    );
    await afterTheHold();
    const tickets = await eventually('a site-unreachable ticket', async () => {
      await broker.desk.tick();
      const found = await siteTickets();
      return found.length > 0 ? found : undefined;
    });
    expect(tickets).toHaveLength(1);
    expect(await siteState()).toBe('unreachable');
    expect(log.lines.join('\n')).not.toMatch(/last will .*not published/);
  });
});

describe('a will being journaled while the agent reconnects (real MqttServer and Aedes)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let agents: AgentStore;
  let server: MqttServer;
  let log: RecordingLog;
  const clients: MqttClient[] = [];
  /** The will's journal write, held until the test lets it finish. */
  let releaseWill: (() => void) | null = null;
  const ingested: string[] = [];

  beforeEach(async () => {
    dir = await tempDir('vigil-late-will-race-');
    db = openSqlite(join(dir.path, 'vigil.db'));
    agents = new AgentStore(db);
    await agents.start();
    log = recordingLog();
    server = new MqttServer({
      host: '127.0.0.1',
      port: 0,
      agents,
      log,
      // The journal stand-in: a slow disk for the will only, immediate for the rest.
      ingest: (envelope) => {
        const state = (JSON.parse(envelope.payload.toString()) as { state?: string }).state;
        ingested.push(state ?? envelope.topic);
        if (state !== 'offline') return Promise.resolve();
        return new Promise<void>((resolve) => {
          releaseWill = resolve;
        });
      },
    });
    await server.start();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await server.stop();
    await db.close();
    await dir.remove();
  });

  it('does not let the will overwrite the birth of a connection that came while it was written', async () => {
    const credentials = await agents.add(SITE, AGENT);
    const noc = await agents.addClient('console', 'noc');
    const link = new Link(server.port);
    const statusTopic = topics.agentStatus(SITE, AGENT);
    const connectAgent = async (port: number, keepalive: number) => {
      const client = await connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: `${SITE}.${AGENT}`,
        username: credentials.username,
        password: credentials.password,
        clean: false,
        keepalive,
        reconnectPeriod: 0,
        will: {
          topic: statusTopic,
          payload: Buffer.from(JSON.stringify({ state: 'offline' })),
          qos: 1,
          retain: true,
        },
      });
      client.on('error', () => {});
      clients.push(client);
      return client;
    };
    try {
      const first = await connectAgent(await link.start(), 1);
      await first.publishAsync(statusTopic, JSON.stringify({ state: 'online', n: 1 }), {
        qos: 1,
        retain: true,
      });
      link.cut();
      // The agent's only connection: its keep-alive runs out and the will goes to the journal.
      await eventually('the will in the journal', () => releaseWill !== null);

      const second = await connectAgent(server.port, 30);
      await second.publishAsync(statusTopic, JSON.stringify({ state: 'online', n: 2 }), {
        qos: 1,
        retain: true,
      });
      const retainedNow = async (clientId: string): Promise<unknown> => {
        const subscriber = await connectAsync(`mqtt://127.0.0.1:${server.port}`, {
          username: noc.username,
          password: noc.password,
          clientId,
          reconnectPeriod: 0,
        });
        clients.push(subscriber);
        const retained = new Promise<unknown>((resolve) =>
          subscriber.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))),
        );
        await subscriber.subscribeAsync(statusTopic, { qos: 1 });
        return await retained;
      };
      expect(await retainedNow('noc-before')).toEqual({ state: 'online', n: 2 });

      // The disk catches up: the will is written, after the new connection's birth was published.
      releaseWill?.();
      await sleep(200);
      expect(await retainedNow('noc-after')).toEqual({ state: 'online', n: 2 });
      expect(log.lines.join('\n')).toMatch(
        /info .*last will of site-a\.gw-01 .* not published after it was journaled: the agent is connected again/,
      );
      // The journal had the will before the new birth: the pipeline ends with the agent online.
      expect(ingested).toEqual(['online', 'offline', 'online']);
    } finally {
      await link.stop();
    }
  });
});
