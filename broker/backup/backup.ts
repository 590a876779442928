/**
 * `vigil backup` and `vigil restore` (issue 17 part 6, docs/BACKUP.md): the broker's
 * SQLite files, its PostgreSQL database and the files its configuration names, in one
 * folder with a manifest of SHA-256 sums, and back.
 *
 * - SQLite: SQLite's online backup API (https://sqlite.org/backup.html, through
 *   better-sqlite3's `backup()`), page by page from a read-only connection: a consistent
 *   copy while the broker keeps writing (WAL readers never block the writer). Every
 *   SQLite file in the data folder is taken (found by its header, so a store added later
 *   is not forgotten), the journal folder excepted.
 * - PostgreSQL (`database.url`): pg_dump, custom format (./pg-tools.ts), one snapshot.
 * - The config file and the files it names (TLS keys and certificates, the database
 *   password file), mode 0600: they hold secrets.
 *
 * Not covered, by design: the ingest journal (<dataDir>/journal: acknowledged messages not
 * yet stored; the broker replays them into whatever store it finds), InfluxDB (its own
 * `influxd backup -portable`), the agents' spools on the gateways, VIGIL_SECRETS_KEY and
 * VIGIL_ADMIN_PASSWORD (the environment is not a file the config names).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VigilError } from '../../shared/errors.js';
import type { BrokerConfig } from '../config.js';
import { openDatabase as openSqlite, openReadOnly } from '../db.js';
import { openDatabase as openPostgres, type DatabaseConfig } from '../ha/pg.js';
import { pgDump, pgRestore } from './pg-tools.js';

export const MANIFEST = 'manifest.json';
const FORMAT = 'vigil-backup';
const FORMAT_VERSION = 1;

/** What a backup does not hold, written into every manifest and said after each run. */
export const NOT_COVERED = [
  'the ingest journal (<dataDir>/journal): messages acknowledged but not yet stored; a broker replays them at its next start, a restore does not bring them back',
  'InfluxDB: back it up with its own tool, `influxd backup -portable -host HOST:8088 DIR`',
  "the agents' spools on the gateways: they resend what the broker has not acknowledged",
  'VIGIL_SECRETS_KEY, VIGIL_ADMIN_PASSWORD and other environment settings: keep them in your secret store',
];

export type BackupFileKind = 'sqlite' | 'postgres' | 'config' | 'credentials';

export interface ManifestFile {
  /** Path inside the backup folder, with forward slashes. */
  path: string;
  kind: BackupFileKind;
  /** sqlite: path relative to the data folder; config and credentials: the absolute path. */
  source: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  formatVersion: number;
  vigilVersion: string;
  createdAt: string;
  host: string;
  dataDir: string;
  /** The database as a URL without its password; null: none configured. */
  database: string | null;
  files: ManifestFile[];
  notCovered: string[];
}

/** The version in package.json, from the source tree or dist/. */
function vigilVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const text = readFileSync(join(dir, 'package.json'), 'utf8');
      const pkg = JSON.parse(text) as { name?: string; version?: string };
      if (pkg.name === 'vigil' && pkg.version) return pkg.version;
    } catch {
      // Not here: one folder up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SQLite's file header (https://sqlite.org/fileformat.html, section 1.3.1). */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

async function isSqliteFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(SQLITE_HEADER);
  } finally {
    await handle.close();
  }
}

/**
 * Every SQLite database in the data folder (vigil.db, metrics.db and any a later store
 * adds), relative to it; not the WAL and shared-memory companions, not the journal.
 */
export async function sqliteFiles(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join(dataDir, 'journal')) await walk(path);
      } else if (entry.isFile() && !/-(wal|shm|journal)$/.test(entry.name)) {
        if (await isSqliteFile(path)) found.push(relative(dataDir, path));
      }
    }
  };
  await walk(dataDir);
  return found.sort();
}

/** The files the config names that hold secrets or keys, resolved. */
function credentialFiles(config: BrokerConfig): string[] {
  const files = [
    config.mqtt.tls?.certFile,
    config.mqtt.tls?.keyFile,
    config.mqtt.tls?.caFile,
    config.http.tls?.certFile,
    config.http.tls?.keyFile,
    config.database?.passwordFile,
  ];
  return [...new Set(files.filter((f): f is string => typeof f === 'string'))];
}

