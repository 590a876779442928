/**
 * The PostgreSQL journal alone (broker/journal/pg-journal.ts), without MQTT: open-loop
 * appends at fixed rates into a PostgreSQL 15 started here with production durability
 * (fsync and synchronous_commit on), fenced by a real lease, for each commit setting
 * named in VIGIL_BENCH_VARIANTS. Prints per step and setting: append-to-durable latency
 * p50/p99 (what a PUBACK waits for in the journal), this process's CPU per message (the
 * journal's own work plus the small load loop), PostgreSQL's CPU per message, commits per
 * second and rows per commit.
 *
 * It exists to choose the commit settings in minutes on a busy machine: the settings run
 * one after the other at each rate, so they see the same neighbours. The proof of issue 17
 * is `npm run bench:broker` (the whole broker under MQTT load); this is its magnifying
 * glass. Run: `npx tsx bench/pg-journal.ts` (no build needed).
 *
 *   VIGIL_BENCH_RATES=2000,5000,10000  VIGIL_BENCH_STEP_S=5
 *   VIGIL_BENCH_VARIANTS=1:2,3:2  (commitsInFlight:groupCommitMs, one per setting;
 *                                  1:2 is the journal before concurrent commits)
 *   VIGIL_BENCH_FINISH_MS=100     (the pipeline finishes a message this long after its
 *                                  commit, as InfluxDB's writes would)
 */
import { ensureLeaseTable, Lease } from '../broker/ha/lease.js';
import { openDatabase, type Database } from '../broker/ha/pg.js';
import { PgJournal } from '../broker/journal/pg-journal.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { percentile, treeCpuS } from './processes.js';

const RATES = (process.env.VIGIL_BENCH_RATES ?? '2000,5000,10000').split(',').map(Number);
const STEP_S = Number(process.env.VIGIL_BENCH_STEP_S ?? 5);
const FINISH_MS = Number(process.env.VIGIL_BENCH_FINISH_MS ?? 100);
const VARIANTS = (process.env.VIGIL_BENCH_VARIANTS ?? '1:2,3:2').split(',').map((text) => {
  const [inFlight, group] = text.split(':').map(Number);
  return { commitsInFlight: inFlight ?? 1, groupCommitMs: group ?? 0, label: text };
});
const TICK_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  setting: string;
  rate: number;
  acked: number;
  refused: number;
  p50: number;
  p99: number;
  cpuUs: number;
  dbCpuUs: number;
  commitsPerS: number;
  perCommit: number;
}

async function step(
  journal: PgJournal,
  rate: number,
  seconds: number,
  postgresPid: number,
): Promise<Omit<Row, 'setting' | 'rate'>> {
  const latencies: number[] = [];
  let sent = 0;
  let acked = 0;
  let refused = 0;
  const commitsBefore = journal.stats.commits;
  const cpuBefore = process.cpuUsage();
  const dbBefore = treeCpuS(postgresPid);
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const n = sent;
      const at = performance.now();
      // About the size of bench:broker's readings (170 bytes of JSON).
      const payload = Buffer.from(
        `{"v":1,"siteId":"bench","agentId":"gw-${n % 500}","seq":${n},"ts":"${new Date().toISOString()}","deviceId":"cam-${n % 500}","kind":"camera","values":{"up":true,"responseMs":${n % 100}}}`,
      );
      journal
        .append({
          topic: `vigil/v1/bench/devices/cam-${n % 500}/metrics`,
          payload,
          clientId: `bench.gw-${n % 500}`,
          agent: { siteId: 'bench', agentId: `gw-${n % 500}` },
          receivedAt: new Date(),
        })
        .then(
          (id) => {
            acked++;
            latencies.push(performance.now() - at);
            setTimeout(() => journal.finish(id), FINISH_MS);
          },
          () => refused++,
        );
    }
  }, TICK_MS);
  await sleep(seconds * 1000);
  clearInterval(timer);
  const sendingS = (performance.now() - started) / 1000;
  while (acked + refused < sent) await sleep(10);
  const cpu = process.cpuUsage(cpuBefore);
  const commits = journal.stats.commits - commitsBefore;
  return {
    acked,
    refused,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: (cpu.user + cpu.system) / Math.max(1, acked),
    dbCpuUs: ((treeCpuS(postgresPid) - dbBefore) * 1e6) / Math.max(1, acked),
    commitsPerS: commits / sendingS,
    perCommit: acked / Math.max(1, commits),
  };
}

async function main(): Promise<void> {
  const postgres = await startPostgres(60_000, { durable: true });
  // As broker/app.ts opens the journal's pool: four connections.
  const db: Database = openDatabase({ url: postgres.url, passwordFile: null }, { max: 4 });
  const leaseDb = openDatabase({ url: postgres.url, passwordFile: null }, { max: 2 });
  const lease = new Lease({ db: leaseDb });
  const rows: Row[] = [];
  try {
    await ensureLeaseTable(leaseDb);
    await lease.start();
    console.log(
      `bench pg-journal: ${VARIANTS.map((v) => v.label).join(' vs ')} (commitsInFlight:groupCommitMs) at ${RATES.join(', ')} appends/s, ${STEP_S} s a step`,
    );
    for (const rate of RATES) {
      for (const variant of VARIANTS) {
        const journal = new PgJournal({
          db,
          fence: lease,
          commitsInFlight: variant.commitsInFlight,
          groupCommitMs: variant.groupCommitMs,
        });
        await journal.start();
        // A warm-up not measured: V8 compiles the path, PostgreSQL caches the plan's parts.
        await step(journal, rate, 1, postgres.pid);
        const result = await step(journal, rate, STEP_S, postgres.pid);
        await journal.stop();
        rows.push({ setting: variant.label, rate, ...result });
        console.log(
          `  ${variant.label} at ${rate}/s: p99 ${result.p99.toFixed(1)} ms, ${result.cpuUs.toFixed(1)} + ${result.dbCpuUs.toFixed(1)} us/msg, ${result.perCommit.toFixed(1)} rows/commit`,
        );
      }
    }
  } finally {
    await lease.stop();
    await db.close();
    await leaseDb.close();
    await postgres.stop();
  }
  const header = [
    'setting',
    'rate/s',
    'acked',
    'refused',
    'p50 ms',
    'p99 ms',
    'CPU us/msg',
    'DB CPU us/msg',
    'commits/s',
    'rows/commit',
  ];
  const cells = rows.map((r) => [
    r.setting,
    String(r.rate),
    String(r.acked),
    String(r.refused),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    r.cpuUs.toFixed(1),
    r.dbCpuUs.toFixed(1),
    r.commitsPerS.toFixed(0),
    r.perCommit.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padStart(widths[i]!)).join('  ');
  console.log(['', line(header), ...cells.map(line)].join('\n'));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(
      `bench pg-journal FAILED: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  },
);
