/**
 * Messages the pipeline refused (not JSON, outside the topic tree, failing their schema,
 * or a stage that threw), kept with the reason so someone can see what an agent sent and
 * why it was not taken: in vigil.db, or in PostgreSQL on a pair (broker/sql/, issue 17
 * part 1). The payload is kept byte for byte (BLOB / BYTEA): what an agent sent may not
 * be UTF-8 at all. The table keeps the newest `keep` letters: a misbehaving agent cannot
 * fill the disk.
 *
 * Letters refused in the same turn of the event loop are written in one multi-row INSERT,
 * one transaction: a flooding client sends thousands a second, and on PostgreSQL every
 * fenced write is a transaction with the lease check (broker/sql/postgres.ts).
 */
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';

export interface DeadLetter {
  topic: string;
  clientId: string;
  /** The stage that refused it. */
  stage: string;
  reason: string;
  payload: Buffer;
  receivedAt: Date;
}

export interface StoredDeadLetter extends Omit<DeadLetter, 'receivedAt'> {
  id: number;
  receivedAt: string;
  /** True when the payload was longer than the stored part. */
  truncated: boolean;
}

/** Where the pipeline puts what it refuses; resolves once the letter is stored. */
export interface DeadLetterSink {
  add(letter: DeadLetter): Promise<void>;
}

const migrations: StoreMigration[] = [
  {
    version: 1,
    sqlite: `CREATE TABLE dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      received_at TEXT NOT NULL,
      topic TEXT NOT NULL,
      client_id TEXT NOT NULL,
      stage TEXT NOT NULL,
      reason TEXT NOT NULL,
      payload BLOB NOT NULL,
      truncated INTEGER NOT NULL
    )`,
    postgres: `CREATE TABLE dead_letters (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      received_at TEXT NOT NULL,
      topic TEXT NOT NULL,
      client_id TEXT NOT NULL,
      stage TEXT NOT NULL,
      reason TEXT NOT NULL,
      payload BYTEA NOT NULL,
      truncated INTEGER NOT NULL
    )`,
  },
];

/** Enough of a payload to see what it was; MQTT allows 256 MB (3.1.1 section 2.2.3). */
const MAX_STORED_PAYLOAD = 64 * 1024;
/** Rows per INSERT: 7 parameters each, far below SQLite's 32,766 and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 500;
/** Trim now and then rather than on every insert. */
const TRIM_EVERY = 100;

interface Row {
  id: number;
  received_at: string;
  topic: string;
  client_id: string;
  stage: string;
  reason: string;
  payload: Buffer;
  truncated: number;
}

interface Waiting {
  values: unknown[];
  done: () => void;
  failed: (error: unknown) => void;
}

export class DeadLetterStore implements DeadLetterSink {
  private added = 0;
  private queue: Waiting[] = [];
  /** The write of the letters queued now, and the one under way; neither rejects. */
  private next: Promise<void> | null = null;
  private underWay: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: SqlDatabase,
    private readonly keep = 10_000,
  ) {}

  async start(): Promise<void> {
    await this.db.migrate('dead-letters', migrations);
  }

  /**
   * Queues the letter for this turn's write; resolves once it is committed, rejects with
   * the database's error (the pipeline logs it: the message was refused either way).
   */
  add(letter: DeadLetter): Promise<void> {
    const truncated = letter.payload.length > MAX_STORED_PAYLOAD;
    return new Promise((done, failed) => {
      this.queue.push({
        values: [
          letter.receivedAt.toISOString(),
          letter.topic,
          letter.clientId,
          letter.stage,
          letter.reason,
          truncated ? letter.payload.subarray(0, MAX_STORED_PAYLOAD) : letter.payload,
          truncated ? 1 : 0,
        ],
        done,
        failed,
      });
      this.next ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.next = null;
        return (this.underWay = this.write());
      });
    });
  }

  /** Settles once every letter added so far is stored (or failed). */
  private async written(): Promise<void> {
    await Promise.all([this.next, this.underWay]);
  }

  private async write(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const trim = Math.floor((this.added + batch.length) / TRIM_EVERY) > this.added / TRIM_EVERY;
    this.added += batch.length;
    try {
      await this.db.transaction(async (tx) => {
        for (let at = 0; at < batch.length; at += ROWS_PER_INSERT) {
          const rows = batch.slice(at, at + ROWS_PER_INSERT);
          await tx.run(
            `INSERT INTO dead_letters (received_at, topic, client_id, stage, reason, payload, truncated)
             VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
            rows.flatMap((row) => row.values),
          );
        }
        if (trim) await this.trimIn(tx);
      });
    } catch (error) {
      for (const waiting of batch) waiting.failed(error);
      return;
    }
    for (const waiting of batch) waiting.done();
  }

  /** Newest first; letters added before the call included. */
  async list(limit = 100): Promise<StoredDeadLetter[]> {
    await this.written();
    const rows = await this.db.all<Row>('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?', [
      limit,
    ]);
    return rows.map((row) => ({
      id: row.id,
      receivedAt: row.received_at,
      topic: row.topic,
      clientId: row.client_id,
      stage: row.stage,
      reason: row.reason,
      payload: row.payload,
      truncated: row.truncated === 1,
    }));
  }

  async count(): Promise<number> {
    await this.written();
    const row = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM dead_letters');
    return row?.n ?? 0;
  }

  /** Deletes all but the newest `keep` letters. */
  async trim(): Promise<void> {
    await this.trimIn(this.db);
  }

  private async trimIn(session: SqlSession): Promise<void> {
    await session.run(
      'DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?',
      [this.keep],
    );
  }
}
