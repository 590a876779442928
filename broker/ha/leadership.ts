/**
 * The broker node's leadership loop (issue 17 part 3, docs/HA.md): a Lease
 * (broker/ha/lease.ts) on its own small pool, claimed at start and renewed every ttl/3
 * (10 s ttl: a standby takes over within ttl + ttl/3, about 13 s, inside the issue's
 * 15 s). What follows from it:
 *
 * - `isLeader` / `token`: read at every append by the PostgreSQL journal
 *   (broker/journal/pg-journal.ts), so a node whose lease ran out stops acknowledging at
 *   once, before any timer ran (Lease.isLeader checks the monotonic clock on every read),
 *   and the database refuses its commits by the token anyway.
 * - `onChange`: the broker starts the journal (and replays it) when elected, and logs a
 *   deposition.
 * - `GET /api/health/leader` answers 200 only while `isLeader` (broker/api/health-leader.ts).
 *
 * A database unreachable at start does not stop the node: it runs as a standby and keeps
 * trying, so a pair can start before its PostgreSQL (docker-compose, a reboot).
 */
import type { Log } from '../log.js';
import { ensureLeaseTable, Lease, type DeposedReason } from './lease.js';
import { openDatabase, type Database, type DatabaseConfig } from './pg.js';

export type LeadershipChange =
  { leading: true; token: number } | { leading: false; reason: DeposedReason };

export interface LeadershipOptions {
  database: DatabaseConfig;
  log: Log;
  /** How long a claim holds without renewal; default 10 s (docs/HA.md). */
  ttlMs?: number;
  /** The lease row; one per pair sharing a database. */
  name?: string;
}

export class Leadership {
  readonly ttlMs: number;
  readonly name: string;
  private readonly db: Database;
  private readonly lease: Lease;
  private readonly listeners: ((change: LeadershipChange) => void)[] = [];
  private retry: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  /** The last claim error, logged once per kind rather than every ttl/3. */
  private lastError: string | null = null;
  /** The term (token) whose journal is started and replayed: see ready(). */
  private readyToken: number | null = null;

  constructor(private readonly options: LeadershipOptions) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.name = options.name ?? 'broker';
    const log = options.log;
    // Its own pool, and a query limit under the renewal period: a claim hanging on a dead
    // link must not hold back the next one (lease.ts, LeaseOptions.db).
    this.db = openDatabase(options.database, {
      max: 2,
      applicationName: 'vigil lease',
      queryTimeoutMs: Math.max(100, Math.floor(this.ttlMs / 3)),
      connectTimeoutMs: Math.max(100, Math.floor(this.ttlMs / 3)),
      onIdleError: () => {
        // A dropped idle session: the next claim reconnects (docs/HA.md).
      },
    });
    this.lease = new Lease({
      db: this.db,
      name: this.name,
      ttlMs: this.ttlMs,
      onElected: (token) => {
        this.lastError = null;
        log.info(`leads (lease ${this.name}, token ${token}): acknowledging messages`);
        this.emit({ leading: true, token });
      },
      onDeposed: (reason) => {
        if (reason !== 'stopped')
          log.warn(
            `no longer leads (lease ${this.name}: ${reason === 'taken' ? 'another node holds it' : 'not renewed in time'}): stopped acknowledging; the standby takes over`,
          );
        this.emit({ leading: false, reason });
      },
      onError: (error) => this.claimFailed(error),
    });
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  /** The fencing token while leading, else null. */
  get token(): number | null {
    return this.lease.token;
  }

  /**
   * Leads, and its journal is started and replayed for this term (ready()): the MQTT
   * server takes clients only then and refuses them with CONNACK 3 otherwise (a standby,
   * a node just elected and still replaying, a leader that lost its lease).
   */
  get serving(): boolean {
    const token = this.token;
    return token !== null && token === this.readyToken;
  }

  /** The node is ready to serve under `token`: its journal started (and replayed) for it. */
  ready(token: number): void {
    this.readyToken = token;
  }

  /** Who this node is in vigil_leader.holder. */
  get holder(): string {
    return this.lease.holder;
  }

  onChange(listener: (change: LeadershipChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Creates the lease table and sends the first claim; resolves once it was answered (the
   * node leads or stands by), or at once when the database is unreachable, trying again
   * every ttl/3 meanwhile.
   */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    try {
      await ensureLeaseTable(this.db);
      this.started = true;
      // The lease creates its table again: the database can drop in between.
      await this.lease.start();
    } catch (error) {
      this.started = false;
      this.claimFailed(error instanceof Error ? error : new Error(String(error)));
      // start() never rejects past this catch, so the timer's call has nothing to lose.
      if (!this.stopped) this.retry = setTimeout(() => void this.start(), this.lease.renewMs);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.started) await this.lease.stop();
    await this.db.close();
  }

  private claimFailed(error: Error): void {
    if (error.message === this.lastError) return;
    this.lastError = error.message;
    this.options.log.warn(
      `cannot reach PostgreSQL for the leader lease (${this.db.label}): ${error.message}; ${this.isLeader ? 'still leading until the lease runs out' : 'standing by'}, trying again every ${this.lease.renewMs} ms`,
    );
  }

  private emit(change: LeadershipChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
