/**
 * `npm run bench:detect`: failure to ticket. A real `vigil sim` site (100 cameras) and a
 * real `vigil agent` (its own process) report to a broker started in this process with
 * its default settings; one camera after another is switched off through the simulator,
 * and the time from the switch to the ticket's 'ticket' event on the broker is measured.
 * Each camera fails once per run (so neither flapping nor relapse rules change the
 * figures), the next failure follows `SPACING_MS` later, and a camera is switched on
 * again as soon as its ticket is open.
 *
 * Runs, on the same machine in the same process: the agent's default poll interval
 * (15 s), and as the peer the same agent and broker with the faster poll the demo uses
 * (5 s): the same programs at another setting, not another program; a fresh broker for
 * each run. Prints p50, p95, max per run.
 *
 * Goal (issue 5/6): p95 <= 15 s with default settings, and every failure gets its ticket.
 * A ticket that never came (within the poll interval + 30 s of the last switch-off) is a
 * miss: it counts as an infinitely late ticket in the percentiles, not as nothing, and any
 * miss in any run fails the run (listed, exit code 1), as does a p95 over the goal.
 *   VIGIL_BENCH_FAILURES=100  VIGIL_BENCH_POLLS=15,5  VIGIL_BENCH_SPACING_MS=1500
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Device } from '../shared/api/devices.js';
import type { Ticket } from '../shared/api/tickets.js';
import { pollingDefaults } from '../agent/config.js';
import { startBroker, type RunningBroker } from '../broker/app.js';
import { resolveConfig } from '../broker/config.js';
import { freePorts } from '../test/helpers/ports.js';

const FAILURES = Number(process.env.VIGIL_BENCH_FAILURES ?? 100);
const POLLS = (process.env.VIGIL_BENCH_POLLS ?? '15,5').split(',').map(Number);
const SPACING_MS = Number(process.env.VIGIL_BENCH_SPACING_MS ?? 1500);
const CAMERAS = 100;
const SITE = 'bench-site';
const AGENT = 'gw-01';
const vigil = fileURLToPath(new URL('../cli/vigil.js', import.meta.url));
const quiet = { info: () => {}, warn: () => {}, error: (line: string) => console.error(line) };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [vigil, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`vigil ${args[0]} exited (${code}):\n${output}`)),
    );
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

interface SimDevice {
  id: string;
  name: string;
  kind: string;
  xaddr: string;
}

async function run(pollS: number, simUrl: string, devices: SimDevice[], simPassword: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-detect-'));
  let broker: RunningBroker | undefined;
  let agent: ChildProcess | undefined;
  try {
    broker = await startBroker(
      resolveConfig({
        dataDir: dir,
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        consoleDir: null,
      }),
      { log: quiet, env: { VIGIL_ADMIN_PASSWORD: 'bench-admin-password' } },
    );
    const password = 'bench-agent-password';
    await broker.agents.add(SITE, AGENT, password);
    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      stringify({
        siteId: SITE,
        agentId: AGENT,
        dataDir: join(dir, 'agent'),
        mqtt: { url: broker.mqttUrl, username: `${SITE}.${AGENT}`, password },
        // Only the interval differs from the agent's defaults.
        polling: { intervalS: pollS },
        onvif: { username: 'admin', password: simPassword },
        devices: devices.map(({ id, name, kind, xaddr }) => ({ id, name, kind, xaddr })),
      }),
      { mode: 0o600 },
    );
    agent = await start(['agent', '--config', agentConfig], {}, /vigil agent: ready/);
    const registry = broker.devices;
    const deadline = Date.now() + 120_000;
    while (
      registry.list({ siteId: SITE }).filter((d) => d.status === 'up').length < devices.length
    ) {
      if (Date.now() > deadline) throw new Error('the devices did not all come up in 120 s');
      await sleep(200);
    }

    const cameras = devices.filter((d) => d.kind === 'camera').slice(0, FAILURES);
    const switchedOff = new Map<string, number>();
    const latencies: number[] = [];
    // The split: switch -> the agent's "down" state arrives; that -> the ticket.
    const reportedAt = new Map<string, number>();
    const agentPart: number[] = [];
    const brokerPart: number[] = [];
    const onDevice = (device: Device) => {
      const at = switchedOff.get(device.id);
      if (device.status !== 'down' || at === undefined || reportedAt.has(device.id)) return;
      reportedAt.set(device.id, performance.now());
      agentPart.push(performance.now() - at);
    };
    broker.events.on('device', onDevice);
    const pending = new Set<Promise<unknown>>();
    const onTicket = (ticket: Ticket) => {
      if (ticket.status !== 'open' || ticket.fault !== 'device-down' || ticket.deviceId === null)
        return;
      const at = switchedOff.get(ticket.deviceId);
      if (at === undefined) return;
      switchedOff.delete(ticket.deviceId);
      latencies.push(performance.now() - at);
      const reported = reportedAt.get(ticket.deviceId);
      if (reported !== undefined) brokerPart.push(performance.now() - reported);
      const clear = fetch(`${simUrl}/sim/devices/${ticket.deviceId}/faults`, { method: 'DELETE' });
      pending.add(clear);
      void clear.finally(() => pending.delete(clear));
    };
    broker.events.on('ticket', onTicket);
    for (const camera of cameras) {
      const response = await fetch(`${simUrl}/sim/devices/${camera.id}/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'offline' }),
      });
      if (response.status !== 201) throw new Error(`fault ${camera.id}: ${response.status}`);
      switchedOff.set(camera.id, performance.now());
      await sleep(SPACING_MS);
    }
    const waitUntil = Date.now() + (pollS + 30) * 1000;
    while (switchedOff.size > 0 && Date.now() < waitUntil) await sleep(200);
    broker.events.off('ticket', onTicket);
    broker.events.off('device', onDevice);
    await Promise.allSettled([...pending]);
    const other = broker.tickets
      .list({ status: 'all', limit: 1000 })
      .filter((t) => t.fault !== 'device-down');
    // A miss is a ticket infinitely late: with more than 5 % of them the p95 is too.
    const sorted = [...latencies, ...[...switchedOff.keys()].map(() => Infinity)].sort(
      (a, b) => a - b,
    );
    const median = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      ) / 1000;
    return {
      pollS,
      tickets: latencies.length,
      missed: switchedOff.size,
      missedIds: [...switchedOff.keys()],
      otherTickets: other.length,
      p50: percentile(sorted, 50) / 1000,
      p95: percentile(sorted, 95) / 1000,
      max: (sorted.at(-1) ?? NaN) / 1000,
      agentP50: median(agentPart),
      brokerP50: median(brokerPart),
      agentP95:
        percentile(
          [...agentPart].sort((a, b) => a - b),
          95,
        ) / 1000,
      brokerP95:
        percentile(
          [...brokerPart].sort((a, b) => a - b),
          95,
        ) / 1000,
      other: [...new Set(other.map((t) => t.fault))].join(', '),
    };
  } finally {
    // Switch every camera back on for the next run.
    await Promise.allSettled(
      devices.map((d) => fetch(`${simUrl}/sim/devices/${d.id}/faults`, { method: 'DELETE' })),
    );
    if (agent) await stop(agent);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [simPort] = (await freePorts(1)) as [number];
  const simPassword = 'bench-sim-password';
  const sim = await start(
    [
      'sim',
      '--control-port',
      String(simPort),
      '--site-id',
      SITE,
      '--cameras',
      String(Math.max(CAMERAS, FAILURES)),
      '--nvrs',
      '1',
      '--discovery-port',
      '0',
      '--rtsp-port',
      '0',
    ],
    { VIGIL_SIM_USERNAME: 'admin', VIGIL_SIM_PASSWORD: simPassword },
    /control API/,
  );
  try {
    const simUrl = `http://127.0.0.1:${simPort}`;
    const devices = (await (await fetch(`${simUrl}/sim/devices`)).json()) as SimDevice[];
    console.log(
      `failure to ticket: ${FAILURES} cameras switched off one by one every ${SPACING_MS} ms, ` +
        `${devices.length} devices, broker defaults (hold 2 s, only once a site's recent failures are 80 % of the way to a site outage), agent recheck ${pollingDefaults.recheckS} s`,
    );
    const rows = [];
    for (const pollS of POLLS) {
      const result = await run(pollS, simUrl, devices, simPassword);
      rows.push(result);
      console.log(
        `  agent poll ${String(pollS).padStart(3)} s: p50 ${result.p50.toFixed(2)} s, p95 ${result.p95.toFixed(2)} s, ` +
          `max ${result.max.toFixed(2)} s; ${result.tickets} tickets, ${result.missed} missed, ` +
          `${result.otherTickets} other tickets${result.other ? ` (${result.other})` : ''}; ` +
          `p50 split: switch->down state ${result.agentP50.toFixed(2)} s, down state->ticket ${result.brokerP50.toFixed(2)} s; ` +
          `p95 split: ${result.agentP95.toFixed(2)} s, ${result.brokerP95.toFixed(2)} s`,
      );
    }
    // Every failure must get its ticket, in every run; and the default poll's p95 <= 15 s.
    for (const row of rows) {
      if (row.missed > 0) {
        console.log(
          `MISSED at poll ${row.pollS} s: ${row.missed} of ${row.missed + row.tickets} failures never got a ticket ` +
            `(${row.missedIds.slice(0, 10).join(', ')}${row.missed > 10 ? ', ...' : ''})`,
        );
      }
    }
    const base = rows[0];
    const missed = rows.reduce((sum, row) => sum + row.missed, 0);
    const met = base !== undefined && base.p95 <= 15 && missed === 0;
    console.log(
      `goal p95 <= 15 s at the default poll (${pollingDefaults.intervalS} s; this run's first: ${base?.pollS ?? '?'} s) and no failure without a ticket: ` +
        `${met ? 'met' : 'NOT met'} (p95 ${base?.p95.toFixed(2) ?? '-'} s, ${missed} missed)`,
    );
    if (!met) process.exitCode = 1;
  } finally {
    await stop(sim);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
});
