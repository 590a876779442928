/**
 * One load-generator process of `npm run bench:capacity` (bench/capacity.ts forks
 * several, so the generator itself does not cap the rate on many connections). It holds
 * its share of the agent connections (MQTT written by hand, bench/mqtt-load.ts) and makes
 * each one behave as the real agent's uplink does (agent/uplink.ts):
 *
 * - on connecting, the retained birth message (agentStatus, state online) listing its
 *   devices, with `startedAt`, which starts the broker's dedupe run for that agent;
 * - one deviceMetrics PUBLISH per device poll, on that device's metrics topic, the polls
 *   of all devices spread evenly (no burst at the top of the poll interval);
 * - agentHealth every `healthS` seconds (the agent's default healthIntervalS, 30 s);
 * - at most 8 PUBLISH packets in flight per connection (agent/uplink.ts defaultWindow);
 *   what is due while the window is full waits, and goes out as ONE agentBatch PUBLISH of
 *   up to 500 records once a slot frees, exactly as the agent's spool replay does. A
 *   broker that keeps up never sees a batch; one that falls behind gets fewer, larger
 *   PUBLISHes, as it would from a real fleet.
 * Every message carries the agent's next `seq` (shared/messages/common.ts Header), so the
 * broker's dedupe and validation stages see what they see in production.
 *
 * Open loop: what is due follows the clock, not the acknowledgements.
 */
import { LoadPublisher } from './mqtt-load.js';
import { topics } from '../shared/topics.js';

/** agent/uplink.ts defaultWindow: PUBLISH packets in flight, records per batch. */
const IN_FLIGHT = 8;
const BATCH_RECORDS = 500;
const TICK_MS = 10;

export interface WorkerAgent {
  /** Position in the whole fleet: spreads polls and health over the interval. */
  index: number;
  username: string;
  password: string;
  siteId: string;
  agentId: string;
  /** The fleet's sample: every message of this agent is checked in InfluxDB. */
  sampled: boolean;
}

export type ToWorker =
  | {
      type: 'connect';
      host: string;
      port: number;
      agents: WorkerAgent[];
      devices: number;
      fleetAgents: number;
      healthS: number;
    }
  | {
      type: 'step';
      /** Device polls per second over the whole fleet; this worker sends its share. */
      fleetRate: number;
      fleetAgents: number;
      seconds: number;
      drainS: number;
    }
  | { type: 'stop' };

export interface SampleRecord {
  /** `${siteId}/${deviceId}/${ts ms}`: the point's identity in InfluxDB. */
  key: string;
  /** When the poll produced it (epoch ms): end to end counts the wait in the window too. */
  producedAt: number;
  acked: boolean;
}

export interface StepReport {
  type: 'result';
  /** Records produced (device metrics and health), and of them acknowledged. */
  produced: number;
  acked: number;
  metrics: number;
  health: number;
  /** PUBLISH packets, and of them batches (records that waited for a full window). */
  publishes: number;
  batches: number;
  batchedRecords: number;
  /** Send to PUBACK of each acknowledged PUBLISH, ms. */
  pubackMs: Float64Array;
  lastAckAt: number;
  samples: SampleRecord[];
  /** This generator process's CPU seconds during the step. */
  cpuS: number;
}

interface Pending {
  topic: string;
  payload: string;
  sample: SampleRecord | null;
}

class Agent {
  seq = 0;
  inFlight = 0;
  readonly queue: Pending[] = [];
  readonly deviceIds: string[];
  readonly startedAt = new Date().toISOString();
  healthTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly spec: WorkerAgent,
    readonly client: LoadPublisher,
    devices: number,
  ) {
    this.deviceIds = Array.from(
      { length: devices },
      (_, i) => `cam-${String(i + 1).padStart(3, '0')}`,
    );
  }

  header(ts: number): string {
    return `"v":1,"siteId":"${this.spec.siteId}","agentId":"${this.spec.agentId}","seq":${this.seq++},"ts":"${new Date(ts).toISOString()}"`;
  }

  birth(): string {
    const devices = this.deviceIds
      .map(
        (id, i) =>
          `{"id":"${id}","name":"Camera ${i + 1}","kind":"camera","xaddr":"http://192.0.2.${(i % 250) + 1}/onvif/device_service"}`,
      )
      .join(',');
    return `{${this.header(Date.now())},"state":"online","version":"bench","startedAt":"${this.startedAt}","hostname":"${this.spec.agentId}","devices":[${devices}]}`;
  }
}

