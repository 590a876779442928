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
 *   printed, p95 at most 15 s (the issue's goal);
 * - tickets across the takeovers, through the leaders' HTTP API: cameras fail before the
 *   first kill (their tickets open on node A), one fails during each takeover (its state
 *   waits in its agent's spool until the new leader takes it) and one between the kills
 *   (on node B, while the restarted A stands by). Each failed camera has exactly one
 *   ticket on every leader after; the one that failed during a takeover has its ticket,
 *   with the deadlines of the site's customer set on A after B had read its copies
 *   (B read them again: desk.reload); the tickets keep their id, opened time and
 *   deadlines (the clocks ran on, not again); the SLA warning due while no node led is
 *   raised once by the new leader; the devices' states on the new leader are the old
 *   one's (devices.reload), and a camera that recovers there gets its ticket resolved;
 *   a camera that failed twice on A and a third time on B gets its flapping ticket (B
 *   counted A's failures: desk.detector.reload). Before each kill the failed cameras'
 *   states are checkpointed out of the journal, so the replay cannot stand in for a
 *   store the new leader did not read again;
 * - retained statuses: a console account subscribing on the last leader is handed the
 *   failed cameras' states, also those published to the other node (the new leader
 *   retains them from the registry before it serves, broker/devices/retained.ts).
 *
 * Scale by env: VIGIL_E2E_AGENTS (default 8, at least 6), VIGIL_E2E_RATE (readings per
 * second in total, default 1000), VIGIL_E2E_KILLS (default 2). `npm run soak:failover`
 * runs the lost-0 and takeover part with 10 kills (bench/soak-failover.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../broker/ha/pg.js';
import type { Device } from '../../shared/api/devices.js';
import { apiRoutes, customerApiRoutes, sitePath } from '../../shared/api/routes.js';
import type { Ticket } from '../../shared/api/tickets.js';
import type { DeviceState } from '../../shared/messages/device-state.js';
import { filters, parseTopic, topics } from '../../shared/topics.js';
import { withAgentStore } from '../helpers/broker-process.js';
import { eventually } from '../helpers/eventually.js';
import {
  PAIR_SITE,
  runFailover,
  type FailoverRun,
  type PairAgent,
  type PairNode,
  type Takeover,
} from '../helpers/failover-pair.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { built, influxd, skipReason, titled } from '../helpers/requires.js';

const AGENTS = Number(process.env.VIGIL_E2E_AGENTS ?? 8);
const RATE = Number(process.env.VIGIL_E2E_RATE ?? 1000);
const KILLS = Number(process.env.VIGIL_E2E_KILLS ?? 2);
const DATABASE = 'vigil_failover';
/** The issue's goal: a standby takes over within 15 s. */
const TAKEOVER_GOAL_S = 15;
const MINUTE = 60_000;

/**
 * The site's customer's deadlines, for every priority: unlike the template's (10 and
 * 120 min), and set on node A after node B read its copies at its start, so a ticket B
 * opens with them shows B read them again when it took over.
 */
const TERMS = { respondMin: 1, onSiteMin: 77 };
const CUSTOMER = 'failover-logistics';
const SETTINGS = {
  // Single cameras fail here, up to four within a minute: never a site-wide event
  // (broker/detect/rules/mass-outage.ts would fold them into one site ticket).
  detect: { massMinDevices: 10 },
  // The SLA warning at 10 % of a deadline: the respond clock of 1 min warns 6 s after its
  // ticket opened. The first kill follows within a second or two (once the states are
  // out of the journal), and the other node is elected 6.7 to 10 s after it (docs/HA.md):
  // the warning falls due while no node leads.
  tickets: { warnShare: 0.1 },
};
const DOWN = [{ code: 'unreachable' as const, message: 'connect ECONNREFUSED (failover test)' }];

const began = Date.now();
/** Where the run is, with the seconds since it began: a slow or stuck step shows in the log. */
const step = (what: string) =>
  console.log(`failover +${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);

/** A camera the test made fail, and its ticket as first seen. */
interface Failed {
  camera: string;
  agent: PairAgent;
  /** When it failed, for the log: "before kill 1", "during takeover 1" ... */
  when: string;
  /** The spool seq of its down state. */
  seq: number;
  ticket: Ticket | null;
  recovered: boolean;
}

/** The tickets and device states of the run, checked through each new leader's API. */
class TicketProof {
  readonly failed: Failed[] = [];
  private token = '';

  private async request(node: PairNode, method: string, path: string, body?: unknown) {
    const response = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new Error(
        `${method} ${path} on ${node.name}: ${response.status} ${await response.text()}`,
      );
    return (await response.json()) as unknown;
  }

  async login(node: PairNode): Promise<void> {
    const { token } = (await this.request(node, 'POST', apiRoutes.login, {
      username: 'admin',
      password: 'e2e-admin-password',
    })) as { token: string };
    this.token = token;
  }

  /** The site belongs to a customer with deadlines of its own (TERMS). */
  async describeSite(node: PairNode): Promise<void> {
    const sla = { emergency: TERMS, serious: TERMS, general: TERMS };
    await this.request(node, 'POST', customerApiRoutes.list, {
      id: CUSTOMER,
      name: 'Failover Logistics',
      contract: { sla },
    });
    await this.request(node, 'PUT', sitePath(PAIR_SITE), { customerId: CUSTOMER });
  }

  async tickets(node: PairNode): Promise<Ticket[]> {
    const query = `?status=all&siteId=${PAIR_SITE}&limit=1000`;
    return (await this.request(node, 'GET', `${apiRoutes.tickets}${query}`)) as Ticket[];
  }

  async devices(node: PairNode): Promise<Device[]> {
    return (await this.request(node, 'GET', apiRoutes.devices)) as Device[];
  }

  /** The agent reports its camera down (unreachable): a device-down ticket is due. */
  fail(agent: PairAgent, when: string): Failed {
    const failed: Failed = {
      camera: agent.deviceId,
      agent,
      when,
      seq: agent.reportState(agent.deviceId, 'down', DOWN),
      ticket: null,
      recovered: false,
    };
    this.failed.push(failed);
    step(`${failed.camera} fails ${when}`);
    return failed;
  }

  /** The agent reports its camera up again: its ticket is due to resolve. */
  recover(failed: Failed): void {
    failed.agent.reportState(failed.camera, 'up');
    failed.recovered = true;
    step(`${failed.camera} recovers`);
  }

  /** Waits for the camera's ticket on `node` and checks its deadlines are the customer's. */
  async ticketOf(node: PairNode, failed: Failed): Promise<Ticket> {
    const ticket = await eventually(
      `the device-down ticket of ${failed.camera} (failed ${failed.when}) on ${node.name}`,
      async () =>
        (await this.tickets(node)).find(
          (t) => t.deviceId === failed.camera && t.fault === 'device-down',
        ),
      30_000,
    );
    const opened = Date.parse(ticket.openedAt);
    expect(
      [Date.parse(ticket.respondBy ?? '') - opened, Date.parse(ticket.onSiteBy ?? '') - opened],
      `the deadlines of ${failed.camera}'s ticket on ${node.name}: the customer's, ${TERMS.respondMin} and ${TERMS.onSiteMin} min`,
    ).toEqual([TERMS.respondMin * MINUTE, TERMS.onSiteMin * MINUTE]);
    failed.ticket ??= ticket;
    return ticket;
  }

  /**
   * On the node that leads now: one ticket per failed camera, the same one as first seen
   * (id, opened time, deadlines), resolved exactly for the recovered ones; the cameras'
   * states as they were reported, whichever node took them.
   */
  async check(node: PairNode, label: string): Promise<void> {
    const tickets = await this.tickets(node);
    const counts = this.failed.map(
      (f) => `${f.camera} ${tickets.filter((t) => t.deviceId === f.camera).length}`,
    );
    const all = tickets.map((t) => `${t.id} ${t.fault} ${t.deviceId ?? 'site'} ${t.status}`);
    step(
      `${label}: on ${node.name}, tickets per failed camera ${counts.join(', ')}; all: ${all.join('; ')}`,
    );
    for (const failed of this.failed) {
      const mine = tickets.filter((t) => t.deviceId === failed.camera);
      expect(
        mine.map((t) => t.id),
        `${failed.camera} (failed ${failed.when}): exactly one ticket on ${node.name}, ${label}`,
      ).toEqual([failed.ticket?.id]);
      const [now] = mine as [Ticket];
      const first = failed.ticket!;
      expect(now.status, `${failed.camera}'s ticket on ${node.name}, ${label}`).toBe(
        failed.recovered ? 'resolved' : 'open',
      );
      expect(
        { openedAt: now.openedAt, respondBy: now.respondBy, onSiteBy: now.onSiteBy },
        `${failed.camera}'s ticket keeps its opened time and deadlines (the clocks ran on)`,
      ).toEqual({ openedAt: first.openedAt, respondBy: first.respondBy, onSiteBy: first.onSiteBy });
      expect(
        now.sla.map((clock) => [clock.deadline, clock.due, clock.warnAt]),
        `${failed.camera}'s SLA clocks on ${node.name}`,
      ).toEqual(first.sla.map((clock) => [clock.deadline, clock.due, clock.warnAt]));
    }
    await this.checkDevices(node, label);
  }

  /** The failed cameras' states on `node`, as their agents last reported them. */
  async checkDevices(node: PairNode, label: string): Promise<void> {
    const devices = await this.devices(node);
    const states = this.failed.map((f) => [
      f.camera,
      devices.find((d) => d.siteId === PAIR_SITE && d.id === f.camera)?.status ?? 'unknown',
    ]);
    expect(states, `the failed cameras' states on ${node.name}, ${label}`).toEqual(
      this.failed.map((f) => [f.camera, f.recovered ? 'up' : 'down']),
    );
  }

  /**
   * Waits until the journal holds no state message of a failed camera any more (finished
   * and checkpointed away): a new leader's replay then carries none of them and it must
   * read them from the stores, as after a takeover long after the faults.
   */
  async settled(db: Database, label: string, others: string[] = []): Promise<void> {
    const cameras = [...this.failed.map((f) => f.camera), ...others];
    const stateTopics = cameras.map((camera) => topics.deviceState(PAIR_SITE, camera));
    await eventually(
      `the failed cameras' state messages checkpointed out of the journal (${label})`,
      async () => {
        const { rows } = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM vigil_journal WHERE topic = ANY($1)',
          [stateTopics],
        );
        return Number(rows[0]?.n) === 0;
      },
      30_000,
    );
    step(`the failed cameras' states are out of the journal (${label})`);
  }

  /** Waits for the recovered camera's ticket to be resolved on `node`, by the system. */
  async resolved(node: PairNode, failed: Failed): Promise<void> {
    const ticket = await eventually(
      `${failed.camera}'s ticket resolved on ${node.name} after it recovered`,
      async () =>
        (await this.tickets(node)).find(
          (t) => t.id === failed.ticket?.id && t.status === 'resolved',
        ),
      30_000,
    );
    expect(ticket.resolvedBy).toBe('system');
    step(`${failed.camera}'s ticket ${ticket.id} resolved on ${node.name}`);
  }

  /**
   * The respond clocks of the tickets opened before the first kill fell due for their
   * warning while no node led: the new leader raises each once (one timeline entry).
   */
  async warnedOnce(node: PairNode, takeover: Takeover, opened: Failed[]): Promise<void> {
    const electedAtMs = takeover.killedAtMs + (takeover.electedS ?? 0) * 1000;
    for (const failed of opened) {
      const warnAt = Date.parse(failed.ticket!.sla.find((c) => c.deadline === 'respond')!.warnAt);
      step(
        `${failed.camera}: respond warning due ${((warnAt - takeover.killedAtMs) / 1000).toFixed(1)} s after the kill, the other node elected after ${takeover.electedS?.toFixed(1)} s`,
      );
      expect(
        warnAt > takeover.killedAtMs && warnAt < electedAtMs,
        `the respond warning of ${failed.camera} falls due while no node leads (the test's timing)`,
      ).toBe(true);
      const ticket = await eventually(
        `the respond warning of ${failed.camera} raised on ${node.name}`,
        async () =>
          (await this.tickets(node)).find(
            (t) =>
              t.id === failed.ticket!.id &&
              t.sla.find((c) => c.deadline === 'respond')?.warnedAt !== null,
          ),
        30_000,
      );
      const warnedAt = ticket.sla.find((c) => c.deadline === 'respond')!.warnedAt!;
      expect(Date.parse(warnedAt)).toBeGreaterThanOrEqual(warnAt);
      expect(
        ticket.timeline.filter((entry) => entry.kind === 'sla-warning'),
        `${failed.camera}: one respond warning`,
      ).toHaveLength(1);
    }
  }
}

