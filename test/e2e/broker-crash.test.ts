/**
 * Durable ingest, proved with real processes: agents publish readings at QoS 1 at a
 * steady rate while the broker process is killed with SIGKILL several times and
 * started again on the same data folder; then every reading an agent saw acknowledged
 * must be in InfluxDB, checked one by one. Duplicates (re-sent after a lost PUBACK,
 * replayed from the journal) are counted and reported.
 *
 * Also: InfluxDB stopped under load for VIGIL_E2E_INFLUX_OUTAGE_S seconds (default 8;
 * the proof is 300) and started again: nothing lost, the backlog drains.
 *
 * Scale by env: VIGIL_E2E_CRASH_KILLS (default 3), VIGIL_E2E_AGENTS (default 4),
 * VIGIL_E2E_RATE (readings per second per agent, default 100).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addAgents,
  LoadAgent,
  seqsInInflux,
  startBrokerProcess,
  writeBrokerConfig,
  type BrokerProcess,
} from '../helpers/broker-process.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import { influxd, skipReason, titled } from '../helpers/requires.js';
import { freePorts } from '../helpers/ports.js';

const KILLS = Number(process.env.VIGIL_E2E_CRASH_KILLS ?? 3);
const AGENTS = Number(process.env.VIGIL_E2E_AGENTS ?? 4);
const RATE = Number(process.env.VIGIL_E2E_RATE ?? 100);
const OUTAGE_S = Number(process.env.VIGIL_E2E_INFLUX_OUTAGE_S ?? 8);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Tally {
  agents: number;
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicates: number;
}

async function tally(
  influx: RunningInfluxd,
  database: string,
  agents: LoadAgent[],
  dataDir: string,
): Promise<Tally & { missing: string[] }> {
  let sent = 0;
  let acked = 0;
  let stored = 0;
  const missing: string[] = [];
  for (const agent of agents) {
    const found = await seqsInInflux(influx.url, database, agent);
    sent += agent.sent;
    acked += agent.acked.size;
    stored += found.size;
    for (const seq of agent.acked) if (!found.has(seq)) missing.push(`${agent.deviceId}#${seq}`);
  }
  const checkpoint = JSON.parse(
    await readFile(join(dataDir, 'journal', 'checkpoint.json'), 'utf8'),
  ) as { counters?: { duplicates?: number } };
  return {
    agents: agents.length,
    sent,
    acked,
    stored,
    lost: missing.length,
    duplicates: checkpoint.counters?.duplicates ?? 0,
    missing: missing.slice(0, 20),
  };
}

/** Waits until every acknowledged reading is in InfluxDB, or the time is up. */
async function settle(
  influx: RunningInfluxd,
  database: string,
  agents: LoadAgent[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let missing = 0;
    for (const agent of agents) {
      const found = await seqsInInflux(influx.url, database, agent);
      for (const seq of agent.acked) if (!found.has(seq)) missing++;
    }
    if (missing === 0 || Date.now() > deadline) return;
    await sleep(500);
  }
}

/**
 * One load agent per account, at RATE readings/s each from `t0`; readings of different
 * agents are at different times, so each is one point in InfluxDB.
 */
function startLoad(
  mqttPort: number,
  credentials: Awaited<ReturnType<typeof addAgents>>,
  t0: number,
): LoadAgent[] {
  return credentials.map((agent, i) => {
    const load = new LoadAgent(
      `mqtt://127.0.0.1:${mqttPort}`,
      agent,
      t0 + i * 10_000_000,
      10,
      RATE / 100,
    );
    load.start();
    return load;
  });
}

const noInfluxd = skipReason(influxd);
const title = titled('durable ingest (real broker process, real InfluxDB)', noInfluxd);

