/**
 * An active/standby pair of real broker processes (`node dist/cli/vigil.js broker`, issue
 * 17) on one PostgreSQL and one InfluxDB, and agents that follow its leader: the proofs of
 * test/e2e/failover*.test.ts and `npm run soak:failover` (bench/soak-failover.ts) run on
 * it. Build first (dist/).
 *
 * - `PairNode`: one node with its own data folder and fixed ports, so a node killed with
 *   SIGKILL starts again where it was, as the new standby.
 * - `PairAgent`: the agent's real uplink (agent/uplink.ts: several broker URLs, QoS 1, a
 *   window of batches in flight, the real reconnect policy) over a spool in memory that
 *   remembers what the broker acknowledged and when. Each reading has its own time, t0 +
 *   its seq in ms, so every acknowledged one can be looked up in InfluxDB one by one. It
 *   reports a camera's state (`reportState`) through the same uplink when a test asks.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryLogger } from '../../agent/log.js';
import { Secret } from '../../agent/secret.js';
import { MemorySpool } from '../../agent/spool/memory.js';
import { Uplink } from '../../agent/uplink.js';
import { apiRoutes } from '../../shared/api/routes.js';
import type { DeviceState, Reason } from '../../shared/messages/device-state.js';
import {
  addAgents,
  seqsInInflux,
  startBrokerProcess,
  writeBrokerConfig,
  type BrokerProcess,
} from './broker-process.js';
import { freePorts } from './ports.js';

/** The site of every agent of the run (`runFailover`). */
export const PAIR_SITE = 'failover';

export interface PairSettings {
  postgresUrl: string;
  influxUrl: string;
  influxDatabase: string;
  /** Extra broker.yaml settings (journal, limits). */
  extra?: object;
}

