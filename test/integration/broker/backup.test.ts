/**
 * `vigil backup` and `vigil restore` (docs/BACKUP.md) with real parts: a running broker
 * (test/helpers/broker.ts) on real SQLite files, backed up while it runs, restored into a
 * fresh folder where a second broker reads the same site, ticket and user through the
 * API; and a real PostgreSQL 15 (test/helpers/postgres.ts) dumped with pg_dump and
 * pg_restored into a fresh database. The commands run as a person types them (the
 * CLI's own argv handling), their output read as a person reads it.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { RunningBroker } from '../../../broker/app.js';
import { MANIFEST, type Manifest } from '../../../broker/backup/backup.js';
import { openDatabase as openSqlite } from '../../../broker/db.js';
import { ensureLeaseTable } from '../../../broker/ha/lease.js';
import { openDatabase as openPostgres } from '../../../broker/ha/pg.js';
import { backupMain, restoreMain } from '../../../cli/backup.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../../helpers/broker.js';
import { startPostgres, type RunningPostgres } from '../../helpers/postgres.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

/** Runs a CLI main as `vigil <name> ...argv`: exit code, stdout and stderr lines. */
async function vigil(
  main: (argv: string[]) => Promise<void>,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  process.exitCode = undefined;
  let code: number;
  try {
    await main(argv);
    code = Number(process.exitCode ?? 0);
  } catch (thrown) {
    // What cli/vigil.ts prints for an error: its description, exit code 1.
    err.push(
      thrown instanceof Error && 'describe' in thrown
        ? (thrown as Error & { describe(): string }).describe()
        : String(thrown),
    );
    code = 1;
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function api(
  broker: RunningBroker,
  token: string,
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${broker.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** A data folder with an (empty) vigil.db, as a broker leaves it. */
async function seedDataDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  openSqlite(join(dir, 'vigil.db')).close();
  return dir;
}

async function writeConfig(dir: string, settings: object): Promise<string> {
  const file = join(dir, 'broker.yaml');
  await writeFile(file, stringify({ consoleDir: null, ...settings }));
  return file;
}

describe('vigil backup and restore of the SQLite files', () => {
  let work: TempDir;
  let brokers: RunningBroker[] = [];

  beforeEach(async () => {
    work = await tempDir('vigil-backup-');
  });
  afterEach(async () => {
    for (const broker of brokers) await broker.stop();
    brokers = [];
    await work.remove();
  });

  const start = async (dataDir: string) => {
    const broker = await startTestBroker({ dataDir });
    brokers.push(broker);
    return broker;
  };

  it('backs up a running broker, and a broker on the restored copy reads the same site, ticket and user', async () => {
    const dataA = join(work.path, 'a');
    const configA = await writeConfig(work.path, { dataDir: dataA });
    const a = await start(dataA);
    const admin = await loginToken(a);
    const site = await api(a, admin, 'PUT', '/api/sites/plant-7', {
      name: 'Plant 7',
      customer: 'Example Logistics',
    });
    expect(site.status, JSON.stringify(site.json)).toBe(200);
    const ticket = await api(a, admin, 'POST', '/api/tickets', {
      siteId: 'plant-7',
      title: 'The gate camera is blurred',
      description: 'The guard called at 09:10.',
    });
    expect(ticket.status, JSON.stringify(ticket.json)).toBe(201);
    const ticketId = (ticket.json as { id: number }).id;
    const user = await api(a, admin, 'PUT', '/api/users/olga', {
      role: 'operator',
      password: 'olga password 1',
    });
    expect(user.status).toBe(200);

    // While the broker runs and keeps its files open.
    const out = join(work.path, 'backup-1');
    const made = await vigil(backupMain, '--config', configA, '--out', out);
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    expect(made.out).toContain('sqlite    vigil.db');
    expect(made.out).toContain('config    ');
    expect(made.out).toContain('influxd backup -portable');
    const manifest = JSON.parse(await readFile(join(out, MANIFEST), 'utf8')) as Manifest;
    expect(manifest).toMatchObject({ format: 'vigil-backup', formatVersion: 1, dataDir: dataA });
    expect(manifest.vigilVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.files.map((f) => `${f.kind} ${f.source}`)).toEqual(
      expect.arrayContaining(['sqlite vigil.db', 'sqlite metrics.db', `config ${configA}`]),
    );
    for (const file of manifest.files) {
      expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await stat(join(out, file.path))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(out)).mode & 0o777).toBe(0o700);

    // A second backup into the same folder is refused: old backups are never overwritten.
    const again = await vigil(backupMain, '--config', configA, '--out', out);
    expect(again.code).toBe(1);
    expect(again.err).toContain('VIGIL_BACKUP_FAILED');
    expect(again.err).toContain('is not empty');

    // Restore into a fresh folder on this machine (its own config), then a broker there.
    const dataB = join(work.path, 'b');
    await mkdir(join(work.path, 'other'));
    const configB = await writeConfig(join(work.path, 'other'), { dataDir: dataB });
    const restored = await vigil(restoreMain, '--from', out, '--config', configB);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.out).toContain(join(dataB, 'vigil.db'));
    expect((await stat(join(dataB, 'vigil.db'))).mode & 0o777).toBe(0o600);

    const b = await start(dataB);
    const adminB = await loginToken(b);
    const siteB = await api(b, adminB, 'GET', '/api/sites/plant-7');
    expect(siteB.json).toMatchObject({ name: 'Plant 7', customer: 'Example Logistics' });
    const ticketB = await api(b, adminB, 'GET', `/api/tickets/${ticketId}`);
    expect(ticketB.status).toBe(200);
    expect(ticketB.json).toMatchObject({ id: ticketId, title: 'The gate camera is blurred' });
    // The user's password hash came along: she logs in on the restored broker.
    expect(await loginToken(b, 'olga password 1', 'olga')).toEqual(expect.any(String));
    expect(await loginToken(b, TEST_ADMIN_PASSWORD)).toEqual(expect.any(String));

    // A broker runs on B now: a restore over it is refused, even with --force.
    const over = await vigil(restoreMain, '--from', out, '--config', configB, '--force');
    expect(over.code).toBe(1);
    expect(over.err).toContain('VIGIL_RESTORE_REFUSED');
    expect(over.err).toContain(`${join(dataB, 'vigil.db')} is open in a running process`);
    expect(over.err).toContain('stop it first');
  }, 60_000);

  it('refuses existing files without --force, and replaces them with it', async () => {
    const dataA = join(work.path, 'a');
    const configA = await writeConfig(work.path, { dataDir: dataA });
    const a = await start(dataA);
    const admin = await loginToken(a);
    await api(a, admin, 'PUT', '/api/sites/plant-7', { name: 'Plant 7' });
    const out = join(work.path, 'backup');
    expect((await vigil(backupMain, '--config', configA, '--out', out)).code).toBe(0);
    await api(a, admin, 'PUT', '/api/sites/plant-7', { name: 'Plant 7, renamed after' });
    await a.stop();
    brokers = [];

    const refused = await vigil(restoreMain, '--from', out, '--config', configA);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`${join(dataA, 'vigil.db')} exists: add --force`);
    const forced = await vigil(restoreMain, '--from', out, '--config', configA, '--force');
    expect(forced.err).toBe('');
    expect(forced.code).toBe(0);
    // The WAL of the replaced file went with it: the renamed site is the backup's again.
    expect(existsSync(join(dataA, 'vigil.db-wal'))).toBe(false);
    const again = await start(dataA);
    const site = await api(again, await loginToken(again), 'GET', '/api/sites/plant-7');
    expect(site.json).toMatchObject({ name: 'Plant 7' });
  }, 60_000);

  it('refuses a damaged backup before touching anything, naming the file', async () => {
    const dataA = join(work.path, 'a');
    const configA = await writeConfig(work.path, { dataDir: dataA });
    const a = await start(dataA);
    await loginToken(a);
    const out = join(work.path, 'backup');
    expect((await vigil(backupMain, '--config', configA, '--out', out)).code).toBe(0);
    // One byte flipped in the middle of the copy of vigil.db: same size, other content.
    const file = join(out, 'sqlite', 'vigil.db');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await chmod(file, 0o600);
    await writeFile(file, bytes);

    const dataB = join(work.path, 'b');
    await mkdir(join(work.path, 'other'));
    const configB = await writeConfig(join(work.path, 'other'), { dataDir: dataB });
    const refused = await vigil(restoreMain, '--from', out, '--config', configB);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('VIGIL_RESTORE_REFUSED');
    expect(refused.err).toContain('is damaged; nothing was restored');
    expect(refused.err).toContain("sqlite/vigil.db: its SHA-256 differs from the manifest's");
    expect(refused.err).toContain('restore from another backup');
    expect(existsSync(join(dataB, 'vigil.db'))).toBe(false);

    const missing = await vigil(
      restoreMain,
      '--from',
      join(work.path, 'nothing'),
      '--config',
      configB,
    );
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('holds no readable manifest.json');
  }, 60_000);
});

