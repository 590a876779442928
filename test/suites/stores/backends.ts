/**
 * Runs a store's conformance suite on both engines of broker/sql (issue 17 part 1, STYLE
 * habit 8): a SQLite file of its own, and a database of its own on a real PostgreSQL 15
 * started for the test file (test/helpers/postgres.ts). A store passes on both or it is
 * not done. Call at the top level of a test file:
 *
 *   storeBackends('agent accounts', (backend) => agentStoreSuite(backend));
 *
 * `backend.open()` gives a fresh, empty database; `backend.reopen(db)` another
 * connection to the same data (a restart, or the second node of a pair). Everything
 * opened is closed after each test.
 */
import { afterEach, describe } from 'vitest';
import { join } from 'node:path';
import { openDatabase as openPg } from '../../../broker/ha/pg.js';
import { PostgresDatabase } from '../../../broker/sql/postgres.js';
import { openSqlite } from '../../../broker/sql/sqlite.js';
import type { Dialect, SqlDatabase, WriteFence } from '../../../broker/sql/types.js';
import { postgresPerFile } from '../../helpers/postgres-per-file.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

export interface StoreBackend {
  readonly dialect: Dialect;
  /** A fresh, empty database. */
  open(options?: { fence?: WriteFence }): Promise<SqlDatabase>;
  /** Another connection to the data of `db` (a restarted broker, the other node). */
  reopen(db: SqlDatabase, options?: { fence?: WriteFence }): Promise<SqlDatabase>;
}

export function storeBackends(name: string, suite: (backend: StoreBackend) => void): void {
  describe(`${name} on SQLite`, () => {
    const opened: SqlDatabase[] = [];
    const folders: TempDir[] = [];
    const files = new Map<SqlDatabase, string>();
    afterEach(async () => {
      for (const db of opened.splice(0).reverse()) await db.close();
      for (const folder of folders.splice(0)) await folder.remove();
      files.clear();
    });
    const at = (file: string): SqlDatabase => {
      const db = openSqlite(file);
      opened.push(db);
      files.set(db, file);
      return db;
    };
    suite({
      dialect: 'sqlite',
      async open() {
        const folder = await tempDir('vigil-store-');
        folders.push(folder);
        return at(join(folder.path, 'vigil.db'));
      },
      async reopen(db) {
        const file = files.get(db);
        if (!file) throw new Error('reopen() takes a database this backend opened');
        return at(file);
      },
    });
  });

  describe(`${name} on PostgreSQL`, () => {
    const pg = postgresPerFile();
    const opened: SqlDatabase[] = [];
    const urls = new Map<SqlDatabase, string>();
    let databases = 0;
    afterEach(async () => {
      for (const db of opened.splice(0).reverse()) await db.close();
      urls.clear();
    });
    const at = (url: string, fence?: WriteFence): SqlDatabase => {
      const pool = openPg({ url, passwordFile: null }, { max: 4, numbers: true });
      const db = new PostgresDatabase(pool, { fence: fence ?? null, owned: true });
      opened.push(db);
      urls.set(db, url);
      return db;
    };
    suite({
      dialect: 'postgres',
      async open(options = {}) {
        const database = `store_${process.pid}_${++databases}`;
        await pg.admin.query(`CREATE DATABASE ${database}`);
        return at(pg.server.url.replace(/\/vigil$/, `/${database}`), options.fence);
      },
      async reopen(db, options = {}) {
        const url = urls.get(db);
        if (!url) throw new Error('reopen() takes a database this backend opened');
        return at(url, options.fence);
      },
    });
  });
}
