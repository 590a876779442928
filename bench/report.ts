/**
 * `npm run bench:report` (issue 12's proof): a site of 500 devices with 30 days of
 * readings every 15 s, written into the metrics store directly, then, while agents publish
 * at 2,000 messages a second, the month's inspection report and a device's 30-day chart
 * through the HTTP API, each timed, with the PUBACK latency of the messages sent while they
 * ran. Goals: the report at most 2 s, the chart at most 200 ms, PUBACK p99 at most 50 ms
 * while they run; with the embedded store and with InfluxDB.
 *
 * The peer is today's code path on the same data (bench/old/: copies of the store and
 * report code at commit cbf448a): one trend query per device and field, the embedded
 * store's JSON rows read on the broker's event loop. Where it would take far too long
 * (VIGIL_BENCH_OLD_BUDGET_S, 120 s, per store) a sample of its queries is timed and the
 * report extrapolated, and the run says so.
 *
 * Per store (VIGIL_BENCH_STORES, embedded then influxdb):
 *   1. seed: MetricsStore.write() in large batches, a day at a time and device by device
 *      in time order (embedded: <dataDir>/metrics.db before the broker starts, then the
 *      old one-row-JSON table in metrics-old.db filled from it by SQL; InfluxDB: a real
 *      influxd in a folder of its own, then InfluxMetricsStore.settle(), until its rollups
 *      caught up);
 *   2. the broker as a real process on that data folder; one agent account per 50
 *      devices; every device's state, then device-metrics messages at QoS 1, open loop;
 *   3. a baseline window without queries, the report (computed, then again: a past
 *      month is cached), the chart (three times);
 *   4. the old path on the same data.
 *
 * Scale by env (defaults: the issue's site; the full run takes 30 to 60 minutes on 2 cores):
 *   VIGIL_BENCH_DEVICES=500  VIGIL_BENCH_DAYS=30  VIGIL_BENCH_INTERVAL_S=15
 *   VIGIL_BENCH_RATE=2000  VIGIL_BENCH_STORES=embedded,influxdb  VIGIL_BENCH_OLD_BUDGET_S=120
 * The load generator (bench/mqtt-load.ts) runs in this process, on the same cores as the
 * broker and InfluxDB, like bench:broker's.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Device } from '../shared/api/devices.js';
import type { InspectionReport } from '../shared/api/inspection.js';
import type { Site } from '../shared/api/sites.js';
import { DeviceMetrics } from '../shared/messages/device-metrics.js';
import { DeviceState } from '../shared/messages/device-state.js';
import { apiRoutes, metricRoutes, siteApiRoutes } from '../shared/api/routes.js';
import { topics } from '../shared/topics.js';
import { validator } from '../shared/validate.js';
import { openDatabase } from '../broker/db.js';
import { EmbeddedMetricsStore } from '../broker/metrics/embedded.js';
import { InfluxMetricsStore } from '../broker/metrics/influx.js';
import type { MetricPoint, MetricsStore } from '../broker/metrics/store.js';
import {
  addAgents,
  startBrokerProcess,
  writeBrokerConfig,
  type BrokerProcess,
} from '../test/helpers/broker-process.js';
import { eventually } from '../test/helpers/eventually.js';
import { startInfluxd, type RunningInfluxd } from '../test/helpers/influxd.js';
import { freePorts } from '../test/helpers/ports.js';
import { LoadPublisher } from './mqtt-load.js';
import { percentile } from './processes.js';
import { EmbeddedMetricsStore as OldEmbeddedMetricsStore } from './old/embedded.js';
import { InfluxMetricsStore as OldInfluxMetricsStore } from './old/influx.js';
import { inspectionReport as oldInspectionReport } from './old/report.js';
import type { MetricsStore as OldMetricsStore, TrendBucket, TrendQuery } from './old/store.js';

/** A positive number from the environment, or the default; anything else stops the run. */
function setting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`${name}="${text}": must be a positive number`);
  return value;
}

const DEVICES = Math.round(setting('VIGIL_BENCH_DEVICES', 500));
const DAYS = setting('VIGIL_BENCH_DAYS', 30);
const INTERVAL_S = setting('VIGIL_BENCH_INTERVAL_S', 15);
const RATE = setting('VIGIL_BENCH_RATE', 2000);
const OLD_BUDGET_S = setting('VIGIL_BENCH_OLD_BUDGET_S', 120);
const STORES = (process.env.VIGIL_BENCH_STORES ?? 'embedded,influxdb')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const SITE = 'bench-site';
const DATABASE = 'vigil_bench_report';
/**
 * The agents' connections: 2,000 msg/s is a fleet's load (a 500-device site polled every
 * 15 s sends 33 a second), so it comes from as many connections as bench:broker's, the
 * site's devices spread over them.
 */
const AGENTS = Math.round(setting('VIGIL_BENCH_AGENTS', 100));
const DEVICES_PER_AGENT = Math.max(1, Math.ceil(DEVICES / AGENTS));
/** One device in this many is an NVR. */
const NVR_EVERY = 25;
const WARMUP_S = 5;
const BASELINE_S = 10;
const TICK_MS = 10;
const DAY_MS = 86_400_000;
/** The API's chart: about 300 buckets per period, at least 10 s (broker/api/metrics.ts). */
const CHART_TARGET_BUCKETS = 300;
const GOALS = { reportS: 2, chartMs: 200, pubackP99Ms: 50 };

/**
 * What this run started and must undo (influxd, the broker, the temporary folder), so
 * that an interrupted run (Ctrl-C, SIGTERM, its output piped into `head`) leaves
 * nothing running: the finally blocks do not run when the process is cut short.
 */
