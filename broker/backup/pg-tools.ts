/**
 * The one place that runs PostgreSQL's own backup tools, pg_dump and pg_restore
 * (STYLE habit 7: a third-party program behind one adapter). Both get the URL without
 * its password; the password (database.passwordFile, or the one in the URL) goes to them
 * through a pgpass file of our own, mode 0600, deleted afterwards
 * (https://www.postgresql.org/docs/15/libpq-pgpass.html), so it is never on a command
 * line (readable by every user in /proc/PID/cmdline) nor in a log line.
 *
 * The custom format (`--format=custom`) is compressed, restores selectively and in any
 * order, and is what pg_restore reads (https://www.postgresql.org/docs/15/app-pgdump.html).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionUrl, maskDatabaseUrl, type DatabaseConfig } from '../ha/pg.js';

/** The folder holding pg_dump and pg_restore; otherwise they are looked up on PATH. */
function tool(name: 'pg_dump' | 'pg_restore', env: NodeJS.ProcessEnv): string {
  const dir = env.VIGIL_PG_BIN;
  return dir ? join(dir, name) : name;
}

/** libpq's pgpass escapes: a backslash or a colon inside a field is preceded by a backslash. */
function pgpassField(value: string): string {
  return value.replace(/([\\:])/g, '\\$1');
}

interface Prepared {
  /** The URL without a password: what goes on the command line. */
  url: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** The URL without its password, and an environment whose PGPASSFILE holds the password. */
async function prepare(config: DatabaseConfig, env: NodeJS.ProcessEnv): Promise<Prepared> {
  const full = new URL(connectionUrl(config));
  const password = decodeURIComponent(full.password);
  full.password = '';
  const url = full.toString();
  // Nothing of the caller's libpq settings may send the tool elsewhere or with another password.
  const childEnv: NodeJS.ProcessEnv = { ...env };
  delete childEnv.PGPASSWORD;
  if (!password) return { url, env: childEnv, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'vigil-pgpass-'));
  const file = join(dir, 'pgpass');
  // One line for any host, port, database and user: the tool connects to one server only.
  await writeFile(file, `*:*:*:*:${pgpassField(password)}\n`, { mode: 0o600 });
  childEnv.PGPASSFILE = file;
  return { url, env: childEnv, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs one tool; rejects with its stderr (libpq never repeats the password) and what to do. */
async function run(
  name: 'pg_dump' | 'pg_restore',
  args: string[],
  config: DatabaseConfig,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const prepared = await prepare(config, env);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(tool(name, env), [...args, `--dbname=${prepared.url}`], {
        env: prepared.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          new Error(
            error.code === 'ENOENT'
              ? `${name} not found (${tool(name, env)}): install the Debian package postgresql-client (of the server's major version or newer), or set VIGIL_PG_BIN to the folder holding it`
              : `${name} could not be started: ${error.message}`,
          ),
        );
      });
      child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `${name} on ${maskDatabaseUrl(config.url)} failed (${signal ?? `exit code ${code}`}): ${stderr.trim() || 'no message'}`,
            ),
          );
      });
    });
  } finally {
    await prepared.cleanup();
  }
}

/** pg_dump of the whole database into `file`, custom format. */
export async function pgDump(
  config: DatabaseConfig,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  // --no-owner, --no-privileges: the dump restores into a database owned by another role
  // (a rebuilt server, a drill on a test machine) without failing on GRANTs and ALTER OWNER.
  await run(
    'pg_dump',
    ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`],
    config,
    env,
  );
}

/**
 * pg_restore of `file` into the database, in one transaction: it either all arrives or
 * nothing changes. `clean` drops the objects the dump holds first (--force of vigil restore).
 */
export async function pgRestore(
  config: DatabaseConfig,
  file: string,
  options: { clean: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  await run(
    'pg_restore',
    [
      '--single-transaction',
      '--exit-on-error',
      '--no-owner',
      '--no-privileges',
      ...(options.clean ? ['--clean', '--if-exists'] : []),
      file,
    ],
    config,
    env,
  );
}
