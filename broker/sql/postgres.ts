/**
 * broker/sql over PostgreSQL (node-postgres through broker/ha/pg.ts, its only importer).
 * Statements are translated to `$n` parameters once per text (placeholders.ts). On a
 * pair, every write is fenced by the leader lease: a transaction first checks the
 * lease's token and holds its row FOR SHARE until COMMIT (broker/ha/lease.ts,
 * fencedWrite), and a lone write outside a transaction is made one, so a deposed leader
 * (frozen, cut off) never writes behind its successor. Reads are not fenced.
 */
import { fencedWrite, LeaseLostError } from '../ha/lease.js';
import type { Database, SqlClient } from '../ha/pg.js';
import { migratePg } from '../ha/pg-migrate.js';
import { toPostgres } from './placeholders.js';
import {
  NotLeaderWriteError,
  stepsFor,
  type SqlDatabase,
  type SqlParams,
  type SqlRun,
  type SqlSession,
  type StoreMigration,
  type WriteFence,
} from './types.js';

export interface PostgresStoreOptions {
  /** Without it writes are not fenced: one node alone on the database. */
  fence?: WriteFence | null;
  /** How long a frozen transaction may hold the lease row (fencedWrite's idle limit). */
  fenceIdleMs?: number;
  /** Close the pool on close(). */
  owned?: boolean;
}

function session(client: SqlClient): SqlSession {
  return {
    dialect: 'postgres',
    async all<Row>(sql: string, params?: SqlParams) {
      const { text, values } = toPostgres(sql, params);
      return (await client.query<Row>(text, values)).rows;
    },
    async get<Row>(sql: string, params?: SqlParams) {
      const { text, values } = toPostgres(sql, params);
      return (await client.query<Row>(text, values)).rows[0];
    },
    async run<Row>(sql: string, params?: SqlParams): Promise<SqlRun<Row>> {
      const { text, values } = toPostgres(sql, params);
      const result = await client.query<Row>(text, values);
      return { changes: result.rowCount, rows: result.rows };
    },
  };
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly label: string;
  private readonly plain: SqlSession;

  constructor(
    readonly pool: Database,
    private readonly options: PostgresStoreOptions = {},
  ) {
    this.label = pool.label;
    this.plain = session(pool);
  }

  all<Row>(sql: string, params?: SqlParams): Promise<Row[]> {
    return this.plain.all<Row>(sql, params);
  }

  get<Row>(sql: string, params?: SqlParams): Promise<Row | undefined> {
    return this.plain.get<Row>(sql, params);
  }

  run<Row>(sql: string, params?: SqlParams): Promise<SqlRun<Row>> {
    if (!this.options.fence) return this.plain.run<Row>(sql, params);
    return this.transaction((tx) => tx.run<Row>(sql, params));
  }

  async transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
    const fence = this.options.fence;
    if (!fence) return this.pool.transaction((tx) => work(session(tx)));
    const token = fence.token;
    if (token === null)
      throw new NotLeaderWriteError(`lease ${fence.name} is held by another node`);
    try {
      return await fencedWrite(
        this.pool,
        fence.name,
        token,
        (tx) => work(session(tx)),
        this.options.fenceIdleMs,
      );
    } catch (error) {
      if (error instanceof LeaseLostError) throw new NotLeaderWriteError(error.message);
      throw error;
    }
  }

  migrate(component: string, steps: readonly StoreMigration[]): Promise<void> {
    return migratePg(this.pool, component, stepsFor('postgres', steps));
  }

  async close(): Promise<void> {
    if (this.options.owned) await this.pool.close();
  }
}
