/**
 * broker/sql over SQLite (better-sqlite3 through broker/db.ts, its only importer). The
 * engine is synchronous and one connection serves the whole broker, so a transaction
 * that awaits between its statements holds the connection: transactions take turns, and
 * a statement outside them waits for the one in progress rather than joining it (it
 * would be rolled back with it). Inside a transaction use its session only; calling the
 * database itself there waits for the transaction that waits for it.
 */
import { migrate, openDatabase, type Db, type Statement } from '../db.js';
import { bindable } from './placeholders.js';
import {
  stepsFor,
  type SqlDatabase,
  type SqlParams,
  type SqlRun,
  type SqlSession,
  type StoreMigration,
} from './types.js';

const STATEMENT_CACHE_LIMIT = 500;

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Statement>();
  /** Settles when the last transaction queued so far has finished. */
  private tail: Promise<void> = Promise.resolve();
  private inTransaction = false;
  private readonly session: SqlSession;

  /**
   * @param raw the connection (shared with the stores not yet on broker/sql)
   * @param owned close the connection on close()
   */
  constructor(
    readonly raw: Db,
    readonly label: string,
    private readonly owned = false,
  ) {
    this.session = {
      dialect: 'sqlite',
      all: async (sql, params) => this.allNow(sql, params),
      get: async (sql, params) => this.getNow(sql, params) as never,
      run: async (sql, params) => this.runNow(sql, params),
    };
  }

  async all<Row>(sql: string, params?: SqlParams): Promise<Row[]> {
    while (this.inTransaction) await this.tail;
    return this.allNow<Row>(sql, params);
  }

  async get<Row>(sql: string, params?: SqlParams): Promise<Row | undefined> {
    while (this.inTransaction) await this.tail;
    return this.getNow<Row>(sql, params);
  }

  async run<Row>(sql: string, params?: SqlParams): Promise<SqlRun<Row>> {
    while (this.inTransaction) await this.tail;
    return this.runNow<Row>(sql, params);
  }

  async transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise((resolve) => (release = resolve));
    await before;
    this.inTransaction = true;
    try {
      // IMMEDIATE: take the write lock now, so a `vigil` command writing the same file
      // makes this wait (busy_timeout) at BEGIN instead of failing at the first write.
      this.raw.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.session);
        this.raw.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
        throw error;
      }
    } finally {
      this.inTransaction = false;
      release();
    }
  }

  async migrate(component: string, steps: readonly StoreMigration[]): Promise<void> {
    while (this.inTransaction) await this.tail;
    migrate(this.raw, component, stepsFor('sqlite', steps));
  }

  async close(): Promise<void> {
    await this.tail;
    this.statements.clear();
    if (this.owned) this.raw.close();
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** The first row only: a transaction's get() need not read every row as all() does. */
  private getNow<Row>(sql: string, params?: SqlParams): Row | undefined {
    return this.statement(sql).get(...args(params)) as Row | undefined;
  }

  private allNow<Row>(sql: string, params?: SqlParams): Row[] {
    return this.statement(sql).all(...args(params)) as Row[];
  }

  private runNow<Row>(sql: string, params?: SqlParams): SqlRun<Row> {
    const statement = this.statement(sql);
    if (statement.reader) {
      // INSERT ... RETURNING: better-sqlite3 gives the rows only to all().
      const rows = statement.all(...args(params)) as Row[];
      return { changes: rows.length, rows };
    }
    const { changes } = statement.run(...args(params));
    return { changes, rows: [] };
  }
}

function args(params?: SqlParams): unknown[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map(bindable);
  const named: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) named[key] = bindable(value);
  return [named];
}

/** A SQLite file of its own (tests, tools): closed with the returned database. */
export function openSqlite(file: string): SqliteDatabase {
  return new SqliteDatabase(openDatabase(file), file, true);
}
