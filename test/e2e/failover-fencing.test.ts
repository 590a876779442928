/**
 * A leader that lost its lease is fenced (issue 17 part 3), proved with real processes:
 * two broker nodes (dist/) on one real PostgreSQL 15 and InfluxDB, agents on the agent's
 * real uplink with both URLs. Node A, the leader, reaches PostgreSQL through a TCP proxy
 * of the test's own (test/helpers/tcp-proxy.ts); node B directly.
 *
 * - Frozen: A is stopped with SIGSTOP until B took over, then continued with SIGCONT.
 * - Cut off: A's path to PostgreSQL is blackholed (packets dropped, nothing reset) until
 *   B took over, then healed.
 *
 * In both: every reading an agent saw acknowledged is in InfluxDB (lost 0); A's PUBACKs
 * stop (none later than a second after it was continued, or after the cut); and A writes
 * nothing behind B. That last one is read from PostgreSQL itself: a trigger on the
 * journal's tables records, for every row written, the lease's token at that moment and
 * the session's client port, and the proxy knows which ports are A's. Every row A wrote
 * was written under A's own token; none under B's.
 *
 * Tickets (no duplicate, none lost across the fence) are for when the tickets are in
 * PostgreSQL (issue 17 part 1): the same trigger can be put on their table then.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../broker/ha/pg.js';
import { addAgents } from '../helpers/broker-process.js';
import { eventually } from '../helpers/eventually.js';
import { lostReadings, PairAgent, PairNode } from '../helpers/failover-pair.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { built, influxd, skipReason, titled } from '../helpers/requires.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const AGENTS = 4;
const RATE = 400;
const REPLAYED = 'leads: the journal in PostgreSQL replays';

/** Every row written to the journal's tables, with the lease's token and the writer's port. */
const AUDIT_SQL = `
CREATE TABLE fence_audit (tbl text, op text, client_port int, token bigint,
                          at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION fence_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fence_audit (tbl, op, client_port, token)
  VALUES (TG_TABLE_NAME, TG_OP, inet_client_port(),
          (SELECT token FROM vigil_leader WHERE name = 'broker'));
  RETURN NULL;
END $$;
CREATE TRIGGER fence_audit AFTER INSERT OR UPDATE OR DELETE ON vigil_journal
  FOR EACH ROW EXECUTE FUNCTION fence_audit();
CREATE TRIGGER fence_audit AFTER INSERT OR UPDATE OR DELETE ON vigil_journal_state
  FOR EACH ROW EXECUTE FUNCTION fence_audit();`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const missing = skipReason(influxd) ?? skipReason(built);
const title = titled('fencing of a deposed leader (real broker processes, PostgreSQL)', missing);

