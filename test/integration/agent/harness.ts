/**
 * The outer edge for the agent's integration tests: a real Aedes broker on a free port
 * with a password check, a real mqtt.js subscriber that keeps every message of the site,
 * and an agent configuration file for a simulated site; `startTestbed` starts all of it.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { commandRoutes } from '../../../broker/api/commands.js';
import { errorHandler } from '../../../broker/api/errors.js';
import type { AuditStore } from '../../../broker/audit-trail.js';
import { CommandSender } from '../../../broker/commands/sender.js';
import { unbatch } from '../../../broker/stages/decode.js';
import { carriers, contract } from '../../../shared/contract.js';
import type { AgentBatch } from '../../../shared/messages/agent-batch.js';
import { filters, parseTopic, type ParsedTopic } from '../../../shared/topics.js';
import { validator } from '../../../shared/validate.js';
import { SimSite, type SimDeviceInfo, type SimSiteOptions } from '../../../sim/site.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

export const SITE = 'it-site';
export const AGENT = 'gw-01';
export const MQTT_USER = `${SITE}.${AGENT}`;
export const MQTT_PASSWORD = 'broker-secret-4711';
export const ONVIF = { username: 'monitor', password: 'onvif-secret-0815' };

export interface TestBroker {
  url: string;
  aedes: Aedes;
  /** Connection attempts seen by the authenticate hook: time and whether accepted. */
  attempts: { clientId: string; at: number; ok: boolean }[];
  clients: Map<string, Client>;
  stop(): Promise<void>;
}

export interface BrokerOptions {
  /** Listen on this port (0: a free one). */
  port?: number;
  /** The agent's CONNECT is answered only once this settles (watchers are let in at once). */
  admitAgent?: Promise<void>;
}

