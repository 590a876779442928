/**
 * The only importer of better-sqlite3 (STYLE habit 7). Opens a SQLite file in WAL mode
 * and applies migrations per component: each store owns its numbered steps, recorded in
 * one table, so two stores never edit the same list.
 */
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;
export type Statement = Database.Statement;

export interface Migration {
  /** 1, 2, 3 ... in order; never change a step that has shipped, add the next one. */
  version: number;
  sql: string;
}

/**
 * Owner-only: the file holds the channels' robot tokens and secrets (plain JSON when no
 * VIGIL_SECRETS_KEY is set), the acknowledge links' signing key, password hashes and
 * sessions. SQLite creates the -wal and -shm files with the database file's permissions
 * (https://sqlite.org/tempfiles.html), so setting them before WAL is switched on covers
 * those too; a file and its companions left readable by an older version are closed here.
 */
function ownerOnly(file: string): void {
  if (file === ':memory:' || file === '') return;
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

export function openDatabase(file: string): Db {
  const db = new Database(file);
  ownerOnly(file);
  // WAL lets the API read while the pipeline writes; NORMAL sync is durable across a
  // process crash (not a power cut), which the journal of issue 4 covers separately.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
  )`);
  return db;
}

/** Applies the steps of `component` that this file has not seen yet, each in a transaction. */
export function migrate(db: Db, component: string, steps: readonly Migration[]): void {
  const done = new Set(
    db
      .prepare('SELECT version FROM schema_migrations WHERE component = ?')
      .all(component)
      .map((row) => (row as { version: number }).version),
  );
  const record = db.prepare(
    'INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)',
  );
  for (const step of [...steps].sort((a, b) => a.version - b.version)) {
    if (done.has(step.version)) continue;
    db.transaction(() => {
      db.exec(step.sql);
      record.run(component, step.version, new Date().toISOString());
    })();
  }
}

/**
 * A read-only connection to a file another connection opened with openDatabase: in WAL
 * mode readers never wait for the writer, so a reader thread can answer long queries
 * while the event loop keeps writing (https://sqlite.org/wal.html, "Concurrency").
 */
export function openReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}
