/**
 * `npm run build:server && node dist/bench/probe-cost.js`: the agent's CPU per liveness probe (agent/liveness.ts), against
 * the real simulator in its own process, the probes paced as the scheduler paces them (a
 * slice of the fleet every 100 ms, every device once per VIGIL_BENCH_PROBE_INTERVAL_S).
 * Each way of asking runs in turns (A B A B ...) in one process, so a busy shared machine
 * moves both alike and the ratio between them is what to read; bench:agent gives the
 * whole agent's figure.
 *
 * Ways: `clock` (OnvifDeviceClient.clock, the full SOAP client through node:http, what the
 * probe asked before) and `probe` (OnvifDeviceClient.probe, what it asks now).
 *
 * Env: VIGIL_BENCH_PROBE_DEVICES=100 VIGIL_BENCH_PROBE_INTERVAL_S=2 VIGIL_BENCH_PROBE_TURN_S=10
 *   VIGIL_BENCH_PROBE_TURNS=3 VIGIL_BENCH_PROBE_WAYS=clock,probe
 */
import { OnvifDeviceClient } from '../agent/onvif/adapter.js';
import { Secret } from '../agent/secret.js';
import { startSimProcess } from './processes.js';

const DEVICES = Number(process.env.VIGIL_BENCH_PROBE_DEVICES ?? 100);
const INTERVAL_S = Number(process.env.VIGIL_BENCH_PROBE_INTERVAL_S ?? 2);
const TURN_S = Number(process.env.VIGIL_BENCH_PROBE_TURN_S ?? 10);
const TURNS = Number(process.env.VIGIL_BENCH_PROBE_TURNS ?? 3);
const WAYS = (process.env.VIGIL_BENCH_PROBE_WAYS ?? 'clock,probe').split(',');
const TICK_MS = 100;

type Way = (client: OnvifDeviceClient, signal: AbortSignal) => Promise<unknown>;

const ways: Record<string, Way> = {
  clock: (client, signal) => client.clock(signal),
  probe: (client, signal) => client.probe(signal),
};

/** One turn of one way: CPU microseconds per probe, and how many failed. */
async function turn(
  clients: OnvifDeviceClient[],
  way: Way,
): Promise<{ probes: number; failed: number; usPerProbe: number; sysPerProbe: number }> {
  let probes = 0;
  let failed = 0;
  let cursor = 0;
  let credit = 0;
  const pending = new Set<Promise<void>>();
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      credit += (clients.length * TICK_MS) / (INTERVAL_S * 1000);
      while (credit >= 1) {
        credit -= 1;
        const client = clients[cursor++ % clients.length];
        if (!client) continue;
        // As the scheduler does (scheduler.ts #probe): a controller and a deadline timer,
        // cleared when the probe ends (AbortSignal.timeout would fire for every probe).
        const controller = new AbortController();
        const deadline = setTimeout(() => controller.abort(), 1000);
        const run = way(client, controller.signal).then(
          () => clearTimeout(deadline),
          () => {
            clearTimeout(deadline);
            failed += 1;
          },
        );
        probes += 1;
        pending.add(run);
        void run.finally(() => pending.delete(run));
      }
      if (performance.now() - t0 >= TURN_S * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.allSettled([...pending]);
  const used = process.cpuUsage(before);
  return {
    probes,
    failed,
    usPerProbe: (used.user + used.system) / probes,
    sysPerProbe: used.system / probes,
  };
}

async function main(): Promise<void> {
  const { sim, controlUrl } = await startSimProcess(DEVICES, 0, 60_000);
  try {
    const devices = (await (await fetch(`${controlUrl}/sim/devices`)).json()) as {
      xaddr: string;
    }[];
    const password = new Secret('bench-password');
    const clientsOf = (): OnvifDeviceClient[] =>
      devices.map(
        (d) =>
          new OnvifDeviceClient(
            { xaddr: d.xaddr, username: 'admin', password },
            { timeoutMs: 5000 },
          ),
      );
    // Each way its own clients (its own kept connections), warmed up once.
    const fleets = Object.fromEntries(WAYS.map((w) => [w, clientsOf()]));
    for (const w of WAYS) {
      const way = ways[w];
      if (!way) throw new Error(`unknown way ${w}: one of ${Object.keys(ways).join(', ')}`);
      await Promise.allSettled((fleets[w] ?? []).map((c) => way(c, AbortSignal.timeout(5000))));
    }
    console.log(
      `probe bench: ${devices.length} simulated cameras, each probed every ${INTERVAL_S} s, ${TURNS} turns of ${TURN_S} s per way`,
    );
    // One turn each unmeasured: the JIT's first compilations and the first GCs.
    for (const w of WAYS) await turn(fleets[w] ?? [], ways[w] as Way);
    const results = new Map<string, number[]>();
    for (let t = 0; t < TURNS; t++) {
      for (const w of WAYS) {
        const r = await turn(fleets[w] ?? [], ways[w] as Way);
        results.set(w, [...(results.get(w) ?? []), r.usPerProbe]);
        console.log(
          `  turn ${t + 1} ${w.padEnd(6)} ${r.probes} probes, ${r.failed} failed, ${r.usPerProbe.toFixed(0)} us of CPU each (${r.sysPerProbe.toFixed(0)} us of it in the kernel)`,
        );
      }
    }
    const median = (xs: number[]): number => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] ?? NaN;
    };
    // The ratio turn by turn (each turn beside the other way's in the same minute), then
    // its median: steadier on a shared machine than a ratio of means.
    const base = results.get(WAYS[0] ?? '') ?? [];
    for (const [w, xs] of results) {
      const ratios = xs.map((x, i) => x / (base[i] ?? NaN));
      console.log(
        `  ${w.padEnd(6)} median ${median(xs).toFixed(0)} us per probe; per turn ${ratios.map((r) => r.toFixed(2)).join(' ')} x ${WAYS[0]}, median ${median(ratios).toFixed(2)}`,
      );
    }
  } finally {
    sim.kill('SIGTERM');
    await new Promise((r) => sim.once('exit', r));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