export async function startBroker({
  port = 0,
  admitAgent,
}: BrokerOptions = {}): Promise<TestBroker> {
  const attempts: TestBroker['attempts'] = [];
  const clients = new Map<string, Client>();
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const ok = password?.toString('utf8') === MQTT_PASSWORD && typeof username === 'string';
      const answer = (): void => {
        attempts.push({ clientId: client.id, at: Date.now(), ok });
        if (ok) return done(null, true);
        const error = new Error('bad username or password') as AuthenticateError;
        error.returnCode = 4; // MQTT 3.1.1 CONNACK: bad user name or password
        done(error, false);
      };
      if (admitAgent && client.id === MQTT_USER) void admitAgent.then(answer);
      else answer();
    },
  });
  aedes.on('client', (client) => clients.set(client.id, client));
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    aedes,
    attempts,
    clients,
    async stop() {
      // Drop every connection at once, as a crashing broker would.
      for (const client of clients.values()) client.conn.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Seen {
  topic: string;
  parsed: ParsedTopic;
  payload: Record<string, unknown>;
  retain: boolean;
  /** Sent again by the broker: a delivery it had not seen acknowledged [MQTT-4.4.0-1]. */
  dup: boolean;
  at: number;
}

const checkBatch = validator(carriers.agentBatch.schema);
const validators = Object.fromEntries(
  Object.entries({ ...contract, ...carriers }).map(([kind, entry]) => [
    kind,
    validator(entry.schema),
  ]),
) as Record<string, ReturnType<typeof validator>>;

/** A subscriber to everything of the site; checks every payload against its schema. */
export class Watcher {
  readonly messages: Seen[] = [];
  readonly invalid: string[] = [];
  /** Batches received (each counted once; their records are in `messages`). */
  batches = 0;
  #client: MqttClient | null = null;

  async start(
    url: string,
    clientId = `watcher-${Math.random().toString(16).slice(2)}`,
    { clean = true }: { clean?: boolean } = {},
  ): Promise<void> {
    this.#client = await mqtt.connectAsync(url, {
      clientId,
      clean,
      username: 'watcher',
      password: MQTT_PASSWORD,
      reconnectPeriod: 0,
    });
    this.#client.on('message', (topic, payload, packet) => {
      const parsed = parseTopic(topic);
      if (!parsed) {
        this.invalid.push(`${topic}: not a topic of the tree`);
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        this.invalid.push(`${topic}: not JSON`);
        return;
      }
      if (parsed.kind === 'agentBatch') {
        // A spool replay: the records as if each had come alone, in order.
        const batch = checkBatch(body);
        if (!batch.ok) this.invalid.push(`${topic}: ${batch.errors.join('; ')}`);
        this.batches += 1;
        for (const record of (body as unknown as AgentBatch).records ?? []) {
          this.#take(record.topic, record.message, false, packet.dup);
        }
        return;
      }
      this.#take(topic, body, packet.retain, packet.dup);
    });
    await this.#client.subscribeAsync(filters.site(SITE), { qos: 1 });
  }

  #take(topic: string, body: Record<string, unknown>, retain: boolean, dup: boolean): void {
    const parsed = parseTopic(topic);
    if (!parsed) {
      this.invalid.push(`${topic}: not a topic of the tree`);
      return;
    }
    const check = validators[parsed.kind];
    const result = check ? check(body) : { ok: false as const, errors: ['no schema'] };
    if (!result.ok) this.invalid.push(`${topic}: ${result.errors.join('; ')}`);
    this.messages.push({ topic, parsed, payload: body, retain, dup, at: Date.now() });
  }

  of(kind: ParsedTopic['kind'], id?: string): Seen[] {
    return this.messages.filter(
      (m) =>
        m.parsed.kind === kind &&
        (id === undefined ||
          ('deviceId' in m.parsed ? m.parsed.deviceId : m.parsed.agentId) === id),
    );
  }

  /** Waits for a message matching `predicate` that arrives after `since` (ms epoch). */
  async waitFor(
    predicate: (m: Seen) => boolean,
    { timeoutMs = 10_000, since = 0 }: { timeoutMs?: number; since?: number } = {},
  ): Promise<Seen> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.at >= since && predicate(m));
      if (found) return found;
      if (Date.now() > end) {
        const recent = this.messages
          .slice(-8)
          .map((m) => `${m.topic} ${JSON.stringify(m.payload).slice(0, 200)}`);
        throw new Error(
          `no matching message within ${timeoutMs} ms; last seen:\n${recent.join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync(true);
    this.#client = null;
  }
}

export { tempDir, type TempDir } from '../../helpers/temp.js';

/** What every agent integration test runs against; `stop` ends all of it. */
export interface Testbed {
  broker: TestBroker;
  site: SimSite;
  dir: TempDir;
  watcher: Watcher;
  stop(): Promise<void>;
}

/**
 * A broker, a simulated site of SITE with the ONVIF account (WS-Discovery answered on
 * loopback when `discovery`), a temporary folder, and a watcher of everything published.
 */
export async function startTestbed(
  options: Omit<SimSiteOptions, 'siteId' | 'credentials' | 'discovery'> & { discovery?: boolean },
): Promise<Testbed> {
  const { discovery, ...layout } = options;
  const broker = await startBroker();
  const site = new SimSite({
    siteId: SITE,
    credentials: ONVIF,
    ...layout,
    ...(discovery ? { discovery: { address: '127.0.0.1', port: 0, multicast: false } } : {}),
  });
  await site.start();
  const dir = await tempDir('vigil-agent-it-');
  const watcher = new Watcher();
  await watcher.start(broker.url);
  return {
    broker,
    site,
    dir,
    watcher,
    stop: async () => {
      await watcher.stop();
      await site.stop();
      await broker.stop();
      await dir.remove();
    },
  };
}

/** Writes an agent configuration file for the simulated devices; returns its path. */
export async function writeAgentConfig(
  dir: string,
  brokerUrl: string,
  devices: SimDeviceInfo[],
  {
    mqttPassword = MQTT_PASSWORD,
    devicePasswords = {},
    timeoutMs = 500,
    intervalS = 1,
    reconnectMaxS,
    // The simulator draws a live picture once a second: with 1 s polls, a few polls in a
    // row can see the same one. Tests of the frozen picture set their own.
    extra = ['checks:', '  frozenPolls: 20'],
  }: {
    mqttPassword?: string;
    devicePasswords?: Record<string, string>;
    timeoutMs?: number;
    intervalS?: number;
    /** The longest wait between reconnects (mqtt.reconnectMaxS; the agent's default is 60). */
    reconnectMaxS?: number;
    /** More YAML lines at the top level (spool:, checks:). */
    extra?: string[];
  } = {},
): Promise<string> {
  await writeFile(join(dir, 'mqtt-password'), `${mqttPassword}\n`, { mode: 0o600 });
  const lines = [
    `siteId: ${SITE}`,
    `agentId: ${AGENT}`,
    'mqtt:',
    `  url: ${brokerUrl}`,
    `  username: ${MQTT_USER}`,
    '  passwordFile: mqtt-password',
    ...(reconnectMaxS === undefined ? [] : [`  reconnectMaxS: ${reconnectMaxS}`]),
    'polling:',
    `  intervalS: ${intervalS}`,
    `  timeoutMs: ${timeoutMs}`,
    '  recheckS: 0.5',
    '  jitterPct: 10',
    '  concurrency: 16',
    '  healthIntervalS: 1',
    ...extra,
    'onvif:',
    `  username: ${ONVIF.username}`,
    `  password: ${ONVIF.password}`,
    'devices:',
    ...devices.flatMap((d) => [
      `  - id: ${d.id}`,
      `    name: ${JSON.stringify(d.name)}`,
      `    kind: ${d.kind}`,
      `    xaddr: ${d.xaddr}`,
      ...(devicePasswords[d.id] ? [`    password: ${devicePasswords[d.id]}`] : []),
    ]),
  ];
  const path = join(dir, 'agent.yaml');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * The broker's command route (broker/api/commands.ts) in a Fastify app, its CommandSender
 * publishing through a client of `brokerUrl` and fed the agent's answers as broker/app.ts
 * feeds it every message. The caller's role comes from the `x-role` header (user alice);
 * `audit`: the audit trail the route writes to.
 */
export async function startCommandApi(
  brokerUrl: string,
  audit?: AuditStore,
): Promise<{ app: FastifyInstance; stop(): Promise<void> }> {
  const noc = await mqtt.connectAsync(brokerUrl, {
    clientId: 'noc-sender',
    username: 'noc',
    password: MQTT_PASSWORD,
  });
  const sender = new CommandSender({
    publish: async (topic, payload) => {
      await noc.publishAsync(topic, payload, { qos: 1 });
    },
  });
  noc.on('message', (topic, payload) => {
    const envelope = { topic, payload, clientId: MQTT_USER, receivedAt: new Date() };
    // Answers may come inside a batch, as any agent message: split first, as the broker does.
    for (const one of unbatch(envelope)) sender.observe(one);
  });
  await noc.subscribeAsync(filters.site(SITE), { qos: 1 });
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(errorHandler);
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    const role = request.headers['x-role'];
    (request as { user: unknown }).user =
      typeof role === 'string' ? { username: 'alice', role } : null;
  });
  await app.register(commandRoutes, { commands: sender, ...(audit ? { audit } : {}) });
  return {
    app,
    stop: async () => {
      await app.close();
      sender.stop();
      await noc.endAsync(true);
    },
  };
}
