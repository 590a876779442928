/**
 * `npm run bench:capacity` (issue 17 part 8): how far ONE active broker node goes.
 *
 * The real broker process (`vigil broker`, dist/) with InfluxDB behind it (a real influxd,
 * test/helpers/influxd.ts), once with the local file journal and once with the journal in
 * a real PostgreSQL 15 this benchmark starts itself with production durability (fsync and
 * synchronous_commit on; `database.url` in the broker config, broker/journal/pg-journal.ts).
 * It provisions the agent accounts through the broker's own store (broker/agents/store.ts:
 * one site per agent, a scrypt hash per password) and opens one MQTT connection per agent
 * from a few load-generator processes (bench/capacity-worker.ts: MQTT by hand, each
 * connection behaving as agent/uplink.ts does: birth, one deviceMetrics PUBLISH per poll,
 * agentHealth every 30 s, 8 in flight, batches when the window is full). Every message is
 * checked by the broker as in production (schema, ids against topic and login, dedupe).
 *
 * Steps: the first is the fleet, every device polled every 15 s (5,000 agents x 20
 * devices / 15 s = about 6,700 device readings a second); each next step polls faster
 * (x1.25 the rate), over the same connections, until PUBACK p99 passes 50 ms or fewer
 * than 95 % of what was sent is acknowledged. When the first step is already past those
 * limits, each next step polls 1.25 times less often, until one is within them: the table
 * then brackets what the node takes. Each step prints: offered and acknowledged rate, the
 * broker's CPU (share of one core and per message) and peak RSS, PostgreSQL's
 * CPU (postmaster and backends) in the PostgreSQL run, PUBACK p50/p99, end-to-end p99
 * (produced by the agent, to the point queryable in InfluxDB; polled every 100 ms for the
 * sampled agents), and lost: acknowledged, yet not in InfluxDB, counted one message at a
 * time over every message of the sampled agents.
 *
 * Scale by env (defaults: the fleet; about 10 minutes per journal, 2 of hashing first):
 *   VIGIL_BENCH_CAP_AGENTS=5000   VIGIL_BENCH_CAP_DEVICES=20 (per agent)
 *   VIGIL_BENCH_CAP_POLL_S=15     VIGIL_BENCH_CAP_FACTOR=1.25  VIGIL_BENCH_CAP_MAX_STEPS=12
 *   VIGIL_BENCH_CAP_STEP_S=30     VIGIL_BENCH_CAP_WARMUP_S=2 x POLL_S (every device met twice)
 *   VIGIL_BENCH_CAP_JOURNALS=file,postgres   VIGIL_BENCH_CAP_WORKERS (generator processes)
 *   VIGIL_BENCH_CAP_SAMPLE=20 (agents whose every message is checked in InfluxDB)
 *   VIGIL_BENCH_CAP_P99_MS=50 (the PUBACK p99 that ends the run)
 * Smoke run (under a minute per journal):
 *   VIGIL_BENCH_CAP_AGENTS=200 VIGIL_BENCH_CAP_STEP_S=5 VIGIL_BENCH_CAP_WARMUP_S=2 \
 *   VIGIL_BENCH_CAP_MAX_STEPS=2 npm run bench:capacity
 *
 * Everything runs on this one machine: the load generator, InfluxDB and PostgreSQL take
 * cores from the broker. The figures say what this machine did, not what a node with the
 * cores to itself does; docs/CAPACITY.md labels them so.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentStore, type NewAgentCredentials } from '../broker/agents/store.js';
import { openDatabase as openPostgres } from '../broker/ha/pg.js';
import { PostgresDatabase } from '../broker/sql/postgres.js';
import { openSqlite } from '../broker/sql/sqlite.js';
import {
  startBrokerProcess,
  writeBrokerConfig,
  type BrokerProcess,
} from '../test/helpers/broker-process.js';
import { startInfluxd, type RunningInfluxd } from '../test/helpers/influxd.js';
import { freePorts } from '../test/helpers/ports.js';
import { startPostgres, type RunningPostgres } from '../test/helpers/postgres.js';
import type { SampleRecord, StepReport, ToWorker, WorkerAgent } from './capacity-worker.js';
import { openFilesLimit, processTreeCpuS } from './process-tree.js';
import { percentile, usage } from './processes.js';

const env = (name: string, fallback: number) =>
  Number(process.env[`VIGIL_BENCH_CAP_${name}`] ?? fallback);
const AGENTS = env('AGENTS', 5000);
const DEVICES = env('DEVICES', 20);
const POLL_S = env('POLL_S', 15);
const FACTOR = env('FACTOR', 1.25);
const MAX_STEPS = env('MAX_STEPS', 12);
const STEP_S = env('STEP_S', 30);
// Two poll intervals: every device is met (a registry row, a new InfluxDB series each)
// before anything is measured. A 10 s warm-up at a 15 s poll left a third of a 100,000
// device fleet to be met in the measured step, and InfluxDB's series creation dominated it.
const WARMUP_S = env('WARMUP_S', 2 * POLL_S);
const WORKERS = env('WORKERS', AGENTS >= 1000 ? 2 : 1);
const SAMPLE = Math.max(1, Math.min(AGENTS, env('SAMPLE', 20)));
const JOURNALS = (process.env.VIGIL_BENCH_CAP_JOURNALS ?? 'file,postgres').split(',');
/** The agent's default health interval (agent/config.ts healthIntervalS). */
const HEALTH_S = 30;
/** The limits: a step past either is the last. */
const PUBACK_P99_LIMIT_MS = env('P99_MS', 50);
const ACKED_SHARE_LIMIT = 0.95;
/** Sockets beyond the agents' own: InfluxDB, PostgreSQL, files, the HTTP API. */
const SPARE_FILES = 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface StepRow {
  journal: string;
  pollS: number;
  targetRate: number;
  offered: number;
  achieved: number;
  produced: number;
  acked: number;
  brokerCorePct: number;
  brokerUsPerMsg: number;
  rssMb: number;
  /** influxd's CPU (share of one core) and peak RSS during the step: it shares the machine. */
  influxCorePct: number | null;
  influxRssMb: number | null;
  dbCorePct: number | null;
  dbUsPerMsg: number | null;
  generatorCorePct: number;
  pubackP50: number;
  pubackP99: number;
  e2eP99: number;
  batchedRecords: number;
  checked: number;
  lost: number;
}

