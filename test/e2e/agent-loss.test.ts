/**
 * Delivery without loss, with real processes: the agent (`node dist/cli/vigil.js agent`)
 * polls a simulated site while the broker is stopped; halfway through the outage the
 * agent is killed with SIGKILL and started again; then the broker comes back. Every
 * record the agent produced must reach the broker, in order. A record may come twice only
 * if the broker had not acknowledged it when it stopped: the agent sends again what is
 * unacknowledged and nothing else (the broker's dedupe by seq drops the copy).
 *
 * Twice: against an Aedes broker (the broker Vigil embeds) and against Debian's
 * Mosquitto, to show the agent speaks plain MQTT 3.1.1. Mosquitto keeps the watcher's
 * persistent session across its restart in its persistence file, as a deployment does;
 * the Aedes here keeps nothing, so a new watcher subscribes before the agent is let in.
 *
 * The outage lasts VIGIL_AGENT_OUTAGE_S seconds (default 60 for Aedes, a third of it for
 * Mosquitto; the manual setting is 600: VIGIL_AGENT_OUTAGE_S=600 npx vitest run
 * --project e2e test/e2e/agent-loss.test.ts). Build first (npm test does).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../agent/spool/disk.js';
import { SimSite } from '../../sim/site.js';
import { vigilEntry } from '../helpers/demo.js';
import { freePort } from '../helpers/ports.js';
import { built, mosquitto, need } from '../helpers/requires.js';
import {
  ONVIF,
  SITE,
  startBroker,
  tempDir,
  Watcher,
  writeAgentConfig,
  type Seen,
  type TempDir,
} from '../integration/agent/harness.js';

const OUTAGE_S = Number(process.env.VIGIL_AGENT_OUTAGE_S ?? 60);

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function startAgent(config: string): Promise<Running> {
  const child = spawn(process.execPath, [vigilEntry, 'agent', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const started = Date.now();
  while (!output.includes('vigil agent: ready')) {
    if (child.exitCode !== null || Date.now() - started > 20_000) {
      throw new Error(`the agent did not start:\n${output}`);
    }
    await sleep(50);
  }
  return { child, output: () => output, exited };
}

/** A broker that can be stopped and started again on the same port. */
interface BrokerUnderTest {
  url: string;
  /** `holdAgent`: the agent's CONNECT waits for admitAgent(), where the broker can hold it. */
  start(options?: { holdAgent?: boolean }): Promise<void>;
  admitAgent(): void;
  stop(): Promise<void>;
  /**
   * The file that keeps persistent sessions across a restart (Mosquitto's persistence);
   * null: the broker keeps none (the Aedes here, all in memory).
   */
  persistenceFile: string | null;
  /** What the broker wrote, to explain a failure. */
  output(): string;
}