const undo = new Set<() => Promise<unknown>>();
/** Removed after the processes that write into it stopped. */
let tempDir: string | null = null;

/** Registers `stop`; the function returned runs it and forgets it. */
function tracked(stop: () => Promise<unknown>): () => Promise<unknown> {
  const once = () => {
    undo.delete(once);
    return stop();
  };
  undo.add(once);
  return once;
}

let stopping = false;

function interrupted(why: string): void {
  if (stopping) return;
  stopping = true;
  console.error(`bench:report interrupted (${why}): stopping what it started`);
  void Promise.allSettled([...undo].map((step) => step()))
    .then(() => (tempDir ? rm(tempDir, { recursive: true, force: true }) : undefined))
    .finally(() => process.exit(1));
}
process.once('SIGINT', () => interrupted('SIGINT'));
process.once('SIGTERM', () => interrupted('SIGTERM'));
// EPIPE: nobody reads the output any more.
process.stdout.on('error', () => interrupted('its output was closed'));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface BenchDevice {
  index: number;
  id: string;
  kind: 'camera' | 'nvr';
  agent: number;
  agentId: string;
}

const devices: BenchDevice[] = Array.from({ length: DEVICES }, (_, index) => {
  // A small site still gets one NVR: its last device.
  const nvr = index % NVR_EVERY === NVR_EVERY - 1 || (DEVICES < NVR_EVERY && index === DEVICES - 1);
  const kind = nvr ? 'nvr' : 'camera';
  const agent = Math.floor(index / DEVICES_PER_AGENT);
  return {
    index,
    id: `${kind === 'nvr' ? 'nvr' : 'cam'}-${String(index).padStart(4, '0')}`,
    kind,
    agent,
    agentId: `gw-${String(agent).padStart(3, '0')}`,
  };
});
const agentIds = [...new Set(devices.map((d) => d.agentId))];

/** The report's trend fields (broker/inspection/report.ts): the stored field and the report's name. */
const REPORT_FIELDS = [
  { field: 'responseMs', out: 'responseMs' },
  { field: 'clockOffsetS', out: 'clockOffsetS' },
  { field: 'storageUsedPct', out: 'storageUsedPct' },
  { field: 'retentionDays', out: 'retentionDays' },
  { field: 'recordingsStopped', out: 'recordingPct' },
] as const;

/**
 * The store's own time per field for the report's query (trendBy by device, daily
 * buckets, the report's period), with no load: which field a slow report waits on.
 */
async function perField(store: MetricsStore, period: ReportPeriod): Promise<void> {
  const times: string[] = [];
  for (const { field } of REPORT_FIELDS) {
    const answer = await timed(() =>
      store.trendBy({
        measurement: 'device',
        tags: { site: SITE },
        by: 'device',
        field,
        from: new Date(period.from),
        to: new Date(Math.min(period.to, Date.now())),
        bucketS: 86_400,
      }),
    );
    times.push(`${field} ${answer.ms.toFixed(0)} ms (${answer.value.size} devices)`);
  }
  console.log(`  trendBy per field, straight from the store, no load: ${times.join(', ')}`);
}

/** A cheap deterministic hash of two integers (the readings must not cost the seeding). */
function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * The fields the report reads (broker/inspection/report.ts): responseMs and clockOffsetS
 * of every device, storageUsedPct, retentionDays and recordingsStopped of NVRs, and up.
 * One poll in 2,000 finds the device down (no response time, no clock offset).
 */
function fieldsOf(device: BenchDevice, step: number, steps: number): MetricPoint['fields'] {
  const h = hash(device.index, step);
  if (h % 2000 === 0) return { up: false };
  const fields: MetricPoint['fields'] = {
    up: true,
    responseMs: 8 + (h % 400) / 10 + (device.kind === 'nvr' ? 15 : 0),
    // A clock that drifts by up to 6 s over the period on every seventh device.
    clockOffsetS:
      (device.index % 7 === 0 ? (6 * step) / steps : 0) + ((h >>> 10) % 100) / 100 - 0.5,
  };
  if (device.kind === 'nvr') {
    fields.storageUsedPct = 60 + (30 * step) / steps + ((h >>> 4) % 10) / 10;
    fields.retentionDays = 28 + (device.index % 5) + ((h >>> 6) % 3);
    fields.recordingsStopped = (h >>> 3) % 5000 === 0 ? 1 : 0;
  }
  return fields;
}

interface Seeded {
  from: number;
  to: number;
  points: number;
}

/** The seeded range: DAYS days of readings every INTERVAL_S, ending at the last step before now. */
function seedRange(): { from: number; to: number; steps: number } {
  const stepMs = INTERVAL_S * 1000;
  const to = Math.floor(Date.now() / stepMs) * stepMs;
  const steps = Math.floor((DAYS * DAY_MS) / stepMs);
  return { from: to - steps * stepMs, to, steps };
}

/**
 * Writes every device's readings, device by device in time order, in batches of
 * `batchSize` points, to every writer in turn, timing each writer on its own; prints the rate.
 */