/** The URL without its password, for the manifest. */
function urlWithoutPassword(database: DatabaseConfig | null): string | null {
  if (!database) return null;
  try {
    const url = new URL(database.url);
    url.password = '';
    return url.toString();
  } catch {
    return null;
  }
}

function posix(path: string): string {
  return path.split(sep).join('/');
}

export interface BackupOptions {
  config: BrokerConfig;
  /** The config file itself, backed up with the files it names; null: defaults, no file. */
  configFile: string | null;
  out: string;
  env?: NodeJS.ProcessEnv;
  /** Progress lines for a person; never a password. */
  say?: (line: string) => void;
}

/** Makes the backup folder; refuses one that holds anything already. */
async function emptyFolder(out: string): Promise<void> {
  if (existsSync(out)) {
    const inside = await readdir(out);
    if (inside.length > 0)
      throw new VigilError('VIGIL_BACKUP_FAILED', `${out} is not empty`, [
        'give a new folder to each backup (for example /var/backups/vigil/$(date +%Y%m%dT%H%M)); old backups are never overwritten',
      ]);
  }
  await mkdir(out, { recursive: true, mode: 0o700 });
  await chmod(out, 0o700);
}

export async function backup(options: BackupOptions): Promise<Manifest> {
  const { config, out } = options;
  const env = options.env ?? process.env;
  const say = options.say ?? (() => {});
  await emptyFolder(out);
  const files: ManifestFile[] = [];
  const record = async (path: string, kind: BackupFileKind, source: string) => {
    const full = join(out, path);
    await chmod(full, 0o600);
    files.push({
      path: posix(path),
      kind,
      source,
      bytes: (await stat(full)).size,
      sha256: await sha256(full),
    });
  };

  const found = await sqliteFiles(config.dataDir);
  // A config naming the wrong data folder would give a backup without a single ticket.
  if (!found.includes('vigil.db'))
    throw new VigilError('VIGIL_BACKUP_FAILED', `there is no vigil.db in ${config.dataDir}`, [
      "give the broker's own config with --config (its dataDir is where vigil.db is), or set VIGIL_DATA_DIR as the broker has it",
    ]);
  for (const file of found) {
    const target = join('sqlite', file);
    await mkdir(dirname(join(out, target)), { recursive: true, mode: 0o700 });
    const source = openReadOnly(join(config.dataDir, file));
    try {
      await source.backup(join(out, target));
    } catch (error) {
      throw new VigilError('VIGIL_BACKUP_FAILED', `the online backup of ${file} failed`, [
        error instanceof Error ? error.message : String(error),
        'check the free space of the backup folder and that this user may read the data folder',
      ]);
    } finally {
      source.close();
    }
    // The copy is checked before it counts: a backup is only as good as its restore.
    const copy = openReadOnly(join(out, target));
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok')
        throw new VigilError('VIGIL_BACKUP_FAILED', `the copy of ${file} is damaged`, [
          `quick_check: ${String(check)}`,
          `check the source with: sqlite3 ${join(config.dataDir, file)} 'PRAGMA integrity_check'`,
        ]);
    } finally {
      copy.close();
    }
    await rm(join(out, `${target}-wal`), { force: true });
    await rm(join(out, `${target}-shm`), { force: true });
    await record(target, 'sqlite', posix(file));
    say(`sqlite    ${file}`);
  }

  if (config.database) {
    const target = join('postgres', 'vigil.dump');
    await mkdir(join(out, 'postgres'), { mode: 0o700 });
    try {
      await pgDump(config.database, join(out, target), env);
    } catch (error) {
      throw new VigilError('VIGIL_BACKUP_FAILED', 'pg_dump failed', [
        error instanceof Error ? error.message : String(error),
      ]);
    }
    await record(target, 'postgres', urlWithoutPassword(config.database) ?? '');
    say(`postgres  ${urlWithoutPassword(config.database)} (pg_dump, custom format)`);
  }

  const named = [
    ...(options.configFile ? [{ file: resolve(options.configFile), kind: 'config' as const }] : []),
    ...credentialFiles(config).map((file) => ({ file, kind: 'credentials' as const })),
  ];
  if (named.length > 0) await mkdir(join(out, 'files'), { mode: 0o700 });
  for (const [i, { file, kind }] of named.entries()) {
    // Numbered: two files of one name in different folders (two certs called server.crt).
    const target = join('files', `${i + 1}-${basename(file)}`);
    try {
      await copyFile(file, join(out, target));
    } catch (error) {
      throw new VigilError('VIGIL_BACKUP_FAILED', `cannot copy ${file}, which the config names`, [
        error instanceof Error ? error.message : String(error),
        'run the backup as a user who may read it (the broker runs as one)',
      ]);
    }
    await record(target, kind, file);
    say(`${kind.padEnd(9)} ${file}`);
  }

  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    vigilVersion: vigilVersion(),
    createdAt: new Date().toISOString(),
    host: hostname(),
    dataDir: config.dataDir,
    database: urlWithoutPassword(config.database),
    files,
    notCovered: NOT_COVERED,
  };
  await writeFile(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

/** Reads and checks the manifest; every file's size and SHA-256 before anything is touched. */
export async function verifyBackup(from: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(from, MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    throw new VigilError('VIGIL_RESTORE_REFUSED', `${from} holds no readable ${MANIFEST}`, [
      error instanceof Error ? error.message : String(error),
      'give the folder that `vigil backup --out` wrote',
    ]);
  }
  if (manifest.format !== FORMAT || manifest.formatVersion !== FORMAT_VERSION)
    throw new VigilError('VIGIL_RESTORE_REFUSED', `${from} is not a Vigil backup of this format`, [
      `format ${String(manifest.format)} version ${String(manifest.formatVersion)}; this Vigil reads ${FORMAT} version ${FORMAT_VERSION}`,
    ]);
  const damaged: string[] = [];
  for (const file of manifest.files) {
    const full = join(from, file.path);
    if (!full.startsWith(resolve(from) + sep)) {
      damaged.push(`${file.path}: outside the backup folder`);
      continue;
    }
    try {
      const size = (await stat(full)).size;
      if (size !== file.bytes)
        damaged.push(`${file.path}: ${size} bytes, the manifest says ${file.bytes}`);
      else if ((await sha256(full)) !== file.sha256)
        damaged.push(`${file.path}: its SHA-256 differs from the manifest's`);
    } catch (error) {
      damaged.push(`${file.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (damaged.length > 0)
    throw new VigilError(
      'VIGIL_RESTORE_REFUSED',
      `the backup in ${from} is damaged; nothing was restored`,
      [...damaged, 'restore from another backup (an older one, or another copy of this one)'],
    );
  return manifest;
}

/**
 * Whether a process holds this SQLite file open: leaving WAL mode needs the only
 * connection (https://sqlite.org/wal.html, "Persistence of WAL mode"), so with the broker
 * running the attempt fails at once with SQLITE_BUSY; alone, the mode is put back.
 */
function heldOpen(file: string): boolean {
  const db = openSqlite(file);
  try {
    db.pragma('busy_timeout = 0');
    try {
      db.pragma('journal_mode = DELETE');
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return true;
      throw error;
    }
    db.pragma('journal_mode = WAL');
    return false;
  } finally {
    db.close();
  }
}

async function userTables(database: DatabaseConfig): Promise<number> {
  const db = openPostgres(database, { max: 1, applicationName: 'vigil restore' });
  try {
    const result = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_catalog.pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await db.close();
  }
}

async function sameContent(a: string, b: string): Promise<boolean> {
  return (await sha256(a)) === (await sha256(b));
}

/** Writes `source` to `target` through a temporary file in its folder and a rename. */
async function replaceFile(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const temporary = `${target}.restoring`;
  await copyFile(source, temporary);
  await chmod(temporary, 0o600);
  const handle = await open(temporary, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, target);
}

export interface RestoreOptions {
  from: string;
  config: BrokerConfig;
  /** The config file given to the restore: kept as it is, never replaced by the backup's. */
  configFile?: string;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  say?: (line: string) => void;
}

export async function restore(options: RestoreOptions): Promise<Manifest> {
  const { from, config } = options;
  const force = options.force ?? false;
  const env = options.env ?? process.env;
  const say = options.say ?? (() => {});
  const manifest = await verifyBackup(from);
  say(
    `checked   ${manifest.files.length} file(s) of ${manifest.createdAt} (Vigil ${manifest.vigilVersion})`,
  );

  // Every refusal before the first write: a restore either starts complete or not at all.
  const refusals: string[] = [];
  const sqlite = manifest.files.filter((f) => f.kind === 'sqlite');
  for (const file of sqlite) {
    const target = resolve(config.dataDir, file.source);
    if (!target.startsWith(resolve(config.dataDir) + sep)) {
      refusals.push(`${file.path}: its place ${file.source} is outside the data folder`);
      continue;
    }
    if (!existsSync(target)) continue;
    if (heldOpen(target))
      refusals.push(
        `${target} is open in a running process (a broker on ${config.dataDir}): stop it first (systemctl stop vigil-broker, or docker-compose stop)`,
      );
    else if (!force)
      refusals.push(`${target} exists: add --force to replace it with the backup's copy`);
  }
  const dump = manifest.files.find((f) => f.kind === 'postgres');
  if (dump && !config.database)
    refusals.push(
      `the backup holds a PostgreSQL dump (${manifest.database ?? 'a database'}) and the config names no database.url: set database.url (or VIGIL_DATABASE_URL) to an empty database to restore into`,
    );
  if (dump && config.database) {
    let tables: number;
    try {
      tables = await userTables(config.database);
    } catch (error) {
      throw new VigilError('VIGIL_RESTORE_REFUSED', 'cannot reach the database to restore into', [
        error instanceof Error ? error.message : String(error),
        'create the database first (createdb), check database.url and its password',
      ]);
    }
    if (tables > 0 && !force)
      refusals.push(
        `the database holds ${tables} table(s) already: restore into an empty database, or add --force to replace Vigil's tables with the backup's (stop every broker node on it first)`,
      );
  }
  const named = manifest.files.filter((f) => f.kind === 'config' || f.kind === 'credentials');
  const toWrite: ManifestFile[] = [];
  for (const file of named) {
    // The config this restore runs with describes this machine: never replaced under it.
    if (options.configFile && resolve(options.configFile) === file.source) {
      if (!(await sameContent(join(from, file.path), file.source)))
        say(
          `kept      ${file.source} (this restore's config; the backup's is ${join(from, file.path)})`,
        );
      continue;
    }
    if (!existsSync(file.source)) toWrite.push(file);
    else if (!(await sameContent(join(from, file.path), file.source))) {
      if (force) toWrite.push(file);
      else
        refusals.push(
          `${file.source} differs from the backup's copy (${join(from, file.path)}): compare them, or add --force to put the backup's back`,
        );
    }
  }
  if (refusals.length > 0)
    throw new VigilError('VIGIL_RESTORE_REFUSED', 'nothing was restored', refusals);

  // The database first: pg_restore is what can still fail, and it fails as a whole.
  if (dump && config.database) {
    try {
      await pgRestore(config.database, join(from, dump.path), { clean: force }, env);
    } catch (error) {
      throw new VigilError(
        'VIGIL_RESTORE_REFUSED',
        'pg_restore failed; the database is unchanged',
        [
          error instanceof Error ? error.message : String(error),
          'pg_restore ran in one transaction, so nothing of it stayed, and nothing else was restored yet',
        ],
      );
    }
    say(`postgres  ${urlWithoutPassword(config.database)} (pg_restore)`);
  }
  for (const file of sqlite) {
    const target = resolve(config.dataDir, file.source);
    // A WAL left by the replaced file would be applied to the restored one: gone first.
    await rm(`${target}-wal`, { force: true });
    await rm(`${target}-shm`, { force: true });
    await replaceFile(join(from, file.path), target);
    say(`sqlite    ${target}`);
  }
  for (const file of toWrite) {
    await replaceFile(join(from, file.path), file.source);
    say(`${file.kind.padEnd(9)} ${file.source}`);
  }
  return manifest;
}
