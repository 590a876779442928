/**
 * The front door's audit log: every refused connection, publish and subscription, with
 * who (username, client id, address), what (action, topic), when and why, in SQLite so
 * an operator can ask "what did this agent try" after the fact. Never a password.
 *
 * A client that keeps trying cannot fill the disk: the table keeps the newest `keep`
 * rows, and refusals are counted per action for the broker's health figures.
 */
import { migrate, type Db } from '../db.js';

export type AuditAction = 'connect' | 'publish' | 'subscribe';

export interface AuditEntry {
  at: Date;
  action: AuditAction;
  /** The username given (or the account's), null when none was given. */
  username: string | null;
  clientId: string;
  remoteAddress: string;
  /** The topic or filter; null for a refused connection. */
  topic: string | null;
  reason: string;
}

export interface StoredAuditEntry extends Omit<AuditEntry, 'at'> {
  id: number;
  at: string;
}

const migrations = [
  {
    version: 1,
    sql: `CREATE TABLE mqtt_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      action TEXT NOT NULL,
      username TEXT,
      client_id TEXT NOT NULL,
      remote_address TEXT NOT NULL,
      topic TEXT,
      reason TEXT NOT NULL
    );
    CREATE INDEX mqtt_audit_username ON mqtt_audit (username, id);`,
  },
];

/**
 * Errors whose refusal is already in the audit log. A refusal made in a hook travels on to
 * Aedes' clientError event, where every other refusal is audited (./refusals.ts); this
 * keeps each refusal one row.
 */
const auditedErrors = new WeakSet<Error>();

/** Marks `error` as audited and returns it. */
export function markAudited<E extends Error>(error: E): E {
  auditedErrors.add(error);
  return error;
}

export function isAudited(error: Error): boolean {
  return auditedErrors.has(error);
}

/** Bounded, as in the log: a topic or name from the wire is the client's to choose. */
function bounded(value: string | null, max = 512): string | null {
  return value !== null && value.length > max ? `${value.slice(0, max)}...` : value;
}

export class AuditLog {
  readonly refused: Record<AuditAction, number> = { connect: 0, publish: 0, subscribe: 0 };
  private added = 0;

  constructor(
    private readonly db: Db,
    private readonly keep = 100_000,
  ) {}

  start(): void {
    migrate(this.db, 'mqtt-audit', migrations);
  }

  record(entry: AuditEntry): void {
    this.refused[entry.action]++;
    this.db
      .prepare(
        `INSERT INTO mqtt_audit (at, action, username, client_id, remote_address, topic, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.at.toISOString(),
        entry.action,
        bounded(entry.username, 200),
        bounded(entry.clientId, 200) ?? '',
        entry.remoteAddress,
        bounded(entry.topic),
        entry.reason,
      );
    if (++this.added % 1000 === 0) {
      this.db
        .prepare('DELETE FROM mqtt_audit WHERE id <= (SELECT MAX(id) FROM mqtt_audit) - ?')
        .run(this.keep);
    }
  }

  /** Newest first; `username` narrows to one account. */
  list(options: { limit?: number; username?: string } = {}): StoredAuditEntry[] {
    const limit = options.limit ?? 100;
    const rows = (
      options.username !== undefined
        ? this.db
            .prepare('SELECT * FROM mqtt_audit WHERE username = ? ORDER BY id DESC LIMIT ?')
            .all(options.username, limit)
        : this.db.prepare('SELECT * FROM mqtt_audit ORDER BY id DESC LIMIT ?').all(limit)
    ) as {
      id: number;
      at: string;
      action: AuditAction;
      username: string | null;
      client_id: string;
      remote_address: string;
      topic: string | null;
      reason: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      action: row.action,
      username: row.username,
      clientId: row.client_id,
      remoteAddress: row.remote_address,
      topic: row.topic,
      reason: row.reason,
    }));
  }
}
