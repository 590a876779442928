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
import {
  runFailover,
  type FailoverRun,
  type PairAgent,
  type PairNode,
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
    let run: FailoverRun | null = null;
    try {
      run = await runFailover({
        postgresUrl: postgres.url,
        influxUrl: influx.url,
        influxDatabase: DATABASE,
        root,
        agents: AGENTS,
        rate: RATE,
        kills: KILLS,
        step,
        track: { nodes, agents },
        // The tickets' assertions (no duplicate, none lost) go here once the tickets are
        // in PostgreSQL (issue 17 part 1).
        afterTakeovers: async () => {},
      });
      console.log(`${run.report}\n  goal: p95 at most ${TAKEOVER_GOAL_S} s`);
      expect(run.lost.slice(0, 20)).toEqual([]);
      expect(run.times.every(Number.isFinite)).toBe(true);
      expect(run.p95).toBeLessThanOrEqual(TAKEOVER_GOAL_S);
      // Every agent got through after the last takeover: nothing waits at the end.
      expect(run.waiting).toEqual(run.agents.map(() => 0));
    } catch (error) {
      if (run) console.log(run.report);
      for (const node of nodes) console.log(`--- ${node.name}\n${node.output().slice(-4000)}`);
      // The uplink's own account of the takeovers (performance.now() seconds).
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