/**
 * Each broker socket and each generator socket is an open file: 5,000 agents need more
 * than the 1,024 many systems give by default. Node raises its soft limit to the hard one
 * as it starts (node.cc, PlatformInit: setrlimit(RLIMIT_NOFILE)), and the broker and the
 * generators are Node processes too: so a low soft limit is raised already, and only a
 * hard limit below what the fleet needs stops the run, at once and saying what to do,
 * instead of as connections refused minutes into the logins.
 */
function checkOpenFiles(): void {
  const needed = AGENTS + SPARE_FILES;
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) return;
  throw new Error(
    `${AGENTS} agent connections need ${needed} open files, and this process may open ${soft} ` +
      `(hard limit ${hard}, ulimit -Hn): raise the hard limit (as root: ulimit -Hn ${needed}; for a login, nofile in ` +
      '/etc/security/limits.conf; for a service, LimitNOFILE=) or run fewer agents with VIGIL_BENCH_CAP_AGENTS',
  );
}

interface Accounts {
  /** A vigil.db holding only the agent accounts, copied into each node's data folder. */
  file: string;
  credentials: NewAgentCredentials[];
}

/**
 * Accounts as `vigil agent add` makes them: one site per gateway, a scrypt hash each.
 * Made once per run (5,000 hashes take minutes on a busy machine) and copied to each node.
 */
