/**
 * `npm run bench:broker`: the Vigil broker with its durable ingest (journal fsync before
 * PUBACK, InfluxDB behind) against Debian's mosquitto (password file, no persistence),
 * and against bare Aedes (the library with no hooks: bench/aedes-bare.ts, the floor of any
 * broker built on it), in the same run on the same machine, under the same open-loop QoS 1
 * load from many agent connections. Each target first gets VIGIL_BENCH_WARMUP_S (3 s) of
 * load that is not measured: V8 compiles the hot path and the broker meets every device
 * once, which is not what a broker running for months pays per message. Prints, per rate
 * step: CPU per message of the broker process, PUBACK p50/p99, end-to-end p99 into InfluxDB
 * (Vigil only: mosquitto and bare Aedes store nothing), peak memory; sends never
 * acknowledged (no PUBACK) apart from lost ones (acknowledged, yet not in InfluxDB: Vigil
 * only, checked message by message); and InfluxDB's own write ceiling, with the rate Vigil
 * stored at: points in InfluxDB over the real time from the first send to the last point
 * stored, not over the step's nominal length.
 *
 * A peer that never becomes ready (mosquitto, bare Aedes, influxd, the Vigil broker) fails
 * the run at once, saying what to do: figures without one of them would compare nothing.
 *
 *
 * The Vigil broker runs twice (issue 17 part 8): `vigil` with the local file journal, and
 * `vigil-pg` with the journal in PostgreSQL (a PUBACK waits for a fenced multi-row INSERT,
 * broker/journal/pg-journal.ts), on a PostgreSQL 15 this benchmark starts itself
 * (test/helpers/postgres.ts) with production durability: fsync and synchronous_commit on.
 * For vigil-pg the table adds the database's CPU per message (the postmaster and its
 * backends), which the broker's own figure leaves out.
 *
 * Scale by env (defaults: the 500 connections; about 4 minutes on 2 cores):
 *   VIGIL_BENCH_AGENTS=500  VIGIL_BENCH_RATES=2000,5000,10000  VIGIL_BENCH_STEP_S=8
 *   VIGIL_BENCH_WARMUP_S=3  VIGIL_BENCH_JOURNALS=file,postgres (which Vigil journals run)
 *   VIGIL_BENCH_PEERS=mosquitto,aedes-bare (which peer brokers run; none: only Vigil, to
 *   compare two builds of Vigil in a few minutes, the figures against the peers then absent)
 *   VIGIL_BENCH_PG_COMMITS=1,3 (one vigil-pg per journal.commitsInFlight, named vigil-pg/1,
 *   vigil-pg/3, each on its own database of the one PostgreSQL; unset: the default, vigil-pg)
 * The load generator (bench/mqtt-load.ts, MQTT written by hand: mqtt.js took 1.4 cores
 * at 5,000 msg/s) runs in this process, on the same cores as the brokers and InfluxDB:
 * the figures compare the brokers, they are not any one's ceiling.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import {
  addAgents,
  startBrokerProcess,
  writeBrokerConfig,
  type BrokerProcess,
} from '../test/helpers/broker-process.js';
import { openDatabase } from '../broker/ha/pg.js';
import { startInfluxd, type RunningInfluxd } from '../test/helpers/influxd.js';
import { startPostgres, type RunningPostgres } from '../test/helpers/postgres.js';
import { freePorts } from '../test/helpers/ports.js';
import { topics } from '../shared/topics.js';
import { LoadPublisher } from './mqtt-load.js';
import { percentile, treeCpuS, usage } from './processes.js';

const AGENTS = Number(process.env.VIGIL_BENCH_AGENTS ?? 500);
const RATES = (process.env.VIGIL_BENCH_RATES ?? '2000,5000,10000').split(',').map(Number);
const STEP_S = Number(process.env.VIGIL_BENCH_STEP_S ?? 8);
const WARMUP_S = Number(process.env.VIGIL_BENCH_WARMUP_S ?? 3);
const JOURNALS = (process.env.VIGIL_BENCH_JOURNALS ?? 'file,postgres').split(',');
const PEERS = (process.env.VIGIL_BENCH_PEERS ?? 'mosquitto,aedes-bare').split(',');
const PG_COMMITS: (number | null)[] = process.env.VIGIL_BENCH_PG_COMMITS
  ? process.env.VIGIL_BENCH_PG_COMMITS.split(',').map(Number)
  : [null];
const SITE = 'bench';
const DATABASE = 'vigil_bench';
const TICK_MS = 10;

/**
 * The seq on the wire keeps counting across steps (an agent's seq only grows): the
 * broker's dedupe stage drops a seq it has seen from the same agent run.
 */