describe.skipIf(noInfluxd)(title, () => {
  let influx: RunningInfluxd;
  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it(`loses no acknowledged reading over ${KILLS} SIGKILLs of the broker`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-crash-'));
    const database = 'vigil_crash';
    const agents: LoadAgent[] = [];
    let broker: BrokerProcess | null = null;
    try {
      const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
      const config = await writeBrokerConfig(dataDir, {
        mqtt: { host: '127.0.0.1', port: mqttPort },
        http: { host: '127.0.0.1', port: httpPort },
        influx: { url: influx.url, database },
      });
      const names = Array.from(
        { length: AGENTS },
        (_, i) => `gw-${String(i + 1).padStart(2, '0')}`,
      );
      const credentials = await addAgents(dataDir, 'crash-site', names);
      broker = await startBrokerProcess(config);
      agents.push(...startLoad(mqttPort, credentials, Date.now() - 3_600_000));
      for (let kill = 0; kill < KILLS; kill++) {
        await sleep(1500 + Math.random() * 1500);
        await broker.kill('SIGKILL');
        broker = await startBrokerProcess(config);
      }
      await sleep(1500);
      await Promise.all(agents.map((agent) => agent.drain(20_000)));
      await settle(influx, database, agents, 30_000);
      await broker.kill('SIGTERM');
      broker = null;
      const result = await tally(influx, database, agents, dataDir);
      console.log(
        `crash test: ${KILLS} SIGKILLs, ${result.agents} agents at ${RATE}/s each: ` +
          `sent ${result.sent}, acknowledged ${result.acked}, in InfluxDB ${result.stored}, ` +
          `lost ${result.lost}, duplicates dropped by dedupe ${result.duplicates}`,
      );
      expect(result.missing).toEqual([]);
      expect(result.acked).toBeGreaterThan(KILLS * 100);
    } finally {
      await Promise.all(agents.map((agent) => agent.stop()));
      await broker?.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // The project's e2e timeout (180 s) would cut the 5-minute outage short.
  it(
    `loses nothing while InfluxDB is down for ${OUTAGE_S} s under load, and drains the backlog`,
    {
      timeout: (OUTAGE_S + 150) * 1000,
    },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'vigil-outage-'));
      const database = 'vigil_outage';
      const agents: LoadAgent[] = [];
      let broker: BrokerProcess | null = null;
      try {
        const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
        const config = await writeBrokerConfig(dataDir, {
          mqtt: { host: '127.0.0.1', port: mqttPort },
          http: { host: '127.0.0.1', port: httpPort },
          influx: { url: influx.url, database },
        });
        const credentials = await addAgents(dataDir, 'outage-site', ['gw-01', 'gw-02']);
        broker = await startBrokerProcess(config);
        agents.push(...startLoad(mqttPort, credentials, Date.now() - 7_200_000));
        const figures = async () =>
          (await (await fetch(`http://127.0.0.1:${httpPort}/api/broker`)).json()) as {
            journal: { depth: number };
            metricsWriter: { buffered: number; failedWrites: number };
          };
        await sleep(1000);
        await influx.halt();
        const downAt = Date.now();
        let peak = 0;
        while (Date.now() - downAt < OUTAGE_S * 1000) {
          await sleep(500);
          peak = Math.max(peak, (await figures()).journal.depth);
        }
        await influx.resume();
        const upAt = Date.now();
        await Promise.all(agents.map((agent) => agent.drain(20_000)));
        let drainedAt = Date.now();
        for (;;) {
          const now = await figures();
          if (now.journal.depth === 0) {
            drainedAt = Date.now();
            break;
          }
          if (Date.now() - upAt > 120_000)
            throw new Error(`the backlog did not drain: ${JSON.stringify(now)}`);
          await sleep(200);
        }
        const failedWrites = (await figures()).metricsWriter.failedWrites;
        await broker.kill('SIGTERM');
        broker = null;
        const result = await tally(influx, database, agents, dataDir);
        console.log(
          `InfluxDB outage: ${OUTAGE_S} s down under ${agents.length * RATE} readings/s: journal peak ${peak} messages, ` +
            `drained ${((drainedAt - upAt) / 1000).toFixed(1)} s after InfluxDB came back, ${failedWrites} failed writes retried; ` +
            `acknowledged ${result.acked}, in InfluxDB ${result.stored}, lost ${result.lost}`,
        );
        expect(result.missing).toEqual([]);
        expect(peak).toBeGreaterThan(0);
      } finally {
        await Promise.all(agents.map((agent) => agent.stop()));
        await broker?.kill('SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
