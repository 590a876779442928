/**
 * The audit trail of the API (contract section 10, security: who did what): every step
 * taken on a ticket, every maintenance window and site change, with who, when, what.
 * Only appended to; read by admins through GET /api/audit. Over broker/sql (component
 * "api-audit"): on a pair, what was done through either node is in one trail.
 */
import type { AuditEntry, AuditQuery } from '../shared/api/audit.js';
import type { SqlDatabase, SqlSession, StoreMigration } from './sql/types.js';

const columns = `
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE INDEX api_audit_target ON api_audit (target, id);`;

const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: `CREATE TABLE api_audit (id INTEGER PRIMARY KEY AUTOINCREMENT,${columns}`,
    postgres: `CREATE TABLE api_audit (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,${columns}`,
  },
];

export class AuditStore {
  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<void> {
    await this.db.migrate('api-audit', migrations);
  }

  /**
   * `detail` is stored as JSON; callers leave secrets out. Awaited before the answer: a
   * change is not reported done while its entry could still be lost. `tx`: written in
   * that transaction, with the change it records.
   */
  async add(
    actor: string,
    action: string,
    target: string,
    detail: unknown = {},
    tx?: SqlSession,
  ): Promise<void> {
    await (tx ?? this.db).run(
      'INSERT INTO api_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
      [this.now().toISOString(), actor, action, target, JSON.stringify(detail)],
    );
  }

  /** Newest first. */
  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit ?? 200 };
    if (query.actor !== undefined) {
      where.push('actor = @actor');
      params.actor = query.actor;
    }
    if (query.target !== undefined) {
      where.push('target = @target');
      params.target = query.target;
    }
    return this.db.all<AuditEntry>(
      `SELECT id, at, actor, action, target, detail FROM api_audit
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`,
      params,
    );
  }
}