async function seed(
  writers: { name: string; write(points: MetricPoint[]): Promise<void> }[],
  batchSize = 20_000,
  inFlight = 1,
): Promise<Seeded & { seconds: Map<string, number> }> {
  if (inFlight > 1 && writers.length > 1) throw new Error('batches in flight: one writer only');
  const { from, to, steps } = seedRange();
  const stepMs = INTERVAL_S * 1000;
  const seconds = new Map(writers.map((w) => [w.name, 0]));
  const total = DEVICES * steps;
  let points = 0;
  let batch: MetricPoint[] = [];
  let lastPrint = performance.now();
  const pending = new Set<Promise<void>>();
  const seedStarted = performance.now();
  const flush = async () => {
    if (inFlight > 1) {
      // Several batches in flight (InfluxDB works on one while the next is encoded): the
      // time is the wall time from the first batch.
      const write = writers[0]!.write(batch).finally(() => pending.delete(write));
      pending.add(write);
      if (pending.size >= inFlight) await Promise.race(pending);
      seconds.set(writers[0]!.name, (performance.now() - seedStarted) / 1000);
    } else {
      for (const writer of writers) {
        const started = performance.now();
        await writer.write(batch);
        seconds.set(writer.name, seconds.get(writer.name)! + (performance.now() - started) / 1000);
      }
    }
    points += batch.length;
    batch = [];
    if (performance.now() - lastPrint > 30_000) {
      lastPrint = performance.now();
      const rates = writers
        .map((w) => `${w.name} ${Math.round(points / seconds.get(w.name)!)}/s`)
        .join(', ');
      console.log(`    ${((points / total) * 100).toFixed(0)}% (${points} points; ${rates})`);
    }
  };
  // A day at a time, and within it device by device in time order: a store that marks
  // what a write touched (InfluxDB's stale intervals) rolls each day up about once,
  // as it does after a day's backlog, not once per device.
  const stepsPerDay = Math.round(DAY_MS / stepMs);
  const tagsOf = devices.map((d) => ({ site: SITE, agent: d.agentId, device: d.id, kind: d.kind }));
  for (let day = 0; day < steps; day += stepsPerDay) {
    for (const device of devices) {
      const tags = tagsOf[device.index]!;
      for (let step = day; step < Math.min(steps, day + stepsPerDay); step++) {
        batch.push({
          measurement: 'device',
          tags,
          fields: fieldsOf(device, step, steps),
          time: new Date(from + step * stepMs),
        });
        if (batch.length === batchSize) await flush();
      }
    }
  }
  if (batch.length > 0) await flush();
  await Promise.all(pending);
  if (inFlight > 1) seconds.set(writers[0]!.name, (performance.now() - seedStarted) / 1000);
  for (const writer of writers) {
    const s = seconds.get(writer.name)!;
    console.log(
      `  seeded ${writer.name}: ${points} points in ${s.toFixed(1)} s = ${Math.round(points / s)} points/s`,
    );
  }
  return { from, to, points, seconds };
}

/**
 * The month the report is about: the last complete calendar month when the seeded days
 * cover most of it (30 days ending now cover most of the month before), else the current
 * month, which is not over (so not cached either).
 */
interface ReportPeriod {
  period: string;
  from: number;
  to: number;
  /** A month that is over: the broker caches its report. */
  past: boolean;
  why: string;
}

function reportPeriod(seeded: Seeded): ReportPeriod {
  const now = new Date(seeded.to);
  const current = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const last = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const name = (at: number) => new Date(at).toISOString().slice(0, 7);
  const covered = (Math.min(seeded.to, current) - Math.max(seeded.from, last)) / (current - last);
  if (covered >= 0.5) {
    return {
      period: name(last),
      from: last,
      to: current,
      past: true,
      why: `the last complete month; the seeded days cover ${(covered * 100).toFixed(0)}% of it`,
    };
  }
  return {
    period: name(current),
    from: current,
    to: seeded.to,
    past: false,
    why:
      `the current month, not over yet (so never cached): the seeded days cover only ` +
      `${(Math.max(0, covered) * 100).toFixed(0)}% of ${name(last)}`,
  };
}

/** What the load generator saw: when each message was sent and when its PUBACK came. */
class Load {
  readonly sentAt: number[] = [];
  readonly ackAt: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly seq: number[];

  constructor(
    private readonly publishers: LoadPublisher[],
    firstSeq: number,
  ) {
    this.seq = publishers.map(() => firstSeq);
  }

  /** Open loop: the schedule follows the clock, not the acknowledgements. */
  start(): void {
    const started = performance.now();
    const first = this.sentAt.length;
    this.timer = setInterval(() => {
      const due = first + Math.floor(((performance.now() - started) / 1000) * RATE);
      while (this.sentAt.length < due) {
        const n = this.sentAt.length;
        const device = devices[n % devices.length]!;
        const values: DeviceMetrics['values'] = {
          up: true,
          responseMs: 8 + (n % 400) / 10,
          clockOffsetS: ((n % 100) - 50) / 100,
          profiles: 2,
        };
        if (device.kind === 'nvr') values.recordingsStopped = 0;
        const payload: DeviceMetrics = {
          v: 1,
          siteId: SITE,
          agentId: device.agentId,
          seq: this.seq[device.agent]!++,
          ts: new Date().toISOString(),
          deviceId: device.id,
          kind: device.kind,
          values,
        };
        this.sentAt.push(performance.now());
        this.ackAt.push(NaN);
        this.publishers[device.agent]!.publish(
          topics.deviceMetrics(SITE, device.id),
          JSON.stringify(payload),
          () => (this.ackAt[n] = performance.now()),
        );
      }
    }, TICK_MS);
  }

  /** Stops sending; waits up to 30 s for the PUBACKs still due. */
  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const until = Date.now() + 30_000;
    while (this.unacked() > 0 && Date.now() < until) await sleep(50);
    return this.unacked();
  }

  private unacked(): number {
    return this.ackAt.filter((at) => Number.isNaN(at)).length;
  }

  /**
   * PUBACK latency of the messages sent in [from, to]. A message never acknowledged
   * counts with the time it has waited until now: it waited at least that long.
   */
  window(from: number, to: number): Window {
    const latencies: number[] = [];
    const now = performance.now();
    for (let n = 0; n < this.sentAt.length; n++) {
      const sent = this.sentAt[n]!;
      if (sent < from || sent > to) continue;
      const ack = this.ackAt[n]!;
      latencies.push((Number.isNaN(ack) ? now : ack) - sent);
    }
    return {
      n: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      // Not Math.max(...latencies): a long window holds more values than a call takes.
      max: latencies.length ? latencies.reduce((max, value) => Math.max(max, value)) : NaN,
    };
  }
}