let agents: Agent[] = [];
let stats: Omit<StepReport, 'type' | 'pubackMs' | 'cpuS'> & { pubackMs: number[] } = fresh();

function fresh(): typeof stats {
  return {
    produced: 0,
    acked: 0,
    metrics: 0,
    health: 0,
    publishes: 0,
    batches: 0,
    batchedRecords: 0,
    pubackMs: [],
    lastAckAt: 0,
    samples: [],
  };
}

/** Sends what waits while the window has room: one record alone, several as a batch. */
function pump(agent: Agent): void {
  while (agent.inFlight < IN_FLIGHT && agent.queue.length > 0) {
    const group = agent.queue.splice(0, BATCH_RECORDS);
    let topic = group[0]!.topic;
    let payload = group[0]!.payload;
    if (group.length > 1) {
      topic = topics.agentBatch(agent.spec.siteId, agent.spec.agentId);
      const records = group
        .map((r) => `{"topic":${JSON.stringify(r.topic)},"message":${r.payload}}`)
        .join(',');
      payload = `{"v":1,"siteId":"${agent.spec.siteId}","agentId":"${agent.spec.agentId}","ts":"${new Date().toISOString()}","records":[${records}]}`;
      stats.batches++;
      stats.batchedRecords += group.length;
    }
    agent.inFlight++;
    stats.publishes++;
    const sentAt = performance.now();
    // A step's stats object: a PUBACK arriving after the step ended counts in none.
    const into = stats;
    agent.client.publish(topic, payload, () => {
      agent.inFlight--;
      into.acked += group.length;
      into.lastAckAt = Date.now();
      into.pubackMs.push(performance.now() - sentAt);
      for (const r of group) if (r.sample) r.sample.acked = true;
      pump(agent);
    });
  }
}

function produce(agent: Agent, topic: string, payload: string, sampleKey: string | null): void {
  const sample = sampleKey ? { key: sampleKey, producedAt: Date.now(), acked: false } : null;
  if (sample) stats.samples.push(sample);
  stats.produced++;
  agent.queue.push({ topic, payload, sample });
  pump(agent);
}

function metrics(agent: Agent, device: number, n: number): void {
  const ts = Date.now();
  const deviceId = agent.deviceIds[device]!;
  // Values a healthy camera reports (shared/messages/device-metrics.ts): every device up,
  // so the figures are the ingest path's, not a flood of tickets.
  const payload = `{${agent.header(ts)},"deviceId":"${deviceId}","kind":"camera","values":{"up":true,"responseMs":${(n % 80) + 5},"clockOffsetS":-0.4,"profiles":2,"channels":1,"streamsUp":1,"picturesOk":1,"pictureLuma":${100 + (n % 50)},"events":0}}`;
  stats.metrics++;
  produce(
    agent,
    topics.deviceMetrics(agent.spec.siteId, deviceId),
    payload,
    agent.spec.sampled ? `${agent.spec.siteId}/${deviceId}/${ts}` : null,
  );
}

function health(agent: Agent, uptimeS: number): void {
  const total = agent.deviceIds.length;
  const payload = `{${agent.header(Date.now())},"uptimeS":${uptimeS.toFixed(1)},"devices":{"total":${total},"up":${total},"degraded":0,"down":0,"unknown":0},"queueDepth":${agent.queue.length},"checkErrors":0,"lastPollAt":"${new Date().toISOString()}","mqtt":{"connected":true,"inFlight":${agent.inFlight}},"gateway":{"cpuLoadPct":7.5,"memUsedPct":41.2,"diskUsedPct":23.9}}`;
  stats.health++;
  produce(agent, topics.agentHealth(agent.spec.siteId, agent.spec.agentId), payload, null);
}

