/**
 * The spool: the durable outbox between the checks and the MQTT client. A message counts
 * as sent once `append` resolved (it is on disk), and leaves the spool only when the
 * broker acknowledged it (`ack`, after the PUBACK of MQTT 3.1.1 section 3.4). Every
 * backend passes the one conformance suite test/suites/spool.ts (STYLE habit 8).
 */

/** One message waiting for the broker, exactly as it will be published. */
export interface SpoolRecord {
  /** The agent's sequence number; consecutive, never reused, kept across restarts. */
  seq: number;
  topic: string;
  /** The JSON payload, with `seq` already inside. */
  payload: string;
  retain: boolean;
  /** When the record was appended (ms since the epoch): the spool's age. */
  at: number;
}

export interface SpoolStats {
  /** Records appended and not yet acknowledged (nor dropped). */
  depth: number;
  bytes: number;
  /** Append time of the oldest record still waiting, or null when empty. */
  oldestAt: number | null;
  /** Records dropped unsent because the spool was full (oldest first), since it was created. */
  dropped: number;
  /**
   * Of `depth`, the records only memory holds because the storage refuses writes (a full
   * disk): lost if the agent stops before they are sent or written. 0 normally.
   */
  held: number;
  /** Why the storage refuses writes now ('ENOSPC': full), null while it takes them. */
  writeError: string | null;
}

export interface ReadLimit {
  records: number;
  bytes: number;
}

export interface Spool {
  /** Opens (or creates) the spool and recovers what a previous process left. */
  start(): Promise<void>;
  /** Writes what is pending and closes; the records stay for the next start. */
  stop(): Promise<void>;
  /**
   * Gives the record the next sequence number (synchronously, so callers keep their order)
   * and resolves once it is durable. `make` builds the payload from that number. While the
   * storage refuses writes (a full disk), it resolves at once with the record held in
   * memory (`stats().held`), to be sent and written later: the agent never stops.
   */
  append(topic: string, retain: boolean, make: (seq: number) => string): Promise<SpoolRecord>;
  /**
   * Durable (or held) records with seq >= fromSeq, oldest first, at most `limit` (at least one
   * record even if it alone exceeds limit.bytes). Dropped and acknowledged ones are skipped.
   */
  read(fromSeq: number, limit: ReadLimit): Promise<SpoolRecord[]>;
  /** The broker acknowledged every record up to and including `seq`: they may go. */
  ack(seq: number): void;
  /** The first seq still waiting (the head), or the next seq when nothing waits. */
  readonly headSeq: number;
  /** The seq the next append gets. */
  readonly nextSeq: number;
  /** Highest seq that is durable (appended and written); -1 when none. */
  readonly durableSeq: number;
  stats(): SpoolStats;
}

/** 256 MiB: a day or more of a large site's readings on a small gateway. */
export const DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;
