/**
 * A real InfluxDB 1.x for integration tests: Debian's /usr/bin/influxd on free ports,
 * with its own config file and data folders in a temporary directory, deleted on stop.
 * Nothing is shared with a system InfluxDB (its config, /var/lib/influxdb, port 8086).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.js';

export const INFLUXD = '/usr/bin/influxd';

export interface RunningInfluxd {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The last lines influxd wrote, to explain a failure. */
  output(): string;
  stop(): Promise<void>;
}

export function influxdAvailable(): boolean {
  return existsSync(INFLUXD);
}

function configFile(dir: string, httpPort: number, rpcPort: number): string {
  // Every listener on loopback and a free port: the RPC bind-address (backup/restore,
  // 8088 by default) too, or two test runs would collide on it.
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
  wal-fsync-delay = "0s"

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = true
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`influxd exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/ping`);
      if (response.status === 204) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`influxd did not answer ${url}/ping within ${timeoutMs} ms`);
}

export async function startInfluxd(timeoutMs = 30_000): Promise<RunningInfluxd> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-influxd-'));
  const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
  const config = join(dir, 'influxdb.conf');
  await writeFile(config, configFile(dir, httpPort, rpcPort));
  const child = spawn(INFLUXD, ['run', '-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 50));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${httpPort}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForPing(url, child, timeoutMs);
  } catch (error) {
    await stop();
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n${lines.join('\n')}`,
    );
  }
  return { url, output: () => lines.join('\n'), stop };
}