/** One broker node of the pair: a data folder, fixed ports, and its process while it runs. */
export class PairNode {
  process: BrokerProcess | null = null;
  /** Past runs' output, kept to explain a failure. */
  private earlier = '';

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly configFile: string,
    readonly mqttPort: number,
    readonly httpPort: number,
  ) {}

  static async create(
    root: string,
    name: string,
    settings: PairSettings,
    /** Where this node reaches PostgreSQL: the database itself, or a proxy in between. */
    databaseUrl = settings.postgresUrl,
  ): Promise<PairNode> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
    const configFile = await writeBrokerConfig(dir, {
      mqtt: { host: '127.0.0.1', port: mqttPort },
      http: { host: '127.0.0.1', port: httpPort },
      influx: { url: settings.influxUrl, database: settings.influxDatabase },
      // journal.store is postgres by default with a database.
      database: { url: databaseUrl },
      ...settings.extra,
    });
    return new PairNode(name, dir, configFile, mqttPort, httpPort);
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get pid(): number | null {
    return this.process?.pid ?? null;
  }

  async start(): Promise<void> {
    this.process = await startBrokerProcess(this.configFile, {}, 60_000);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const running = this.process;
    this.process = null;
    if (!running) return;
    await running.kill(signal);
    this.earlier += running.output();
  }

  /** GET /api/health/leader: true on 200 (leads), false on 503 or no answer. */
  async leads(): Promise<boolean> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.httpPort}${apiRoutes.healthLeader}`, {
        signal: AbortSignal.timeout(2_000),
      });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  output(): string {
    return this.earlier + (this.process?.output() ?? '');
  }
}

/** The spool of the agent's uplink, in memory, remembering each acknowledgment. */
class WatchedSpool extends MemorySpool {
  ackedUpTo = -1;
  onAck: (seq: number) => void = () => {};

  override ack(seq: number): void {
    super.ack(seq);
    if (seq > this.ackedUpTo) this.ackedUpTo = seq;
    this.onAck(seq);
  }
}

/** An acknowledgment seen by an agent: when (performance.now()), from which node, up to which seq. */
interface AckSeen {
  at: number;
  broker: string;
  seq: number;
}

/**
 * An agent as the real one talks to the pair (agent/uplink.ts, its default reconnect
 * policy), publishing `rate` readings a second of one camera.
 */
export class PairAgent {
  readonly uplink: Uplink;
  /** The uplink's lines, each with the second (performance.now()) it was written at. */
  readonly log = new MemoryLogger();
  /** The spool seqs that are readings (births take seqs too), in order. */
  readonly readings: number[] = [];
  private readonly spool = new WatchedSpool();
  private readonly acks: AckSeen[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly credentials: { username: string; password: string; siteId: string; agentId: string },
    urls: string[],
    /** Readings are dated t0 + seq ms: each its own point in InfluxDB. */
    readonly t0: number,
  ) {
    const { siteId, agentId, username, password } = credentials;
    this.uplink = new Uplink({
      siteId,
      agentId,
      mqtt: { url: urls[0]!, urls, username, password: new Secret(password) },
      log: {
        info: (line) => this.log.info(`${(performance.now() / 1000).toFixed(1)} ${line}`),
        warn: (line) => this.log.warn(`${(performance.now() / 1000).toFixed(1)} ${line}`),
        error: (line) => this.log.error(`${(performance.now() / 1000).toFixed(1)} ${line}`),
      },
      spool: this.spool,
      birth: () => ({
        state: 'online',
        version: 'failover-test',
        startedAt: new Date(t0).toISOString(),
        hostname: `gw-${agentId}`,
        devices: [],
      }),
    });
    this.spool.onAck = (seq) =>
      this.acks.push({ at: performance.now(), broker: this.uplink.broker, seq });
  }

  get deviceId(): string {
    return `cam-${this.credentials.agentId}`;
  }

  /** Connects and publishes `rate` readings a second until stop() or drain(). */
  start(rate: number): void {
    this.uplink.start();
    const started = performance.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (this.readings.length < due) this.reading();
    }, 20);
  }

  private reading(): void {
    const seq = this.spool.nextSeq;
    // The uplink puts its header (seq, ts) first and the body over it: the reading's own
    // time, so that no two readings of this camera share a point in InfluxDB.
    const body = {
      deviceId: this.deviceId,
      kind: 'camera' as const,
      values: { up: true, responseMs: seq % 1000 },
      ts: new Date(this.t0 + seq).toISOString(),
    };
    if (this.uplink.publishDeviceMetrics(this.deviceId, body)) this.readings.push(seq);
  }

  /**
   * Publishes the state of one of this agent's cameras through the same uplink as the
   * readings (retained, alone in its PUBLISH, in spool order, as the real agent does);
   * returns its spool seq. The spool keeps it while no node accepts the agent.
   */
  reportState(
    deviceId: string,
    status: DeviceState['status'],
    reasons: Reason[] = [],
    since = new Date(),
  ): number {
    const seq = this.spool.nextSeq;
    const published = this.uplink.publishDeviceState(deviceId, {
      deviceId,
      name: `Camera ${deviceId}`,
      kind: 'camera',
      xaddr: `http://${deviceId}.example.com/onvif/device_service`,
      status,
      since: since.toISOString(),
      reasons,
    });
    if (!published) throw new Error(`the uplink refused the state of ${deviceId}`);
    return seq;
  }

  /** The node that acknowledged spool seq `seq` (the first PUBACK covering it), or null. */
  acknowledgedBy(seq: number): string | null {
    return this.acks.find((ack) => ack.seq >= seq)?.broker ?? null;
  }

  /** Readings the broker acknowledged (PUBACK): every one must be stored. */
  acknowledged(): number[] {
    const upTo = this.spool.ackedUpTo;
    return this.readings.filter((seq) => seq <= upTo);
  }

  /** Readings waiting for a PUBACK. */
  get waiting(): number {
    return this.spool.stats().depth;
  }

  /** Acknowledgments from `broker` after `since` (performance.now()). */
  acksFrom(broker: string, since: number): number {
    return this.acks.filter((ack) => ack.at > since && ack.broker === broker).length;
  }

  /** The first acknowledgment after `since` (performance.now()) that came from `broker`. */
  firstAckFrom(broker: string, since: number): number | null {
    return this.acks.find((ack) => ack.at > since && ack.broker === broker)?.at ?? null;
  }

  /** Stops producing; resolves once everything was acknowledged or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.uplink.flush(timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.uplink.stop(1_000);
  }
}

/** Acknowledged readings missing from InfluxDB, as `device#seq`. */
export async function lostReadings(
  influxUrl: string,
  database: string,
  agents: PairAgent[],
): Promise<string[]> {
  const lost: string[] = [];
  for (const agent of agents) {
    const found = await seqsInInflux(influxUrl, database, agent);
    for (const seq of agent.acknowledged())
      if (!found.has(seq)) lost.push(`${agent.deviceId}#${seq}`);
  }
  return lost;
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` holds; false after `timeoutMs`. */
export async function waitFor(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** The line a node logs once its journal replayed after an election (broker/app.ts). */
const REPLAYED = 'leads: the journal in PostgreSQL replays';

/** What one kill of the leader cost. */
export interface Takeover {
  killed: string;
  /** The node that took over. */
  next: PairNode;
  /** When the leader was killed (Date.now()): deadlines and tickets are wall-clock times. */
  killedAtMs: number;
  /** Seconds from the kill to the other node answering 200 on /api/health/leader. */
  electedS: number | null;
  /** Seconds from the kill to the new leader's journal replayed: it takes clients from then. */
  servingS: number | null;
  /** Per agent: seconds from the kill to its first PUBACK from the new leader (null: none). */
  agentsS: (number | null)[];
}

/**
 * Kills the node that leads with SIGKILL, measures the takeover (the other node elected;
 * each agent's first PUBACK from it), then starts the killed node again as the standby
 * and lets the load run `settleMs`.
 */
export async function killLeader(
  nodes: [PairNode, PairNode],
  agents: PairAgent[],
  options: {
    takeoverLimitMs: number;
    settleMs: number;
    /** Runs right after the kill, while no node leads (keep it short: the clock runs). */
    duringTakeover?: (next: PairNode) => Promise<void>;
  },
): Promise<Takeover> {
  const leaders = await Promise.all(nodes.map((node) => node.leads()));
  const index = leaders.indexOf(true);
  if (index === -1 || leaders.lastIndexOf(true) !== index)
    throw new Error(`expected exactly one leader before the kill, got ${JSON.stringify(leaders)}`);
  const leader = nodes[index]!;
  const next = nodes[1 - index]!;
  const replays = (): number => next.output().split(REPLAYED).length;
  const replaysBefore = replays();
  const killedAt = performance.now();
  const killedAtMs = Date.now();
  await leader.kill('SIGKILL');
  await options.duringTakeover?.(next);
  let electedAt: number | null = null;
  let servingAt: number | null = null;
  await waitFor(
    async () => {
      if (servingAt === null && replays() > replaysBefore) servingAt = performance.now();
      if (electedAt === null && (await next.leads())) electedAt = performance.now();
      return electedAt !== null && agents.every((a) => a.firstAckFrom(next.mqttUrl, killedAt));
    },
    options.takeoverLimitMs,
    50,
  );
  const seconds = (at: number | null) => (at === null ? null : (at - killedAt) / 1000);
  const takeover: Takeover = {
    killed: leader.name,
    next,
    killedAtMs,
    electedS: seconds(electedAt),
    servingS: seconds(servingAt),
    agentsS: agents.map((agent) => seconds(agent.firstAckFrom(next.mqttUrl, killedAt))),
  };
  // Back as the standby: the same folder and ports.
  await leader.start();
  await sleep(options.settleMs);
  return takeover;
}

export interface FailoverRunOptions {
  postgresUrl: string;
  influxUrl: string;
  influxDatabase: string;
  /** Where the nodes' data folders go (deleted by the caller). */
  root: string;
  agents: number;
  /** Readings a second, all agents together. */
  rate: number;
  kills: number;
  /** Progress lines (seconds since the run began). */
  step?: (what: string) => void;
  /** Filled as they start, so a caller can stop them should the run be cut short. */
  track?: { nodes: PairNode[]; agents: PairAgent[] };
  /** Extra broker.yaml settings of both nodes (detection, SLA warning share). */
  extra?: object;
  /** Called once A leads, B stands by and every agent was acknowledged, before the first kill. */
  beforeKills?: (nodes: [PairNode, PairNode], agents: PairAgent[]) => Promise<void>;
  /**
   * Called right after each kill (`kill` counts from 0), while no node leads: what is
   * published now reaches the node that takes over.
   */
  duringTakeover?: (kill: number, next: PairNode, agents: PairAgent[]) => Promise<void>;
  /** Called after each takeover, once the killed node runs again as the standby. */
  afterTakeover?: (kill: number, takeover: Takeover, agents: PairAgent[]) => Promise<void>;
  /**
   * Called after the last takeover with the pair and agents still running: assertions on
   * what the new leader rebuilt go here.
   */
  afterTakeovers?: (nodes: [PairNode, PairNode], agents: PairAgent[]) => Promise<void>;
}

export interface FailoverRun {
  takeovers: Takeover[];
  /** Seconds from each kill to each agent's first PUBACK from the new leader (Infinity: none). */
  times: number[];
  p50: number;
  p95: number;
  sent: number;
  acknowledged: number;
  /** Acknowledged readings missing from InfluxDB, as `device#seq`. */
  lost: string[];
  /** Readings still waiting for a PUBACK at the end, per agent. */
  waiting: number[];
  /** The run in a few lines, for the log. */
  report: string;
  nodes: [PairNode, PairNode];
  agents: PairAgent[];
}

