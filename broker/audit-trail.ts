/**
 * The audit trail of the API (contract section 10, security: who did what): every step
 * taken on a ticket, every maintenance window and site change, with who, when, what.
 * Only appended to; read by admins through GET /api/audit.
 */
import type { AuditEntry, AuditQuery } from '../shared/api/audit.js';
import { migrate, type Db, type Migration } from './db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE api_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE INDEX api_audit_target ON api_audit (target, id);
    `,
  },
];

export class AuditStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    migrate(this.db, 'api-audit', migrations);
  }

  /** `detail` is stored as JSON; callers leave secrets out. */
  add(actor: string, action: string, target: string, detail: unknown = {}): void {
    this.db
      .prepare('INSERT INTO api_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)')
      .run(this.now().toISOString(), actor, action, target, JSON.stringify(detail));
  }

  list(query: AuditQuery = {}): AuditEntry[] {
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
    return this.db
      .prepare(
        `SELECT * FROM api_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`,
      )
      .all(params) as AuditEntry[];
  }
}