let wireSeq = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function influxQuery(url: string, q: string): Promise<unknown[][]> {
  const response = await fetch(`${url}/query?db=${DATABASE}&epoch=ms&q=${encodeURIComponent(q)}`);
  const body = (await response.json()) as { results: { series?: { values: unknown[][] }[] }[] };
  return body.results[0]?.series?.[0]?.values ?? [];
}

interface Target {
  name: string;
  url: string;
  pid: number;
  /** Vigil only: where its readings land. */
  influx?: RunningInfluxd;
  /** Vigil only: its journal's counters (GET /api/broker), to explain PUBACK latency. */
  journal?: () => Promise<{ appended: number; commits: number }>;
  /** vigil-pg only: the database's CPU seconds so far (postmaster and backends). */
  databaseCpuS?: () => number;
  /** Accounts to log in with, when not the first Vigil's (each Vigil has its own). */
  credentials?: { username: string; password: string; agentId: string }[];
  stop(): Promise<void>;
}

interface StepResult {
  broker: string;
  rate: number;
  sent: number;
  acked: number;
  /** Sent and never acknowledged (no PUBACK within the drain time). */
  unacked: number;
  stored: number | null;
  /** Vigil only: points stored per second, first send to last point stored. */
  storedPerS: number | null;
  cpuUsPerMsg: number;
  /** vigil-pg only: PostgreSQL's CPU per acknowledged message. */
  dbCpuUsPerMsg: number | null;
  pubackP50: number;
  pubackP99: number;
  e2eP99: number | null;
  rssMb: number;
  /** Vigil only: acknowledged (so promised durable), yet not in InfluxDB. */
  lost: number | null;
  /** Acknowledged per second, first send to last PUBACK. */
  achieved: number;
  /** Vigil only: journal fsyncs per second and messages per fsync during the step. */
  fsyncsPerS: number | null;
  perFsync: number | null;
}

async function startMosquitto(
  dir: string,
  credentials: { username: string; password: string }[],
): Promise<Target> {
  const [port] = (await freePorts(1)) as [number];
  const passwords = join(dir, 'mosquitto.passwd');
  await writeFile(passwords, '');
  try {
    for (const { username, password } of credentials) {
      execFileSync('mosquitto_passwd', ['-b', passwords, username, password]);
    }
  } catch (error) {
    throw new Error(
      `mosquitto_passwd failed (${error instanceof Error ? error.message : String(error)}): ` +
        "install Debian's mosquitto package (apt-get install mosquitto), which brings it",
    );
  }
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwords}`,
      'persistence false',
      // Started as root, mosquitto would switch to the "mosquitto" user, who cannot read
      // our temporary folder: stay who we are.
      `user ${userInfo().username}`,
      'log_type error',
    ].join('\n') + '\n',
  );
  const child: ChildProcess = spawn('/usr/sbin/mosquitto', ['-c', conf], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let spawnError: Error | null = null;
  child.once('error', (error) => (spawnError = error));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || spawnError) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  let ready = false;
  // Up to 5 s: mosquitto listens within milliseconds when it starts at all.
  for (let i = 0; i < 100 && !ready; i++) {
    if (spawnError || child.exitCode !== null) break;
    try {
      await new Promise<void>((resolve, reject) => {
        const probe = connect(`mqtt://127.0.0.1:${port}`, {
          ...credentials[0]!,
          reconnectPeriod: 0,
          connectTimeout: 500,
        });
        probe.once('connect', () => probe.end(true, () => resolve()));
        probe.once('error', reject);
      });
      ready = true;
    } catch {
      await sleep(50);
    }
  }
  if (!ready) {
    await stop();
    const why = spawnError
      ? `could not be started (${(spawnError as Error).message})`
      : child.exitCode !== null
        ? `exited with code ${child.exitCode} (its error is above)`
        : `did not accept a login on 127.0.0.1:${port} within 5 s`;
    throw new Error(
      `mosquitto, the peer broker, ${why}: install Debian's mosquitto package ` +
        '(apt-get install mosquitto; /usr/sbin/mosquitto), and check that nothing else holds the port',
    );
  }
  return { name: 'mosquitto', url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop };
}