/**
 * A console account (it may read the topic tree, broker/mqtt/roles.ts) subscribed to the
 * site's device states on `node`: the retained ones it is handed, by device.
 */
async function watchStates(
  postgresUrl: string,
  dir: string,
  node: PairNode,
): Promise<{ states: Map<string, DeviceState>; end: () => Promise<void> }> {
  const account = await withAgentStore(dir, { url: postgresUrl }, (store) =>
    store.addClient('console', 'failover-watch'),
  );
  const client: MqttClient = await connectAsync(node.mqttUrl, {
    username: account.username,
    password: account.password,
    clientId: 'failover-watch',
    reconnectPeriod: 0,
  });
  const states = new Map<string, DeviceState>();
  client.on('message', (topic, payload, packet) => {
    if (!packet.retain || parseTopic(topic)?.kind !== 'deviceState') return;
    const state = JSON.parse(payload.toString()) as DeviceState;
    states.set(state.deviceId, state);
  });
  await client.subscribeAsync(filters.site(PAIR_SITE), { qos: 1 });
  return { states, end: () => client.endAsync() };
}

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

  it(`loses no acknowledged reading and no ticket when the leader is killed ${KILLS} times, and the standby takes over within ${TAKEOVER_GOAL_S} s`, async () => {
    if (AGENTS < 6)
      throw new Error(`VIGIL_E2E_AGENTS=${AGENTS}: the tickets' proof needs 6 agents`);
    const root = await mkdtemp(join(tmpdir(), 'vigil-failover-'));
    const proof = new TicketProof();
    // The pair's own database, read by the test: the journal's rows.
    const db = openDatabase({ url: postgres.url, passwordFile: null }, { max: 1 });
    /** The cameras that failed before the first kill: their warnings fall due in takeover 1. */
    let opened: Failed[] = [];
    let between: Failed | null = null;
    /** The camera that fails twice before the first kill and once after it. */
    let flappy: PairAgent | null = null;
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
        extra: SETTINGS,
        step,
        track: { nodes, agents },
        // A leads, B stands by with its copies read: the customer and two failures on A.
        beforeKills: async ([a], pairAgents) => {
          await proof.login(a);
          await proof.describeSite(a);
          opened = [
            proof.fail(pairAgents[0]!, 'before kill 1'),
            proof.fail(pairAgents[1]!, 'before kill 1'),
          ];
          for (const failed of opened) await proof.ticketOf(a, failed);
          // A camera failing often: twice on A; its third failure, on B, makes it
          // flapping only if B read A's count again (desk.detector.reload).
          const often = (flappy = pairAgents[5]!);
          for (const status of ['down', 'up', 'down', 'up'] as const)
            often.reportState(often.deviceId, status, status === 'down' ? DOWN : []);
          step(`${often.deviceId} fails twice and recovers on ${a.name}`);
          await proof.settled(db, 'before kill 1', [often.deviceId]);
          step(
            `tickets ${opened.map((f) => `${f.ticket!.id} (${f.camera})`).join(', ')} open on ${a.name}`,
          );
        },
        // While no node leads: the state waits in the agent's spool for the new leader.
        duringTakeover: async (kill, next, pairAgents) => {
          const agent = pairAgents[2 + 2 * kill];
          if (!agent) return;
          const leadsAlready = await next.leads();
          proof.fail(agent, `during takeover ${kill + 1}`);
          expect(leadsAlready, `${next.name} led already when the camera failed`).toBe(false);
        },
        afterTakeover: async (kill, takeover, pairAgents) => {
          const node = takeover.next;
          const during = proof.failed.find((f) => f.when === `during takeover ${kill + 1}`);
          if (during) {
            await proof.ticketOf(node, during);
            expect(
              during.agent.acknowledgedBy(during.seq),
              `who took ${during.camera}'s state`,
            ).toBe(node.mqttUrl);
            step(`${during.camera}: ticket ${during.ticket!.id} opened on ${node.name}`);
          }
          if (kill === 0) {
            await proof.warnedOnce(node, takeover, opened);
            const often = flappy!;
            often.reportState(often.deviceId, 'down', DOWN);
            const flapping = await eventually(
              `a flapping ticket for ${often.deviceId} on ${node.name} (its third failure within the flapping window, two of them on the old leader)`,
              async () =>
                (await proof.tickets(node)).find(
                  (t) => t.deviceId === often.deviceId && t.fault === 'flapping',
                ),
              15_000,
            );
            step(`${often.deviceId}: flapping ticket ${flapping.id} opened on ${node.name}`);
          }
          await proof.check(node, `after takeover ${kill + 1}`);
          if (kill !== 0) return;
          // On B, while the restarted A stands by with its copies read: one camera back,
          // another fails; A must read both again when it takes over.
          proof.recover(opened[0]!);
          await proof.resolved(node, opened[0]!);
          between = proof.fail(pairAgents[3]!, `between kills 1 and 2 (on ${node.name})`);
          await proof.ticketOf(node, between);
          await proof.settled(db, 'before kill 2');
        },
        afterTakeovers: async (pairNodes) => {
          const leads = await Promise.all(pairNodes.map((node) => node.leads()));
          const leader = pairNodes[leads.indexOf(true)];
          if (!leader) throw new Error('no node leads after the takeovers');
          await proof.check(leader, 'after the takeovers');
          if (between) {
            proof.recover(between);
            await proof.resolved(leader, between);
          }
          // Retained statuses: handed to a subscriber on the last leader, also those of
          // the cameras whose states went to the other node.
          const watch = await watchStates(postgres.url, pairNodes[0].dir, leader);
          const got = () =>
            proof.failed.map((f) => [f.camera, watch.states.get(f.camera)?.status ?? 'none']);
          const want = proof.failed.map((f) => [f.camera, f.recovered ? 'up' : 'down']);
          try {
            await eventually(
              `the failed cameras' retained states from ${leader.name}: ${JSON.stringify(want)}`,
              () => JSON.stringify(got()) === JSON.stringify(want),
              10_000,
            );
          } catch (error) {
            throw new Error(`${String(error)}; got ${JSON.stringify(got())}`);
          } finally {
            await watch.end();
          }
          step(
            `retained states on ${leader.name}: ${got()
              .map((pair) => pair.join(' '))
              .join(', ')}`,
          );
        },
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
      await db.close();
      await rm(root, { recursive: true, force: true });
    }
    // 53 to 77 s on 2 shared cores, the tickets' proof included; room for a busy machine.
  }, 300_000);
});