async function connect(message: Extract<ToWorker, { type: 'connect' }>): Promise<void> {
  const opened: Agent[] = [];
  // A few at a time: every login costs the broker a scrypt hash (broker/agents/store.ts).
  for (let i = 0; i < message.agents.length; i += 20) {
    const batch = message.agents.slice(i, i + 20).map(async (spec) => {
      const client = new LoadPublisher(
        message.host,
        message.port,
        spec.username,
        spec.username,
        spec.password,
      );
      await client.start();
      const agent = new Agent(spec, client, message.devices);
      // The birth, retained, is the agent's first message on every connection.
      const born = new Promise<void>((resolve) =>
        client.publish(topics.agentStatus(spec.siteId, spec.agentId), agent.birth(), resolve, true),
      );
      // Health every healthS from now on, whatever the steps do, phased by the agent's
      // place in the fleet. It is also what keeps an idle connection alive: the
      // generator sends no PINGREQ, and the broker closes a connection silent for 1.5
      // keep-alives (MQTT 3.1.1 section 3.1.2.10), which the login of 5,000 agents outlasts.
      const startedAt = Date.now();
      const phase = (spec.index / message.fleetAgents) * message.healthS * 1000;
      setTimeout(() => {
        const beat = () => health(agent, (Date.now() - startedAt) / 1000);
        beat();
        agent.healthTimer = setInterval(beat, message.healthS * 1000);
      }, phase);
      await born;
      return agent;
    });
    opened.push(...(await Promise.all(batch)));
    if (opened.length % 500 === 0) process.send?.({ type: 'progress', connected: opened.length });
  }
  agents = opened;
}

async function step(message: Extract<ToWorker, { type: 'step' }>): Promise<StepReport> {
  stats = fresh();
  const devices = agents[0]?.deviceIds.length ?? 0;
  // The fleet's polls in one even stream: poll j is device floor(j / A) mod D of the
  // agent at fleet position j mod A, so every device is polled once per interval
  // A * D / rate, and neighbouring polls go to different agents. This worker sends the
  // polls of its own agents.
  const byIndex = new Map(agents.map((a) => [a.spec.index, a]));
  const fleetAgents = message.fleetAgents;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let nextPoll = 0;
  const timer = setInterval(() => {
    const elapsedS = (performance.now() - started) / 1000;
    const duePolls = Math.floor(elapsedS * message.fleetRate);
    for (; nextPoll < duePolls; nextPoll++) {
      const agent = byIndex.get(nextPoll % fleetAgents);
      if (agent) metrics(agent, Math.floor(nextPoll / fleetAgents) % devices, nextPoll);
    }
  }, TICK_MS);
  await new Promise((resolve) => setTimeout(resolve, message.seconds * 1000));
  clearInterval(timer);
  const until = Date.now() + message.drainS * 1000;
  while (stats.acked < stats.produced && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpu = process.cpuUsage(cpuBefore);
  const { pubackMs, ...rest } = stats;
  return {
    type: 'result',
    ...rest,
    pubackMs: Float64Array.from(pubackMs),
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

process.on('message', (message: ToWorker) => {
  const reply = (value: unknown) => process.send?.(value);
  const fail = (error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  if (message.type === 'connect') {
    connect(message).then(() => reply({ type: 'connected', agents: agents.length }), fail);
  } else if (message.type === 'step') {
    step(message).then(reply, fail);
  } else {
    for (const agent of agents) if (agent.healthTimer) clearInterval(agent.healthTimer);
    void Promise.all(agents.map((a) => a.client.stop())).finally(() => process.exit(0));
  }
});