describe.skipIf(missing)(title, () => {
  let influx: RunningInfluxd;
  let postgres: RunningPostgres;
  let admin: Database;
  beforeAll(async () => {
    [influx, postgres] = await Promise.all([startInfluxd(), startPostgres()]);
    admin = openDatabase({ url: postgres.url, passwordFile: null }, { max: 1 });
  });
  afterAll(async () => {
    await admin?.close();
    await influx?.stop();
    await postgres?.stop();
  });

  // Also after a test that timed out: a stopped process is continued before it is killed.
  const nodes: PairNode[] = [];
  const agents: PairAgent[] = [];
  const proxies: TcpProxy[] = [];
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    for (const node of nodes.splice(0)) {
      if (node.pid) process.kill(node.pid, 'SIGCONT');
      await node.kill('SIGKILL');
    }
    for (const proxy of proxies.splice(0)) await proxy.stop();
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  /**
   * A pair on a database of its own (`name`): A leads, through the proxy; B stands by;
   * agents publish to A. Returns A's token and the database's pool.
   */
  async function pair(name: string) {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = postgres.url.replace(/\/vigil$/, `/${name}`);
    const db = openDatabase({ url, passwordFile: null }, { max: 1 });
    const proxy = new TcpProxy('127.0.0.1', postgres.port);
    proxies.push(proxy);
    const proxied = url.replace(`:${postgres.port}/`, `:${await proxy.start()}/`);
    const root = await mkdtemp(join(tmpdir(), `vigil-${name}-`));
    roots.push(root);
    const settings = { postgresUrl: url, influxUrl: influx.url, influxDatabase: name };
    const a = await PairNode.create(root, 'node-a', settings, proxied);
    const b = await PairNode.create(root, 'node-b', settings);
    nodes.push(a, b);
    await a.start();
    await eventually('node A leads', () => a.leads());
    await db.query(AUDIT_SQL);
    const { rows } = await db.query<{ token: string }>('SELECT token FROM vigil_leader');
    const tokenA = Number(rows[0]!.token);
    const names = Array.from({ length: AGENTS }, (_, i) => `gw-${i + 1}`);
    const site = name.replace('_', '-');
    const [credentials] = await Promise.all([addAgents(a.dir, site, names, { url }), b.start()]);
    const t0 = Date.now() - 3_600_000;
    for (const account of credentials) {
      const agent = new PairAgent(account, [a.mqttUrl, b.mqttUrl], t0);
      agent.start(RATE / AGENTS);
      agents.push(agent);
    }
    await eventually('every agent acknowledged by A', () =>
      agents.every((agent) => agent.firstAckFrom(a.mqttUrl, 0) !== null),
    );
    await sleep(2_000);
    return { a, b, db, proxy, tokenA, influxDatabase: name };
  }

  /** B took over: elected, its journal replayed, and every agent acknowledged by it. */
  async function tookOver(b: PairNode, since: number): Promise<void> {
    await eventually('B leads', () => b.leads(), 30_000);
    await eventually('B replayed the journal', () => b.output().includes(REPLAYED), 10_000);
    await eventually(
      'every agent acknowledged by B',
      () => agents.every((agent) => agent.firstAckFrom(b.mqttUrl, since) !== null),
      30_000,
    );
  }

  /** Lost 0, A's PUBACKs stopped after `stoppedAt`, and nothing A wrote under B's token. */
  async function fenced(
    what: string,
    pairing: Awaited<ReturnType<typeof pair>>,
    stoppedAt: number,
  ): Promise<void> {
    const { a, db, proxy, tokenA, influxDatabase } = pairing;
    await sleep(2_000);
    await Promise.all(agents.map((agent) => agent.drain(20_000)));
    let lost: string[] = [];
    await eventually(
      'every acknowledged reading in InfluxDB',
      async () => {
        lost = await lostReadings(influx.url, influxDatabase, agents);
        return lost.length === 0;
      },
      30_000,
    ).catch(() => undefined);
    const lateAcks = agents.reduce((sum, agent) => sum + agent.acksFrom(a.mqttUrl, stoppedAt), 0);
    const ports = [...proxy.upstreamPorts];
    const { rows } = await db.query<{ token: string; rows: string }>(
      `SELECT token, count(*) AS rows FROM fence_audit WHERE client_port = ANY($1::int[])
       GROUP BY token ORDER BY token`,
      [ports],
    );
    const byToken = Object.fromEntries(rows.map((r) => [r.token, Number(r.rows)]));
    const acked = agents.reduce((sum, agent) => sum + agent.acknowledged().length, 0);
    console.log(
      `fencing, ${what}: acknowledged ${acked}, lost ${lost.length}; PUBACKs of the old leader after it was stopped: ${lateAcks}; journal rows it wrote per lease token: ${JSON.stringify(byToken)} (its own: ${tokenA})`,
    );
    expect(lost.slice(0, 20)).toEqual([]);
    expect(lateAcks).toBe(0);
    // A wrote through the proxy while it led (the attribution works), and only then.
    expect(byToken[String(tokenA)]).toBeGreaterThan(0);
    expect(Object.keys(byToken)).toEqual([String(tokenA)]);
    expect(await a.leads()).toBe(false);
    await db.close();
  }

  it('a leader frozen with SIGSTOP acknowledges nothing and writes nothing once continued after the takeover', async () => {
    const pairing = await pair('fencing_frozen');
    const { a, b } = pairing;
    const pid = a.pid!;
    process.kill(pid, 'SIGSTOP');
    const frozenAt = performance.now();
    await eventually('B leads', () => b.leads(), 30_000);
    await eventually('B replayed the journal', () => b.output().includes(REPLAYED), 10_000);
    await sleep(1_000);
    process.kill(pid, 'SIGCONT');
    // What A sends in its first moments awake was committed before the freeze (B replays
    // it): checked by lost 0. Nothing later.
    const continuedAt = performance.now() + 1_000;
    // A deposes itself on waking and closes the agents' connections; they go to B.
    await tookOver(b, frozenAt);
    await eventually(
      'A said it no longer leads',
      () => /no longer leads \(lease broker: not renewed in time\)/.test(a.output()),
      10_000,
    );
    await fenced('frozen with SIGSTOP', pairing, continuedAt);
  }, 240_000);

  it('a leader cut off from PostgreSQL stops acknowledging and writes nothing once the link is back', async () => {
    const pairing = await pair('fencing_cut');
    const { a, b, proxy } = pairing;
    proxy.blackhole();
    const cutAt = performance.now();
    await eventually(
      'A deposed itself',
      () => /no longer leads \(lease broker: not renewed in time\)/.test(a.output()),
      15_000,
    );
    await tookOver(b, cutAt);
    proxy.heal();
    // Back on the link: what A held meanwhile reaches PostgreSQL now, and is refused there.
    await sleep(3_000);
    await fenced('cut off from PostgreSQL', pairing, cutAt + 1_000);
  }, 240_000);
});