/** bench/aedes-bare.ts as a process of its own, like the other two brokers. */
async function startAedesBare(): Promise<Target> {
  const entry = fileURLToPath(new URL('./aedes-bare.js', import.meta.url));
  const child = spawn(process.execPath, [entry], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `bare Aedes, the peer broker (${entry}), ${why}: build it with npm run build:server ` +
            '(npm run bench:broker does), and see its error above',
        ),
      );
    };
    const timer = setTimeout(() => fail('printed no port within 10 s'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(`exited with code ${code}`);
    });
    child.stdout!.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      const port = Number(chunk.toString().trim());
      if (Number.isInteger(port) && port > 0) resolve(port);
      else fail(`printed ${JSON.stringify(chunk.toString().trim())} instead of its port`);
    });
  });
  return {
    name: 'aedes-bare',
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startVigil(
  dir: string,
  influx: RunningInfluxd,
  postgres: {
    name: string;
    url: string;
    /** The postmaster, whose CPU (and its backends') is counted. */
    pid: number;
    commitsInFlight: number | null;
  } | null = null,
): Promise<Target & { credentials: Awaited<ReturnType<typeof addAgents>> }> {
  await mkdir(dir, { recursive: true });
  const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
  const config = await writeBrokerConfig(dir, {
    mqtt: { host: '127.0.0.1', port: mqttPort, limits: { connectionsPerSecond: 2000 } },
    http: { host: '127.0.0.1', port: httpPort },
    influx: { url: influx.url, database: DATABASE },
    // With a database the journal is in PostgreSQL (journal.store: postgres).
    ...(postgres ? { database: { url: postgres.url } } : {}),
    ...(postgres?.commitsInFlight
      ? { journal: { commitsInFlight: postgres.commitsInFlight } }
      : {}),
  });
  const names = Array.from({ length: AGENTS }, (_, i) => `gw-${String(i).padStart(4, '0')}`);
  const credentials = await addAgents(dir, SITE, names, postgres ? { url: postgres.url } : null);
  let broker: BrokerProcess;
  try {
    broker = await startBrokerProcess(config);
  } catch (error) {
    throw new Error(
      `the Vigil broker did not become ready: ${error instanceof Error ? error.message : String(error)}\n` +
        'build it with npm run build:server (npm run bench:broker does) and see its output above',
    );
  }
  if (postgres) {
    // The node acknowledges once it holds the leader lease (its first claim, at start).
    const until = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${httpPort}/api/health/leader`);
      if (response.status === 200) break;
      if (Date.now() > until) {
        await broker.kill('SIGTERM');
        throw new Error(
          `the Vigil broker with the PostgreSQL journal did not lead within 30 s:\n${broker.output()}`,
        );
      }
      await sleep(200);
    }
  }
  const journal = async () => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/broker`);
    const body = (await response.json()) as { journal: { appended: number; commits: number } };
    return body.journal;
  };
  return {
    name: postgres?.name ?? 'vigil',
    url: `mqtt://127.0.0.1:${mqttPort}`,
    journal,
    ...(postgres ? { databaseCpuS: () => treeCpuS(postgres.pid) } : {}),
    pid: broker.pid,
    influx,
    credentials,
    stop: async () => {
      await broker.kill('SIGTERM');
      // VIGIL_BENCH_VERBOSE=1: what the broker said, to explain a figure.
      if (process.env.VIGIL_BENCH_VERBOSE) console.log(broker.output());
    },
  };
}

