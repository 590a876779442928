/**
 * The journal in PostgreSQL outlives the machine (issue 17 part 2), proved with real
 * processes: agents (mqtt.js) publish readings at QoS 1 to a broker whose journal is in a
 * real PostgreSQL 15; the broker is killed with SIGKILL and its data folder deleted (the
 * whole node lost, its disk included); a fresh broker with another folder, on the same
 * PostgreSQL and InfluxDB, takes the lease over once the dead one's ran out, replays what
 * was acknowledged and not yet stored, and every reading an agent saw acknowledged is in
 * InfluxDB, checked one by one (lost: 0).
 *
 * The agents' accounts are in the same PostgreSQL (broker/sql/), so the second node, with
 * an empty folder of its own, knows them as the first did.
 *
 * Scale by env: VIGIL_E2E_AGENTS (default 3), VIGIL_E2E_RATE (readings per second per
 * agent, default 100).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
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
import { eventually } from '../helpers/eventually.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import { freePorts } from '../helpers/ports.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { built, influxd, skipReason, titled } from '../helpers/requires.js';
import { apiRoutes } from '../../shared/api/routes.js';

const AGENTS = Number(process.env.VIGIL_E2E_AGENTS ?? 3);
const RATE = Number(process.env.VIGIL_E2E_RATE ?? 100);
const DATABASE = 'vigil_pg_crash';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const missing = skipReason(influxd) ?? skipReason(built);
const title = titled(
  'journal in PostgreSQL (real broker processes, PostgreSQL, InfluxDB)',
  missing,
);

describe.skipIf(missing)(title, () => {
  let influx: RunningInfluxd;
  let postgres: RunningPostgres;
  beforeAll(async () => {
    [influx, postgres] = await Promise.all([startInfluxd(), startPostgres()]);
  });
  afterAll(async () => {
    await influx?.stop();
    await postgres?.stop();
  });

  it('loses no acknowledged reading when the leader dies with its disk', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vigil-pg-crash-'));
    const agents: LoadAgent[] = [];
    let broker: BrokerProcess | null = null;
    try {
      const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
      const settings = {
        mqtt: { host: '127.0.0.1', port: mqttPort },
        http: { host: '127.0.0.1', port: httpPort },
        influx: { url: influx.url, database: DATABASE },
        // journal.store is postgres by default with a database.
        database: { url: postgres.url },
      };
      const first = join(root, 'node-a');
      const second = join(root, 'node-b');
      await mkdir(first);
      await mkdir(second);
      const names = Array.from({ length: AGENTS }, (_, i) => `gw-${i + 1}`);
      // The accounts are in PostgreSQL with the journal: the second node reads the same.
      const credentials = await addAgents(first, 'pg-crash', names, settings.database);

      const leads = async () => {
        const response = await fetch(`http://127.0.0.1:${httpPort}${apiRoutes.healthLeader}`);
        return response.status === 200;
      };
      broker = await startBrokerProcess(await writeBrokerConfig(first, settings));
      await eventually('node A leads', leads);
      const t0 = Date.now() - 3_600_000;
      for (const [i, agent] of credentials.entries()) {
        const load = new LoadAgent(
          `mqtt://127.0.0.1:${mqttPort}`,
          agent,
          t0 + i * 10_000_000,
          10,
          RATE / 100,
        );
        load.start();
        agents.push(load);
      }
      await sleep(3_000);
      const ackedBefore = agents.reduce((sum, agent) => sum + agent.acked.size, 0);
      expect(ackedBefore).toBeGreaterThan(0);

      // The whole node goes: the process without a chance to flush, and its disk.
      await broker.kill('SIGKILL');
      broker = null;
      await rm(first, { recursive: true, force: true });

      // A fresh node on the same PostgreSQL: a standby until the dead one's lease ran out
      // (10 s), then it leads and replays. The agents reconnect by themselves.
      const killedAt = Date.now();
      broker = await startBrokerProcess(await writeBrokerConfig(second, settings));
      await eventually('node B leads', leads, 30_000);
      const takeoverS = (Date.now() - killedAt) / 1000;
      await sleep(2_000);
      // Readings sent into a closed connection may never be acknowledged: not waited for
      // one by one (never acknowledged, never promised).
      await Promise.all(agents.map((agent) => agent.drain(10_000)));

      // Every acknowledged reading in InfluxDB, one by one.
      let lost: string[] = [];
      await eventually(
        'every acknowledged reading in InfluxDB',
        async () => {
          lost = [];
          for (const agent of agents) {
            const found = await seqsInInflux(influx.url, DATABASE, agent);
            for (const seq of agent.acked)
              if (!found.has(seq)) lost.push(`${agent.deviceId}#${seq}`);
          }
          return lost.length === 0;
        },
        30_000,
      ).catch(() => undefined);
      const sent = agents.reduce((sum, agent) => sum + agent.sent, 0);
      const acked = agents.reduce((sum, agent) => sum + agent.acked.size, 0);
      console.log(
        `journal in PostgreSQL, node lost with its disk: sent ${sent}, acknowledged ${acked} (${ackedBefore} before the kill), lost ${lost.length}; node B led ${takeoverS.toFixed(1)} s after the kill`,
      );
      expect(lost.slice(0, 20)).toEqual([]);
      expect(acked).toBeGreaterThan(ackedBefore);
    } finally {
      for (const agent of agents) await agent.stop();
      await broker?.kill('SIGTERM');
      await rm(root, { recursive: true, force: true });
    }
  });
});
