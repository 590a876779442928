/**
 * Leadership of an active/standby pair by a lease row in PostgreSQL (issue 17 part 3,
 * docs/HA.md). Every node runs a Lease; the one whose claim the database accepts leads
 * until `expires_at`, and renews every ttl/3. Each change of holder raises a fencing
 * token, and every write of the leader checks that token in the same transaction
 * (fencedWrite), so a leader that lost the lease can never write behind its successor.
 *
 * Why not an advisory lock: pg_try_advisory_lock stays held as long as the session
 * lives, so a frozen process (SIGSTOP, a VM paused) keeps it while doing nothing, and a
 * lock gives no token to check writes against.
 *
 * Clocks: the database's now() is the only wall clock that decides who holds the lease,
 * so the nodes' clocks may be wrong. Locally a node only measures durations with the
 * monotonic clock (performance.now), from the moment it sent its last successful claim:
 * the row's expiry was set later than that by the database, so the local deadline
 * (sent + ttl - guard) always passes before the row expires, and the leader stops
 * acknowledging before a standby can take over, also when it was frozen or cut off.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Database, SqlClient } from './pg.js';

export const LEASE_TABLE_SQL = `CREATE TABLE IF NOT EXISTS vigil_leader (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  token BIGINT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
)`;

/**
 * Acquire and renew in one statement. The row is taken when it is ours or expired; the
 * token stays on a renewal of a live lease and grows on every other claim (a new holder,
 * or ours again after it expired, when someone may have led meanwhile). The expiry is
 * checked with clock_timestamp() (the moment of decision, even after a lock wait) and set
 * from now() (the statement's start, never later than the moment the claim was sent).
 * $3: ttl in milliseconds.
 *
 * A standby's claim of a live lease stops at the NOT EXISTS, a plain read that locks
 * nothing: ON CONFLICT DO UPDATE locks the row before it evaluates its WHERE, so without
 * it every standby claim would queue behind (and in front of) the leader's fenced writes,
 * which hold the row FOR SHARE.
 */
const CLAIM_SQL = `INSERT INTO vigil_leader AS l (name, holder, token, expires_at)
SELECT $1, $2, 1, now() + $3 * interval '1 millisecond'
WHERE NOT EXISTS (SELECT 1 FROM vigil_leader
                  WHERE name = $1 AND holder <> $2 AND expires_at >= clock_timestamp())
ON CONFLICT (name) DO UPDATE
SET holder = EXCLUDED.holder,
    token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at >= clock_timestamp()
                 THEN l.token ELSE l.token + 1 END,
    expires_at = EXCLUDED.expires_at
WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp()
RETURNING token`;

/**
 * How long the holder's row still runs, in the database's clock (a plain read: it locks
 * nothing and waits for nobody). A released row (-infinity) has run out: 0.
 */
const LEFT_SQL = `SELECT CASE WHEN isfinite(expires_at)
  THEN extract(epoch FROM expires_at - clock_timestamp()) * 1000 ELSE 0 END AS left_ms
FROM vigil_leader WHERE name = $1`;

/**
 * How late after the row's expiry a standby claims: the local timer and the database's
 * clock_timestamp() may differ by a few milliseconds over a few seconds; a claim that
 * comes early only finds the row live and asks again.
 */
const EXPIRY_MARGIN_MS = 50;

/** Gives the lease up at once: the next claim of any node succeeds. */
const RELEASE_SQL = `UPDATE vigil_leader SET expires_at = '-infinity'
WHERE name = $1 AND holder = $2`;

/**
 * The fence: in the writer's transaction, the row's token must still be the writer's.
 * FOR SHARE holds the row until the writer commits, so a takeover (which updates the row)
 * waits for that commit and everything the new leader reads includes the write; without
 * it, a takeover could commit between the check and the write.
 *
 * That lock must not outlive a frozen writer: a process stopped inside the transaction
 * keeps its session, and the takeover would wait for it forever. So the same statement
 * sets idle_in_transaction_session_timeout for this transaction only (set_config's
 * is_local, PostgreSQL 15 docs 9.27.1): the server ends a session that sits idle in the
 * transaction longer than $2 ms, which rolls the write back and frees the row.
 * $1: lease name; $2: the idle limit in milliseconds, as text (at most the ttl).
 */
