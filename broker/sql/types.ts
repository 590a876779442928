/**
 * The one interface every store of the broker writes its SQL against (issue 17 part 1):
 * SQLite for one machine and the demo, PostgreSQL for an active/standby pair, chosen by
 * `database.url`. A store is written once, in the SQL both engines speak, with its
 * migrations per dialect where their DDL differs; there is never a second copy of a
 * store's logic per engine (STYLE: one home for every rule). Each store's conformance
 * suite (test/suites/stores/) runs the same store on both.
 *
 * The portable SQL a store writes (what this adapter and the suites hold it to):
 * - parameters as `?` (positional, an array) or `@name` (an object), never `$1`;
 * - times as ISO-8601 UTC text (`Date.toISOString()`), which sorts the same in both;
 *   booleans as INTEGER 0/1; JSON as TEXT; binary as BLOB / BYTEA (per-dialect DDL);
 * - `INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING` and `RETURNING` (SQLite >= 3.35),
 *   never `INSERT OR REPLACE`; ids from `RETURNING id`, never `lastInsertRowid`;
 * - column aliases in lower case or double-quoted (PostgreSQL folds unquoted names);
 * - every non-aggregated column of a GROUP BY query in its GROUP BY (PostgreSQL checks);
 * - integers come back as numbers on both (bigint and numeric are parsed as numbers:
 *   counts, sums and ids here stay far below 2^53).
 */

export type Dialect = 'sqlite' | 'postgres';

/** Positional values for `?`, or named values for `@name` (any object: its own keys). */
export type SqlParams = readonly unknown[] | object;

export interface SqlRun<Row> {
  /** Rows changed (inserted, updated, deleted). */
  changes: number;
  /** What a `RETURNING` clause gave; empty without one. */
  rows: Row[];
}

/** What a statement runs on: the database, or one transaction. */
export interface SqlSession {
  readonly dialect: Dialect;
  /** A read: every row. */
  all<Row = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<Row[]>;
  /** A read: the first row, or undefined. */
  get<Row = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<Row | undefined>;
  /**
   * A write (INSERT, UPDATE, DELETE, with or without RETURNING). On a pair, outside a
   * transaction it is fenced like one: refused once this node lost the leader lease.
   */
  run<Row = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<SqlRun<Row>>;
}

/** A step of a store's schema: one text for both engines, or one per engine. */
export type StoreMigration =
  { version: number; sql: string } | { version: number; sqlite: string; postgres: string };

/**
 * A SQLite schema step in PostgreSQL's types, for the steps whose only difference is the
 * types: an identity where SQLite has AUTOINCREMENT (ids never reused on either), BIGINT
 * for a column referencing one, DOUBLE PRECISION for REAL. Anything else that differs
 * (functions, triggers) is written out per engine.
 */
export function postgresTypes(sqlite: string): string {
  return sqlite
    .replaceAll(
      'INTEGER PRIMARY KEY AUTOINCREMENT',
      'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    )
    .replace(/INTEGER( NOT NULL)? REFERENCES/g, 'BIGINT$1 REFERENCES')
    .replace(/ REAL( |,|\n)/g, ' DOUBLE PRECISION$1');
}

/** The steps as one engine runs them. */
export function stepsFor(
  dialect: Dialect,
  steps: readonly StoreMigration[],
): { version: number; sql: string }[] {
  return steps.map((step) => ({
    version: step.version,
    sql: 'sql' in step ? step.sql : step[dialect],
  }));
}

export interface SqlDatabase extends SqlSession {
  /**
   * Runs `work` in one transaction: all of its statements or none. On a pair, the
   * transaction first checks that this node still holds the leader lease, and holds the
   * lease row FOR SHARE until COMMIT, so a deposed leader can never write behind its
   * successor (broker/ha/lease.ts, fencedWrite). Transactions never nest.
   */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  /** Applies the steps of `component` this database has not seen, each once. */
  migrate(component: string, steps: readonly StoreMigration[]): Promise<void>;
  /** For logs and errors: the file, or the URL with its password masked. */
  readonly label: string;
  close(): Promise<void>;
}

/** The lease a pair's writes are fenced by (broker/ha/leadership.ts). */
export interface WriteFence {
  readonly name: string;
  /** The token while this node leads, else null. */
  readonly token: number | null;
}

/** A write refused because this node does not lead: the caller answers 503, not 500. */
export class NotLeaderWriteError extends Error {
  readonly code = 'VIGIL_NOT_LEADER';
  constructor(detail: string) {
    super(
      `this broker node does not lead (${detail}): nothing was written; send the request to the leader (the load balancer checks GET /api/health/leader)`,
    );
    this.name = 'NotLeaderWriteError';
  }
}