async function provision(dir: string): Promise<Accounts> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'vigil.db');
  const db = openSqlite(file);
  try {
    const store = new AgentStore(db);
    await store.start();
    const added: NewAgentCredentials[] = [];
    const started = performance.now();
    // scrypt runs on libuv's thread pool (4 threads): a few hashes at a time.
    for (let i = 0; i < AGENTS; i += 8) {
      const batch = Array.from({ length: Math.min(8, AGENTS - i) }, (_, k) =>
        store.add(`site-${String(i + k).padStart(4, '0')}`, 'gw-01'),
      );
      added.push(...(await Promise.all(batch)));
      if (i % 1000 === 0 && i > 0) console.log(`  ${i} agent accounts provisioned`);
    }
    console.log(
      `  ${AGENTS} agent accounts in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    return { file, credentials: added };
  } finally {
    await db.close();
  }
}

/** The next answer of a generator process, or its error or death. */
function ask<T>(worker: ChildProcess, request: ToWorker, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`a load generator did not answer "${request.type}" within ${timeoutMs / 1000} s`),
      );
    }, timeoutMs);
    const onMessage = (answer: { type: string; message?: string; connected?: number }) => {
      // Logins are slow (a scrypt hash each): say how far they got, and keep waiting.
      if (answer.type === 'progress')
        return console.log(`  a load generator: ${answer.connected} agents connected`);
      cleanup();
      if (answer.type === 'error') reject(new Error(`a load generator failed: ${answer.message}`));
      else resolve(answer as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`a load generator exited (code ${code}) during "${request.type}"`));
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    worker.send(request);
  });
}

async function influxRows(url: string, database: string, q: string): Promise<unknown[][]> {
  const response = await fetch(`${url}/query?db=${database}&epoch=ms&q=${encodeURIComponent(q)}`);
  const body = (await response.json()) as { results: { series?: { values: unknown[][] }[] }[] };
  return body.results[0]?.series?.flatMap((s) => s.values) ?? [];
}

/**
 * When each point of the sampled agents first became queryable: polled every 100 ms, so
 * end to end is measured to within that.
 */
function watchSampled(influx: RunningInfluxd, database: string, sites: string[], from: number) {
  const seenAt = new Map<string, number>();
  const filter = `/^(${sites.join('|')})$/`;
  let running = true;
  const done = (async () => {
    while (running) {
      const rows = await influxRows(
        influx.url,
        database,
        `SELECT "up", "site", "device" FROM "raw"."device" WHERE "site" =~ ${filter} AND time >= ${from}ms`,
      ).catch(() => []);
      const now = Date.now();
      for (const [time, , site, device] of rows) {
        const key = `${String(site)}/${String(device)}/${Number(time)}`;
        if (!seenAt.has(key)) seenAt.set(key, now);
      }
      await sleep(100);
    }
  })();
  return {
    seenAt,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

interface Node {
  journal: string;
  broker: BrokerProcess;
  host: string;
  port: number;
  database: string;
  credentials: NewAgentCredentials[];
  postgres: RunningPostgres | null;
}

/** The provisioned accounts, rows as they are, into the PostgreSQL a node will read them from. */
async function copyAccounts(file: string, url: string): Promise<void> {
  const from = openSqlite(file);
  const to = new PostgresDatabase(openPostgres({ url, passwordFile: null }, { numbers: true }), {
    owned: true,
  });
  try {
    await new AgentStore(to).start();
    const rows = await from.all<Record<string, unknown>>('SELECT * FROM agent_accounts');
    const columns = Object.keys(rows[0] ?? {});
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      const values = batch.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      await to.run(
        `INSERT INTO agent_accounts (${columns.join(', ')}) VALUES ${values} ON CONFLICT (username) DO NOTHING`,
        batch.flatMap((row) => columns.map((column) => row[column])),
      );
    }
  } finally {
    await from.close();
    await to.close();
  }
}

async function startNode(
  dir: string,
  journal: string,
  influx: RunningInfluxd,
  postgres: RunningPostgres | null,
  accounts: Accounts,
): Promise<Node> {
  await mkdir(dir, { recursive: true });
  // The broker opens <dataDir>/vigil.db and migrates its other stores beside the accounts;
  // with PostgreSQL the accounts are read from there (broker/sql/), so they are copied in.
  await copyFile(accounts.file, join(dir, 'vigil.db'));
  if (postgres) await copyAccounts(accounts.file, postgres.url);
  const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
  const database = `vigil_cap_${journal}`;
  const config = await writeBrokerConfig(dir, {
    // 5,000 agents log in at once after a restart: the default 200 a second would make
    // the connecting phase, not the broker, the subject of the run.
    mqtt: { host: '127.0.0.1', port: mqttPort, limits: { connectionsPerSecond: 2000 } },
    http: { host: '127.0.0.1', port: httpPort },
    influx: { url: influx.url, database },
    ...(postgres ? { database: { url: postgres.url } } : {}),
  });
  const credentials = accounts.credentials;
  let broker: BrokerProcess;
  try {
    broker = await startBrokerProcess(config, {}, 120_000);
  } catch (error) {
    throw new Error(
      `the Vigil broker did not become ready: ${message(error)}\n` +
        'build it with npm run build:server (npm run bench:capacity does) and see its output above',
    );
  }
  if (postgres) {
    // With the journal in PostgreSQL a node acknowledges only while it holds the lease.
    const until = Date.now() + 30_000;
    while ((await fetch(`http://127.0.0.1:${httpPort}/api/health/leader`)).status !== 200) {
      if (Date.now() > until) {
        await broker.kill('SIGTERM');
        throw new Error(
          `the broker with the PostgreSQL journal did not lead within 30 s:\n${broker.output()}`,
        );
      }
      await sleep(200);
    }
  }
  return { journal, broker, host: '127.0.0.1', port: mqttPort, database, credentials, postgres };
}

