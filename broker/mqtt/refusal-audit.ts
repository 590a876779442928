/**
 * The front door's audit log: every refused connection, publish and subscription, with
 * who (username, client id, address), what (action, topic), when and why, over
 * broker/sql (SQLite, or PostgreSQL on a pair) so an operator can ask "what did this
 * agent try" after the fact, whichever node refused it. Never a password.
 *
 * Refusals come on the MQTT hot path, synchronously, and a client that keeps trying
 * sends many: record() counts and queues the entry, and the queue is written in batches
 * (one transaction, multi-row INSERTs) every second or every 500 entries. A refusal is
 * acknowledged to no one, so a queue that cannot be written (the database unreachable)
 * keeps the newest `maxQueued` entries and says how many it dropped. The table keeps the
 * newest `keep` rows, so a flood cannot fill the disk either.
 */
import { NotLeaderWriteError, type SqlDatabase, type StoreMigration } from '../sql/types.js';

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

const columns = `
      at TEXT NOT NULL,
      action TEXT NOT NULL,
      username TEXT,
      client_id TEXT NOT NULL,
      remote_address TEXT NOT NULL,
      topic TEXT,
      reason TEXT NOT NULL
    );
    CREATE INDEX mqtt_audit_username ON mqtt_audit (username, id);`;

const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: `CREATE TABLE mqtt_audit (id INTEGER PRIMARY KEY AUTOINCREMENT,${columns}`,
    postgres: `CREATE TABLE mqtt_audit (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,${columns}`,
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

/** Rows per INSERT: 7 values each, far below either engine's limit on parameters. */
const ROWS_PER_INSERT = 100;

interface AuditRow {
  id: number;
  at: string;
  action: AuditAction;
  username: string | null;
  client_id: string;
  remote_address: string;
  topic: string | null;
  reason: string;
}

export interface AuditLogOptions {
  /** Rows kept in the table (the newest). */
  keep?: number;
  /** Entries waiting while the database cannot be written; the oldest go first. */
  maxQueued?: number;
  flushMs?: number;
  /** Told when a batch could not be written (the entries wait) or was dropped. */
  onError?: (message: string) => void;
}

export class AuditLog {
  readonly refused: Record<AuditAction, number> = { connect: 0, publish: 0, subscribe: 0 };
  private added = 0;
  private queue: AuditEntry[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The flush in progress: one at a time. */
  private flushing: Promise<void> | null = null;
  /** When a failure was last said (ms): one line a minute while the database is away. */
  private saidAt = -Infinity;
  private readonly keep: number;
  private readonly maxQueued: number;
  private readonly flushMs: number;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: AuditLogOptions = {},
  ) {
    this.keep = options.keep ?? 100_000;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.flushMs = options.flushMs ?? 1000;
  }

  async start(): Promise<void> {
    await this.db.migrate('mqtt-audit', migrations);
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Writes what is queued, then stops the timer. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Counts the refusal and queues its entry; never throws, never waits. */
  record(entry: AuditEntry): void {
    this.refused[entry.action]++;
    this.queue.push(entry);
    if (this.queue.length > this.maxQueued) {
      this.dropped += this.queue.length - this.maxQueued;
      this.queue.splice(0, this.queue.length - this.maxQueued);
    }
    if (this.queue.length >= 500) void this.flush();
  }

  /** Writes the queued entries now (a flush in progress first); errors go to onError. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.write().finally(() => (this.flushing = null));
    await this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      await this.db.transaction(async (tx) => {
        for (let i = 0; i < batch.length; i += ROWS_PER_INSERT) {
          const rows = batch.slice(i, i + ROWS_PER_INSERT);
          await tx.run(
            `INSERT INTO mqtt_audit (at, action, username, client_id, remote_address, topic, reason)
             VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
            rows.flatMap((entry) => [
              entry.at.toISOString(),
              entry.action,
              bounded(entry.username, 200),
              bounded(entry.clientId, 200) ?? '',
              entry.remoteAddress,
              bounded(entry.topic),
              entry.reason,
            ]),
          );
        }
        const before = this.added;
        this.added += batch.length;
        if (Math.floor(before / 1000) !== Math.floor(this.added / 1000)) {
          await tx.run('DELETE FROM mqtt_audit WHERE id <= (SELECT MAX(id) FROM mqtt_audit) - ?', [
            this.keep,
          ]);
        }
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof NotLeaderWriteError) {
        // A standby's refusals: the leader keeps the log; these are said here only.
        this.dropped += batch.length;
      } else {
        // Put back in front of what came since, within the bound.
        this.queue = [...batch, ...this.queue].slice(-this.maxQueued);
      }
      if (Date.now() - this.saidAt < 60_000) return;
      this.saidAt = Date.now();
      this.options.onError?.(
        `cannot write the MQTT refusal audit to ${this.db.label}: ${message}; ${this.queue.length} entries wait, ${this.dropped} dropped so far`,
      );
    }
  }

  /** Newest first; `username` narrows to one account. What is queued is written first. */
  async list(options: { limit?: number; username?: string } = {}): Promise<StoredAuditEntry[]> {
    await this.flush();
    const limit = options.limit ?? 100;
    const rows =
      options.username !== undefined
        ? await this.db.all<AuditRow>(
            'SELECT * FROM mqtt_audit WHERE username = ? ORDER BY id DESC LIMIT ?',
            [options.username, limit],
          )
        : await this.db.all<AuditRow>('SELECT * FROM mqtt_audit ORDER BY id DESC LIMIT ?', [limit]);
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
