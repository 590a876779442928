/**
 * Agents follow the leader of an active/standby pair (issue 17 parts 3 and 4): two real
 * brokers (in-process, startBroker) on one real PostgreSQL 15, over TCP, with a real
 * mqtt.js client and the agent's real uplink (agent/uplink.ts) holding both URLs.
 *
 * - A standby refuses CONNECT with CONNACK 3, server unavailable (MQTT 3.1.1 section
 *   3.2.2.3), before it checks the password (no scrypt spent on a fleet asking every few
 *   seconds), without an audit row (nobody did anything wrong).
 * - An agent given [standby, leader] passes over the standby and stays with the leader.
 * - A leader that loses its lease closes its clients' connections within one renewal
 *   period, and the agent finds the node that leads next; what it spooled meanwhile is
 *   acknowledged there.
 *
 * The lease's ttl is 2 s here (10 s in production).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../../agent/log.js';
import { Secret } from '../../../../agent/secret.js';
import { MemorySpool } from '../../../../agent/spool/memory.js';
import { Uplink } from '../../../../agent/uplink.js';
import type { RunningBroker } from '../../../../broker/app.js';
import { AgentAccountError } from '../../../../broker/agents/store.js';
import type { Log } from '../../../../broker/log.js';
import { startTestBroker } from '../../../helpers/broker.js';
import { connackOf } from '../../../helpers/connack.js';
import { eventually } from '../../../helpers/eventually.js';
import { postgresPerFile } from '../../../helpers/postgres-per-file.js';

const TTL_MS = 2_000;
const SITE = 'site-ha';

const pg = postgresPerFile();

const running: RunningBroker[] = [];
let uplink: Uplink | null = null;
afterEach(async () => {
  await uplink?.stop(500);
  uplink = null;
  for (const broker of running.splice(0)) await broker.stop();
  await pg.admin.query('DROP TABLE IF EXISTS vigil_leader');
});

/** A broker's lines, kept for the assertions. */
function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const keep = (line: string) => void lines.push(line);
  return { lines, info: keep, warn: keep, error: keep };
}

async function node(log: Log = memoryLog()): Promise<RunningBroker> {
  const broker = await startTestBroker({
    settings: { database: { url: pg.server.url } },
    leaseTtlMs: TTL_MS,
    log,
  });
  running.push(broker);
  return broker;
}

/**
 * The same account on every node: added once through the leader where the accounts are
 * in PostgreSQL (shared, and a standby writes nothing), once per node where they are in
 * each node's SQLite.
 */
async function account(nodes: RunningBroker[], name: string, password: string) {
  for (const broker of nodes) {
    try {
      await broker.agents.add(SITE, name, password);
    } catch (error) {
      const known = error instanceof AgentAccountError; // already added through the leader
      const standby = (error as Error).name === 'NotLeaderWriteError';
      if (!known && !standby) throw error;
    }
  }
  return { username: `${SITE}.${name}`, password };
}

function startUplink(urls: string[], credentials: { username: string; password: string }) {
  const log = new MemoryLogger();
  const spool = new MemorySpool();
  const up = new Uplink({
    siteId: SITE,
    agentId: credentials.username.slice(SITE.length + 1),
    mqtt: {
      url: urls[0]!,
      urls,
      username: credentials.username,
      password: new Secret(credentials.password),
    },
    log,
    spool,
    reconnect: { minMs: 100, maxMs: 400 },
    birth: () => ({
      state: 'online',
      version: '0',
      startedAt: new Date(0).toISOString(),
      hostname: 'gw',
      devices: [],
    }),
  });
  up.start();
  uplink = up;
  return { up, log, spool };
}

describe('agents follow the leader of a pair', () => {
  it('a standby refuses CONNECT with CONNACK 3 before the password is checked', async () => {
    const a = await node();
    await eventually('A leads and serves', () => a.leadership?.serving);
    const b = await node();
    expect(b.leadership?.isLeader).toBe(false);
    const agent = await account([a, b], 'gw-1', 'agent-password-1');

    expect(await connackOf(a.mqttUrl, agent)).toBe(0);
    expect(await connackOf(b.mqttUrl, agent)).toBe(3);
    // A wrong password gets the same answer: the standby never looked at it.
    expect(await connackOf(b.mqttUrl, { ...agent, password: 'wrong' })).toBe(3);
    expect(b.mqtt.stats).toMatchObject({ refusedUnavailable: 2, refusedConnections: 0 });
    expect(b.audit.refused.connect).toBe(0);
    // On the leader a wrong password is still refused as such (4), and audited.
    expect(await connackOf(a.mqttUrl, { ...agent, password: 'wrong' })).toBe(4);
  });

  it('a leader that loses its lease sends its agents to the next leader', async () => {
    const logA = memoryLog();
    const a = await node(logA);
    await eventually('A leads and serves', () => a.leadership?.serving);
    const b = await node();
    const agent = await account([a, b], 'gw-2', 'agent-password-2');

    // The standby first in the list: the agent passes over it and stays with the leader.
    const { up, log, spool } = startUplink([b.mqttUrl, a.mqttUrl], agent);
    await eventually('the agent is connected to A', () => up.connected);
    expect(up.broker).toBe(a.mqttUrl);
    expect(log.text()).toMatch(/does not serve now \(server unavailable: a standby node\?\)/);
    const reading = (n: number) =>
      up.publishDeviceMetrics('cam-1', {
        deviceId: 'cam-1',
        kind: 'camera',
        values: { up: true, responseMs: n },
      });
    for (let n = 0; n < 5; n++) expect(reading(n)).toBe(true);
    await eventually('A acknowledged', () => spool.stats().depth === 0);

    // Another holder takes the lease row for 1.5 s (as a node elected while A could not
    // renew would): A's next renewal sees it, A steps down and closes its connections.
    const takenAt = Date.now();
    await pg.admin.query(
      `UPDATE vigil_leader SET holder = 'elsewhere', token = token + 1,
       expires_at = now() + interval '1500 milliseconds'`,
    );
    await eventually('A closed the agent', () => !up.connected, TTL_MS);
    expect(Date.now() - takenAt).toBeLessThan(TTL_MS / 3 + 1_000);
    expect(logA.lines.join('\n')).toMatch(
      /closed 1 client connections: this node no longer leads \(taken\)/,
    );
    // Its last will is not published on the deposed node: the agent is alive.
    expect(logA.lines.join('\n')).not.toMatch(/cannot take a message/);
    for (let n = 5; n < 10; n++) expect(reading(n)).toBe(true);

    // Whichever node claims the row once it runs out leads; the agent finds it.
    const leader = await eventually(
      'a node leads again',
      () => [a, b].find((broker) => broker.leadership?.serving),
      TTL_MS * 4,
    );
    await eventually('the agent is on the new leader', () => up.connected, TTL_MS * 3);
    expect(up.broker).toBe(leader.mqttUrl);
    await eventually('everything spooled is acknowledged', () => spool.stats().depth === 0);
    const other = leader === a ? b : a;
    expect(await connackOf(other.mqttUrl, agent)).toBe(3);
  });
});
