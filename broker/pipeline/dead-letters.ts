/**
 * Messages the pipeline refused (not JSON, outside the topic tree, failing their schema,
 * or a stage that threw), kept in SQLite with the reason so someone can see what an
 * agent sent and why it was not taken. The table keeps the newest `keep` letters: a
 * misbehaving agent cannot fill the disk.
 */
import { migrate, type Db } from '../db.js';

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

/** Where the pipeline puts what it refuses. */
export interface DeadLetterSink {
  add(letter: DeadLetter): void;
}

const migrations = [
  {
    version: 1,
    sql: `CREATE TABLE dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      received_at TEXT NOT NULL,
      topic TEXT NOT NULL,
      client_id TEXT NOT NULL,
      stage TEXT NOT NULL,
      reason TEXT NOT NULL,
      payload BLOB NOT NULL,
      truncated INTEGER NOT NULL
    )`,
  },
];

/** Enough of a payload to see what it was; MQTT allows 256 MB (3.1.1 section 2.2.3). */
const MAX_STORED_PAYLOAD = 64 * 1024;

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

export class DeadLetterStore implements DeadLetterSink {
  private added = 0;

  constructor(
    private readonly db: Db,
    private readonly keep = 10_000,
  ) {}

  start(): void {
    migrate(this.db, 'dead-letters', migrations);
  }

  add(letter: DeadLetter): void {
    const truncated = letter.payload.length > MAX_STORED_PAYLOAD;
    this.db
      .prepare(
        `INSERT INTO dead_letters (received_at, topic, client_id, stage, reason, payload, truncated)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        letter.receivedAt.toISOString(),
        letter.topic,
        letter.clientId,
        letter.stage,
        letter.reason,
        truncated ? letter.payload.subarray(0, MAX_STORED_PAYLOAD) : letter.payload,
        truncated ? 1 : 0,
      );
    // Trim now and then rather than on every insert.
    if (++this.added % 100 === 0) this.trim();
  }

  /** Newest first. */
  list(limit = 100): StoredDeadLetter[] {
    const rows = this.db
      .prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?')
      .all(limit) as Row[];
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

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  trim(): void {
    this.db
      .prepare('DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?')
      .run(this.keep);
  }
}