async function runStep(
  node: Node,
  workers: ChildProcess[],
  influx: RunningInfluxd,
  sampledSites: string[],
  targetRate: number,
  seconds: number,
): Promise<StepRow> {
  const from = Date.now() - 1000;
  const watch = watchSampled(influx, node.database, sampledSites, from);
  let peakRss = 0;
  let influxPeakRss: number | null = null;
  const influxPid = influx.pid();
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, usage(node.broker.pid).rssMb);
    if (influxPid !== null) influxPeakRss = Math.max(influxPeakRss ?? 0, usage(influxPid).rssMb);
  }, 250);
  const before = usage(node.broker.pid);
  const influxBefore = influxPid === null ? null : usage(influxPid).cpuS;
  const dbBefore = node.postgres ? processTreeCpuS(node.postgres.pid) : null;
  const started = performance.now();
  const startedEpoch = Date.now();
  const drainS = 20;
  const reports = await Promise.all(
    workers.map((worker) =>
      ask<StepReport>(
        worker,
        {
          type: 'step',
          fleetRate: targetRate,
          fleetAgents: AGENTS,
          seconds,
          drainS,
        },
        (seconds + drainS + 60) * 1000,
      ),
    ),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const after = usage(node.broker.pid);
  const influxAfter = influxPid === null ? null : usage(influxPid).cpuS;
  const dbAfter = node.postgres ? processTreeCpuS(node.postgres.pid) : null;
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, after.rssMb);

  const sum = (pick: (r: StepReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  const produced = sum((r) => r.produced);
  const acked = sum((r) => r.acked);
  const samples: SampleRecord[] = reports.flatMap((r) => r.samples);
  const ackedSamples = samples.filter((s) => s.acked);
  // Until every acknowledged sampled point is queryable, or 15 s bring none new (60 s at most).
  const until = Date.now() + 60_000;
  let lastCount = -1;
  let lastGrowth = Date.now();
  for (;;) {
    const present = ackedSamples.filter((s) => watch.seenAt.has(s.key)).length;
    if (present === ackedSamples.length || Date.now() > until || Date.now() - lastGrowth > 15_000)
      break;
    if (present !== lastCount) {
      lastCount = present;
      lastGrowth = Date.now();
    }
    await sleep(200);
  }
  await watch.stop();
  const lost = ackedSamples.filter((s) => !watch.seenAt.has(s.key)).length;
  const e2e = ackedSamples.flatMap((s) => {
    const seen = watch.seenAt.get(s.key);
    return seen === undefined ? [] : [seen - s.producedAt];
  });
  const puback: number[] = [];
  for (const r of reports) for (const ms of r.pubackMs) puback.push(ms);
  const lastAckAt = Math.max(...reports.map((r) => r.lastAckAt));
  const brokerCpuS = after.cpuS - before.cpuS;
  const dbCpuS = dbBefore === null || dbAfter === null ? null : dbAfter - dbBefore;
  return {
    journal: node.journal,
    pollS: (AGENTS * DEVICES) / targetRate,
    targetRate,
    offered: produced / seconds,
    achieved: acked / Math.max(seconds, (lastAckAt - startedEpoch) / 1000),
    produced,
    acked,
    brokerCorePct: (brokerCpuS / elapsedS) * 100,
    brokerUsPerMsg: (brokerCpuS * 1e6) / Math.max(1, acked),
    rssMb: peakRss,
    influxCorePct:
      influxBefore === null || influxAfter === null
        ? null
        : ((influxAfter - influxBefore) / elapsedS) * 100,
    influxRssMb: influxPeakRss,
    dbCorePct: dbCpuS === null ? null : (dbCpuS / elapsedS) * 100,
    dbUsPerMsg: dbCpuS === null ? null : (dbCpuS * 1e6) / Math.max(1, acked),
    generatorCorePct: (sum((r) => r.cpuS) / elapsedS) * 100,
    pubackP50: percentile(puback, 50),
    pubackP99: percentile(puback, 99),
    e2eP99: percentile(e2e, 99),
    batchedRecords: sum((r) => r.batchedRecords),
    checked: ackedSamples.length,
    lost,
  };
}

const f = (value: number | null, digits = 0) =>
  value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);