interface Window {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

interface Row {
  store: string;
  path: 'new' | 'old';
  reportFirstS: number;
  /** null: no cache on that path, or the period is not over. */
  reportCachedS: number | null;
  /** The report's figure is extrapolated from this many of `queries` trend queries. */
  sampled?: { ran: number; queries: number };
  chartMs: number;
  chartAgainMs: number | null;
  pubackReport: Window | null;
  pubackChart: Window | null;
  baseline: Window | null;
  /** What the PUBACK figure is when it is not a measurement. */
  pubackNote?: string;
  diskBytes: number;
}

/** The broker's HTTP API with an admin session. */
class Api {
  private token = '';
  /** The last answer's x-vigil-report-cache header (broker/api/inspection.ts): hit or miss. */
  cache: string | null = null;
  constructor(readonly base: string) {}

  async login(): Promise<void> {
    const response = await fetch(`${this.base}${apiRoutes.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // broker-process.ts starts the broker with this admin password.
      body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
    });
    if (response.status !== 200)
      throw new Error(`login answered ${response.status}: ${await response.text()}`);
    this.token = ((await response.json()) as { token: string }).token;
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    const text = await response.text();
    this.cache = response.headers.get('x-vigil-report-cache');
    if (response.status !== 200)
      throw new Error(`GET ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}

async function timed<T>(
  run: () => Promise<T>,
): Promise<{ value: T; ms: number; from: number; to: number }> {
  const from = performance.now();
  const value = await run();
  const to = performance.now();
  return { value, ms: to - from, from, to };
}

async function fileBytes(...files: string[]): Promise<number> {
  let total = 0;
  for (const file of files)
    total += await stat(file).then(
      (s) => s.size,
      () => 0,
    );
  return total;
}

/** InfluxDB's own count of its shards' bytes on disk (GET /debug/vars, InfluxDB 1.x). */
async function influxDiskBytes(url: string): Promise<number> {
  const vars = (await (await fetch(`${url}/debug/vars`)).json()) as Record<
    string,
    { name?: string; tags?: Record<string, string>; values?: Record<string, number> }
  >;
  let total = 0;
  for (const entry of Object.values(vars)) {
    if (entry?.name === 'shard' && entry.tags?.database === DATABASE)
      total += entry.values?.diskBytes ?? 0;
  }
  return total;
}

const publishedState = validator(DeviceState);
const publishedMetrics = validator(DeviceMetrics);

/**
 * The broker on `dataDir`, the agents connected, every device's state sent and seen in
 * the registry: the site as the report will read it.
 */
async function startSite(
  dataDir: string,
  influx: RunningInfluxd | null,
): Promise<{
  stop: () => Promise<unknown>;
  api: Api;
  publishers: LoadPublisher[];
  firstSeq: number;
}> {
  const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
  const config = await writeBrokerConfig(dataDir, {
    mqtt: { host: '127.0.0.1', port: mqttPort, limits: { connectionsPerSecond: 2000 } },
    http: { host: '127.0.0.1', port: httpPort },
    ...(influx ? { influx: { url: influx.url, database: DATABASE } } : {}),
  });
  const credentials = await addAgents(dataDir, SITE, agentIds);
  let broker: BrokerProcess;
  try {
    // The embedded store may build what it keeps beside the readings at its first start.
    broker = await startBrokerProcess(config, {}, 600_000);
  } catch (error) {
    throw new Error(
      `the Vigil broker did not become ready: ${message(error)}\n` +
        'build it with npm run build:server (npm run bench:report does) and see its output above',
    );
  }
  const started = broker;
  const stop = tracked(() => started.kill('SIGTERM'));
  const api = new Api(`http://127.0.0.1:${httpPort}`);
  await api.login();
  const publishers: LoadPublisher[] = [];
  // A few at a time: every login costs the broker a password hash.
  for (let i = 0; i < credentials.length; i += 20) {
    const batch = credentials.slice(i, i + 20).map(async (c) => {
      const publisher = new LoadPublisher(
        '127.0.0.1',
        mqttPort,
        c.username,
        c.username,
        c.password,
      );
      await publisher.start();
      return publisher;
    });
    publishers.push(...(await Promise.all(batch)));
  }
  // Every device's state first: the registry learns devices from their state, not from
  // readings (broker/stages/track-state.ts), and the report lists the registry's devices.
  const since = new Date().toISOString();
  let acked = 0;
  for (const device of devices) {
    const state: DeviceState = {
      v: 1,
      siteId: SITE,
      agentId: device.agentId,
      seq: device.index - device.agent * DEVICES_PER_AGENT,
      ts: since,
      deviceId: device.id,
      name: `${device.kind === 'nvr' ? 'NVR' : 'Camera'} ${device.index}`,
      kind: device.kind,
      xaddr: `http://10.0.${device.agent}.${(device.index % DEVICES_PER_AGENT) + 10}/onvif/device_service`,
      status: 'up',
      since,
      reasons: [],
    };
    const check = publishedState(state);
    if (!check.ok) throw new Error(`bench's DeviceState is invalid: ${check.errors.join('; ')}`);
    publishers[device.agent]!.publish(
      topics.deviceState(SITE, device.id),
      JSON.stringify(state),
      () => acked++,
    );
  }
  await eventually('a PUBACK for every device state', () => acked === devices.length, 60_000);
  await eventually(
    `all ${DEVICES} devices in the registry`,
    async () =>
      (await api.get<Device[]>(apiRoutes.devices)).filter((d) => d.siteId === SITE).length ===
      DEVICES,
    60_000,
  );
  return { stop, api, publishers, firstSeq: DEVICES_PER_AGENT };
}

/** The chart's URL, as the console asks for a device's last DAYS days (default bucket). */
function chartPath(deviceId: string, from: number, to: number): string {
  const query = new URLSearchParams({
    measurement: 'device',
    device: deviceId,
    field: 'responseMs',
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
  });
  return `${metricRoutes.series}?${query}`;
}

function inspectionPath(period: string): string {
  return `${siteApiRoutes.inspection.replace(':site', SITE)}?period=${period}`;
}

/** The new path under load: baseline, report twice, chart three times. */
async function measureNew(
  store: string,
  api: Api,
  load: Load,
  period: ReportPeriod,
  chartDevice: string,
  diskBytes: number,
): Promise<Row> {
  console.log(`  load: ${RATE} msg/s from ${agentIds.length} agents; warm-up ${WARMUP_S} s`);
  await sleep(WARMUP_S * 1000);
  const baseFrom = performance.now();
  await sleep(BASELINE_S * 1000);
  const baseline = load.window(baseFrom, performance.now());
  console.log(
    `  baseline (${BASELINE_S} s, no queries): PUBACK p50 ${baseline.p50.toFixed(1)} ms, p99 ${baseline.p99.toFixed(1)} ms (${baseline.n} messages); ` +
      `machine load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores (other processes than this run's count too)`,
  );

  const first = await timed(() => api.get<InspectionReport>(inspectionPath(period.period)));
  const firstCache = api.cache;
  const pubackReport = load.window(first.from, first.to);
  const rows = first.value.trends.length;
  console.log(
    `  report ${period.period} (${first.value.devices.length} devices, ${rows} weekly trend rows): ` +
      `${(first.ms / 1000).toFixed(2)} s (cache ${firstCache}); PUBACK during it p50 ${pubackReport.p50.toFixed(1)} ms, ` +
      `p99 ${pubackReport.p99.toFixed(1)} ms, max ${pubackReport.max.toFixed(1)} ms (${pubackReport.n} messages)`,
  );
  // The report leaves a field's trends out when its query fails (broker/inspection/
  // report.ts): a fast report must also be a full one.
  const filled = REPORT_FIELDS.map(
    ({ out }) => `${out} ${first.value.trends.filter((t) => t[out] !== null).length}`,
  );
  console.log(`  weekly values per field: ${filled.join(', ')}`);
  if (first.value.devices.length !== DEVICES)
    console.log(
      `  ANOMALY: the report lists ${first.value.devices.length} devices, not ${DEVICES}`,
    );
  await sleep(2000);
  const again = await timed(() => api.get<InspectionReport>(inspectionPath(period.period)));
  const past = period.past;
  console.log(
    `  report again (${past ? 'a past month: cached' : 'the current month: computed again'}): ${(again.ms / 1000).toFixed(3)} s (cache ${api.cache})`,
  );
  if (past && JSON.stringify(again.value.trends) !== JSON.stringify(first.value.trends))
    console.log('  ANOMALY: the second report of a past month has other trends than the first');
  await sleep(2000);

  const to = Date.now();
  const from = to - DAYS * DAY_MS;
  const charts: { ms: number; window: Window; buckets: number; bucketS: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const chart = await timed(() =>
      api.get<{ bucketS: number; time: number[] }>(chartPath(chartDevice, from, to)),
    );
    charts.push({
      ms: chart.ms,
      window: load.window(chart.from, chart.to),
      buckets: chart.value.time.length,
      bucketS: chart.value.bucketS,
    });
    await sleep(1000);
  }
  const chart = charts[0]!;
  console.log(
    `  chart of ${chartDevice}, ${DAYS} days: ${chart.ms.toFixed(0)} ms (${chart.buckets} buckets of ${chart.bucketS} s), ` +
      `again ${charts[1]!.ms.toFixed(0)} and ${charts[2]!.ms.toFixed(0)} ms; ` +
      `PUBACK during the first p99 ${chart.window.p99.toFixed(1)} ms (${chart.window.n} messages)`,
  );
  return {
    store,
    path: 'new',
    reportFirstS: first.ms / 1000,
    reportCachedS: again.ms / 1000,
    chartMs: chart.ms,
    chartAgainMs: Math.min(charts[1]!.ms, charts[2]!.ms),
    pubackReport,
    pubackChart: chart.window,
    baseline,
    diskBytes,
  };
}

/**
 * The old report, as today's broker computes it (bench/old/report.ts) with today's store,
 * one trend query per device and field. When running every query would pass the budget,
 * only every k-th runs (the others answer nothing: the report's own work on their buckets
 * is left out, a few milliseconds) and the report's time is extrapolated from them.
 */
async function oldReport(
  store: OldMetricsStore,
  site: Site,
  registry: Device[],
  period: ReportPeriod,
): Promise<{ seconds: number; ran: number; queries: number; blockedMaxS: number }> {
  // The report's five trend fields (bench/old/report.ts trendFields) per device.
  const queries = registry.length * 5;
  // The first two queries size the sample: every stride-th query runs after them.
  let stride = 1;
  let index = 0;
  let ran = 0;
  let queryMs = 0;
  let blockedMaxS = 0;
  const sampling: OldMetricsStore = {
    kind: store.kind,
    start: () => store.start(),
    stop: () => store.stop(),
    write: (points) => store.write(points),
    query: (query) => store.query(query),
    ping: () => store.ping(),
    trend: async (query: TrendQuery): Promise<TrendBucket[]> => {
      const i = index++;
      if (i >= 2 && i % stride !== 0) return [];
      const started = performance.now();
      const buckets = await store.trend(query);
      const ms = performance.now() - started;
      ran++;
      queryMs += ms;
      blockedMaxS = Math.max(blockedMaxS, ms / 1000);
      if (i === 1) {
        const fit = Math.floor((OLD_BUDGET_S * 1000 - queryMs) / (queryMs / 2));
        stride = fit >= queries - 2 ? 1 : Math.ceil(queries / Math.max(1, fit));
      }
      return buckets;
    },
  };
  const started = performance.now();
  const report = await oldInspectionReport({
    site,
    period: period.period,
    devices: registry,
    changes: [],
    maintenance: [],
    tickets: [],
    inventory: [],
    metrics: sampling,
    now: new Date(),
  });
  const wallMs = performance.now() - started;
  if (report.devices.length !== registry.length)
    console.log(`  ANOMALY: the old report lists ${report.devices.length} devices`);
  const seconds = (wallMs + (queryMs / ran) * (index - ran)) / 1000;
  return { seconds, ran, queries: index, blockedMaxS };
}

function oldChart(store: OldMetricsStore, deviceId: string): Promise<{ ms: number }> {
  const to = Date.now();
  const from = to - DAYS * DAY_MS;
  const bucketS = Math.max(10, Math.ceil((to - from) / 1000 / CHART_TARGET_BUCKETS));
  return timed(() =>
    store.trend({
      measurement: 'device',
      tags: { device: deviceId },
      field: 'responseMs',
      from: new Date(from),
      to: new Date(to),
      bucketS,
    }),
  );
}

const siteOf = (): Site => ({
  id: SITE,
  name: SITE,
  customer: '',
  acceptedOn: null,
  retentionGoalDays: 30,
  devices: [],
});

async function benchEmbedded(dir: string): Promise<Row[]> {
  console.log(`\nembedded store (SQLite)`);
  const dataDir = join(dir, 'embedded');
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'metrics.db');
  const oldFile = join(dir, 'metrics-old.db');
  const store = new EmbeddedMetricsStore({ file });
  await store.start();
  const seeded = await seed([{ name: 'embedded store', write: (points) => store.write(points) }]);
  await perField(store, reportPeriod(seeded));
  await store.stop();
  const filled = await timed(() => fillOldTable(file, oldFile, seeded));
  console.log(
    `  old table (cbf448a: one row per point, tags and fields as JSON) filled from the new tables: ${(filled.ms / 1000).toFixed(0)} s`,
  );
  const disk = await fileBytes(file, `${file}-wal`);
  const oldDisk = await fileBytes(oldFile, `${oldFile}-wal`);
  console.log(
    `  on disk: new ${(disk / 2 ** 20).toFixed(0)} MiB, old ${(oldDisk / 2 ** 20).toFixed(0)} MiB`,
  );
  const period = reportPeriod(seeded);
  console.log(`  report period ${period.period}: ${period.why}`);

  const site = await startSite(dataDir, null);
  const load = new Load(site.publishers, site.firstSeq);
  let row: Row;
  let registry: Device[];
  try {
    load.start();
    row = await measureNew('embedded', site.api, load, period, devices[0]!.id, disk);
    registry = (await site.api.get<Device[]>(apiRoutes.devices)).filter((d) => d.siteId === SITE);
  } finally {
    const unacked = await load.stop();
    if (unacked > 0) console.log(`  ANOMALY: ${unacked} messages never acknowledged`);
    await Promise.all(site.publishers.map((p) => p.stop()));
    await site.stop();
  }

  // Today's path: synchronous better-sqlite3 on the broker's event loop; the report's
  // trend queries follow each other in microtasks, so nothing else runs until the last.
  console.log('  old path (cbf448a), run here after the broker stopped:');
  const oldStore = new OldEmbeddedMetricsStore({ file: oldFile });
  const opened = await timed(() => oldStore.start());
  console.log(
    `    old store start (its retention DELETE, also run every hour): ${(opened.ms / 1000).toFixed(1)} s on the event loop`,
  );
  try {
    const chart = await oldChart(oldStore, devices[0]!.id);
    console.log(`    old chart: ${chart.ms.toFixed(0)} ms`);
    const report = await oldReport(oldStore, siteOf(), registry, period);
    printOld(report);
    return [
      row,
      {
        store: 'embedded',
        path: 'old',
        reportFirstS: report.seconds,
        reportCachedS: null,
        sampled: { ran: report.ran, queries: report.queries },
        chartMs: chart.ms,
        chartAgainMs: null,
        pubackReport: null,
        pubackChart: null,
        baseline: null,
        pubackNote:
          `not measured: the old path blocked the event loop ${report.seconds.toFixed(0)} s (report) and ` +
          `${(chart.ms / 1000).toFixed(1)} s (chart); a PUBACK due then waited up to that long`,
        diskBytes: oldDisk,
      },
    ];
  } finally {
    await oldStore.stop();
  }
}

/**
 * Today's table (bench/old/embedded.ts: points of measurement, time, tags and fields as
 * JSON) in a file of its own, filled from the new store's tables by SQL: the same rows
 * (tags are the same canonical JSON, fields the same JSON), in time order as live
 * readings arrive, a day per statement; its index built once at the end.
 */
async function fillOldTable(newFile: string, oldFile: string, seeded: Seeded): Promise<void> {
  const old = new OldEmbeddedMetricsStore({ file: oldFile });
  await old.start();
  await old.stop();
  const db = openDatabase(oldFile);
  try {
    db.prepare('ATTACH DATABASE ? AS seeded').run(newFile);
    db.exec('DROP INDEX points_measurement_time');
    const insert = db.prepare(
      `INSERT INTO main.points (measurement, time, tags, fields)
       SELECT s.measurement, p.time, s.tags, p.fields
       FROM seeded.points p JOIN seeded.series s ON s.id = p.series_id
       WHERE p.series_id IN (SELECT id FROM seeded.series) AND p.time >= ? AND p.time < ?
       ORDER BY p.time, p.series_id`,
    );
    for (let day = seeded.from; day <= seeded.to; day += DAY_MS) insert.run(day, day + DAY_MS);
    db.exec('CREATE INDEX points_measurement_time ON points (measurement, time)');
    db.exec('DETACH DATABASE seeded');
  } finally {
    db.close();
  }
}

function printOld(report: { seconds: number; ran: number; queries: number; blockedMaxS: number }) {
  const how =
    report.ran < report.queries
      ? `extrapolated from ${report.ran} of ${report.queries} queries`
      : `all ${report.queries} queries`;
  console.log(
    `    old report: ${report.seconds.toFixed(1)} s (${how}; the slowest query ${report.blockedMaxS.toFixed(2)} s)`,
  );
}

async function influxQuery(url: string, q: string): Promise<unknown[][]> {
  const response = await fetch(`${url}/query?db=${DATABASE}&epoch=ms&q=${encodeURIComponent(q)}`, {
    method: q.startsWith('SELECT') && !q.includes(' INTO ') ? 'GET' : 'POST',
  });
  const body = (await response.json()) as {
    results: { error?: string; series?: { values: unknown[][] }[] }[];
  };
  const error = body.results[0]?.error;
  if (error) throw new Error(`${error} (in: ${q})`);
  return body.results[0]?.series?.[0]?.values ?? [];
}

/**
 * Today's rollup (rollup_5m, filled by the continuous query device_5m as readings
 * arrive, docs/METRICS.md at cbf448a) over the report's period, as it would be after
 * a month of live readings; computed day by day, not timed. Skipped when the rows are
 * there already (the new layout may keep the same ones).
 */
async function fillOldRollup(url: string, from: number, to: number): Promise<void> {
  const expected = ((to - from) / 300_000) * DEVICES;
  const rows = await influxQuery(
    url,
    `SELECT count("responseMs_count") FROM "rollup_5m"."device" WHERE time >= ${from}ms AND time < ${to}ms`,
  ).catch(() => []);
  const have = Number(rows[0]?.[1] ?? 0);
  if (have >= expected * 0.95) {
    console.log(`    old rollup_5m rows already there (${have})`);
    return;
  }
  const fields = ['responseMs', 'clockOffsetS']
    .flatMap((f) =>
      ['mean', 'min', 'max', 'count', 'sum'].map((a) => `${a}("${f}") AS "${f}_${a}"`),
    )
    .join(', ');
  const started = performance.now();
  for (let day = from; day < to; day += DAY_MS) {
    await influxQuery(
      url,
      `SELECT ${fields} INTO "${DATABASE}"."rollup_5m"."device" FROM "${DATABASE}"."raw"."device" ` +
        `WHERE time >= ${day}ms AND time < ${Math.min(to, day + DAY_MS)}ms GROUP BY time(5m), *`,
    );
  }
  console.log(
    `    old rollup_5m filled as its continuous query would have (${have} rows were there): ${((performance.now() - started) / 1000).toFixed(0)} s, not timed`,
  );
}

async function benchInflux(dir: string): Promise<Row[]> {
  console.log(`\nInfluxDB`);
  let influx: RunningInfluxd;
  try {
    influx = await startInfluxd();
  } catch (error) {
    throw new Error(
      `influxd did not become ready: ${message(error)}\n` +
        "install Debian's influxdb package (InfluxDB 1.x, /usr/bin/influxd) and check its output above",
    );
  }
  const running = influx;
  const stopInflux = tracked(() => running.stop());
  try {
    const dataDir = join(dir, 'influxdb');
    await mkdir(dataDir, { recursive: true });
    const store = new InfluxMetricsStore({
      url: influx.url,
      database: DATABASE,
      timeoutMs: 120_000,
    });
    await store.start();
    // Batches of 5,000, 16 in flight: the fastest InfluxDB took them on this machine
    // (about 60,000 points/s; 20,000 one at a time: about 25,000).
    const seeded = await seed(
      [{ name: 'InfluxDB', write: (points) => store.write(points) }],
      5_000,
      16,
    );
    const settled = await timed(() => store.settle());
    console.log(`  settle() (rollups caught up): ${(settled.ms / 1000).toFixed(1)} s`);
    await perField(store, reportPeriod(seeded));
    await store.stop();
    const disk = await influxDiskBytes(influx.url).catch(() => NaN);
    console.log(`  on disk: ${(disk / 2 ** 20).toFixed(0)} MiB (InfluxDB's shards)`);
    const period = reportPeriod(seeded);
    console.log(`  report period ${period.period}: ${period.why}`);

    const site = await startSite(dataDir, influx);
    const load = new Load(site.publishers, site.firstSeq);
    const rows: Row[] = [];
    try {
      load.start();
      rows.push(await measureNew('influxdb', site.api, load, period, devices[0]!.id, disk));
      const registry = (await site.api.get<Device[]>(apiRoutes.devices)).filter(
        (d) => d.siteId === SITE,
      );

      // Today's path asks InfluxDB over HTTP: the old broker's event loop waited on no
      // query, so the load keeps running, and PUBACK shows what the old queries cost the
      // machine (influxd's CPU). They run from this process against the same database.
      console.log('  old path (cbf448a), queries from this process while the load runs:');
      const old = new OldInfluxMetricsStore({
        url: influx.url,
        database: DATABASE,
        timeoutMs: 600_000,
      });
      await old.start();
      await fillOldRollup(
        influx.url,
        Math.max(period.from, seeded.from),
        Math.min(period.to, seeded.to),
      );
      const chart = await timed(() => oldChart(old, devices[0]!.id));
      const pubackChart = load.window(chart.from, chart.to);
      console.log(`    old chart: ${chart.ms.toFixed(0)} ms`);
      const report = await timed(() => oldReport(old, siteOf(), registry, period));
      const pubackReport = load.window(report.from, report.to);
      printOld(report.value);
      rows.push({
        store: 'influxdb',
        path: 'old',
        reportFirstS: report.value.seconds,
        reportCachedS: null,
        sampled: { ran: report.value.ran, queries: report.value.queries },
        chartMs: chart.ms,
        chartAgainMs: null,
        pubackReport,
        pubackChart,
        baseline: null,
        diskBytes: disk,
      });
    } finally {
      const unacked = await load.stop();
      if (unacked > 0) console.log(`  ANOMALY: ${unacked} messages never acknowledged`);
      await Promise.all(site.publishers.map((p) => p.stop()));
      await site.stop();
    }
    return rows;
  } finally {
    await stopInflux();
  }
}

function table(rows: Row[]): string {
  const f = (value: number | null | undefined, digits = 1) =>
    value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
  const puback = (w: Window | null) => (w ? `${f(w.p50)} / ${f(w.p99)}` : '-');
  const header = [
    'store',
    'path',
    'report s (first / cached)',
    'chart ms',
    'PUBACK p50/p99 ms: report',
    'chart',
    'baseline',
    'disk MiB',
    'goal met?',
  ];
  const body = rows.map((r) => {
    const met: string[] = [];
    if (r.reportFirstS > GOALS.reportS) met.push(`report > ${GOALS.reportS} s`);
    if (r.chartMs > GOALS.chartMs) met.push(`chart > ${GOALS.chartMs} ms`);
    const p99 = Math.max(r.pubackReport?.p99 ?? 0, r.pubackChart?.p99 ?? 0);
    if (r.pubackReport === null) met.push('PUBACK stalled (see below)');
    else if (p99 > GOALS.pubackP99Ms) met.push(`PUBACK p99 > ${GOALS.pubackP99Ms} ms`);
    const sampled =
      r.sampled && r.sampled.ran < r.sampled.queries
        ? ` (extrap. ${r.sampled.ran}/${r.sampled.queries} q)`
        : '';
    return [
      r.store,
      r.path === 'new' ? 'new' : 'old (cbf448a)',
      `${f(r.reportFirstS, 2)} / ${r.reportCachedS === null ? 'no cache' : f(r.reportCachedS, 3)}${sampled}`,
      f(r.chartMs, 0),
      puback(r.pubackReport),
      puback(r.pubackChart),
      puback(r.baseline),
      f(r.diskBytes / 2 ** 20, 0),
      met.length === 0 ? 'yes' : `no: ${met.join(', ')}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  for (const store of STORES) {
    if (store !== 'embedded' && store !== 'influxdb')
      throw new Error(`VIGIL_BENCH_STORES: "${store}" is neither embedded nor influxdb`);
  }
  // The load's payloads are checked once against the contract, like an agent's.
  const sample: DeviceMetrics = {
    v: 1,
    siteId: SITE,
    agentId: devices[0]!.agentId,
    seq: 0,
    ts: new Date().toISOString(),
    deviceId: devices[0]!.id,
    kind: 'nvr',
    values: { up: true, responseMs: 1, clockOffsetS: 0, profiles: 2, recordingsStopped: 0 },
  };
  const check = publishedMetrics(sample);
  if (!check.ok) throw new Error(`bench's DeviceMetrics is invalid: ${check.errors.join('; ')}`);
  const { steps } = seedRange();
  console.log(
    `bench:report: ${DEVICES} devices (${devices.filter((d) => d.kind === 'nvr').length} NVRs, ` +
      `${agentIds.length} agents) x ${DAYS} days every ${INTERVAL_S} s = ${DEVICES * steps} readings per store; ` +
      `load ${RATE} msg/s QoS 1; stores: ${STORES.join(', ')}`,
  );
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-report-'));
  tempDir = dir;
  const rows: Row[] = [];
  try {
    if (STORES.includes('embedded')) rows.push(...(await benchEmbedded(dir)));
    if (STORES.includes('influxdb')) rows.push(...(await benchInflux(dir)));
  } finally {
    await Promise.allSettled([...undo].map((step) => step()));
    await rm(dir, { recursive: true, force: true });
    tempDir = null;
  }
  console.log('');
  console.log(table(rows));
  console.log('');
  console.log(
    `Goals: report <= ${GOALS.reportS} s, chart <= ${GOALS.chartMs} ms, PUBACK p99 <= ${GOALS.pubackP99Ms} ms while they run. ` +
      'PUBACK columns: messages sent while the request ran; baseline: 10 s without queries.',
  );
  for (const row of rows)
    if (row.pubackNote) console.log(`${row.store}, old path: ${row.pubackNote}`);
  console.log(`wall time ${((performance.now() - started) / 60_000).toFixed(1)} min`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:report FAILED: ${message(error)}`);
    void Promise.allSettled([...undo].map((step) => step())).finally(() => process.exit(1));
  },
);
