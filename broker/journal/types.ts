/**
 * The ingest journal: every message the broker accepts is appended here and durable
 * before the MQTT PUBACK goes out, so "acknowledged" means "will be stored" even if the
 * process is killed the next instant (MQTT 3.1.1 section 4.3.2: after PUBACK the sender
 * forgets the message; the receiver now owns it). The pipeline finishes a message once
 * its points are stored; after a restart the unfinished ones are replayed.
 *
 * broker/app.ts sees only this interface. Every implementation (the file journal in
 * journal.ts; PostgreSQL in pg-journal.ts) passes the one conformance suite
 * test/suites/journal.ts (STYLE habit 8).
 */

/** One accepted message, as the pipeline gets it. */
export interface JournalEntry {
  topic: string;
  payload: Buffer;
  clientId: string;
  agent?: { siteId: string; agentId: string };
  receivedAt: Date;
}

export interface JournalRecord extends JournalEntry {
  /** Given by `append`: consecutive from 1, never reused. */
  id: number;
}

export interface JournalStats {
  /** Records appended and not finished yet. */
  depth: number;
  /** Bytes the journal holds (finished records included until the storage lets them go). */
  bytes: number;
  maxBytes: number;
  full: boolean;
  appended: number;
  finished: number;
  /** Appends refused because the journal was full. */
  refused: number;
  /** Durable commits (write and fsync rounds), each for one or many appends. */
  commits: number;
  lastCommitMs: number;
}

export interface IngestJournal {
  /**
   * Opens the journal and returns the records that were appended but not finished
   * before the last stop or crash, oldest first: feed them to the pipeline again.
   */
  start(): Promise<JournalRecord[]>;
  /**
   * Resolves with the record's id once it is durable (the PUBACK may go); rejects with
   * VIGIL_JOURNAL_FULL while full, or with the storage's error. Appends that arrive
   * together share one commit.
   */
  append(entry: JournalEntry): Promise<number>;
  /** The pipeline is done with record `id` (stored, or refused as a dead letter). */
  finish(id: number): void;
  /** Adds to a counter that survives restarts (duplicates dropped, ...). */
  count(name: string, by?: number): void;
  readonly counters: Readonly<Record<string, number>>;
  /** True while appends are refused (VIGIL_JOURNAL_FULL). */
  readonly full: boolean;
  /**
   * Why appends fail right now (a database journal: PostgreSQL unreachable, the lease
   * lost), for health; null or absent while they succeed.
   */
  readonly problem?: string | null;
  readonly stats: JournalStats;
  /** Commits what is pending; unfinished records stay for the next start. */
  stop(): Promise<void>;
}