const COLUMNS: [string, (r: StepRow) => string][] = [
  ['journal', (r) => r.journal],
  ['poll s', (r) => f(r.pollS, r.pollS < 1 ? 2 : 1)],
  ['target/s', (r) => f(r.targetRate)],
  ['offered/s', (r) => f(r.offered)],
  ['acked/s', (r) => f(r.achieved)],
  ['never acked', (r) => String(r.produced - r.acked)],
  ['broker CPU % core', (r) => f(r.brokerCorePct)],
  ['broker us/msg', (r) => f(r.brokerUsPerMsg, 1)],
  ['broker RSS MB', (r) => f(r.rssMb)],
  ['InfluxDB CPU % core', (r) => f(r.influxCorePct)],
  ['InfluxDB RSS MB', (r) => f(r.influxRssMb)],
  ['PG CPU % core', (r) => f(r.dbCorePct)],
  ['PG us/msg', (r) => f(r.dbUsPerMsg, 1)],
  ['PUBACK p50 ms', (r) => f(r.pubackP50, 1)],
  ['PUBACK p99 ms', (r) => f(r.pubackP99, 1)],
  ['e2e p99 ms', (r) => f(r.e2eP99)],
  ['batched records', (r) => String(r.batchedRecords)],
  ['lost / checked', (r) => `${r.lost} / ${r.checked}`],
  ['generator CPU % core', (r) => f(r.generatorCorePct)],
];

/** The table as Markdown, ready for docs/CAPACITY.md. */
function table(rows: StepRow[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(COLUMNS.map(([name]) => name)),
    line(COLUMNS.map(() => '---:')),
    ...rows.map((r) => line(COLUMNS.map(([, cell]) => cell(r)))),
  ].join('\n');
}

