/**
 * `npm run bench:notify`: how soon an opened ticket reaches its people. Measured per
 * ticket: from its opening (the ticket's `openedAt`) to the moment the channel accepted
 * the message that carries it; a ticket inside a digest counts when its digest was
 * accepted. The channel is a DingTalk group robot (test/standins/dingtalk.ts: the
 * signature, the mention and the limit of 20 messages a minute, past which it blocks the
 * robot for 10 minutes, checked as DingTalk documents them), reached through the whole
 * path of issue 15: escalation policy (the contract's defaults), on-call directory, durable
 * outbox with its rate limit and digests, the DingTalk driver.
 *
 * Peer, in the same broker and the same run: the plain signed webhook
 * (broker/notify/webhook.ts) of every ticket event to a receiver that checks its
 * signature (test/standins/webhook.ts): the path that existed before issue 15, with no
 * database row, no directory, no rate limit.
 *
 * Two loads, each on its own site, team and robot so one does not fill the other's
 * minute: `alone`, tickets far enough apart for the robot's limit (one per
 * VIGIL_BENCH_NOTIFY_GAP_MS); `burst`, VIGIL_BENCH_NOTIFY_BURST tickets spread over
 * VIGIL_BENCH_NOTIFY_BURST_S seconds (40 in 60 s: twice what a robot takes in a minute).
 * Tickets open in this process through the ticket desk (broker.tickets.apply), as
 * detection opens them; the broker runs in this process with a real SQLite file.
 *
 * Goal (issue 15): p95 at most 5 s, alone and under the burst. PASS/FAIL per load; a
 * ticket never carried within VIGIL_BENCH_NOTIFY_WAIT_S counts as infinitely late; exit
 * code 1 if a goal fails or the robot refused or blocked.
 *   VIGIL_BENCH_NOTIFY_ALONE=15 VIGIL_BENCH_NOTIFY_GAP_MS=4000
 *   VIGIL_BENCH_NOTIFY_BURST=40 VIGIL_BENCH_NOTIFY_BURST_S=60 VIGIL_BENCH_NOTIFY_WAIT_S=120
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../broker/app.js';
import { resolveConfig } from '../broker/config.js';
import { deviceDown } from '../broker/detect/rules/device-down.js';
import { deviceExample, type Device } from '../shared/api/devices.js';
import { oncallApiRoutes, oncallPath } from '../shared/api/oncall.js';
import { sitePath } from '../shared/api/sites.js';
import type { Ticket } from '../shared/api/tickets.js';
import { DingTalkStandin } from '../test/standins/dingtalk.js';
import type { Answer, Seen } from '../test/standins/server.js';
import { WebhookStandin } from '../test/standins/webhook.js';
import { percentile } from './processes.js';

const ALONE = Number(process.env.VIGIL_BENCH_NOTIFY_ALONE ?? 15);
const GAP_MS = Number(process.env.VIGIL_BENCH_NOTIFY_GAP_MS ?? 4000);
const BURST = Number(process.env.VIGIL_BENCH_NOTIFY_BURST ?? 40);
const BURST_S = Number(process.env.VIGIL_BENCH_NOTIFY_BURST_S ?? 60);
const WAIT_S = Number(process.env.VIGIL_BENCH_NOTIFY_WAIT_S ?? 120);
const GOAL_S = 5;
const ADMIN_PASSWORD = 'bench-admin-password';
const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789';
const quiet = { info: () => {}, warn: () => {}, error: (line: string) => console.error(line) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The ticket numbers a robot message carries: "【紧急】#12 ..." alone, one per line in a digest. */
const ticketIdsIn = (text: string): number[] =>
  [...text.matchAll(/】#(\d+)/g)].map((m) => Number(m[1]));

/** The robot, noting when it accepted the first message carrying each ticket. */
class TimedRobot extends DingTalkStandin {
  readonly carried = new Map<number, number>();
  refused = 0;
  digests = 0;

  protected override answer(request: Seen): Answer {
    const answer = super.answer(request);
    const at = Date.now();
    if ((answer.body as { errcode: number }).errcode !== 0) {
      this.refused++;
      return answer;
    }
    const accepted = this.messages[this.messages.length - 1]!;
    if (accepted.title?.startsWith('汇总')) this.digests++;
    for (const id of ticketIdsIn(accepted.text))
      if (!this.carried.has(id)) this.carried.set(id, at);
    return answer;
  }
}

/** The webhook receiver, noting when each ticket's opening arrived (signature checked). */
class TimedHook extends WebhookStandin {
  readonly carried = new Map<number, number>();

  protected override answer(request: Seen): Answer {
    const answer = super.answer(request);
    const body = this.bodies[this.bodies.length - 1] as
      { type?: string; ticket?: { id: number; status: string } } | undefined;
    if (answer.status === 200 && body?.type === 'ticket' && body.ticket?.status === 'open') {
      if (!this.carried.has(body.ticket.id)) this.carried.set(body.ticket.id, Date.now());
    }
    return answer;
  }
}

interface Figures {
  p50: number;
  p95: number;
  max: number;
  missing: number;
}

function figures(tickets: Ticket[], carried: Map<number, number>): Figures {
  const delays = tickets.map((t) => {
    const at = carried.get(t.id);
    return at === undefined ? Infinity : (at - Date.parse(t.openedAt)) / 1000;
  });
  return {
    p50: percentile(delays, 50),
    p95: percentile(delays, 95),
    max: Math.max(...delays),
    missing: delays.filter((d) => d === Infinity).length,
  };
}

const seconds = (s: number) => (s === Infinity ? 'never' : `${s.toFixed(2)} s`);
const show = (f: Figures) =>
  `${seconds(f.p50)} / ${seconds(f.p95)} / ${seconds(f.max)}${f.missing ? ` (${f.missing} never)` : ''}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-notify-'));
  const robots = {
    alone: await new TimedRobot('bench-robot-alone', 'SECbench-alone-0123456789').start(),
    burst: await new TimedRobot('bench-robot-burst', 'SECbench-burst-0123456789').start(),
  };
  const hook = await new TimedHook(WEBHOOK_SECRET).start();
  let broker: RunningBroker | undefined;
  let failed = false;
  try {
    broker = await startBroker(
      resolveConfig({
        dataDir: dir,
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        consoleDir: null,
        // The contract's default policies; only the links' address is set.
        notify: {
          publicUrl: 'https://vigil.example.com',
          webhooks: [{ url: hook.url, secret: WEBHOOK_SECRET }],
        },
      }),
      { log: quiet, env: { VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD } },
    );
    const base = broker.httpUrl;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const api = async <T>(method: string, path: string, body: unknown): Promise<T> => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    };

    // One engineer, on call for two sites through two teams, each with its own robot.
    await api('POST', oncallApiRoutes.people, {
      id: 'zhang-wei',
      name: '张伟',
      phone: '13800138000',
    });
    for (const load of ['alone', 'burst'] as const) {
      const robot = robots[load];
      const channel = await api<{ id: string }>('POST', '/api/notify/channels', {
        name: `bench ${load}`,
        type: 'dingtalk',
        url: robot.url,
        secret: robot.secret,
      });
      await api('POST', oncallApiRoutes.teams, {
        id: `team-${load}`,
        name: `bench ${load}`,
        channelIds: [channel.id],
      });
      await api('POST', oncallPath('rotations', `team-${load}`), {
        personIds: ['zhang-wei'],
        startDate: '2026-01-01',
      });
      await api('PUT', sitePath(`site-${load}`), { customer: 'Bench Logistics Ltd' });
      await api('POST', oncallApiRoutes.coverage, {
        scope: 'site',
        key: `site-${load}`,
        teamId: `team-${load}`,
      });
    }

    const open = async (load: 'alone' | 'burst', i: number): Promise<Ticket> => {
      const device: Device = {
        ...deviceExample,
        id: `cam-${String(i + 1).padStart(3, '0')}`,
        name: `Camera ${i + 1}`,
        siteId: `site-${load}`,
        status: 'down',
        reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.11:80' }],
      };
      const [ticket] = await broker!.tickets.apply(deviceDown(device, new Date()));
      if (!ticket) throw new Error(`no ticket opened for ${device.id} of site-${load}`);
      return ticket;
    };
    const settle = async (tickets: Ticket[], robot: TimedRobot) => {
      const deadline = Date.now() + WAIT_S * 1000;
      while (
        Date.now() < deadline &&
        !tickets.every((t) => robot.carried.has(t.id) && hook.carried.has(t.id))
      )
        await sleep(100);
    };

    console.log(
      `bench:notify: ${ALONE} tickets one per ${GAP_MS} ms, then ${BURST} in ${BURST_S} s`,
    );
    const alone: Ticket[] = [];
    for (let i = 0; i < ALONE; i++) {
      alone.push(await open('alone', i));
      await sleep(GAP_MS);
    }
    await settle(alone, robots.alone);

    const burst: Ticket[] = [];
    const spacing = BURST > 1 ? (BURST_S * 1000) / BURST : 0;
    const t0 = Date.now();
    for (let i = 0; i < BURST; i++) {
      await sleep(Math.max(0, t0 + i * spacing - Date.now()));
      burst.push(await open('burst', i));
    }
    await settle(burst, robots.burst);

    const rows = [
      { name: `alone (${ALONE}, one per ${GAP_MS / 1000} s)`, tickets: alone, robot: robots.alone },
      { name: `burst (${BURST} in ${BURST_S} s)`, tickets: burst, robot: robots.burst },
    ];
    console.log('\nticket opened -> message accepted by the channel, p50 / p95 / max');
    console.log(
      `${'load'.padEnd(28)}${'DingTalk robot (outbox)'.padEnd(44)}signed webhook (baseline)`,
    );
    for (const row of rows) {
      const robot = figures(row.tickets, row.robot.carried);
      const baseline = figures(row.tickets, hook.carried);
      const pass = robot.p95 <= GOAL_S;
      if (!pass) failed = true;
      console.log(`${row.name.padEnd(28)}${show(robot).padEnd(44)}${show(baseline)}`);
      console.log(
        `${''.padEnd(28)}robot: ${row.robot.messages.length} messages, ${row.robot.digests} digests, ` +
          `${row.robot.refused} refused, ${row.robot.blocked ? 'BLOCKED' : 'not blocked'}; ` +
          `goal p95 <= ${GOAL_S} s: ${pass ? 'PASS' : 'FAIL'}`,
      );
      if (row.robot.refused > 0 || row.robot.blocked) failed = true;
    }
    const counters = await broker.escalations.outbox.counters();
    console.log(
      `\noutbox: ${counters.delivered} delivered, ${counters.merged} merged into digests, ` +
        `${counters.retried} retried, ${counters.failed} failed`,
    );
  } finally {
    await broker?.stop();
    await robots.alone.stop();
    await robots.burst.stop();
    await hook.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
