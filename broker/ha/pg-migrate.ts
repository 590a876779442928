/**
 * Schema migrations on PostgreSQL, the counterpart of broker/db.ts `migrate` for SQLite:
 * one component name per store, its own version list, each step applied once and
 * recorded in `vigil_schema_migrations`. Never renumber another component's steps.
 *
 * Two nodes of a pair start at the same time and would both run the same step: each
 * component's steps run under a transaction-scoped advisory lock
 * (pg_advisory_xact_lock, PostgreSQL 15 docs 9.27.10), so the second waits, then sees
 * the step recorded and skips it. The lock is released at COMMIT or ROLLBACK, so a
 * crashed node never keeps it.
 */
import type { Database } from './pg.js';

export interface PgMigration {
  version: number;
  /** One or more statements; run in one transaction with the version's record. */
  sql: string;
}

const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS vigil_schema_migrations (
  component TEXT NOT NULL,
  version INTEGER NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
)`;

/** IF NOT EXISTS is not atomic against a concurrent CREATE: the loser's errors mean "it exists". */
function alreadyThere(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '23505' || code === '42P07';
}

export async function migratePg(
  db: Database,
  component: string,
  steps: readonly PgMigration[],
): Promise<void> {
  await db.transaction(async (tx) => {
    // One lock for the migrations table itself, then one per component below.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('vigil_schema_migrations'))");
    try {
      await tx.query(MIGRATIONS_TABLE_SQL);
    } catch (error) {
      if (!alreadyThere(error)) throw error;
    }
  });
  for (const step of [...steps].sort((a, b) => a.version - b.version)) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `vigil_schema_migrations:${component}`,
      ]);
      const { rowCount } = await tx.query(
        'SELECT 1 FROM vigil_schema_migrations WHERE component = $1 AND version = $2',
        [component, step.version],
      );
      if (rowCount > 0) return;
      await tx.query(step.sql);
      await tx.query('INSERT INTO vigil_schema_migrations (component, version) VALUES ($1, $2)', [
        component,
        step.version,
      ]);
    });
  }
}
