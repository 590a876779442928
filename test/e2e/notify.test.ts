/**
 * Issue 15's proof end to end, with the demo's processes: the broker
 * (`vigil broker --config`, its own process, so it can be killed with SIGKILL) and a
 * simulated site with its agent (`vigil demo site --broker`), a DingTalk group robot and
 * Alibaba Cloud SMS as local stand-ins (test/standins/) that check signatures, mentions
 * and limits as the services document them. Everything is set up through the broker's
 * HTTP API as an admin would: the channels, two people, a team with a rota, the site's
 * customer and coverage. Cameras fail through the simulator's control API.
 *
 *   a camera fails -> the on-call engineer's DingTalk message (signed, @-mention, zh-CN,
 *   the team's local time) and SMS -> not acknowledged: again with the lead after the
 *   short timer of the config -> the link's GET shows a page and leaves it usable, its
 *   POST acknowledges in the engineer's name -> no further message;
 *   the broker SIGKILLed while the robot holds its answer -> nothing lost, only the
 *   message in flight sent again, and counted;
 *   40 tickets within a minute -> digests, the robot never refuses nor blocks.
 *
 * The site has more cameras than the demo's so that 40 can fail; its mass-outage rule is
 * set out of reach (detect.massMinDevices) so that each camera gets its own ticket, as
 * 40 faults across a region's sites would. Build first (`npm run build:server`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Ticket } from '../../shared/api/tickets.js';
import { oncallApiRoutes, oncallPath } from '../../shared/api/oncall.js';
import { sitePath } from '../../shared/api/sites.js';
import type { Health } from '../../shared/api/health.js';
import { AliyunSmsStandin } from '../standins/aliyun-sms.js';
import { DingTalkStandin } from '../standins/dingtalk.js';
import type { Answer, Seen } from '../standins/server.js';
import {
  addAgents,
  startBrokerProcess,
  vigilEntry,
  writeBrokerConfig,
  type BrokerProcess,
} from '../helpers/broker-process.js';
import { eventually } from '../helpers/eventually.js';
import { freePorts } from '../helpers/ports.js';
import { tempDir, type TempDir } from '../helpers/temp.js';

const SITE = 'notify-site';
const AGENT = 'gw-01';
const CAMERAS = 46;
const CUSTOMER = '示例物流有限公司';
const ENGINEER = { id: 'zhang-wei', name: '张伟', phone: '13800138000' };
const LEAD = { id: 'li-na', name: '李娜', phone: '13900139000' };
/**
 * Not Asia/Shanghai, the default: a team in Urumqi keeps Xinjiang time (UTC+06:00), so a
 * deadline printed in it proves the message used the team's zone and not a default one.
 */
