/**
 * Starts `vigil demo` from the compiled code (dist/), as `npm start` does, on free ports
 * and a temporary data folder; gives the test a logged-in API client and the
 * simulator's control API. Build first (`npm test` does: pretest builds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const vigilEntry = join(root, 'dist/cli/vigil.js');

export interface RunningDemo {
  apiUrl: string;
  simUrl: string;
  dataDir: string;
  adminPassword: string;
  output: () => string;
  /** GET/POST on the broker's API with the admin's token. */
  api<T>(path: string, init?: RequestInit): Promise<T>;
  sim(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startDemo(env: Record<string, string> = {}): Promise<RunningDemo> {
  if (!existsSync(vigilEntry)) throw new Error(`${vigilEntry} is missing: run npm run build first`);
  const [httpPort, mqttPort, simPort] = (await freePorts(3)) as [number, number, number];
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  const adminPassword = 'e2e-admin-password';
  const child: ChildProcess = spawn(process.execPath, [vigilEntry, 'demo'], {
    cwd: root,
    env: {
      ...process.env,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      SIM_CONTROL_PORT: String(simPort),
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PASSWORD: adminPassword,
      // No timed faults: the tests inject the ones they assert on.
      VIGIL_DEMO_SITE: 'calm',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (output.includes('Vigil demo is running')) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > 90_000) {
        clearInterval(timer);
        reject(new Error(`the demo did not start:\n${output}`));
      }
    }, 100);
  });

  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const login = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: adminPassword }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };

  return {
    apiUrl,
    simUrl: `http://127.0.0.1:${simPort}`,
    dataDir,
    adminPassword,
    output: () => output,
    async api<T>(path: string, init: RequestInit = {}): Promise<T> {
      const response = await fetch(`${apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    sim(path: string, init?: RequestInit): Promise<Response> {
      return fetch(`http://127.0.0.1:${simPort}${path}`, init);
    },
    async stop(): Promise<void> {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
