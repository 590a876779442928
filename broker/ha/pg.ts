/**
 * Our one adapter around node-postgres (`pg`), STYLE habit 7: the rest of the broker
 * sees `Database` and `SqlClient`, never pg's classes. A pool per use, the password
 * from `database.passwordFile` or the URL, and a URL for people with the password
 * masked: a connection string is never logged with its password.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** `database` of the broker config, resolved (broker/config.ts). */
export interface DatabaseConfig {
  /** postgres://user[:password]@host:port/db[?sslmode=...] */
  url: string;
  /** A file holding only the password (trailing newline ignored); null: in the URL or none. */
  passwordFile: string | null;
}

export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** What a query runs on: the pool, or one transaction's connection. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<Row>>;
}

export interface Database extends SqlClient {
  /** BEGIN, `work` on one connection, COMMIT; ROLLBACK when it throws. */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** The URL with its password masked, for logs and errors. */
  readonly label: string;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Connections at most (pg's default 10). */
  max?: number;
  /** Shown in pg_stat_activity.application_name: which node and part holds a session. */
  applicationName?: string;
  /**
   * Client-side limit per query: a database behind a dead link answers nothing, and TCP
   * would wait minutes before telling. null: none.
   */
  queryTimeoutMs?: number | null;
  connectTimeoutMs?: number;
  /**
   * A pooled connection failed while idle (the server restarted, the backend was
   * terminated). pg emits it on the pool; unhandled, it would end the process.
   */
  onIdleError?: (error: Error) => void;
  /**
   * bigint (int8) and numeric come back as JS numbers instead of strings: COUNT(*), SUM()
   * and BIGINT ids, which the stores keep far below 2^53 (broker/sql/types.ts).
   */
  numbers?: boolean;
}

// pg's type OIDs (PostgreSQL's pg_type.dat): int8 20, numeric 1700.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const numbersParser = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if ((oid === INT8_OID || oid === NUMERIC_OID) && format !== 'binary')
      return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** The URL with any password replaced by ***, for logs, errors and the console. */
export function maskDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not a URL at all: show nothing of it rather than a password.
    return '(not a URL)';
  }
}

/** The URL pg connects with: the password from the file, if one is configured. */
export function connectionUrl(config: DatabaseConfig): string {
  if (!config.passwordFile) return config.url;
  let password: string;
  try {
    password = readFileSync(config.passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `database.passwordFile ${config.passwordFile} cannot be read (${reason}): check the path and that the broker's user may read it`,
    );
  }
  const url = new URL(config.url);
  url.password = encodeURIComponent(password);
  return url.toString();
}

export function openDatabase(config: DatabaseConfig, options: PoolOptions = {}): Database {
  const label = maskDatabaseUrl(config.url);
  const pool = new pg.Pool({
    connectionString: connectionUrl(config),
    max: options.max ?? 10,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    ...(options.numbers ? { types: numbersParser as pg.CustomTypesConfig } : {}),
  });
  pool.on('error', (error) => options.onIdleError?.(error));

  const run = async <Row>(
    on: pg.Pool | pg.PoolClient,
    sql: string,
    params?: unknown[],
  ): Promise<SqlResult<Row>> => {
    const result = await on.query(sql, params);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  };

  return {
    label,
    query: (sql, params) => run(pool, sql, params),
    async transaction(work) {
      const connection = await pool.connect();
      let broken: Error | undefined;
      // The server may end the session between two statements (idle_in_transaction_
      // session_timeout, pg_terminate_backend); pg emits that on the checked-out client,
      // and unheard it would end the process. The next statement fails and says so.
      const onLost = (error: Error) => {
        broken = error;
      };
      connection.on('error', onLost);
      try {
        await connection.query('BEGIN');
        const result = await work({ query: (sql, params) => run(connection, sql, params) });
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await connection.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection itself is gone: do not hand it to the next caller.
          broken =
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        connection.removeListener('error', onLost);
        connection.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