async function connectAll(
  url: string,
  credentials: { username: string; password: string }[],
): Promise<LoadPublisher[]> {
  const { hostname, port } = new URL(url);
  const clients: LoadPublisher[] = [];
  // A few at a time: every login costs the broker a password hash.
  for (let i = 0; i < credentials.length; i += 20) {
    const batch = credentials.slice(i, i + 20).map(async (c) => {
      const client = new LoadPublisher(hostname, Number(port), c.username, c.username, c.password);
      await client.start();
      return client;
    });
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

async function runStep(
  target: Target,
  clients: LoadPublisher[],
  agentIds: string[],
  rate: number,
  base: number,
  seconds = STEP_S,
): Promise<StepResult> {
  const pubacks: number[] = [];
  const probes: { sentAt: number; device: string; ts: number }[] = [];
  let sent = 0;
  let acked = 0;
  let lastAckAt = 0;
  let seq = 0;
  /** Which messages of the step (by their n) got a PUBACK, to tell lost from unacknowledged. */
  const ackedN: number[] = [];
  let next = 0;
  let peakRss = 0;
  const journalBefore = await target.journal?.();
  const before = usage(target.pid);
  const databaseBefore = target.databaseCpuS?.();
  const started = performance.now();
  // Open loop: the schedule follows the clock, not the acknowledgements (nor the timer's
  // own lateness: a late tick sends what is due).
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    const count = due - sent;
    for (let i = 0; i < count; i++) {
      const index = next++ % clients.length;
      const client = clients[index]!;
      const agentId = agentIds[index]!;
      const n = seq++;
      const ts = base + n;
      const probe = n % Math.max(1, Math.round(rate / 5)) === 0;
      const deviceId = probe ? `probe-${n}` : `cam-${index}`;
      const payload = `{"v":1,"siteId":"${SITE}","agentId":"${agentId}","seq":${wireSeq++},"ts":"${new Date(ts).toISOString()}","deviceId":"${deviceId}","kind":"camera","values":{"up":true,"responseMs":${n % 100}}}`;
      const sentAt = performance.now();
      if (probe) probes.push({ sentAt: Date.now(), device: deviceId, ts });
      sent++;
      client.publish(topics.deviceMetrics(SITE, deviceId), payload, () => {
        acked++;
        ackedN.push(n);
        lastAckAt = performance.now();
        pubacks.push(performance.now() - sentAt);
      });
    }
  }, TICK_MS);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, usage(target.pid).rssMb);
  }, 250);

  // End to end: how long until a probe reading is visible in InfluxDB.
  const e2e: number[] = [];
  const seen = new Set<string>();
  const poll = async () => {
    if (!target.influx) return;
    const rows = await influxQuery(
      target.influx.url,
      `SELECT "up", "device" FROM "raw"."device" WHERE "device" =~ /^probe-/ AND time >= ${base}ms`,
    );
    const now = Date.now();
    for (const row of rows) {
      const device = String(row[2]);
      if (seen.has(device)) continue;
      seen.add(device);
      const probe = probes.find((p) => p.device === device);
      if (probe) e2e.push(now - probe.sentAt);
    }
  };
  const poller = setInterval(() => void poll().catch(() => {}), 100);
  // Vigil only: how many of the step's points InfluxDB holds, and when that last grew.
  const storedWatch = target.influx ? watchStored(target.influx.url, base, () => seq) : null;

  await sleep(seconds * 1000);
  clearInterval(timer);
  const sendingS = (performance.now() - started) / 1000;
  const drainUntil = Date.now() + 20_000;
  while (acked < sent && Date.now() < drainUntil) await sleep(50);
  const after = usage(target.pid);
  const databaseAfter = target.databaseCpuS?.();
  clearInterval(sampler);
  const journalAfter = await target.journal?.();
  const commits =
    journalBefore && journalAfter ? journalAfter.commits - journalBefore.commits : null;
  const appended =
    journalBefore && journalAfter ? journalAfter.appended - journalBefore.appended : null;

  let stored: number | null = null;
  let storedPerS: number | null = null;
  let lost: number | null = null;
  if (target.influx && storedWatch) {
    // Until every acknowledged point is in (or 10 s without a new one, or 60 s), counting
    // fast now: the last point's time is the first count that saw the final figure.
    const storeUntil = performance.now() + 60_000;
    storedWatch.every = 50;
    while (
      storedWatch.count < acked &&
      performance.now() < storeUntil &&
      performance.now() - storedWatch.changedAt < 10_000
    )
      await sleep(50);
    storedWatch.stop();
    await storedWatch.done;
    stored = storedWatch.count;
    storedPerS = stored / ((storedWatch.changedAt - started) / 1000);
    // Message by message: each one's time is base + n, so the stored times name them.
    const rows = await influxQuery(
      target.influx.url,
      `SELECT "responseMs" FROM "raw"."device" WHERE time >= ${base}ms AND time < ${base + seq}ms`,
    );
    const storedTimes = new Set(rows.map((row) => Number(row[0])));
    lost = ackedN.filter((n) => !storedTimes.has(base + n)).length;
    await sleep(300);
    await poll();
  }
  clearInterval(poller);
  return {
    broker: target.name,
    rate,
    sent,
    acked,
    unacked: sent - acked,
    stored,
    storedPerS,
    cpuUsPerMsg: ((after.cpuS - before.cpuS) * 1e6) / Math.max(1, acked),
    dbCpuUsPerMsg:
      databaseBefore === undefined || databaseAfter === undefined
        ? null
        : ((databaseAfter - databaseBefore) * 1e6) / Math.max(1, acked),
    pubackP50: percentile(pubacks, 50),
    pubackP99: percentile(pubacks, 99),
    e2eP99: target.influx ? percentile(e2e, 99) : null,
    rssMb: peakRss,
    lost,
    achieved: acked / (Math.max(lastAckAt - started, sendingS * 1000) / 1000),
    fsyncsPerS: commits === null ? null : commits / sendingS,
    perFsync: commits && appended !== null ? appended / commits : null,
  };
}