async function aedesBroker(port: number): Promise<BrokerUnderTest> {
  let stop: (() => Promise<void>) | null = null;
  let admit: () => void = () => undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    persistenceFile: null,
    output: () => '',
    async start({ holdAgent = false } = {}) {
      const held = holdAgent ? new Promise<void>((resolve) => (admit = resolve)) : undefined;
      const broker = await startBroker({ port, ...(held ? { admitAgent: held } : {}) });
      stop = () => broker.stop();
    },
    admitAgent() {
      admit();
    },
    async stop() {
      admit();
      await stop?.();
      stop = null;
    },
  };
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Debian's Mosquitto with persistence, set up as its package sets it up: started as root
 * it drops to the user `mosquitto` (its `user` option) and writes its persistence file
 * into a folder that user owns (/var/lib/mosquitto there; one inside the test's here).
 */
async function mosquittoBroker(port: number, dir: string): Promise<BrokerUnderTest> {
  need(mosquitto);
  const home = join(dir, 'mosquitto');
  await mkdir(home, { mode: 0o700 });
  if (process.getuid?.() === 0) {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'mosquitto'], { encoding: 'utf8' }).trim());
    await chown(home, id('-u'), id('-g'));
    // The mosquitto user reaches its folder through the test's: search only, no listing.
    await chmod(dir, 0o711);
  }
  let child: ChildProcess | null = null;
  let output = '';
  const conf = join(home, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${home}/`,
      // The watcher's queue while it is away: no limit (the default drops beyond 1000).
      'max_queued_messages 0',
      'max_inflight_messages 20',
      // Kept for a failure's message: a persistence file it cannot write is said only here.
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    persistenceFile: join(home, 'mosquitto.db'),
    output: () => output,
    async start() {
      const running = spawn('/usr/sbin/mosquitto', ['-c', conf], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      running.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child = running;
      const started = Date.now();
      while (!(await portOpen(port))) {
        if (running.exitCode !== null || Date.now() - started > 10_000) {
          throw new Error(`mosquitto did not start:\n${output}`);
        }
        await sleep(50);
      }
    },
    admitAgent() {
      // Nothing to hold: the watcher's session and its subscription survive the restart.
    },
    async stop() {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGTERM');
      await exited;
    },
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The first record the agent's spool still holds unacknowledged (its head). */
async function spoolHead(dir: string): Promise<number> {
  const spool = new DiskSpool({ dir: join(dir, 'spool') });
  await spool.start();
  const head = spool.headSeq;
  await spool.stop();
  return head;
}

async function proveNoLoss(
  makeBroker: (port: number, dir: string) => Promise<BrokerUnderTest>,
  outageS: number,
): Promise<void> {
  need(built);
  const dir: TempDir = await tempDir();
  cleanups.push(() => dir.remove());
  const site = new SimSite({
    siteId: SITE,
    cameras: 3,
    nvrs: 1,
    nvrChannels: 2,
    credentials: ONVIF,
  });
  await site.start();
  cleanups.push(() => site.stop());
  const broker = await makeBroker(await freePort(), dir.path);
  await broker.start();
  cleanups.push(() => broker.stop());
  const watcherId = 'loss-watcher';
  let watcher = new Watcher();
  await watcher.start(broker.url, watcherId, { clean: false });
  const seen: Watcher[] = [watcher];
  cleanups.push(() => Promise.all(seen.map((w) => w.stop())));

  const config = await writeAgentConfig(dir.path, broker.url, site.devices(), {
    intervalS: 0.5,
    // Short reconnect delays: the test waits for the replay, not for a 60 s backoff.
    reconnectMaxS: 1,
    extra: ['checks:', '  picture: false', '  stream: false'],
  });
  let agent = await startAgent(config);
  cleanups.push(async () => {
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  });
  await watcher.waitFor(() => watcher.of('deviceMetrics').length >= 8, { timeoutMs: 15_000 });

  // The outage: the broker goes away; the agent keeps polling into its spool. Where the
  // broker keeps sessions the watcher leaves first, so what comes meanwhile waits in its
  // session and must survive the broker's restart in the persistence file.
  if (broker.persistenceFile) await watcher.stop();
  await broker.stop();
  await watcher.stop();
  const outageStart = Date.now();
  if (broker.persistenceFile) {
    expect(existsSync(broker.persistenceFile), broker.output()).toBe(true);
  }
  await sleep((outageS * 1000) / 2);
  agent.child.kill('SIGKILL');
  await agent.exited;
  // What the broker had acknowledged when it went: nothing can be acknowledged since.
  const unacknowledgedFrom = await spoolHead(dir.path);
  agent = await startAgent(config);
  await sleep((outageS * 1000) / 2);
  const outageEnd = Date.now();

  // Everything restarted: the watcher first (a broker without sessions would otherwise
  // hand the replay to nobody), then the agent, let in once the watcher subscribed.
  await broker.start({ holdAgent: true });
  if (!broker.persistenceFile) {
    watcher = new Watcher();
    seen.push(watcher);
  }
  await watcher.start(broker.url, watcherId, { clean: false });
  broker.admitAgent();
  // The replay is over once the agent reports an empty spool after the outage.
  const healthAfter = await watcher
    .waitFor(
      (m) =>
        m.parsed.kind === 'agentHealth' &&
        Date.parse(String(m.payload.ts)) > outageEnd + 1000 &&
        (m.payload.spool as { depth: number } | undefined)?.depth === 0,
      { timeoutMs: 60_000 },
    )
    .catch((error: unknown) => {
      throw new Error(
        `${String(error)}\nthe agent:\n${agent.output()}\nthe broker:\n${broker.output()}`,
      );
    });
  expect(healthAfter.payload.spool).toMatchObject({ dropped: 0 });
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(0);
  // The agent's last words (its shutdown status) reach the watcher.
  await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'offline', {
    since: outageEnd,
  });

  // What the agent produced: seq 0 .. nextSeq-1, and nothing left unsent in its spool.
  const spool = new DiskSpool({ dir: join(dir.path, 'spool') });
  await spool.start();
  const produced = spool.nextSeq;
  const left = spool.stats();
  await spool.stop();
  expect(left.depth, agent.output()).toBe(0);

  const messages = seen.flatMap((w) => w.messages);
  const seqOf = (m: Seen): number | null =>
    typeof m.payload.seq === 'number' ? m.payload.seq : null;
  const firsts: number[] = [];
  const once = new Set<number>();
  const resent: number[] = [];
  const redelivered: Seen[] = [];
  const retainedAgain: Seen[] = [];
  for (const m of messages) {
    const seq = seqOf(m);
    if (seq === null) continue;
    if (!once.has(seq)) {
      once.add(seq);
      firsts.push(seq);
    } else if (m.dup) redelivered.push(m);
    else if (m.retain) retainedAgain.push(m);
    else resent.push(seq);
  }
  const missing = [];
  for (let seq = 0; seq < produced; seq++) if (!once.has(seq)) missing.push(seq);
  expect(missing).toEqual([]);
  expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
  // The agent's resend: one lost connection, so each record at most once more, and only
  // one the broker had not acknowledged when it stopped (from the spool's head then) and
  // that was sent before it stopped. The outage's records, the SIGKILL's restart and the
  // replay add none.
  const lastBefore = Math.max(
    ...messages
      .filter((m) => Date.parse(String(m.payload.ts)) < outageStart)
      .map((m) => seqOf(m) ?? -1),
  );
  expect(new Set(resent).size).toBe(resent.length);
  expect(resent.filter((seq) => seq < unacknowledgedFrom || seq > lastBefore)).toEqual([]);
  // The broker's redelivery of what the watcher had not acknowledged when the broker went
  // [MQTT-4.4.0-1]: only Mosquitto, which kept the session, and only records the watcher
  // had before the stop.
  if (!broker.persistenceFile) expect(redelivered).toEqual([]);
  expect(redelivered.filter((m) => m.at < outageEnd)).toEqual([]);
  const heardBefore = new Set(
    messages.filter((m) => m.at < outageStart).map((m) => seqOf(m) ?? -1),
  );
  expect(redelivered.map(seqOf).filter((seq) => !heardBefore.has(seq ?? -1))).toEqual([]);
  // A subscription gets the retained messages again [MQTT-3.3.1-6]: the states the broker
  // kept, handed to the watcher when it subscribed after the restart, and at no other time.
  expect(retainedAgain.filter((m) => m.at < outageEnd)).toEqual([]);
  for (const w of seen) expect(w.invalid).toEqual([]);
  // The readings of the outage kept the time they were taken.
  const duringOutage = messages.filter(
    (m) =>
      m.parsed.kind === 'deviceMetrics' &&
      Date.parse(String(m.payload.ts)) > outageStart + 1000 &&
      Date.parse(String(m.payload.ts)) < outageEnd - 1000,
  );
  expect(duringOutage.length).toBeGreaterThan(outageS);
  console.log(
    `agent-loss (${broker.url}): ${produced} records produced over a ${outageS} s outage with a SIGKILL; ` +
      `${once.size} delivered; sent again ${resent.length} of the ${Math.max(0, lastBefore - unacknowledgedFrom + 1)} unacknowledged at the stop, ` +
      `${redelivered.length} redelivered by the broker; ${watcher.batches} batches`,
  );
}

describe('agent delivery without loss', () => {
  it(
    'through Aedes: broker stopped, agent SIGKILLed mid-outage, everything restarted',
    { timeout: (OUTAGE_S + 120) * 1000 },
    () => proveNoLoss(aedesBroker, OUTAGE_S),
  );

  it('through Mosquitto (plain MQTT 3.1.1)', { timeout: (OUTAGE_S / 3 + 120) * 1000 }, () =>
    proveNoLoss(mosquittoBroker, Math.max(6, Math.round(OUTAGE_S / 3))),
  );
});