describe('vigil backup and restore of the files the config names', () => {
  let work: TempDir;
  beforeEach(async () => {
    work = await tempDir('vigil-backup-files-');
  });
  afterEach(async () => {
    await work.remove();
  });

  it('keeps the TLS files, puts back a missing key (0600), and replaces a changed one only with --force', async () => {
    const tls = join(work.path, 'tls');
    await mkdir(tls);
    const file = (name: string) => join(tls, name);
    await writeFile(file('broker.crt'), 'certificate of 2026\n');
    await writeFile(file('broker.key'), 'private key\n', { mode: 0o600 });
    await writeFile(file('agents-ca.crt'), 'agents CA\n');
    const config = await writeConfig(work.path, {
      dataDir: await seedDataDir(join(work.path, 'data')),
      mqtt: { tls: { cert: 'tls/broker.crt', key: 'tls/broker.key', ca: 'tls/agents-ca.crt' } },
    });
    const out = join(work.path, 'backup');
    const made = await vigil(backupMain, '--config', config, '--out', out);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toContain(`credentials ${file('broker.key')}`);
    const manifest = JSON.parse(await readFile(join(out, MANIFEST), 'utf8')) as Manifest;
    expect(manifest.files.filter((f) => f.kind === 'credentials').map((f) => f.source)).toEqual([
      file('broker.crt'),
      file('broker.key'),
      file('agents-ca.crt'),
    ]);

    // The machine lost its key, and someone put another certificate in place.
    await rm(file('broker.key'));
    await writeFile(file('broker.crt'), 'certificate of 2027\n');
    const fresh = join(work.path, 'fresh');
    await mkdir(fresh);
    const restoreConfig = await writeConfig(fresh, { dataDir: join(work.path, 'restored') });
    const refused = await vigil(restoreMain, '--from', out, '--config', restoreConfig);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`${file('broker.crt')} differs from the backup's copy`);
    expect(existsSync(file('broker.key'))).toBe(false);

    const forced = await vigil(restoreMain, '--from', out, '--config', restoreConfig, '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(await readFile(file('broker.key'), 'utf8')).toBe('private key\n');
    expect((await stat(file('broker.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(file('broker.crt'), 'utf8')).toBe('certificate of 2026\n');
  });

  it('refuses a config whose data folder holds no vigil.db', async () => {
    const config = await writeConfig(work.path, { dataDir: join(work.path, 'elsewhere') });
    const made = await vigil(backupMain, '--config', config, '--out', join(work.path, 'out'));
    expect(made.code).toBe(1);
    expect(made.err).toContain(`there is no vigil.db in ${join(work.path, 'elsewhere')}`);
    expect(made.err).toContain("give the broker's own config");
  });
});

describe('pg_dump gets the password in a private pgpass file, never on its command line', () => {
  it('passes the URL without password, a 0600 PGPASSFILE holding it, deleted afterwards', async () => {
    const work = await tempDir('vigil-pgtools-');
    try {
      // A stand-in pg_dump (VIGIL_PG_BIN) that records what it was given, as ps would show it.
      const bin = join(work.path, 'bin');
      await mkdir(bin);
      const seen = join(work.path, 'seen');
      await writeFile(
        join(bin, 'pg_dump'),
        `#!/bin/sh
printf '%s\\n' "$@" > ${seen}.argv
stat -c %a "$PGPASSFILE" > ${seen}.mode
cat "$PGPASSFILE" > ${seen}.pgpass
echo "$PGPASSFILE" > ${seen}.path
for a in "$@"; do case "$a" in --file=*) printf 'PGDMP' > "\${a#--file=}";; esac; done
`,
        { mode: 0o755 },
      );
      const config = await writeConfig(work.path, {
        dataDir: await seedDataDir(join(work.path, 'data')),
        database: { url: 'postgres://vigil:s3cr%3At@db.example.com:5432/vigil' },
      });
      const previous = process.env.VIGIL_PG_BIN;
      process.env.VIGIL_PG_BIN = bin;
      let made;
      try {
        made = await vigil(backupMain, '--config', config, '--out', join(work.path, 'out'));
      } finally {
        if (previous === undefined) delete process.env.VIGIL_PG_BIN;
        else process.env.VIGIL_PG_BIN = previous;
      }
      expect(made.code, made.err).toBe(0);
      const argv = await readFile(`${seen}.argv`, 'utf8');
      expect(argv).toContain('--dbname=postgres://vigil@db.example.com:5432/vigil');
      expect(argv).toContain('--format=custom');
      expect(argv).not.toContain('s3cr');
      // libpq's pgpass escapes the colon in the password.
      expect(await readFile(`${seen}.pgpass`, 'utf8')).toBe('*:*:*:*:s3cr\\:t\n');
      expect((await readFile(`${seen}.mode`, 'utf8')).trim()).toBe('600');
      expect(existsSync((await readFile(`${seen}.path`, 'utf8')).trim())).toBe(false);
      expect(made.out).not.toContain('s3cr');
    } finally {
      await work.remove();
    }
  });
});

describe('vigil backup and restore of the PostgreSQL database', () => {
  let pg: RunningPostgres;
  let work: TempDir;

  beforeAll(async () => {
    pg = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    await pg?.stop();
  });
  beforeEach(async () => {
    work = await tempDir('vigil-backup-pg-');
  });
  afterEach(async () => {
    await work.remove();
  });

  it('pg_dumps what lives there today (the HA lease) and pg_restores it into a fresh database, the password never on a command line', async () => {
    // What broker/ha/ keeps in PostgreSQL today: the lease row with its fencing token.
    const passwordFile = join(work.path, 'db-password');
    await writeFile(passwordFile, `${pg.password}\n`, { mode: 0o600 });
    const source = openPostgres({ url: pg.url, passwordFile: null });
    await ensureLeaseTable(source);
    await source.query(
      `INSERT INTO vigil_leader (name, holder, token, expires_at) VALUES ('broker', 'node-a:1:x', 42, now())`,
    );
    await source.query('CREATE DATABASE vigil_restored');
    await source.close();

    const configA = await writeConfig(work.path, {
      dataDir: await seedDataDir(join(work.path, 'a')),
      database: { url: pg.urlWithoutPassword, passwordFile },
    });
    const out = join(work.path, 'backup');
    const made = await vigil(backupMain, '--config', configA, '--out', out);
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    expect(made.out).toContain('postgres  postgres://vigil@127.0.0.1');
    expect(made.out).not.toContain(pg.password);
    const manifest = JSON.parse(await readFile(join(out, MANIFEST), 'utf8')) as Manifest;
    expect(JSON.stringify(manifest)).not.toContain(pg.password);
    expect(manifest.files.map((f) => f.kind)).toEqual(
      expect.arrayContaining(['postgres', 'config', 'credentials']),
    );
    // pg_dump's custom format starts with PGDMP.
    expect((await readFile(join(out, 'postgres', 'vigil.dump'))).subarray(0, 5).toString()).toBe(
      'PGDMP',
    );

    // Into a fresh, empty database: the restore drill on another database of the server.
    const restoredUrl = pg.urlWithoutPassword.replace(/\/vigil$/, '/vigil_restored');
    const configB = join(work.path, 'restore');
    await mkdir(configB);
    const configFileB = await writeConfig(configB, {
      dataDir: join(work.path, 'b'),
      database: { url: restoredUrl, passwordFile },
    });
    const restored = await vigil(restoreMain, '--from', out, '--config', configFileB);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.out).toContain('postgres  ');
    const target = openPostgres({ url: restoredUrl, passwordFile });
    try {
      const rows = await target.query('SELECT name, holder, token FROM vigil_leader');
      expect(rows.rows).toEqual([{ name: 'broker', holder: 'node-a:1:x', token: '42' }]);
    } finally {
      await target.close();
    }

    // A config without a database cannot take the dump: refused before anything is written.
    await mkdir(join(work.path, 'nodb'));
    const noDatabase = await writeConfig(join(work.path, 'nodb'), {
      dataDir: join(work.path, 'c'),
    });
    const noDb = await vigil(restoreMain, '--from', out, '--config', noDatabase);
    expect(noDb.code).toBe(1);
    expect(noDb.err).toContain('the backup holds a PostgreSQL dump');
    expect(noDb.err).toContain('set database.url (or VIGIL_DATABASE_URL)');
    expect(existsSync(join(work.path, 'c', 'vigil.db'))).toBe(false);

    // Again into the now filled database: refused, then replaced with --force.
    const refused = await vigil(restoreMain, '--from', out, '--config', configFileB);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('the database holds 1 table(s) already');
    const forced = await vigil(restoreMain, '--from', out, '--config', configFileB, '--force');
    expect(forced.err).toBe('');
    expect(forced.code).toBe(0);
  }, 90_000);

  it('says what failed when pg_dump cannot log in, without the password', async () => {
    const passwordFile = join(work.path, 'db-password');
    await writeFile(passwordFile, 'not-the-password\n', { mode: 0o600 });
    const config = await writeConfig(work.path, {
      dataDir: await seedDataDir(join(work.path, 'a')),
      database: { url: pg.urlWithoutPassword, passwordFile },
    });
    const made = await vigil(backupMain, '--config', config, '--out', join(work.path, 'out'));
    expect(made.code).toBe(1);
    expect(made.err).toContain('VIGIL_BACKUP_FAILED: pg_dump failed');
    expect(made.err).toContain('password authentication failed');
    expect(made.err).not.toContain('not-the-password');
  }, 60_000);
});
