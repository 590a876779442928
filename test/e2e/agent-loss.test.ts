/**
 * Delivery without loss, with real processes: the agent (`node dist/cli/vigil.js agent`)
 * polls a simulated site while the broker is stopped; halfway through the outage the
 * agent is killed with SIGKILL and started again; then the broker comes back. Every
 * record the agent produced must reach the broker, in order, each seq once after the
 * broker's dedupe by seq (transport duplicates are counted and bounded by the window).
 *
 * Twice: against an Aedes broker (the broker Vigil embeds) and against Debian's
 * Mosquitto, to show the agent speaks plain MQTT 3.1.1.
 *
 * The outage lasts VIGIL_AGENT_OUTAGE_S seconds (default 60 for Aedes, a third of it for
 * Mosquitto; the manual setting is 600: VIGIL_AGENT_OUTAGE_S=600 npx vitest run
 * --project e2e test/e2e/agent-loss.test.ts). Build first (npm test does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../agent/spool/disk.js';
import { SimSite } from '../../sim/site.js';
import { vigilEntry } from '../helpers/demo.js';
import { freePort } from '../helpers/ports.js';
import {
  ONVIF,
  SITE,
  startBroker,
  tempDir,
  Watcher,
  writeAgentConfig,
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
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Persistent sessions survive a restart (Mosquitto with persistence); Aedes here does not. */
  keepsSessions: boolean;
}

function aedesBroker(port: number): BrokerUnderTest {
  let stop: (() => Promise<void>) | null = null;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    keepsSessions: false,
    async start() {
      const broker = await startBroker({ port });
      stop = () => broker.stop();
    },
    async stop() {
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

function mosquittoBroker(port: number, dir: string): BrokerUnderTest {
  let child: ChildProcess | null = null;
  const conf = join(dir, 'mosquitto.conf');
  return {
    url: `mqtt://127.0.0.1:${port}`,
    keepsSessions: true,
    async start() {
      await writeFile(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence true',
          `persistence_location ${dir}/`,
          // The watcher's queue while it reconnects: no limit (the default drops beyond 1000).
          'max_queued_messages 0',
          'max_inflight_messages 20',
          'log_dest none',
          '',
        ].join('\n'),
      );
      child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
      const started = Date.now();
      while (!(await portOpen(port))) {
        if (Date.now() - started > 10_000) throw new Error('mosquitto did not start');
        await sleep(50);
      }
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

async function proveNoLoss(
  makeBroker: (port: number, dir: string) => BrokerUnderTest,
  outageS: number,
): Promise<void> {
  if (!existsSync(vigilEntry)) throw new Error(`${vigilEntry} is missing: run npm run build`);
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
  const broker = makeBroker(await freePort(), dir.path);
  await broker.start();
  cleanups.push(() => broker.stop());
  const watcherId = 'loss-watcher';
  let watcher = new Watcher();
  await watcher.start(broker.url, watcherId, { clean: false });
  const seen: Watcher[] = [watcher];
  cleanups.push(() => Promise.all(seen.map((w) => w.stop())));

  const config = await writeAgentConfig(dir.path, broker.url, site.devices(), {
    intervalS: 0.5,
    extra: ['checks:', '  picture: false', '  stream: false'],
  });
  // Short reconnect delays: the test waits for the replay, not for a 60 s backoff.
  const text = await readFile(config, 'utf8');
  await writeFile(
    config,
    text.replace(
      '  passwordFile: mqtt-password',
      '  passwordFile: mqtt-password\n  reconnectMaxS: 1',
    ),
  );
  let agent = await startAgent(config);
  cleanups.push(async () => {
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  });
  await watcher.waitFor(() => watcher.of('deviceMetrics').length >= 8, { timeoutMs: 15_000 });

  // The outage: the broker goes away; the agent keeps polling into its spool.
  await broker.stop();
  await watcher.stop();
  const outageStart = Date.now();
  await sleep((outageS * 1000) / 2);
  agent.child.kill('SIGKILL');
  await agent.exited;
  agent = await startAgent(config);
  await sleep((outageS * 1000) / 2);
  const outageEnd = Date.now();

  // Everything restarted: the watcher first (a broker without sessions would otherwise
  // hand the replay to nobody), then the agent finds the broker on its next attempt.
  await broker.start();
  if (!broker.keepsSessions) {
    watcher = new Watcher();
    seen.push(watcher);
  }
  await watcher.start(broker.url, watcherId, { clean: false });
  const healthAfter = await watcher.waitFor(
    (m) =>
      m.parsed.kind === 'agentHealth' &&
      Date.parse(String(m.payload.ts)) > outageEnd + 1000 &&
      (m.payload.spool as { depth: number } | undefined)?.depth !== undefined,
    { timeoutMs: 60_000 },
  );
  expect(healthAfter.payload.spool).toMatchObject({ dropped: 0 });
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(0);
  await sleep(500);

  // What the agent produced: seq 0 .. nextSeq-1, and nothing left unsent in its spool.
  const spool = new DiskSpool({ dir: join(dir.path, 'spool') });
  await spool.start();
  const produced = spool.nextSeq;
  const left = spool.stats();
  await spool.stop();
  expect(left.depth).toBe(0);

  const messages = seen.flatMap((w) => w.messages);
  const seqs = messages
    .map((m) => m.payload.seq)
    .filter((seq): seq is number => typeof seq === 'number');
  const firsts: number[] = [];
  const once = new Set<number>();
  for (const seq of seqs) {
    if (once.has(seq)) continue;
    once.add(seq);
    firsts.push(seq);
  }
  const missing = [];
  for (let seq = 0; seq < produced; seq++) if (!once.has(seq)) missing.push(seq);
  expect(missing).toEqual([]);
  expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
  const duplicates = seqs.length - once.size;
  // A duplicate is a record whose PUBACK came as the agent died: at most its window.
  expect(duplicates).toBeLessThanOrEqual(8 * 500);
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
      `${once.size} delivered, ${duplicates} transport duplicates, ${watcher.batches} batches`,
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