export const FENCE_SQL = `SELECT token, set_config('idle_in_transaction_session_timeout', $2, true)
FROM vigil_leader WHERE name = $1 FOR SHARE`;

/** Why a leader stopped leading. */
export type DeposedReason =
  /** No successful renewal before the local deadline: frozen, slow, or cut off. */
  | 'expired'
  /** The database answered that another node holds the lease. */
  | 'taken'
  /** stop() was called; the lease was released. */
  | 'stopped';

export interface LeaseOptions {
  /**
   * The lease's own pool, opened with queryTimeoutMs at most ttl/3: a claim that hangs on
   * a dead link would otherwise hold back the next ones (the leader still deposes itself
   * on time, but could not claim again until TCP gives up).
   */
  db: Database;
  /** The lease's row: one per group of nodes sharing a database. */
  name?: string;
  /** Who claims; unique per process, so a restarted node never resumes an old lease. */
  holder?: string;
  /** How long a claim holds without renewal (default 10 s: takeover within ttl + ttl/3). */
  ttlMs?: number;
  onElected?: (token: number) => void;
  onDeposed?: (reason: DeposedReason) => void;
  /** A claim failed (database unreachable, timeout); the leader keeps leading until its deadline. */
  onError?: (error: Error) => void;
}

/** The write was refused: the lease is held under another token now. */
export class LeaseLostError extends Error {
  constructor(
    readonly lease: string,
    readonly token: number,
    readonly current: number | null,
  ) {
    super(
      `lease ${lease}: write refused, token ${token} is no longer the leader's (now ${current ?? 'none'}); another node leads`,
    );
    this.name = 'LeaseLostError';
  }
}

/** Creates the lease table; two nodes starting at once may race on it. */
export async function ensureLeaseTable(db: SqlClient): Promise<void> {
  try {
    await db.query(LEASE_TABLE_SQL);
  } catch (error) {
    // IF NOT EXISTS is not atomic against a concurrent CREATE: the loser sees
    // 23505 (unique_violation on pg_type) or 42P07 (duplicate_table); the table exists.
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw error;
  }
}

/**
 * Runs `work` in a transaction that commits only while `token` is the lease's token
 * (FENCE_SQL); otherwise it throws LeaseLostError and nothing is written. `idleLimitMs`
 * (the lease's ttl, 10 s by default) bounds how long a frozen writer can hold back a
 * takeover; `work` must not wait that long between its own statements.
 */
export async function fencedWrite<T>(
  db: Database,
  name: string,
  token: number,
  work: (tx: SqlClient) => Promise<T>,
  idleLimitMs = 10_000,
): Promise<T> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ token: string }>(FENCE_SQL, [
      name,
      String(Math.max(1, Math.round(idleLimitMs))),
    ]);
    const current = rows[0] ? Number(rows[0].token) : null;
    if (current !== token) throw new LeaseLostError(name, token, current);
    return work(tx);
  });
}

export class Lease {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
  /** How often a claim is sent: three chances to renew before the lease runs out. */
  readonly renewMs: number;
  /**
   * How long before the row's expiry the leader deposes itself: room for the monotonic
   * clock running slower than the database's, and for an acknowledgment in flight.
   */
  readonly guardMs: number;
  private readonly db: Database;
  private readonly options: LeaseOptions;
  private leading = false;
  private currentToken: number | null = null;
  /** performance.now() by which the leader must have renewed. */
  private deadline = 0;
  private renewTimer: NodeJS.Timeout | null = null;
  /** A standby's claim timed for the moment the holder's row runs out (claimAtExpiry). */
  private expiryTimer: NodeJS.Timeout | null = null;
  private deposeTimer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  private stopped = false;