/**
 * Counts the step's points in InfluxDB every `every` ms (250 while sending, so the count
 * costs InfluxDB little; the caller sets 50 once sending stopped) and notes when the count
 * last grew: the time the last point was stored, to within one poll.
 */
function watchStored(
  url: string,
  base: number,
  seq: () => number,
): { count: number; changedAt: number; every: number; stop(): void; done: Promise<void> } {
  let running = true;
  const watch = {
    count: 0,
    changedAt: performance.now(),
    every: 250,
    stop: () => {
      running = false;
    },
    done: Promise.resolve(),
  };
  watch.done = (async () => {
    while (running) {
      const rows = await influxQuery(
        url,
        `SELECT count("responseMs") FROM "raw"."device" WHERE time >= ${base}ms AND time < ${base + seq()}ms`,
      ).catch(() => []);
      const count = Number(rows[0]?.[1] ?? 0);
      if (count > watch.count) {
        watch.count = count;
        watch.changedAt = performance.now();
      }
      await sleep(watch.every);
    }
  })();
  return watch;
}

/** InfluxDB's own ceiling: batches of 5000 points, 4 in flight, for a few seconds. */
async function influxCeiling(influx: RunningInfluxd): Promise<number> {
  const base = Date.now() - 20 * 86_400_000;
  let written = 0;
  let n = 0;
  const until = performance.now() + 5000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < until) {
      const lines: string[] = [];
      for (let i = 0; i < 5000; i++, n++) {
        lines.push(
          `device,site=ceiling,agent=gw-${n % AGENTS},device=cam-${n % AGENTS},kind=camera up=true,responseMs=${n % 100} ${base + n}`,
        );
      }
      const response = await fetch(`${influx.url}/write?db=${DATABASE}&rp=raw&precision=ms`, {
        method: 'POST',
        body: lines.join('\n'),
      });
      if (response.status === 204) written += 5000;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return written / ((performance.now() - started) / 1000);
}

