/**
 * A small real site for the scenario tests: `vigil sim` (10 cameras, 2 NVRs), `vigil
 * broker` and `vigil agent`, each its own process from the compiled code (dist/), on
 * free ports and a temporary data folder. Unlike `vigil demo` it can kill the agent
 * alone. The agent polls every 2 s (recheck 1 s) so a scenario runs in seconds; the
 * broker keeps its default detection settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePorts } from '../helpers/ports.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const vigilEntry = join(root, 'dist/cli/vigil.js');
const SITE = 'demo-site';
const AGENT = 'gw-01';

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [vigilEntry, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => output, exited };
}

async function waitFor(proc: Proc, pattern: RegExp, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.output())) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${what} did not start:\n${proc.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopProc(proc: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  const killer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
  await proc.exited;
  clearTimeout(killer);
}

export interface ScenarioSite {
  apiUrl: string;
  /** The console's admin password (user admin). */
  adminPassword: string;
  simUrl: string;
  api<T>(path: string, init?: RequestInit): Promise<T>;
  /** POST a sim fault on a device; DELETE clears its faults. */
  fault(deviceId: string, kind?: string): Promise<void>;
  clear(deviceId: string): Promise<void>;
  /** SIGKILL: the TCP connection drops without a goodbye, so the broker sends the will. */
  killAgent(): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

export interface ScenarioOptions {
  /** Serve the built console (dist/console) on the API's port; off by default. */
  console?: boolean;
  /** Channels per NVR (the simulator's --channels; 16 by default). */
  nvrChannels?: number;
  /** The agent's `checks` settings, e.g. { recordingLagS: 3 } (agent/config.ts). */
  checks?: Record<string, number>;
  /** A site file for the simulator (sim/scenario.ts) instead of 10 cameras and 2 NVRs. */
  siteFile?: string;
  /** Devices the agent watches beside the simulator's: cameras behind an NVR (no xaddr). */
  moreDevices?: Record<string, unknown>[];
}

export async function startScenarioSite(options: ScenarioOptions = {}): Promise<ScenarioSite> {
  if (!existsSync(vigilEntry)) throw new Error(`${vigilEntry} is missing: run npm run build first`);
  const [httpPort, mqttPort, simPort] = (await freePorts(3)) as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'vigil-scenario-'));
  const adminPassword = 'scenario-admin-password';
  const agentPassword = 'scenario-agent-password';
  const simPassword = 'scenario-sim-password';
  const procs: Proc[] = [];
  let agent: Proc | undefined;
  const output = () => procs.map((p) => p.output()).join('\n');
  try {
    const setup = run(
      [
        'broker',
        'add-agent',
        '--data-dir',
        dir,
        '--site',
        SITE,
        '--name',
        AGENT,
        '--password-env',
        'VIGIL_AGENT_PASSWORD',
      ],
      { VIGIL_AGENT_PASSWORD: agentPassword },
    );
    await setup.exited;
    if (setup.child.exitCode !== 0) throw new Error(`add-agent failed:\n${setup.output()}`);

    const brokerConfig = join(dir, 'broker.yaml');
    writeFileSync(
      brokerConfig,
      stringify({
        dataDir: dir,
        mqtt: { host: '127.0.0.1', port: mqttPort },
        http: { host: '127.0.0.1', port: httpPort },
        ...(options.console ? {} : { consoleDir: null }),
      }),
      { mode: 0o600 },
    );
    const broker = run(['broker', '--config', brokerConfig], {
      VIGIL_ADMIN_PASSWORD: adminPassword,
    });
    procs.push(broker);
    await waitFor(broker, /MQTT on/, 'the broker');

    const sim = run(
      [
        'sim',
        '--control-port',
        String(simPort),
        '--site-id',
        SITE,
        ...(options.siteFile ? ['--site', options.siteFile] : ['--cameras', '10', '--nvrs', '2']),
        ...(options.nvrChannels ? ['--channels', String(options.nvrChannels)] : []),
        '--discovery-port',
        '0',
        '--rtsp-port',
        '0',
      ],
      { VIGIL_SIM_USERNAME: 'admin', VIGIL_SIM_PASSWORD: simPassword },
    );
    procs.push(sim);
    await waitFor(sim, /control API/, 'the simulator');
    const simUrl = `http://127.0.0.1:${simPort}`;
    const devices = (await (await fetch(`${simUrl}/sim/devices`)).json()) as {
      id: string;
      name: string;
      kind: string;
      xaddr: string;
    }[];

    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      stringify({
        siteId: SITE,
        agentId: AGENT,
        dataDir: join(dir, 'agent'),
        mqtt: {
          url: `mqtt://127.0.0.1:${mqttPort}`,
          username: `${SITE}.${AGENT}`,
          password: agentPassword,
        },
        polling: { intervalS: 2, timeoutMs: 1500, concurrency: 16, recheckS: 1, behindOfflineS: 4 },
        onvif: { username: 'admin', password: simPassword },
        ...(options.checks ? { checks: options.checks } : {}),
        devices: [
          ...devices.map((d) => ({ id: d.id, name: d.name, kind: d.kind, xaddr: d.xaddr })),
          ...(options.moreDevices ?? []),
        ],
      }),
      { mode: 0o600 },
    );
    agent = run(['agent', '--config', agentConfig], {});
    procs.push(agent);
    await waitFor(agent, /vigil agent: ready/, 'the agent');

    const apiUrl = `http://127.0.0.1:${httpPort}`;
    const login = await fetch(`${apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: adminPassword }),
    });
    if (!login.ok) throw new Error(`login failed: ${login.status}`);
    const { token } = (await login.json()) as { token: string };

    const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const response = await fetch(`${apiUrl}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${token}`,
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...(init.headers ?? {}),
        },
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    return {
      apiUrl,
      adminPassword,
      simUrl,
      api,
      async fault(deviceId, kind = 'offline') {
        const response = await fetch(`${simUrl}/sim/devices/${deviceId}/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind }),
        });
        if (response.status !== 201) throw new Error(`fault ${deviceId}: ${response.status}`);
      },
      async clear(deviceId) {
        const response = await fetch(`${simUrl}/sim/devices/${deviceId}/faults`, {
          method: 'DELETE',
        });
        if (!response.ok) throw new Error(`clear ${deviceId}: ${response.status}`);
      },
      async killAgent() {
        await stopProc(agent, 'SIGKILL');
      },
      output,
      async stop() {
        for (const proc of [...procs].reverse()) await stopProc(proc);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const proc of [...procs].reverse()) await stopProc(proc);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