/**
 * The failover run of test/e2e/failover.test.ts and bench/soak-failover.ts: A leads, B
 * stands by, the agents publish, the leader is killed `kills` times (each time restarted
 * as the standby), then the agents drain and every acknowledged reading is looked up in
 * InfluxDB. The caller stops the nodes and agents (kill, stop) afterwards.
 */
export async function runFailover(options: FailoverRunOptions): Promise<FailoverRun> {
  const step = options.step ?? (() => {});
  const settings = {
    postgresUrl: options.postgresUrl,
    influxUrl: options.influxUrl,
    influxDatabase: options.influxDatabase,
    ...(options.extra ? { extra: options.extra } : {}),
  };
  const nodes: [PairNode, PairNode] = [
    await PairNode.create(options.root, 'node-a', settings),
    await PairNode.create(options.root, 'node-b', settings),
  ];
  options.track?.nodes.push(...nodes);
  const names = Array.from({ length: options.agents }, (_, i) => `gw-${i + 1}`);
  // A first, so it leads; then B, the standby, while the accounts are made.
  step('starting node A');
  await nodes[0].start();
  if (!(await waitFor(() => nodes[0].leads(), 30_000)))
    throw new Error(`node A does not lead:\n${nodes[0].output()}`);
  step('node A leads; starting node B and adding the agents');
  const [credentials] = await Promise.all([
    addAgents(nodes[0].dir, PAIR_SITE, names, { url: options.postgresUrl }),
    nodes[1].start(),
  ]);
  const t0 = Date.now() - 3_600_000;
  const urls = nodes.map((node) => node.mqttUrl);
  const agents: PairAgent[] = [];
  for (const [i, account] of credentials.entries()) {
    // Half the agents list B first: each passes over the standby to the leader.
    const agent = new PairAgent(account, i % 2 ? [...urls].reverse() : urls, t0);
    agent.start(options.rate / options.agents);
    agents.push(agent);
    options.track?.agents.push(agent);
  }
  if (!(await waitFor(() => agents.every((agent) => agent.acknowledged().length > 0), 30_000)))
    throw new Error('not every agent was acknowledged by node A');
  step('every agent acknowledged');
  await sleep(2_000);
  await options.beforeKills?.(nodes, agents);

  const takeovers: Takeover[] = [];
  for (let kill = 0; kill < options.kills; kill++) {
    step(`kill ${kill + 1} of ${options.kills}`);
    const during = options.duringTakeover;
    const takeover = await killLeader(nodes, agents, {
      takeoverLimitMs: 40_000,
      settleMs: 1_000,
      ...(during ? { duringTakeover: (next: PairNode) => during(kill, next, agents) } : {}),
    });
    takeovers.push(takeover);
    await options.afterTakeover?.(kill, takeover, agents);
  }
  await options.afterTakeovers?.(nodes, agents);

  // Readings sent into a connection that died may never be acknowledged: they are not
  // promised. Whatever was acknowledged must be stored.
  step('draining');
  await Promise.all(agents.map((agent) => agent.drain(20_000)));
  step('counting');
  let lost: string[] = [];
  await waitFor(
    async () => {
      lost = await lostReadings(options.influxUrl, options.influxDatabase, agents);
      return lost.length === 0;
    },
    30_000,
    500,
  );
  const sent = agents.reduce((sum, agent) => sum + agent.readings.length, 0);
  const acknowledged = agents.reduce((sum, agent) => sum + agent.acknowledged().length, 0);
  const times = takeovers.flatMap((t) => t.agentsS.map((s) => s ?? Infinity));
  const p50 = quantile(times, 0.5);
  const p95 = quantile(times, 0.95);
  const s = (value: number | null) => (value === null ? 'never' : value.toFixed(1));
  const report = [
    `failover: ${options.kills} SIGKILLs of the leader, ${options.agents} agents at ${options.rate} readings/s in total`,
    ...takeovers.map(
      (t, i) =>
        `  kill ${i + 1} (${t.killed}): other node elected after ${s(t.electedS)} s, serving after ${s(t.servingS)} s; first PUBACK per agent after ${t.agentsS.map(s).join(', ')} s`,
    ),
    `  takeover to each agent's first PUBACK: p50 ${p50.toFixed(1)} s, p95 ${p95.toFixed(1)} s`,
    `  readings sent ${sent}, acknowledged ${acknowledged}, lost ${lost.length}`,
  ].join('\n');
  return {
    takeovers,
    times,
    p50,
    p95,
    sent,
    acknowledged,
    lost,
    waiting: agents.map((agent) => agent.waiting),
    report,
    nodes,
    agents,
  };
}