function table(results: StepResult[]): string {
  const header = [
    'broker',
    'rate/s',
    'achieved/s',
    'sent',
    'acked',
    'never acked',
    'stored',
    'stored/s',
    'lost',
    'CPU us/msg',
    'DB CPU us/msg',
    'PUBACK p50 ms',
    'PUBACK p99 ms',
    'e2e p99 ms',
    'peak RSS MB',
    'commits/s',
    'msgs/commit',
  ];
  const f = (value: number | null, digits = 1) =>
    value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
  const rows = results.map((r) => [
    r.broker,
    String(r.rate),
    f(r.achieved, 0),
    String(r.sent),
    String(r.acked),
    String(r.unacked),
    r.stored === null ? '-' : String(r.stored),
    f(r.storedPerS, 0),
    r.lost === null ? '-' : String(r.lost),
    f(r.cpuUsPerMsg),
    f(r.dbCpuUsPerMsg),
    f(r.pubackP50),
    f(r.pubackP99),
    f(r.e2eP99, 0),
    f(r.rssMb, 0),
    f(r.fsyncsPerS, 0),
    f(r.perFsync),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-broker-'));
  let influx: RunningInfluxd;
  try {
    influx = await startInfluxd();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `influxd, where Vigil stores the readings, did not become ready: ${error instanceof Error ? error.message : String(error)}\n` +
        "install Debian's influxdb package (InfluxDB 1.x, influxd on the PATH) and check its output above",
    );
  }
  let postgres: RunningPostgres | null = null;
  if (JOURNALS.includes('postgres')) {
    try {
      postgres = await startPostgres(60_000, { durable: true });
    } catch (error) {
      await influx.stop();
      await rm(dir, { recursive: true, force: true });
      throw new Error(
        `PostgreSQL, where vigil-pg's journal commits, did not become ready: ${error instanceof Error ? error.message : String(error)}\n` +
          "install Debian's postgresql package, or run only the file journal with VIGIL_BENCH_JOURNALS=file",
      );
    }
  }
  const results: StepResult[] = [];
  // Whatever started is stopped, also when a later peer fails to start.
  const started: Target[] = [];
  try {
    console.log(
      `bench:broker: ${AGENTS} agent connections, QoS 1 open loop at ${RATES.join(', ')} msg/s, ${STEP_S} s per step`,
    );
    try {
      const vigils: Awaited<ReturnType<typeof startVigil>>[] = [];
      if (JOURNALS.includes('file')) vigils.push(await startVigil(join(dir, 'vigil'), influx));
      const server = postgres;
      for (const commitsInFlight of server ? PG_COMMITS : []) {
        if (!server) break;
        const name = commitsInFlight === null ? 'vigil-pg' : `vigil-pg/${commitsInFlight}`;
        // A database each: two brokers on one would be a pair, one of them standing by.
        const database = `vigil_pg_${commitsInFlight ?? 'default'}`;
        const admin = openDatabase({ url: server.url, passwordFile: null }, { max: 1 });
        await admin.query(`CREATE DATABASE ${database}`).finally(() => admin.close());
        const url = server.url.replace(/\/vigil$/, `/${database}`);
        vigils.push(
          await startVigil(join(dir, name.replace('/', '-')), influx, {
            name,
            url,
            pid: server.pid,
            commitsInFlight,
          }),
        );
      }
      started.push(...vigils);
      const vigil = vigils[0];
      if (!vigil) throw new Error('VIGIL_BENCH_JOURNALS names neither file nor postgres');
      // The same agent names on every broker: gw-0000, gw-0001, ...
      const agentIds = vigil.credentials.map((c) => c.agentId);
      // Measured in this order after Vigil: bare Aedes, then mosquitto.
      const peers: Target[] = [];
      const peer = async (name: string, start: () => Promise<Target>) => {
        if (!PEERS.includes(name)) return;
        const target = await start();
        started.push(target);
        peers.push(target);
      };
      await peer('aedes-bare', startAedesBare);
      await peer('mosquitto', () => startMosquitto(dir, vigil.credentials));
      for (const [n, target] of ([...vigils, ...peers] as Target[]).entries()) {
        const clients = await connectAll(target.url, target.credentials ?? vigil.credentials);
        let base = Date.now() - 10 * 86_400_000 + n * 86_400_000;
        if (WARMUP_S > 0) {
          await runStep(target, clients, agentIds, RATES[0]!, base, WARMUP_S);
          base += 3_600_000;
        }
        for (const rate of RATES) {
          const result = await runStep(target, clients, agentIds, rate, base);
          results.push(result);
          console.log(
            `  ${target.name} at ${rate}/s: achieved ${result.achieved.toFixed(0)}/s, PUBACK p99 ${result.pubackP99.toFixed(1)} ms, ` +
              `never acknowledged ${result.unacked}` +
              (result.lost === null
                ? ''
                : `, stored ${result.storedPerS?.toFixed(0)}/s, lost ${result.lost}`),
          );
          base += 3_600_000;
        }
        await Promise.all(clients.map((client) => client.stop()));
      }
    } finally {
      for (const target of started) await target.stop();
    }
    const ceiling = await influxCeiling(influx);
    console.log('');
    console.log(table(results));
    console.log('');
    const ours = results.filter((r) => r.broker.startsWith('vigil'));
    // Points in InfluxDB over the real time from the first send to the last point stored.
    const best = Math.max(...ours.map((r) => r.storedPerS ?? 0));
    console.log(
      `InfluxDB write ceiling (batches of 5000, 4 in flight, same machine): ${ceiling.toFixed(0)} points/s; ` +
        `Vigil's best step stored ${best.toFixed(0)} points/s (first send to last point stored) = ${((best / ceiling) * 100).toFixed(0)}% of it`,
    );
    for (const rate of RATES) {
      const v = results.find((r) => r.broker === 'vigil' && r.rate === rate);
      const a = results.find((r) => r.broker === 'aedes-bare' && r.rate === rate);
      const m = results.find((r) => r.broker === 'mosquitto' && r.rate === rate);
      if (v && m && a) {
        console.log(
          `at ${rate}/s: CPU per message vigil/mosquitto = ${(v.cpuUsPerMsg / m.cpuUsPerMsg).toFixed(2)}x ` +
            `(goal <= 1.5x; bare Aedes/mosquitto = ${(a.cpuUsPerMsg / m.cpuUsPerMsg).toFixed(2)}x, ` +
            `vigil/bare Aedes = ${(v.cpuUsPerMsg / a.cpuUsPerMsg).toFixed(2)}x), ` +
            `Vigil PUBACK p99 ${v.pubackP99.toFixed(1)} ms (goal <= 50), never acknowledged ${v.unacked}, ` +
            `lost ${v.lost} (acknowledged but not stored; goal 0)`,
        );
      }
      for (const pg of results.filter((r) => r.broker.startsWith('vigil-pg') && r.rate === rate)) {
        console.log(
          `at ${rate}/s: journal in PostgreSQL (${pg.broker}): CPU per message ${pg.cpuUsPerMsg.toFixed(1)} us in the broker ` +
            `+ ${pg.dbCpuUsPerMsg?.toFixed(1)} us in PostgreSQL` +
            (v ? ` (file journal: ${v.cpuUsPerMsg.toFixed(1)} us)` : '') +
            `, PUBACK p99 ${pg.pubackP99.toFixed(1)} ms (goal <= 50 at 5000/s), ` +
            `never acknowledged ${pg.unacked}, lost ${pg.lost} (goal 0)`,
        );
      }
    }
  } finally {
    await postgres?.stop();
    await influx.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:broker FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
