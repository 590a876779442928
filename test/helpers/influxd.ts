/**
 * A real InfluxDB 1.x for integration tests: Debian's /usr/bin/influxd on free ports,
 * with its own config file and data folders in a temporary directory, deleted on stop.
 * Nothing is shared with a system InfluxDB (its config, /var/lib/influxdb, port 8086).
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
  /** The running process's id (null while halted), for benchmarks that measure its CPU. */
  pid(): number | null;
  /** Stops the process (SIGTERM) and keeps its data: an outage. */
  halt(): Promise<void>;
  /** Starts it again on the same port with the same data, after halt(). */
  resume(): Promise<void>;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
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
  const url = `http://127.0.0.1:${httpPort}`;
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 50));
  };
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const started = spawn(INFLUXD, ['run', '-config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    await waitForPing(url, started, timeoutMs);
  };

  const halt = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const stop = async (): Promise<void> => {
    await halt();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (error) {
    await stop();
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n${lines.join('\n')}`,
    );
  }
  // A failed restart says why: the port taken meanwhile, a corrupt WAL, ...
  const resume = async (): Promise<void> => {
    try {
      await launch();
    } catch (error) {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n${lines.join('\n')}`,
      );
    }
  };
  const pid = (): number | null => (child as ChildProcess | null)?.pid ?? null;
  return { url, output: () => lines.join('\n'), pid, halt, resume, stop };
}
