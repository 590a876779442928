/**
 * One real PostgreSQL per test file (test/helpers/postgres.ts), with a superuser pool
 * on it: started before the file's tests, stopped after them. Kept apart from
 * postgres.ts, which the benchmarks import without vitest.
 */
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../broker/ha/pg.js';
import { startPostgres, type RunningPostgres } from './postgres.js';

export interface PostgresPerFile {
  readonly server: RunningPostgres;
  /** The superuser's pool (two connections): CREATE DATABASE, checks of the tables. */
  readonly admin: Database;
}

export function postgresPerFile(): PostgresPerFile {
  let server: RunningPostgres | undefined;
  let admin: Database | undefined;
  beforeAll(async () => {
    server = await startPostgres();
    admin = openDatabase({ url: server.url, passwordFile: null }, { max: 2 });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('PostgreSQL is not started yet: use it inside a test');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get admin() {
      return started(admin);
    },
  };
}
