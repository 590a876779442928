/**
 * A real PostgreSQL 15 for integration tests: Debian's server binaries (package
 * postgresql-15, pulled in by `postgresql`) run by hand on a free loopback port, with the
 * cluster in its own temporary folder, deleted on stop. Nothing is shared with a system
 * cluster (/var/lib/postgresql, port 5432, /run/postgresql).
 *
 * PostgreSQL refuses to run as root (initdb and postgres both check), and CI runs as root:
 * then the server runs as the unprivileged `postgres` user (created by the Debian package;
 * created here with useradd if missing), and the folder is handed to it. Run as any other
 * user, the server runs as that user.
 *
 * There is no skipping: without the binaries, startPostgres() throws what to install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import type { Requirement } from './requires.js';

export const PG_BIN = process.env.VIGIL_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** The binaries, as a requirement test files can name in `need()`. */
export const postgresServer: Requirement = {
  problem: () => {
    const found = spawnSync(join(PG_BIN, 'postgres'), ['--version'], { encoding: 'utf8' });
    return found.status === 0
      ? null
      : `PostgreSQL 15 not found in ${PG_BIN}: install the Debian package postgresql (apt-get install postgresql; .ci/run does), or set VIGIL_PG_BIN to the folder holding initdb and postgres`;
  },
};

export interface RunningPostgres {
  /** postgres://vigil:PASSWORD@127.0.0.1:PORT/vigil, the superuser the tests use. */
  url: string;
  /** The same without the password, for tests of database.passwordFile. */
  urlWithoutPassword: string;
  password: string;
  port: number;
  /** The postmaster's process id (a benchmark counts its and its backends' CPU). */
  pid: number;
  /** The last lines the server wrote, to explain a failure. */
  output(): string;
  /** Stops the server (fast shutdown) and deletes the cluster. */
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Root cannot run PostgreSQL: the `postgres` user, made if the machine lacks it. */
function serverUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0
      ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
      : null;
  };
  const found = lookup();
  if (found) return found;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
    encoding: 'utf8',
  });
  const after = lookup();
  if (!after)
    throw new Error(
      `PostgreSQL refuses to run as root and there is no postgres user; useradd failed (${made.stderr.trim()}): create an unprivileged user named postgres`,
    );
  return after;
}

function run(file: string, args: string[], as: RunAs | null): { ok: boolean; output: string } {
  const result = spawnSync(join(PG_BIN, file), args, {
    encoding: 'utf8',
    ...(as ?? {}),
    timeout: 60_000,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  return { ok: result.status === 0, output };
}

async function waitReady(
  port: number,
  socketDir: string,
  child: ChildProcess,
  as: RunAs | null,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}`);
    // pg_isready: exit 0 only once the server accepts connections (not while starting up).
    const ready = run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(port)], as);
    if (ready.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `postgres did not accept connections on port ${port} (${socketDir}) within ${timeoutMs} ms`,
  );
}

export interface PostgresOptions {
  /**
   * Commit as in production (fsync, synchronous_commit on, full page writes), for a
   * benchmark whose figures include the WAL flush; by default a throwaway test cluster
   * skips them.
   */
  durable?: boolean;
}

export async function startPostgres(
  timeoutMs = 60_000,
  options: PostgresOptions = {},
): Promise<RunningPostgres> {
  const missing = postgresServer.problem();
  if (missing) throw new Error(missing);
  const as = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'vigil-postgres-'));
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const lines: string[] = [];
  const keep = (chunk: Buffer | string) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 50));
  };
  let child: ChildProcess | null = null;

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      // SIGINT: "fast shutdown", ends sessions and stops without waiting for clients.
      running.kill('SIGINT');
      const timer = setTimeout(() => running.kill('SIGQUIT'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (as) {
      await chown(dir, as.uid, as.gid);
      await chown(pwfile, as.uid, as.gid);
    }
    await chmod(dir, 0o700);
    // Passwords on TCP (scram-sha-256), as in production, so URLs carry one; the socket
    // (local) trusts, only for pg_isready. --no-sync: a test cluster needs no fsync.
    const init = run(
      'initdb',
      [
        '-D',
        data,
        '-U',
        'vigil',
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ],
      as,
    );
    if (!init.ok) throw new Error(`initdb failed: ${init.output}`);
    await rm(pwfile, { force: true });
    const port = await freePort();
    const started = spawn(
      join(PG_BIN, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        // Speed over durability unless asked: a test cluster is thrown away after its file.
        ...(options.durable
          ? []
          : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(as ?? {}) },
    );
    child = started;
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    await waitReady(port, dir, started, as, timeoutMs);
    const created = run('createdb', ['-h', dir, '-p', String(port), '-U', 'vigil', 'vigil'], as);
    if (!created.ok) throw new Error(`createdb failed: ${created.output}`);
    const base = `127.0.0.1:${port}/vigil`;
    return {
      url: `postgres://vigil:${encodeURIComponent(password)}@${base}`,
      urlWithoutPassword: `postgres://vigil@${base}`,
      password,
      port,
      pid: started.pid!,
      output: () => lines.join('\n'),
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n${lines.join('\n')}`,
    );
  }
}
