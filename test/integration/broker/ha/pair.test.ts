/**
 * Two real brokers (in-process, startBroker) on one real PostgreSQL 15, the journal in
 * it (journal.store: postgres, the default with database.url), real mqtt.js agents: one
 * node leads and acknowledges, the other stands by, refuses publishes (no PUBACK) and
 * answers 503 on /api/health/leader for the load balancer; when the leader stops, the
 * standby takes over within the lease's ttl plus one renewal and acknowledges. A broker
 * without database.url is a single node: 200. The lease's ttl is 2 s here (10 s in
 * production) to keep the file quick.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { connectAgent, startTestBroker } from '../../../helpers/broker.js';
import { connackOf } from '../../../helpers/connack.js';
import { eventually } from '../../../helpers/eventually.js';
import { postgresPerFile } from '../../../helpers/postgres-per-file.js';
import { topics } from '../../../../shared/topics.js';
import { apiRoutes } from '../../../../shared/api/routes.js';

const TTL_MS = 2_000;

const pg = postgresPerFile();

const running: RunningBroker[] = [];
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  for (const broker of running.splice(0)) await broker.stop();
});

async function node(): Promise<RunningBroker> {
  const broker = await startTestBroker({
    settings: { database: { url: pg.server.url } },
    leaseTtlMs: TTL_MS,
  });
  running.push(broker);
  return broker;
}

async function leaderAnswer(broker: RunningBroker): Promise<{ status: number; role: string }> {
  const response = await fetch(`${broker.httpUrl}${apiRoutes.healthLeader}`);
  const body = (await response.json()) as { role: string };
  return { status: response.status, role: body.role };
}

/** Publishes at QoS 1 and resolves true on PUBACK, false when refused (the connection closed). */
async function agentOn(broker: RunningBroker, name: string): Promise<MqttClient> {
  const credentials = await broker.agents.add('site-ha', name);
  const client = await connectAgent(broker, credentials);
  clients.push(client);
  return client;
}

function publish(client: MqttClient, seq: number, agentId: string): Promise<boolean> {
  const payload = JSON.stringify({
    v: 1,
    siteId: 'site-ha',
    agentId,
    seq,
    ts: new Date(Date.now() - 60_000 + seq).toISOString(),
    deviceId: 'cam-1',
    kind: 'camera',
    values: { up: true, responseMs: seq },
  });
  return new Promise((resolve) => {
    const settle = (acknowledged: boolean) => {
      clearTimeout(timer);
      client.removeListener('close', closed);
      resolve(acknowledged);
    };
    const closed = () => settle(false);
    const timer = setTimeout(closed, 3_000);
    client.once('close', closed);
    client.publish(topics.deviceMetrics('site-ha', 'cam-1'), payload, { qos: 1 }, (error) =>
      settle(!error),
    );
  });
}

describe('an active/standby pair on PostgreSQL', () => {
  it('acknowledges only on the leader, answers the load balancer, and fails over when the leader stops', async () => {
    const a = await node();
    expect(a.config.journal.store).toBe('postgres');
    await eventually('A leads', () => a.leadership?.isLeader);
    const b = await node();
    expect(b.leadership?.isLeader).toBe(false);

    expect(await leaderAnswer(a)).toEqual({ status: 200, role: 'leader' });
    expect(await leaderAnswer(b)).toEqual({ status: 503, role: 'standby' });

    const onA = await agentOn(a, 'gw-a');
    for (let seq = 1; seq <= 20; seq++) expect(await publish(onA, seq, 'gw-a')).toBe(true);
    // Committed in PostgreSQL before each PUBACK, finished once stored.
    expect(a.journal.stats).toMatchObject({ appended: 20 });
    await eventually('A finished all 20', () => a.journal.stats.depth === 0);

    // The standby refuses the CONNECT itself (CONNACK 3, server unavailable), so the agent
    // asks the next node and keeps its messages for the leader (failover-connect.test.ts).
    const gwB = await a.agents.add('site-ha', 'gw-b');
    expect(await connackOf(b.mqttUrl, gwB)).toBe(3);
    expect(b.journal.stats.appended).toBe(0);

    // The leader goes; B leads within ttl + one renewal (plus a busy machine's slack).
    const stoppedAt = Date.now();
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await eventually('B leads', () => b.leadership?.isLeader, TTL_MS * 3);
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS + TTL_MS / 3 + 1_500);
    expect(await leaderAnswer(b)).toEqual({ status: 200, role: 'leader' });
    // It takes clients once its journal started and replayed (CONNACK 3 until then).
    await eventually('B serves', () => b.leadership?.serving);
    // The journal starts (and replays) right after the election: a new agent each try, as
    // a refused one is disconnected.
    let tries = 0;
    await eventually('B acknowledges', async () => {
      const name = `gw-b${++tries + 1}`;
      return publish(await agentOn(b, name), 1, name);
    });
    // Ids go on after A's: one journal for the pair.
    const { rows } = await pg.admin.query<{ done: string }>('SELECT done FROM vigil_journal_state');
    expect(Number(rows[0]!.done)).toBeGreaterThanOrEqual(20);
  });

  it('is a single node without database.url: file journal, /api/health/leader 200', async () => {
    const single = await startTestBroker();
    running.push(single);
    expect(single.config.journal.store).toBe('file');
    expect(single.leadership).toBeNull();
    expect(await leaderAnswer(single)).toEqual({ status: 200, role: 'single' });
  });
});
