/**
 * Which engine the stores write to: PostgreSQL when the broker config has `database.url`
 * (a pair, or one node whose data should outlive its machine), else the SQLite file
 * `vigil.db` in the data folder (one machine, the demo).
 */
import type { Db } from '../db.js';
import { openDatabase as openPostgres, type DatabaseConfig } from '../ha/pg.js';
import { PostgresDatabase } from './postgres.js';
import { SqliteDatabase } from './sqlite.js';
import type { SqlDatabase, WriteFence } from './types.js';

export interface StoreDatabaseOptions {
  /** The broker's SQLite connection (vigil.db): used when there is no `database`. */
  sqlite: Db;
  sqliteLabel: string;
  database: DatabaseConfig | null;
  /** The leader lease every write is fenced by, on a pair. */
  fence?: WriteFence | null;
  fenceIdleMs?: number;
  /** Per query: a database behind a dead link must not hold a request for minutes. */
  queryTimeoutMs?: number;
  onIdleError?: (error: Error) => void;
}

export function openStoreDatabase(options: StoreDatabaseOptions): SqlDatabase {
  if (!options.database) return new SqliteDatabase(options.sqlite, options.sqliteLabel);
  const pool = openPostgres(options.database, {
    max: 8,
    applicationName: 'vigil stores',
    numbers: true,
    ...(options.queryTimeoutMs ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
    onIdleError: options.onIdleError ?? (() => {}),
  });
  return new PostgresDatabase(pool, {
    fence: options.fence ?? null,
    ...(options.fenceIdleMs !== undefined ? { fenceIdleMs: options.fenceIdleMs } : {}),
    owned: true,
  });
}
