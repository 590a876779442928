/**
 * The pair fails over by itself, proved with real processes (issue 17 parts 3 and 4): two
 * broker nodes (dist/, `vigil broker`) on one real PostgreSQL 15 and one real InfluxDB,
 * the production lease (ttl 10 s); agents running the agent's real uplink
 * (agent/uplink.ts) with both nodes' URLs publish about 1,000 readings a second in total
 * at QoS 1. The leader is killed with SIGKILL twice; each time the other node takes over
 * and the killed one starts again as the standby.
 *
 * - lost 0: every reading an agent saw acknowledged is in InfluxDB, looked up one by one;
 * - takeover, from the kill to each agent's first PUBACK from the new leader: p50 and p95
 *   printed, p95 at most 15 s (the issue's goal).
 *
 * Not yet here (issue 17 part 1 is moving the tickets to PostgreSQL): no duplicate
 * tickets and a camera failing during a takeover still getting its ticket. The run keeps
 * the nodes and agents in `afterTakeovers` so those assertions can be added there.
 *
 * Scale by env: VIGIL_E2E_AGENTS (default 8), VIGIL_E2E_RATE (readings per second in
 * total, default 1000), VIGIL_E2E_KILLS (default 2). `npm run soak:failover` runs the same
 * with 10 kills (bench/soak-failover.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { addAgents } from '../helpers/broker-process.js';
import {
  killLeader,
  lostReadings,
  PairAgent,
  PairNode,
  quantile,
  type Takeover,
} from '../helpers/failover-pair.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { built, influxd, skipReason, titled } from '../helpers/requires.js';

const AGENTS = Number(process.env.VIGIL_E2E_AGENTS ?? 8);
const RATE = Number(process.env.VIGIL_E2E_RATE ?? 1000);
const KILLS = Number(process.env.VIGIL_E2E_KILLS ?? 2);
const DATABASE = 'vigil_failover';
/** The goal: a standby takes over within 15 s. */
const TAKEOVER_GOAL_S = 15;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const began = Date.now();
/** Where the run is, with the seconds since it began: a slow or stuck step shows in the log. */
const step = (what: string) =>
  console.log(`failover +${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);

const missing = skipReason(influxd) ?? skipReason(built);
const title = titled(
  'failover of the pair (real broker processes, PostgreSQL, InfluxDB, agents)',
  missing,
);

describe.skipIf(missing)(title, () => {
  let influx: RunningInfluxd;
  let postgres: RunningPostgres;
  beforeAll(async () => {
    [influx, postgres] = await Promise.all([startInfluxd(), startPostgres()]);
  });
  // Also after a test that timed out, whose own finally may not have run yet.
  const nodes: PairNode[] = [];
  const agents: PairAgent[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    for (const node of nodes.splice(0)) await node.kill('SIGKILL');
  });
  afterAll(async () => {
    await influx?.stop();
    await postgres?.stop();
  });

  it(`loses no acknowledged reading when the leader is killed ${KILLS} times, and the standby takes over within ${TAKEOVER_GOAL_S} s`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'vigil-failover-'));
    const settings = {
      postgresUrl: postgres.url,
      influxUrl: influx.url,
      influxDatabase: DATABASE,
    };
    const pair: [PairNode, PairNode] = [
      await PairNode.create(root, 'node-a', settings),
      await PairNode.create(root, 'node-b', settings),
    ];
    nodes.push(...pair);
    try {
      const names = Array.from({ length: AGENTS }, (_, i) => `gw-${i + 1}`);
      // A first, so it leads; then B, the standby, while the accounts are made.
      step('starting node A');
      await pair[0].start();
      await eventually('node A leads', () => pair[0].leads());
      step('node A leads; starting node B and adding the agents');
      const [credentials] = await Promise.all([
        addAgents(pair[0].dir, 'failover', names, { url: postgres.url }),
        pair[1].start(),
      ]);

      const t0 = Date.now() - 3_600_000;
      const urls = pair.map((node) => node.mqttUrl);
      for (const [i, account] of credentials.entries()) {
        // Half the agents list B first: each passes over the standby to the leader.
        const agent = new PairAgent(account, i % 2 ? [...urls].reverse() : urls, t0);
        agent.start(RATE / AGENTS);
        agents.push(agent);
      }
      step('agents started');
      await eventually('every agent acknowledged', () =>
        agents.every((agent) => agent.acknowledged().length > 0),
      );
      step('every agent acknowledged');
      await sleep(2_000);

      const takeovers: Takeover[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        step(`kill ${kill + 1}`);
        takeovers.push(
          await killLeader(pair, agents, { takeoverLimitMs: 40_000, settleMs: 1_000 }),
        );
      }
      // afterTakeovers: the tickets' assertions go here once they are in PostgreSQL.

      // Readings sent into a connection that died may never be acknowledged: they are not
      // promised. Whatever was acknowledged must be stored.
      step('draining');
      await Promise.all(agents.map((agent) => agent.drain(20_000)));
      step('counting');
      let lost: string[] = [];
      await eventually(
        'every acknowledged reading in InfluxDB',
        async () => {
          lost = await lostReadings(influx.url, DATABASE, agents);
          return lost.length === 0;
        },
        30_000,
      ).catch(() => undefined);

      const sent = agents.reduce((sum, agent) => sum + agent.readings.length, 0);
      const acked = agents.reduce((sum, agent) => sum + agent.acknowledged().length, 0);
      const times = takeovers.flatMap((t) => t.agentsS.map((s) => s ?? Infinity));
      const p50 = quantile(times, 0.5);
      const p95 = quantile(times, 0.95);
      console.log(
        [
          `failover: ${KILLS} SIGKILLs of the leader, ${AGENTS} agents at ${RATE} readings/s in total`,
          ...takeovers.map(
            (t, i) =>
              `  kill ${i + 1} (${t.killed}): other node elected after ${t.electedS?.toFixed(1) ?? 'never'} s, serving after ${t.servingS?.toFixed(1) ?? 'never'} s; first PUBACK per agent after ${t.agentsS.map((s) => s?.toFixed(1) ?? 'never').join(', ')} s`,
          ),
          `  takeover to each agent's first PUBACK: p50 ${p50.toFixed(1)} s, p95 ${p95.toFixed(1)} s (goal ${TAKEOVER_GOAL_S} s)`,
          `  readings sent ${sent}, acknowledged ${acked}, lost ${lost.length}`,
        ].join('\n'),
      );
      expect(lost.slice(0, 20)).toEqual([]);
      expect(times.every(Number.isFinite)).toBe(true);
      expect(p95).toBeLessThanOrEqual(TAKEOVER_GOAL_S);
      // Every agent got through after the last takeover: acknowledged at the end.
      expect(agents.map((agent) => agent.waiting)).toEqual(agents.map(() => 0));
    } catch (error) {
      for (const node of pair) console.log(`--- ${node.name}\n${node.output().slice(-4000)}`);
      // The uplink's own account of the takeover (seconds since the run began).
      console.log(`--- agent ${agents[0]?.credentials.agentId}\n${agents[0]?.log.text() ?? ''}`);
      throw error;
    } finally {
      await Promise.all(agents.splice(0).map((agent) => agent.stop()));
      for (const node of nodes.splice(0)) await node.kill('SIGTERM');
      await rm(root, { recursive: true, force: true });
    }
    // About 80 s on 2 idle cores; room for a machine busy with other work.
  }, 300_000);
});