async function runJournal(
  dir: string,
  journal: string,
  influx: RunningInfluxd,
  accounts: Accounts,
  rows: StepRow[],
): Promise<void> {
  let postgres: RunningPostgres | null = null;
  if (journal === 'postgres') {
    try {
      postgres = await startPostgres(60_000, { durable: true });
    } catch (error) {
      throw new Error(
        `PostgreSQL, where this run's journal commits, did not become ready: ${message(error)}\n` +
          "install Debian's postgresql package, or run only the file journal with VIGIL_BENCH_CAP_JOURNALS=file",
      );
    }
  } else if (journal !== 'file') {
    throw new Error(
      `VIGIL_BENCH_CAP_JOURNALS names "${journal}": use file, postgres or both (file,postgres)`,
    );
  }
  const workers: ChildProcess[] = [];
  let node: Node | null = null;
  try {
    console.log(`\n[${journal}] starting the broker`);
    node = await startNode(join(dir, journal), journal, influx, postgres, accounts);
    const entry = fileURLToPath(new URL('./capacity-worker.js', import.meta.url));
    const specs: WorkerAgent[] = node.credentials.map((c, index) => ({
      index,
      username: c.username,
      password: c.password,
      siteId: c.siteId,
      agentId: c.agentId,
      sampled: index % Math.floor(AGENTS / SAMPLE) === 0,
    }));
    const sampledSites = specs.filter((s) => s.sampled).map((s) => s.siteId);
    const connecting = performance.now();
    for (let w = 0; w < WORKERS; w++) {
      workers.push(
        fork(entry, [], {
          serialization: 'advanced',
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
    }
    await Promise.all(
      workers.map((worker, w) =>
        ask(
          worker,
          {
            type: 'connect',
            host: node!.host,
            port: node!.port,
            agents: specs.filter((s) => s.index % WORKERS === w),
            devices: DEVICES,
            fleetAgents: AGENTS,
            healthS: HEALTH_S,
          },
          // Each login costs the broker a scrypt hash: about 140 ms a login (7 a second)
          // were seen on the shared 2-core machine while it also hashed for others.
          60_000 + AGENTS * 500,
        ),
      ),
    );
    console.log(
      `[${journal}] ${AGENTS} agents connected from ${WORKERS} generator processes in ` +
        `${((performance.now() - connecting) / 1000).toFixed(1)} s, births acknowledged`,
    );
    const firstRate = (AGENTS * DEVICES) / POLL_S;
    if (WARMUP_S > 0) await runStep(node, workers, influx, sampledSites, firstRate, WARMUP_S);
    // Up from the fleet while it keeps within the limits. When the fleet itself is
    // past them, down instead (the same factor) to the first rate this machine does take:
    // the table then brackets the node's capacity between that step and the one above it.
    let direction: 1 | -1 = 1;
    for (let step = 0, exponent = 0; step < MAX_STEPS; step++, exponent += direction) {
      const rate = firstRate * FACTOR ** exponent;
      const row = await runStep(node, workers, influx, sampledSites, rate, STEP_S);
      rows.push(row);
      console.log(
        `[${journal}] poll ${row.pollS.toFixed(1)} s: offered ${f(row.offered)}/s, acked ${f(row.achieved)}/s, ` +
          `broker ${f(row.brokerCorePct)} % core (${f(row.brokerUsPerMsg, 1)} us/msg), RSS ${f(row.rssMb)} MB` +
          (row.dbCorePct === null
            ? ''
            : `, PostgreSQL ${f(row.dbCorePct)} % core (${f(row.dbUsPerMsg, 1)} us/msg)`) +
          `, InfluxDB ${f(row.influxCorePct)} % core, RSS ${f(row.influxRssMb)} MB` +
          `, PUBACK p50 ${f(row.pubackP50, 1)} / p99 ${f(row.pubackP99, 1)} ms, e2e p99 ${f(row.e2eP99)} ms, ` +
          `lost ${row.lost} of ${row.checked} checked, generator ${f(row.generatorCorePct)} % core`,
      );
      const ackedShare = row.acked / Math.max(1, row.produced);
      const past = row.pubackP99 > PUBACK_P99_LIMIT_MS || ackedShare < ACKED_SHARE_LIMIT;
      const why =
        row.pubackP99 > PUBACK_P99_LIMIT_MS
          ? `PUBACK p99 ${f(row.pubackP99, 1)} ms passed ${PUBACK_P99_LIMIT_MS} ms`
          : `only ${f(ackedShare * 100, 1)} % of what was sent was acknowledged`;
      if (step === 0 && past) {
        direction = -1;
        console.log(`[${journal}] the first step is past the limits (${why}): stepping down`);
      } else if (direction === 1 && past) {
        console.log(`[${journal}] stopped: ${why}`);
        break;
      } else if (direction === -1 && !past) {
        console.log(`[${journal}] stopped: the first rate within the limits`);
        break;
      }
    }
  } finally {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null) return resolve();
            worker.once('exit', () => resolve());
            worker.send({ type: 'stop' } satisfies ToWorker);
            setTimeout(() => worker.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    await node?.broker.kill('SIGTERM');
    if (process.env.VIGIL_BENCH_VERBOSE && node) console.log(node.broker.output());
    await postgres?.stop();
  }
}

async function main(): Promise<void> {
  checkOpenFiles();
  const machine =
    `${hostname()}: ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  console.log(
    `bench:capacity: ${AGENTS} agents x ${DEVICES} devices, first poll every ${POLL_S} s ` +
      `(${f((AGENTS * DEVICES) / POLL_S)} readings/s), x${FACTOR} per ${STEP_S} s step, journals ${JOURNALS.join(', ')}\n` +
      `machine ${machine}; the load generator, InfluxDB and PostgreSQL run on it beside the broker`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-capacity-'));
  const rows: StepRow[] = [];
  try {
    console.log(`provisioning ${AGENTS} agent accounts`);
    const accounts = await provision(join(dir, 'accounts'));
    for (const journal of JOURNALS) {
      // An InfluxDB of its own per journal: the second run would otherwise start beside the
      // first's series (100,000 of them at the fleet) held in influxd's memory.
      const influx = await startInfluxdOrSay();
      try {
        await runJournal(dir, journal, influx, accounts, rows);
      } finally {
        await influx.stop();
      }
    }
    console.log(
      `\nmachine: ${machine} (shared with the load generator, InfluxDB and PostgreSQL)\n`,
    );
    console.log(table(rows));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function startInfluxdOrSay(): Promise<RunningInfluxd> {
  try {
    return await startInfluxd();
  } catch (error) {
    throw new Error(
      `influxd, where the broker stores the readings, did not become ready: ${message(error)}\n` +
        "install Debian's influxdb package (InfluxDB 1.x, influxd on the PATH)",
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:capacity FAILED: ${message(error)}`);
    process.exit(1);
  },
);