const TEAM_ZONE = 'Asia/Urumqi';
const TEAM_OFFSET_MS = 6 * 3600_000;
/** The short timers: the first escalation after 12 s, a second one after 30 s. */
const ESCALATE_MIN = 0.2;
const ESCALATE_AGAIN_MIN = 0.5;
const BURST = 40;
/** The fault of a camera that stopped answering (broker/detect/rules/types.ts). */
const DEVICE_DOWN = 'device-down';
/** The broker's output lands here (test-output/ is where e2e tests leave what they saw). */
const outputDir = fileURLToPath(new URL('../../test-output/notify-e2e/', import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The ticket numbers a message carries: "【紧急】#12 ..." alone, one per line in a digest. */
function ticketIdsIn(text: string): number[] {
  return [...text.matchAll(/】#(\d+)/g)].map((m) => Number(m[1]));
}

/** A deadline as the team reads it: its local wall time and the zone's offset. */
function inTeamTime(iso: string): string {
  const local = new Date(Date.parse(iso) + TEAM_OFFSET_MS).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)} (UTC+06:00)`;
}

/** The DingTalk stand-in, noting when it accepted each message and every refusal. */
class RecordingRobot extends DingTalkStandin {
  readonly acceptedAt: number[] = [];
  readonly refusals: { errcode: number; errmsg: string; at: number }[] = [];

  protected override answer(request: Seen): Answer {
    const answer = super.answer(request);
    const body = answer.body as { errcode: number; errmsg: string };
    if (body.errcode === 0) this.acceptedAt.push(Date.now());
    else this.refusals.push({ ...body, at: Date.now() });
    return answer;
  }

  /** Accepted messages carrying ticket `id`. */
  carrying(id: number) {
    return this.messages.filter((m) => ticketIdsIn(m.text).includes(id));
  }

  /** Requests (accepted, refused or held) whose body carries ticket `id`. */
  requestsCarrying(id: number): Seen[] {
    return this.requests.filter((r) => ticketIdsIn(r.raw.replace(/\\n/g, '\n')).includes(id));
  }
}

interface RunningSite {
  simUrl: string;
  stop(): Promise<void>;
}

/** `vigil demo site`: the simulator and an agent, for the broker started apart. */
async function startSite(options: {
  mqttUrl: string;
  password: string;
  simPort: number;
  dataDir: string;
  siteFile: string;
}): Promise<RunningSite> {
  const child: ChildProcess = spawn(
    process.execPath,
    [vigilEntry, 'demo', 'site', '--broker', options.mqttUrl, '--site', SITE, '--agent', AGENT],
    {
      env: {
        ...process.env,
        VIGIL_AGENT_PASSWORD: options.password,
        SIM_CONTROL_PORT: String(options.simPort),
        VIGIL_DATA_DIR: options.dataDir,
        VIGIL_DEMO_SITE: options.siteFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await eventually(
    'the simulated site and its agent',
    () => {
      if (child.exitCode !== null) throw new Error(`vigil demo site exited:\n${output}`);
      return /site \S+ is running/.test(output);
    },
    90_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${output}`);
  });
  return {
    simUrl: `http://127.0.0.1:${options.simPort}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

describe('notifications end to end: DingTalk and SMS pages, escalation, crash, burst', () => {
  let dir: TempDir;
  let robot: RecordingRobot;
  let sms: AliyunSmsStandin;
  let broker: BrokerProcess | null = null;
  let site: RunningSite | null = null;
  let configFile: string;
  let apiUrl: string;
  let token: string;
  /** The first ticket, acknowledged from its link. */
  let first: Ticket;
  /** Every ticket opened so far, in order: each must reach the engineer's phone. */
  const paged: Ticket[] = [];
  /** The output of each broker process that ended, in order. */
  const outputs: string[] = [];

  const login = async () => {
    const response = await fetch(`${apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    token = ((await response.json()) as { token: string }).token;
  };

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };

  const fail = async (device: string) => {
    const response = await fetch(`${site!.simUrl}/sim/devices/${device}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'offline' }),
    });
    expect(response.status, `fault on ${device}`).toBe(201);
  };

  // Other faults of a camera (a slow answer on a loaded machine) are general tickets of
  // their own; the ones under test are its device-down emergency.
  const openTicket = (device: string, timeoutMs = 60_000) =>
    eventually(
      `the device-down ticket of ${device}`,
      async () =>
        (await api<Ticket[]>('GET', '/api/tickets?status=all')).find(
          (t) => t.deviceId === device && t.fault === DEVICE_DOWN,
        ),
      timeoutMs,
    );

  const ticket = (id: number) => api<Ticket>('GET', `/api/tickets/${id}`);

  beforeAll(async () => {
    dir = await tempDir('vigil-notify-e2e-');
    robot = await new RecordingRobot('e2e-robot-token-0001', 'SECe2e0123456789abcdef').start();
    sms = await new AliyunSmsStandin({
      accessKeyId: 'LTAI-e2e-0001',
      accessKeySecret: 'e2e-access-key-secret-0001',
      signName: '维吉尔运维',
      templateCode: 'SMS_471920001',
      variables: ['priority', 'site', 'device', 'fault', 'deadline'],
    }).start();

    const [mqttPort, httpPort, simPort] = (await freePorts(3)) as [number, number, number];
    apiUrl = `http://127.0.0.1:${httpPort}`;
    const siteFile = join(dir.path, 'notify-site.yaml');
    await writeFile(
      siteFile,
      stringify({ site: SITE, seed: 'notify', devices: [{ kind: 'camera', count: CAMERAS }] }),
    );
    configFile = await writeBrokerConfig(dir.path, {
      mqtt: { host: '127.0.0.1', port: mqttPort },
      http: { host: '127.0.0.1', port: httpPort },
      // Each camera its own ticket (see the file's comment).
      detect: { massMinDevices: 1000 },
      notify: {
        // The links point at this broker, so the test follows them as a phone would.
        publicUrl: apiUrl,
        policies: {
          emergency: {
            steps: [
              { when: 'opened', notify: ['engineer'], sms: true },
              {
                when: 'unacknowledged',
                afterMin: ESCALATE_MIN,
                notify: ['engineer', 'lead'],
                sms: true,
              },
              {
                when: 'unacknowledged',
                afterMin: ESCALATE_AGAIN_MIN,
                notify: ['engineer', 'lead'],
                sms: true,
              },
            ],
          },
        },
        // 20 texts a minute (a burst of 3, then one every 3.5 s): the crash step's three texts
        // go before the held robot request's 10 s deadline; the burst's still merge.
        outbox: { retryFirstMs: 500, retryMaxMs: 2000, smsPerMinute: 20 },
      },
    });
    const [agent] = await addAgents(dir.path, SITE, [AGENT]);
    broker = await startBrokerProcess(configFile);
    await login();

    const robotChannel = await api<{ id: string; url?: string; secret?: string }>(
      'POST',
      '/api/notify/channels',
      { name: '华东运维群', type: 'dingtalk', url: robot.url, secret: robot.secret },
    );
    // The API shows the robot's token and secret masked, never whole.
    expect(JSON.stringify(robotChannel)).not.toContain(robot.token);
    expect(JSON.stringify(robotChannel)).not.toContain(robot.secret);
    const smsChannel = await api<{ id: string }>('POST', '/api/notify/channels', {
      name: '值班短信',
      type: 'sms',
      provider: 'alibaba',
      accessKeyId: sms.options.accessKeyId,
      accessKeySecret: sms.options.accessKeySecret,
      signName: sms.options.signName,
      templateCode: sms.options.templateCode,
      endpoint: sms.endpoint,
    });
    await api('POST', oncallApiRoutes.people, ENGINEER);
    await api('POST', oncallApiRoutes.people, LEAD);
    await api('POST', oncallApiRoutes.teams, {
      id: 'urumqi',
      name: '乌鲁木齐运维组',
      timeZone: TEAM_ZONE,
      leadId: LEAD.id,
      channelIds: [robotChannel.id, smsChannel.id],
    });
    // One engineer in the rota: on call whatever the day of the run.
    await api('POST', oncallPath('rotations', 'urumqi'), {
      personIds: [ENGINEER.id],
      handover: 'daily',
      handoverTime: '09:00',
      startDate: '2026-01-01',
    });
    await api('PUT', sitePath(SITE), { name: '乌鲁木齐物流园', customer: CUSTOMER });
    await api('POST', oncallApiRoutes.coverage, { scope: 'site', key: SITE, teamId: 'urumqi' });
    const now = await api<{ engineer: { id: string } | null }>(
      'GET',
      `${oncallApiRoutes.now}?siteId=${SITE}`,
    );
    expect(now.engineer?.id).toBe(ENGINEER.id);

    site = await startSite({
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      password: agent!.password,
      simPort,
      dataDir: dir.path,
      siteFile,
    });
    await eventually(
      `${CAMERAS} cameras up`,
      async () => {
        const devices = await api<{ status: string }[]>('GET', '/api/devices');
        return devices.length === CAMERAS && devices.every((d) => d.status === 'up');
      },
      90_000,
    );
  }, 240_000);

  // A failed step must not leave the robot holding every later request.
  afterEach(() => {
    robot.hang = false;
  });

  afterAll(async () => {
    await site?.stop();
    await broker?.kill('SIGTERM');
    // What the broker said, for a person reading a failure (the killed one's too).
    if (broker) outputs.push(broker.output());
    await mkdir(outputDir, { recursive: true });
    await writeFile(join(outputDir, 'broker.log'), outputs.join('\n--- SIGKILL, restart ---\n'));
    await robot?.stop();
    await sms?.stop();
    await dir?.remove();
  });

  it('pages the on-call engineer on DingTalk with an @-mention, signed, in zh-CN and the team local time', async () => {
    await fail('cam-01');
    first = await openTicket('cam-01');
    paged.push(first);
    expect(first.priority).toBe('emergency');
    const [message] = await eventually('the DingTalk message of the ticket', () => {
      const found = robot.carrying(first.id);
      return found.length > 0 ? found : null;
    });

    // The mention: at.atMobiles names the engineer and the text has @<mobile>.
    expect(message!.mentioned).toEqual([ENGINEER.phone]);
    expect(message!.notShown).toEqual([]);
    expect(message!.msgtype).toBe('markdown');
    const request = robot.requestsCarrying(first.id)[0]!;
    const body = JSON.parse(request.raw) as { at: { atMobiles: string[] } };
    expect(body.at.atMobiles).toEqual([ENGINEER.phone]);

    // Signed as DingTalk documents it, checked here apart from the stand-in: sign =
    // urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))).
    const rawSign = /[?&]sign=([^&]*)/.exec(request.url)?.[1] ?? '';
    const timestamp = new URL(request.url, 'http://robot').searchParams.get('timestamp')!;
    const expected = createHmac('sha256', robot.secret!)
      .update(`${timestamp}\n${robot.secret}`)
      .digest('base64');
    expect(decodeURIComponent(rawSign)).toBe(expected);
    expect(rawSign).not.toMatch(/[+/=]/);
    expect(Math.abs(Date.now() - Number(timestamp))).toBeLessThan(120_000);

    // zh-CN, with the customer, the site, the device, the fault and the deadlines in the
    // team's zone.
    expect(message!.title).toContain('【紧急】');
    expect(message!.title).toContain(`#${first.id} 新工单`);
    expect(message!.text).toContain(CUSTOMER);
    expect(message!.text).toContain(`**站点**：乌鲁木齐物流园 (${SITE})`);
    expect(message!.text).toContain('**设备**：cam-01');
    // The fault in the team's words, not its code (device-down).
    expect(message!.text).toContain('**故障**：设备离线');
    expect(message!.text).toContain(`**响应时限**：${inTeamTime(first.respondBy!)}`);
    expect(message!.text).toContain(`**到场时限**：${inTeamTime(first.onSiteBy!)}`);
    expect(message!.text).toContain(`@${ENGINEER.phone}`);
    expect(message!.text).toMatch(new RegExp(`\\(${apiUrl}/ack/[\\w.-]+\\)`));

    const timeline = await eventually('a notified entry on the timeline', async () => {
      const entries = (await ticket(first.id)).timeline.filter((e) => e.kind === 'notified');
      return entries.length >= 1 ? entries : null;
    });
    expect(timeline.every((e) => e.actor === 'system')).toBe(true);
    expect(timeline.map((e) => e.text).join('\n')).toContain('华东运维群');
  });

  it('escalates to the lead after the configured time, and stops once acknowledged from the link', async () => {
    const [, again] = await eventually(
      'the escalation to the lead',
      () => {
        const found = robot.carrying(first.id);
        return found.length >= 2 ? found : null;
      },
      60_000,
    );
    expect(again!.title).toContain(`#${first.id} 仍未响应`);
    expect([...again!.mentioned].sort()).toEqual([ENGINEER.phone, LEAD.phone].sort());
    expect(again!.notShown).toEqual([]);
    // Not before the configured wait after the ticket opened.
    const escalatedAt = robot.acceptedAt[robot.messages.indexOf(again!)]!;
    expect(escalatedAt - Date.parse(first.openedAt)).toBeGreaterThanOrEqual(
      ESCALATE_MIN * 60_000 - 1000,
    );

    const link = new RegExp(`\\((${apiUrl}/ack/[\\w.-]+)\\)`).exec(again!.text)![1]!;
    // A chat app's preview fetches the link: a page, twice, and the link still works.
    for (let i = 0; i < 2; i++) {
      const page = await fetch(link);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('确认响应');
      expect(html).toContain('<form method="post">');
      expect(html).toContain(ENGINEER.name);
    }
    expect((await ticket(first.id)).status).toBe('open');

    const before = robot.carrying(first.id).length;
    const done = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    const page = await done.text();
    expect(done.status, page).toBe(200);
    expect(page).toContain(`已由 ${ENGINEER.name} 确认响应`);
    const acknowledged = await ticket(first.id);
    expect(acknowledged.status).toBe('acknowledged');
    expect(acknowledged.respondedBy).toBe(ENGINEER.name);
    // Single use: the same link again is refused.
    expect((await fetch(link, { method: 'POST' })).status).toBeGreaterThanOrEqual(400);

    // Past the second escalation's time: nothing more about this ticket.
    const wait = Date.parse(first.openedAt) + ESCALATE_AGAIN_MIN * 60_000 + 8_000 - Date.now();
    await sleep(Math.max(wait, 8_000));
    expect(robot.carrying(first.id)).toHaveLength(before);
    const timeline = (await ticket(first.id)).timeline;
    // One `notified` entry per robot message that carried it (the texts are the SMS test's).
    const byRobot = timeline.filter((e) => e.kind === 'notified' && e.text.includes('华东运维群'));
    expect(byRobot).toHaveLength(before);
    expect(timeline.find((e) => e.kind === 'acknowledged')?.actor).toBe(ENGINEER.name);
  }, 120_000);

  it('loses no notification when the broker is SIGKILLed mid-delivery, and repeats only the one in flight', async () => {
    // The robot takes the next request and holds its answer.
    robot.hang = true;
    await fail('cam-02');
    const held = await openTicket('cam-02');
    await eventually('the held request', () => robot.requestsCarrying(held.id).length === 1);
    // Two more while the robot's channel is busy: waiting in the outbox.
    await fail('cam-03');
    await fail('cam-04');
    const waiting = [await openTicket('cam-03'), await openTicket('cam-04')];
    paged.push(held, ...waiting);
    // Their texts were answered (SMS is not held), so the robot's message alone is in flight.
    // The SMS channel is paced (one, then one every 15 s), so the last two may go as one
    // merged text naming its first device: which tickets were texted is on their timelines.
    await eventually(
      'the texts of the three answered',
      async () => {
        for (const t of [held, ...waiting]) {
          const timeline = (await ticket(t.id)).timeline;
          if (!timeline.some((e) => e.kind === 'notified' && e.text.includes('值班短信')))
            return false;
        }
        return true;
      },
      45_000,
    );
    await sleep(500);
    expect(robot.requestsCarrying(waiting[0]!.id)).toHaveLength(0);

    await broker!.kill('SIGKILL');
    outputs.push(broker!.output());
    robot.hang = false;
    broker = await startBrokerProcess(configFile);
    await login();

    // The opening notice of a ticket, alone or as a line of a digest.
    const notice = (id: number) => new RegExp(`】#${id} 新工单`);
    for (const t of [held, ...waiting]) {
      await eventually(`ticket #${t.id} delivered after the restart`, () =>
        robot.carrying(t.id).some((m) => notice(t.id).test(m.text)),
      ).catch((error: unknown) => {
        const seen = robot.requestsCarrying(t.id).map((r) => r.raw.slice(0, 200));
        throw new Error(`${String(error)}; requests carrying it: ${JSON.stringify(seen)}`);
      });
    }
    const requests = (id: number) =>
      robot.requestsCarrying(id).filter((r) => notice(id).test(r.raw));
    // The one in flight twice (held, then again); the waiting ones once.
    expect(requests(held.id)).toHaveLength(2);
    for (const t of waiting) expect(requests(t.id)).toHaveLength(1);
    for (const t of [held, ...waiting]) {
      expect(robot.carrying(t.id).filter((m) => notice(t.id).test(m.text))).toHaveLength(1);
    }
    // Counted: the broker says so once, and the repeat is marked on the ticket's timeline.
    expect(broker.output()).toContain('1 notification(s) were in flight');
    // ... and GET /api/health counts it, per channel type, from the database.
    const health = (await (await fetch(`${apiUrl}/api/health`)).json()) as Health;
    expect(health.notify?.outbox.dingtalk?.repeats).toBe(1);
    const timeline = await eventually('the repeat on the timeline', async () => {
      const entries = (await ticket(held.id)).timeline.filter((e) => e.kind === 'notified');
      return entries.some((e) => (e.message.params as { repeat?: boolean }).repeat)
        ? entries
        : null;
    });
    expect(timeline.filter((e) => (e.message.params as { repeat?: boolean }).repeat)).toHaveLength(
      1,
    );
    for (const t of waiting) {
      const entries = (await ticket(t.id)).timeline.filter((e) => e.kind === 'notified');
      expect(entries.some((e) => (e.message.params as { repeat?: boolean }).repeat)).toBe(false);
    }
  }, 150_000);

  it(`turns ${BURST} tickets within a minute into digests, and the robot never refuses nor blocks`, async () => {
    const devices = Array.from(
      { length: BURST },
      (_, i) => `cam-${String(CAMERAS - BURST + 1 + i).padStart(2, '0')}`,
    );
    const startedAt = Date.now();
    for (const device of devices) {
      await fail(device);
      await sleep(1_000);
    }
    const tickets = await eventually(
      `${BURST} tickets`,
      async () => {
        const all = await api<Ticket[]>('GET', '/api/tickets?status=all');
        const found = devices.map((d) =>
          all.find((t) => t.deviceId === d && t.fault === DEVICE_DOWN),
        );
        return found.every(Boolean) ? (found as Ticket[]) : null;
      },
      60_000,
    );
    paged.push(...tickets);
    const opened = tickets.map((t) => Date.parse(t.openedAt));
    expect(Math.max(...opened) - Math.min(...opened)).toBeLessThan(60_000);
    expect(new Set(tickets.map((t) => t.id)).size).toBe(BURST);

    const missing = await eventually(
      'every ticket of the burst carried by an accepted message',
      () => {
        const left = tickets.filter((t) => robot.carrying(t.id).length === 0);
        return left.length === 0 ? left : null;
      },
      150_000,
    ).catch(() => tickets.filter((t) => robot.carrying(t.id).length === 0).map((t) => t.id));
    const digests = robot.messages.filter((m) => m.title?.startsWith('汇总'));
    const perMinute = Math.max(
      ...robot.acceptedAt.map(
        (t) => robot.acceptedAt.filter((u) => u >= t && u < t + 60_000).length,
      ),
    );
    console.log(
      `burst: ${BURST} tickets in ${((Math.max(...opened) - Math.min(...opened)) / 1000).toFixed(1)} s ` +
        `(${((Date.now() - startedAt) / 1000).toFixed(0)} s with the faults); robot accepted ` +
        `${robot.messages.length} messages in all, ${digests.length} digests, at most ${perMinute} in a minute; ` +
        `refused ${robot.refusals.length}; texts ${sms.sent.length}`,
    );
    const refused = robot.refusals[0];
    if (refused) {
      // What the robot saw in the minute before it first refused: the evidence to read.
      const minute = robot.acceptedAt.filter((t) => t > refused.at - 60_000 && t <= refused.at);
      console.log(
        `the robot first refused ${refused.errcode} ${refused.errmsg}: it had accepted ` +
          `${minute.length} in the 60 s before, the oldest ${refused.at - minute[0]!} ms earlier`,
      );
    }
    expect(robot.refusals).toEqual([]);
    expect(missing).toEqual([]);
    expect(digests.length).toBeGreaterThan(0);
    expect(robot.blocked).toBe(false);
    expect(perMinute).toBeLessThanOrEqual(20);
    for (const d of digests) expect(d.mentioned).toContain(ENGINEER.phone);
  }, 300_000);
  // Alibaba SMS: the emergency policy texts the engineer (sms: true), and the lead when it
  // escalates, each their own text; the provider caps texts per number and day (50), so a
  // burst must go out merged per number, not one per alert. A
  // merged text names its first device only, so which tickets it carried is read from
  // their timelines (a `notified` entry through the SMS channel), checked against what
  // the stand-in accepted.
  it('texts the on-call engineer about every ticket, under the provider daily cap', async () => {
    // The SMS channel is paced: the burst's last merged text may still be on its way.
    const untextedNow = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const t of paged) {
        const timeline = (await ticket(t.id)).timeline;
        if (!timeline.some((e) => e.kind === 'notified' && e.text.includes('值班短信')))
          out.push(t.deviceId ?? String(t.id));
      }
      return out;
    };
    let untexted = await untextedNow();
    const deadline = Date.now() + 30_000;
    while (untexted.length > 0 && Date.now() < deadline) {
      await sleep(1_000);
      untexted = await untextedNow();
    }
    const refusals = sms.requests.length - sms.sent.length;
    console.log(
      `SMS: ${sms.requests.length} requests, ${sms.sent.length} accepted, ${refusals} refused; ` +
        `${untexted.length} of ${paged.length} tickets never texted`,
    );
    expect(paged.length).toBe(4 + BURST);
    expect(sms.requests.length - sms.sent.length, 'texts the provider refused').toBe(0);
    expect(untexted).toEqual([]);
    // A text is one person's: never two numbers in one request (review 15, finding 14).
    for (const text of sms.sent)
      expect([[ENGINEER.phone], [LEAD.phone]]).toContainEqual(text.phones);
    for (const phone of [ENGINEER.phone, LEAD.phone])
      expect(sms.sent.filter((t) => t.phones[0] === phone).length).toBeLessThanOrEqual(50);
  });
});
