/**
 * `npm run bench:sim`: one simulator process (`vigil sim`) serving 1,000 devices, polled
 * every 15 s by a load generator in another process the way an agent polls (per device:
 * GetSystemDateAndTime, then an authenticated GetDeviceInformation; NVRs also
 * GetRecordingSummary). Prints the simulator's CPU and memory for that load, and the same
 * figures for a peer in the same run: the same simulator with 100 devices under the same
 * per-device load, so the cost of scale shows as a ratio.
 *
 * Scale by env (defaults sized for a 2-core machine):
 *   VIGIL_BENCH_SIM_DEVICES=1000  VIGIL_BENCH_SIM_PEER=100  VIGIL_BENCH_SIM_SECONDS=45
 *   VIGIL_BENCH_SIM_INTERVAL_S=15
 * Run as `node dist/bench/sim.js load URL INTERVAL SECONDS` it is the load generator.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { passwordDigest } from '../sim/soap/auth.js';
import { PASSWORD_DIGEST_TYPE } from '../sim/soap/namespaces.js';
import { percentile, startSimProcess, usage, waitForOutput } from './processes.js';

const DEVICES = Number(process.env.VIGIL_BENCH_SIM_DEVICES ?? 1000);
const PEER = Number(process.env.VIGIL_BENCH_SIM_PEER ?? 100);
const SECONDS = Number(process.env.VIGIL_BENCH_SIM_SECONDS ?? 45);
const INTERVAL_S = Number(process.env.VIGIL_BENCH_SIM_INTERVAL_S ?? 15);
const self = fileURLToPath(import.meta.url);

interface Device {
  id: string;
  kind: 'camera' | 'nvr';
  xaddr: string;
  credentials: { username: string; password: string };
}

interface LoadReport {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

function envelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tse="http://www.onvif.org/ver10/search/wsdl">' +
    `<s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

function token(credentials: Device['credentials']): string {
  const nonce = randomBytes(16);
  const created = new Date().toISOString();
  return (
    '<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
    `<Username>${credentials.username}</Username>` +
    `<Password Type="${PASSWORD_DIGEST_TYPE}">${passwordDigest(nonce, created, credentials.password)}</Password>` +
    `<Nonce>${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    '</UsernameToken></Security>'
  );
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.setHeader('Content-Type', 'application/soap+xml; charset=utf-8');
    req.end(body);
  });
}

/** The load generator: polls every device once per interval, spread evenly. */
async function load(controlUrl: string, intervalS: number, seconds: number): Promise<void> {
  const devices = (await (await fetch(`${controlUrl}/sim/devices`)).json()) as Device[];
  const latencies: number[] = [];
  let errors = 0;
  const poll = async (device: Device) => {
    const calls = [envelope('<tds:GetSystemDateAndTime/>')];
    calls.push(envelope('<tds:GetDeviceInformation/>', token(device.credentials)));
    for (const body of calls) await timed(device.xaddr, body);
    if (device.kind === 'nvr') {
      const search = device.xaddr.replace('device_service', 'search_service');
      await timed(search, envelope('<tse:GetRecordingSummary/>', token(device.credentials)));
    }
  };
  const timed = async (url: string, body: string) => {
    const started = performance.now();
    try {
      const status = await post(url, body);
      if (status !== 200) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - started);
  };
  const timers: NodeJS.Timeout[] = [];
  devices.forEach((device, n) => {
    const offset = (n / devices.length) * intervalS * 1000;
    timers.push(
      setTimeout(() => {
        void poll(device);
        timers.push(setInterval(() => void poll(device), intervalS * 1000));
      }, offset),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  for (const timer of timers) clearTimeout(timer);
  const report: LoadReport = {
    requests: latencies.length,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  agent.destroy();
}

interface PhaseResult {
  devices: number;
  cpuPercent: number;
  rssStartMb: number;
  rssEndMb: number;
  load: LoadReport;
}

async function phase(devices: number): Promise<PhaseResult> {
  const nvrs = Math.max(1, Math.round(devices / 50));
  const { sim, controlUrl } = await startSimProcess(devices - nvrs, nvrs, 60_000);
  try {
    const pid = sim.pid ?? 0;
    const before = usage(pid);
    const generator = spawn(
      process.execPath,
      [self, 'load', controlUrl, String(INTERVAL_S), String(SECONDS)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const reportLine = await waitForOutput(generator, /^(\{.*\})$/m, (SECONDS + 60) * 1000);
    const after = usage(pid);
    return {
      devices,
      cpuPercent: ((after.cpuS - before.cpuS) / SECONDS) * 100,
      rssStartMb: before.rssMb,
      rssEndMb: after.rssMb,
      load: JSON.parse(reportLine) as LoadReport,
    };
  } finally {
    sim.kill('SIGTERM');
    await new Promise((resolve) => sim.once('exit', resolve));
  }
}

function line(result: PhaseResult): string {
  const { load: l } = result;
  return (
    `${String(result.devices).padStart(5)} devices | ${l.requests} requests (${(l.requests / SECONDS).toFixed(1)}/s), ` +
    `${l.errors} errors, latency p50 ${l.p50.toFixed(1)} ms p99 ${l.p99.toFixed(1)} ms | ` +
    `simulator CPU ${result.cpuPercent.toFixed(1)} % of a core, RSS ${result.rssStartMb.toFixed(0)} -> ${result.rssEndMb.toFixed(0)} MB`
  );
}

async function main(): Promise<void> {
  console.log(
    `bench:sim: one simulator process, devices polled every ${INTERVAL_S} s by a load generator process, ${SECONDS} s per run`,
  );
  const big = await phase(DEVICES);
  console.log(line(big));
  const peer = await phase(PEER);
  console.log(line(peer));
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : 'n/a');
  console.log(
    `${DEVICES} vs ${PEER} devices: ${ratio(DEVICES, PEER)}x the devices cost ${ratio(big.cpuPercent, peer.cpuPercent)}x the CPU ` +
      `and ${ratio(big.rssEndMb, peer.rssEndMb)}x the memory; per device: ` +
      `${((big.cpuPercent * 10) / DEVICES).toFixed(3)} vs ${((peer.cpuPercent * 10) / PEER).toFixed(3)} ms CPU per second, ` +
      `${((big.rssEndMb * 1024) / DEVICES).toFixed(0)} vs ${((peer.rssEndMb * 1024) / PEER).toFixed(0)} KB`,
  );
  if (big.load.errors > 0) process.exitCode = 1;
}

if (process.argv[2] === 'load') {
  await load(process.argv[3] ?? '', Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