  constructor(options: LeaseOptions) {
    this.options = options;
    this.db = options.db;
    this.name = options.name ?? 'broker';
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.renewMs = Math.max(1, Math.floor(this.ttlMs / 3));
    this.guardMs = Math.max(50, Math.floor(this.ttlMs / 10));
  }

  /** True only while a renewal is fresh: also right after a freeze, before any timer ran. */
  get isLeader(): boolean {
    return this.leading && performance.now() < this.deadline;
  }

  /** The fencing token while leading, else null. */
  get token(): number | null {
    return this.isLeader ? this.currentToken : null;
  }

  /** Creates the table, claims once, then renews (or tries to take over) every ttl/3. */
  async start(): Promise<void> {
    if (this.running || this.stopped) return;
    // Running only once the table is there: a start that failed (the database away) is
    // tried again by the next start() instead of leaving a lease that never claims.
    await ensureLeaseTable(this.db);
    if (this.running || this.stopped) return;
    this.running = true;
    await this.tick();
    if (this.running) this.renewTimer = setInterval(() => void this.tick(), this.renewMs);
  }

  /** Deposes this node first (it stops acknowledging), then releases the lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.halt();
    await this.inFlight;
    const wasLeading = this.leading;
    if (wasLeading) this.depose('stopped');
    try {
      await this.db.query(RELEASE_SQL, [this.name, this.holder]);
    } catch (error) {
      // Unreachable: the lease simply runs out and a standby takes over after ttl.
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Stops renewing without releasing, as a frozen process would (tests; a node that must
   * stop at once). The local deadline still deposes it before the row expires.
   */
  halt(): void {
    this.running = false;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  private tick(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.claim().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async claim(): Promise<void> {
    const sentAt = performance.now();
    let token: number | null;
    try {
      const { rows } = await this.db.query<{ token: string }>(CLAIM_SQL, [
        this.name,
        this.holder,
        this.ttlMs,
      ]);
      token = rows[0] ? Number(rows[0].token) : null;
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (!this.running) return;
    if (token === null) {
      if (this.leading) this.depose('taken');
      else void this.claimAtExpiry();
      return;
    }
    // Ours again under a new token: the lease ran out meanwhile and another may have led.
    if (this.leading && token !== this.currentToken) this.depose('expired');
    const deadline = sentAt + this.ttlMs - this.guardMs;
    // An answer that arrives after the deadline renews nothing we may use; the next
    // claim tries again.
    if (performance.now() >= deadline) {
      if (this.leading) this.depose('expired');
      return;
    }
    this.deadline = deadline;
    if (this.deposeTimer) clearTimeout(this.deposeTimer);
    this.deposeTimer = setTimeout(() => {
      if (this.leading) this.depose('expired');
    }, deadline - performance.now());
    if (!this.leading) {
      this.leading = true;
      this.currentToken = token;
      this.options.onElected?.(token);
    }
  }

  /**
   * A standby asks again the moment the holder's row runs out rather than at its next
   * tick: a dead leader is replaced within ttl of its last renewal instead of up to
   * ttl + ttl/3 (docs/HA.md). Only when that moment comes before the next tick; a failed
   * read just leaves it to the tick.
   */
  private async claimAtExpiry(): Promise<void> {
    if (this.expiryTimer) return;
    let left: number;
    try {
      const { rows } = await this.db.query<{ left_ms: string | number }>(LEFT_SQL, [this.name]);
      if (!rows[0]) return;
      left = Math.max(0, Number(rows[0].left_ms));
    } catch {
      return;
    }
    if (!this.running || this.leading || this.expiryTimer || !(left < this.renewMs)) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.running) void this.tick();
    }, left + EXPIRY_MARGIN_MS);
  }

  private depose(reason: DeposedReason): void {
    this.leading = false;
    this.currentToken = null;
    if (this.deposeTimer) clearTimeout(this.deposeTimer);
    this.deposeTimer = null;
    this.options.onDeposed?.(reason);
  }
}
