/**
 * The broker as a real process (`node dist/cli/vigil.js broker --config FILE`) that a
 * test can SIGKILL and start again on the same data folder and ports; and agents that
 * publish readings at a steady rate over mqtt.js and remember which ones the broker
 * acknowledged. Build first (`npm test` does: pretest builds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { AgentStore, type NewAgentCredentials } from '../../broker/agents/store.js';
import { openDatabase as openPostgres } from '../../broker/ha/pg.js';
import { PostgresDatabase } from '../../broker/sql/postgres.js';
import { openSqlite } from '../../broker/sql/sqlite.js';
import { topics } from '../../shared/topics.js';

// test/helpers/ from source, dist/test/helpers/ once compiled (the benchmark uses it).
const compiled = import.meta.url.endsWith('.js');
const root = fileURLToPath(new URL(compiled ? '../../../' : '../../', import.meta.url));
export const vigilEntry = join(root, 'dist/cli/vigil.js');

export interface BrokerProcess {
  pid: number;
  output(): string;
  /** SIGKILL (a crash) or SIGTERM (a clean stop); resolves once it exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Writes <dataDir>/broker.yaml with these settings and returns its path. */
export async function writeBrokerConfig(dataDir: string, settings: object): Promise<string> {
  const file = join(dataDir, 'broker.yaml');
  await writeFile(file, stringify({ dataDir, consoleDir: null, ...settings }));
  return file;
}

/**
 * Runs `work` on the agent accounts where the broker reads them: its <dataDir>/vigil.db,
 * or the PostgreSQL of its `database` setting (shared by a pair).
 */
export async function withAgentStore<T>(
  dataDir: string,
  database: { url: string } | null,
  work: (store: AgentStore) => Promise<T>,
): Promise<T> {
  const db = database
    ? new PostgresDatabase(
        openPostgres({ url: database.url, passwordFile: null }, { numbers: true }),
        {
          owned: true,
        },
      )
    : openSqlite(join(dataDir, 'vigil.db'));
  try {
    const store = new AgentStore(db);
    await store.start();
    return await work(store);
  } finally {
    await db.close();
  }
}

/**
 * Creates agent accounts where the broker will read them, before it runs: its
 * <dataDir>/vigil.db, or the PostgreSQL of its `database` setting (shared by a pair).
 */
export async function addAgents(
  dataDir: string,
  siteId: string,
  names: string[],
  database: { url: string } | null = null,
): Promise<NewAgentCredentials[]> {
  return withAgentStore(dataDir, database, async (store) => {
    const added: NewAgentCredentials[] = [];
    for (const name of names) added.push(await store.add(siteId, name));
    return added;
  });
}

export async function startBrokerProcess(
  configFile: string,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<BrokerProcess> {
  if (!existsSync(vigilEntry)) throw new Error(`${vigilEntry} is missing: run npm run build first`);
  // VIGIL_BROKER_NODE_ARGS="--cpu-prof": profile the broker under a test or benchmark.
  const nodeArgs = (process.env.VIGIL_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, vigilEntry, 'broker', '--config', configFile],
    {
      cwd: root,
      env: { ...process.env, VIGIL_ADMIN_PASSWORD: 'e2e-admin-password', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!output.includes('MQTT on ')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the broker did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    pid: child.pid!,
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * An agent publishing one device reading every `intervalMs` at QoS 1, as the real agent
 * does (persistent session, re-sends what was not acknowledged after a reconnect). Each
 * reading has its own time, `t0 + seq` ms, so the test can find every one in the store.
 */
export class LoadAgent {
  readonly acked = new Set<number>();
  sent = 0;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  constructor(
    private readonly url: string,
    readonly credentials: NewAgentCredentials,
    readonly t0: number,
    private readonly intervalMs: number,
    private readonly perTick = 1,
  ) {}

  get deviceId(): string {
    return `cam-${this.credentials.agentId}`;
  }

  start(): void {
    const { username, password, siteId, agentId } = this.credentials;
    const client = connect(this.url, {
      username,
      password,
      clientId: username,
      clean: false,
      reconnectPeriod: 100,
      // A standby of a pair refuses CONNECT with CONNACK 3 (docs/HA.md); mqtt.js stops
      // reconnecting after a refused CONNACK unless told, and the agent keeps trying too.
      reconnectOnConnackError: true,
      connectTimeout: 5000,
      // Unlimited in the real agent too: every unacknowledged reading waits for the broker.
      queueQoSZero: false,
    });
    client.on('error', () => {});
    this.client = client;
    const topic = topics.deviceMetrics(siteId, this.deviceId);
    this.timer = setInterval(() => {
      for (let i = 0; i < this.perTick; i++) {
        const seq = this.seq++;
        const payload = JSON.stringify({
          v: 1,
          siteId,
          agentId,
          seq,
          ts: new Date(this.t0 + seq).toISOString(),
          deviceId: this.deviceId,
          kind: 'camera',
          values: { up: true, responseMs: seq % 1000 },
        });
        this.sent++;
        client.publish(topic, payload, { qos: 1 }, (error) => {
          if (!error) this.acked.add(seq);
        });
      }
    }, this.intervalMs);
  }

  /** Stops producing; resolves when every reading was acknowledged or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + timeoutMs;
    while (this.acked.size < this.sent && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.client?.endAsync(true);
    this.client = null;
  }
}

/** The seqs of `agent` found in InfluxDB (one point per reading, at t0 + seq ms). */
export async function seqsInInflux(
  influxUrl: string,
  database: string,
  agent: Pick<LoadAgent, 't0'> & { credentials: { agentId: string } },
): Promise<Set<number>> {
  const query = `SELECT "up" FROM "raw"."device" WHERE "agent" = '${agent.credentials.agentId}'`;
  const response = await fetch(
    `${influxUrl}/query?db=${database}&epoch=ms&q=${encodeURIComponent(query)}`,
  );
  const body = (await response.json()) as {
    results: { series?: { values: [number, boolean][] }[] }[];
  };
  const seqs = new Set<number>();
  for (const series of body.results[0]?.series ?? []) {
    for (const [time] of series.values) seqs.add(time - agent.t0);
  }
  return seqs;
}
