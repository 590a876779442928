/**
 * The ingest journal in PostgreSQL (IngestJournal, broker/journal/types.ts; issue 17
 * part 2, docs/HA.md): a PUBACK goes out only once the message is committed in the
 * database, so losing the active node entirely, its disk included, loses no
 * acknowledged message. The standby that takes over replays what was not finished.
 *
 * Group commit: each commit is ONE statement, a multi-row INSERT of up to `batchRows`
 * rows (unnest of one array per column, so the statement has 10 parameters whatever the
 * batch size; PostgreSQL 15 docs 9.19, unnest). One statement is one transaction and one
 * WAL flush: at high rates one round trip and one flush acknowledge hundreds of messages.
 *
 * Unlike the file journal, up to `commitsInFlight` commits run at once, each on its own
 * connection: a commit spends most of its time waiting for the WAL flush (fdatasync) and
 * the round trip, and with one at a time a message arriving meanwhile waited for that
 * commit and then for its own, up to two flushes. Appends that find every slot taken wait
 * for the next free one, the group growing meanwhile; PostgreSQL flushes the WAL of
 * concurrent commits together when it can (XLogFlush writes everything inserted so far).
 * Commits finish in any order: each acknowledges only its own appends, and the ids stay
 * consecutive in append order (see dispatch()).
 *
 * Fencing (issue 17 part 3): with `fence`, the INSERT carries the lease check itself,
 * `WHERE EXISTS (SELECT … FROM vigil_leader WHERE name = … AND token = … FOR SHARE)`:
 * a node that lost its lease has its commit refused by the database (0 rows), so it never
 * acknowledges, and FOR SHARE holds the lease row until the INSERT commits, so a takeover
 * (which updates that row) waits for the commit and the new leader replays it
 * (broker/ha/lease.ts FENCE_SQL explains the lock). In one statement the transaction is
 * never idle, so a frozen process cannot hold the row beyond the statement itself.
 * Checkpoints (moving `done`, deleting finished rows) go through fencedWrite: a deposed
 * node never moves the new leader's checkpoint.
 *
 * Tables (component `journal`, its own migrations in vigil_schema_migrations):
 *   vigil_journal        one row per unfinished (or not yet deleted) message, by id
 *   vigil_journal_state  one row: done (every id <= done is finished) and the counters
 * One journal per database: the nodes of one pair share it, only the leader writes it.
 *
 * Ids are given here, consecutive, as the file journal does (lastId = the highest id in
 * the table or `done`); after a takeover the new leader reads them again at start.
 */
import { fencedWrite } from '../ha/lease.js';
import { migratePg, type PgMigration } from '../ha/pg-migrate.js';
import type { Database, SqlClient } from '../ha/pg.js';
import { JournalProgress } from './progress.js';
import type { IngestJournal, JournalEntry, JournalRecord, JournalStats } from './types.js';

/** The lease this journal's writes are fenced by (broker/ha/leadership.ts, lease.ts). */
export interface JournalFence {
  /** The lease row's name (vigil_leader.name). */
  readonly name: string;
  /** The token while this node leads, else null (Lease.token). */
  readonly token: number | null;
}

export interface PgJournalOptions {
  db: Database;
  /** Without it the writes are not fenced: one node alone on the database. */
  fence?: JournalFence | null;
  /** Appends are refused (VIGIL_JOURNAL_FULL) while unfinished rows take this much; default 1 GiB. */
  maxBytes?: number;
  /** How often `done` is written and finished rows deleted; default 200 ms. */
  checkpointIntervalMs?: number;
  /**
   * How long the first append of a commit waits for others to join it while no commit is
   * in flight; default 0. While commits are in flight a group grows until a slot frees
   * (or goes at the next turn of the event loop when one is free): no timer then.
   */
  groupCommitMs?: number;
  /**
   * INSERTs in flight at once, each on its own connection of the pool; default 3 (the
   * broker's journal pool has 4: one stays for the checkpoint). 1 commits one group at a
   * time, as the file journal does.
   */
  commitsInFlight?: number;
  /** Rows per INSERT at most; default 1000 (a bounded statement and WAL record). */
  batchRows?: number;
  /**
   * How long a frozen checkpoint may hold the lease row (fencedWrite's idle limit);
   * default 10 s, the lease's ttl.
   */
  fenceIdleMs?: number;
}

export const JOURNAL_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `CREATE TABLE IF NOT EXISTS vigil_journal (
  id BIGINT PRIMARY KEY,
  topic TEXT NOT NULL,
  client_id TEXT NOT NULL,
  site_id TEXT,
  agent_id TEXT,
  received_ms BIGINT NOT NULL,
  payload BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS vigil_journal_state (
  one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  done BIGINT NOT NULL,
  counters JSONB NOT NULL
);
INSERT INTO vigil_journal_state (done, counters) VALUES (0, '{}') ON CONFLICT DO NOTHING;`,
  },
];

/**
 * What a row counts for the size limit: its text and bytes plus the two numbers, in the
 * database (SIZE_SQL) and here (sizeOf) alike, so `bytes` stays exact across restarts.
 */
const SIZE_SQL = `(octet_length(payload) + octet_length(topic) + octet_length(client_id)
  + coalesce(octet_length(site_id), 0) + coalesce(octet_length(agent_id), 0) + 16)`;

function sizeOf(entry: JournalEntry): number {
  return (
    entry.payload.length +
    Buffer.byteLength(entry.topic) +
    Buffer.byteLength(entry.clientId) +
    (entry.agent
      ? Buffer.byteLength(entry.agent.siteId) + Buffer.byteLength(entry.agent.agentId)
      : 0) +
    16
  );
}

/**
 * The rows: one array per column, and the payloads as ONE bytea parameter ($7) cut by
 * their lengths ($8). node-postgres sends a Buffer parameter as it is, while a bytea[] is
 * spelled out in hex, a string built per row on the event loop. Measured on this 2-core VM
 * (busy, load about 12; 30 INSERTs of 1000 rows of 170 bytes, after a warm-up): 4.2 µs of
 * the broker's CPU per row against 6.1 with the hex array; PostgreSQL's 13-14 µs per row
 * the same either way. WITH ORDINALITY numbers the rows; the running sum of the lengths
 * gives each one's start.
 */
const COLUMNS = `(id, topic, client_id, site_id, agent_id, received_ms, payload)
SELECT r.id, r.topic, r.client_id, r.site_id, r.agent_id, r.received_ms,
       substring($7::bytea FROM (r.upto - r.len + 1)::int FOR r.len)
FROM (SELECT u.*, sum(u.len) OVER (ORDER BY u.n) AS upto
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $8::int[])
           WITH ORDINALITY AS u(id, topic, client_id, site_id, agent_id, received_ms, len, n)) AS r`;

const INSERT_SQL = `INSERT INTO vigil_journal ${COLUMNS}`;

/** The same, only while $9's token is $10 (see the header: the fence in the INSERT). */
const FENCED_INSERT_SQL = `INSERT INTO vigil_journal ${COLUMNS}
WHERE EXISTS (SELECT 1 FROM vigil_leader WHERE name = $9 AND token = $10 FOR SHARE)`;

interface Pending {
  id: number;
  entry: JournalEntry;
  size: number;
  resolve: (id: number) => void;
  reject: (error: Error) => void;
}

interface Row {
  id: string;
  topic: string;
  client_id: string;
  site_id: string | null;
  agent_id: string | null;
  received_ms: string;
  payload: Buffer;
}

/** The append was refused because this node does not lead (or no longer leads). */
export class NotLeaderError extends Error {
  readonly code = 'VIGIL_NOT_LEADER';
  constructor(detail: string) {
    super(
      `this broker node does not lead (${detail}): the message is not acknowledged; the agent sends it again to the leader`,
    );
    this.name = 'NotLeaderError';
  }
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class PgJournal implements IngestJournal {
  private pending: Pending[] = [];
  /** Ids, the checkpoint, counters and figures (progress.ts, shared with the file journal). */
  private readonly progress = new JournalProgress();
  private checkpointTimer: NodeJS.Timeout | null = null;
  private checkpointRunning: Promise<void> | null = null;
  private stopped = true;
  /** Bytes of the rows in the table (finished ones until deleted), by SIZE_SQL. */
  private storedBytes = 0;
  private pendingBytes = 0;
  /** The token this journal started under: its ids and checkpoint are valid in that term only. */
  private term: number | null = null;
  private problem_: string | null = null;
  readonly counters = this.progress.counters;
  private readonly db: Database;
  private readonly maxBytes: number;
  private readonly batchRows: number;
  private readonly commitsInFlight: number;
  /** INSERTs sent and not answered yet. */
  private inFlight = 0;
  /** A dispatch waits for its timer or the next turn of the event loop. */
  private dispatchScheduled = false;

  constructor(private readonly options: PgJournalOptions) {
    this.db = options.db;
    this.maxBytes = options.maxBytes ?? 1024 ** 3;
    this.batchRows = Math.max(1, options.batchRows ?? 1000);
    this.commitsInFlight = Math.max(1, Math.floor(options.commitsInFlight ?? 3));
  }

  /** Why commits fail right now (the database unreachable, the lease lost); null when they succeed. */
  get problem(): string | null {
    return this.problem_;
  }

  async start(): Promise<JournalRecord[]> {
    const fence = this.options.fence;
    if (fence) {
      this.term = fence.token;
      if (this.term === null)
        throw new NotLeaderError(`lease ${fence.name} is held by another node`);
    }
    try {
      await migratePg(this.db, 'journal', JOURNAL_MIGRATIONS);
    } catch (error) {
      throw new Error(
        `cannot prepare the ingest journal in PostgreSQL (${this.db.label}): ${reasonOf(error)}; check that the database is up and that the broker's role may create tables`,
      );
    }
    const state = await this.db.query<{ done: string; counters: Record<string, unknown> }>(
      'SELECT done, counters FROM vigil_journal_state',
    );
    const done = Number(state.rows[0]?.done ?? 0);
    this.progress.loadCounters(state.rows[0]?.counters);
    const totals = await this.db.query<{ last: string | null; bytes: string; below: string }>(
      `SELECT max(id) AS last, coalesce(sum(${SIZE_SQL}), 0) AS bytes,
              count(*) FILTER (WHERE id <= $1) AS below
       FROM vigil_journal`,
      [done],
    );
    const total = totals.rows[0];
    this.storedBytes = Number(total?.bytes ?? 0);
    const { rows } = await this.db.query<Row>(
      'SELECT id, topic, client_id, site_id, agent_id, received_ms, payload FROM vigil_journal WHERE id > $1 ORDER BY id',
      [done],
    );
    const unfinished = rows.map((row): JournalRecord => {
      const record: JournalRecord = {
        id: Number(row.id),
        topic: row.topic,
        clientId: row.client_id,
        receivedAt: new Date(Number(row.received_ms)),
        payload: row.payload,
      };
      if (row.site_id !== null && row.agent_id !== null)
        record.agent = { siteId: row.site_id, agentId: row.agent_id };
      // Keys in the order of JournalEntry, as the file journal gives them.
      const { id, topic, payload, clientId, agent, receivedAt } = record;
      return { id, topic, payload, clientId, ...(agent ? { agent } : {}), receivedAt };
    });
    // Ids never committed (a failed INSERT) count as finished.
    this.progress.resume(done, Number(total?.last ?? 0), unfinished);
    // Finished rows a stop did not get to delete go at the first checkpoint.
    if (Number(total?.below ?? 0) > 0) this.progress.dirty = true;
    this.problem_ = null;
    this.stopped = false;
    this.checkpointTimer = setInterval(
      () => void this.checkpoint(),
      this.options.checkpointIntervalMs ?? 200,
    );
    this.checkpointTimer.unref();
    return unfinished;
  }

  append(entry: JournalEntry): Promise<number> {
    if (this.stopped) return Promise.reject(new Error('the journal is stopped'));
    const refusal = this.notLeading();
    if (refusal) return Promise.reject(refusal);
    if (this.full) return Promise.reject(this.progress.refuseFull(this.bytes, this.maxBytes));
    const id = this.progress.next();
    const size = sizeOf(entry);
    this.pendingBytes += size;
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ id, entry, size, resolve, reject });
      this.scheduleDispatch();
    });
  }

  finish(id: number): void {
    this.progress.finish(id);
  }

  count(name: string, by = 1): void {
    this.progress.count(name, by);
  }

  get full(): boolean {
    return this.bytes + this.pendingBytes >= this.maxBytes;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  get stats(): JournalStats {
    return this.progress.stats(this.bytes, this.maxBytes, this.full);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    while (this.inFlight > 0 || this.dispatchScheduled || this.pending.length > 0)
      await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = null;
    await this.checkpointRunning;
    this.progress.dirty = true;
    await this.checkpoint();
  }

  /** Refuses at once while this node does not lead in the term the journal started in. */
  private notLeading(): NotLeaderError | null {
    const fence = this.options.fence;
    if (!fence) return null;
    const token = fence.token;
    if (token === null)
      return new NotLeaderError(`lease ${fence.name} lost or held by another node`);
    if (token !== this.term)
      return new NotLeaderError(
        `lease ${fence.name} was lost and won again (token ${this.term} -> ${token}); the journal must be started again`,
      );
    return null;
  }

  /**
   * Sends the pending group soon, unless every commit slot is taken: then it grows until
   * one frees (commitDone dispatches it). With nothing in flight the first append waits
   * `groupCommitMs` for others to join; with commits in flight the group goes at the
   * next turn of the event loop, so the rest of this socket's read and other clients'
   * join it and no timer adds to its PUBACK.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled || this.inFlight >= this.commitsInFlight) return;
    this.dispatchScheduled = true;
    const go = () => {
      this.dispatchScheduled = false;
      this.dispatch();
    };
    const wait = this.inFlight === 0 ? (this.options.groupCommitMs ?? 0) : 0;
    if (wait > 0) setTimeout(go, wait);
    else setImmediate(go);
  }

  /**
   * One INSERT per free slot, each of up to `batchRows` pending appends in id order.
   * Commits may finish out of order: each resolves (PUBACKs) only its own appends, and the
   * checkpoint cannot pass an id still in flight, which is neither finished nor abandoned
   * (progress.ts). After a crash, ids of a commit that never landed are gaps the next start
   * counts as finished (JournalProgress.resume): nobody was told they were stored.
   */
  private dispatch(): void {
    while (this.pending.length > 0 && this.inFlight < this.commitsInFlight) {
      const batch = this.pending.splice(0, this.batchRows);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        // What arrived meanwhile goes at once: it already waited for this slot.
        if (this.pending.length > 0) this.dispatch();
      });
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let bytes = 0;
    for (const item of batch) bytes += item.size;
    const started = performance.now();
    try {
      const refusal = this.notLeading();
      if (refusal) throw refusal;
      await this.insert(batch);
    } catch (error) {
      this.pendingBytes -= bytes;
      const failure =
        error instanceof NotLeaderError
          ? error
          : new Error(
              `cannot commit the ingest journal to PostgreSQL (${this.db.label}): ${reasonOf(error)}; the message is not acknowledged (the agent sends it again): check that PostgreSQL is running and reachable`,
            );
      this.problem_ = failure.message;
      // Never acknowledged, so nothing to replay here: counted as finished. (Had the
      // INSERT committed after all, the rows are replayed at the next start.) Only this
      // commit's appends: the others in flight succeed or fail on their own.
      for (const item of batch) {
        this.progress.abandon(item.id);
        item.reject(failure);
      }
      this.progress.advance();
      return;
    }
    this.pendingBytes -= bytes;
    this.storedBytes += bytes;
    this.problem_ = null;
    this.progress.committed(started);
    for (const item of batch) item.resolve(item.id);
  }

  private async insert(batch: Pending[]): Promise<void> {
    const ids: number[] = [];
    const topics: string[] = [];
    const clients: string[] = [];
    const sites: (string | null)[] = [];
    const agents: (string | null)[] = [];
    const received: number[] = [];
    const payloads: Buffer[] = [];
    const lengths: number[] = [];
    for (const { id, entry } of batch) {
      ids.push(id);
      topics.push(entry.topic);
      clients.push(entry.clientId);
      sites.push(entry.agent?.siteId ?? null);
      agents.push(entry.agent?.agentId ?? null);
      received.push(entry.receivedAt.getTime());
      payloads.push(entry.payload);
      lengths.push(entry.payload.length);
    }
    const columns = [
      ids,
      topics,
      clients,
      sites,
      agents,
      received,
      Buffer.concat(payloads),
      lengths,
    ];
    const fence = this.options.fence;
    if (!fence) {
      await this.db.query(INSERT_SQL, columns);
      return;
    }
    const { rowCount } = await this.db.query(FENCED_INSERT_SQL, [
      ...columns,
      fence.name,
      this.term,
    ]);
    if (rowCount !== batch.length)
      throw new NotLeaderError(
        `the database refused the commit: lease ${fence.name} no longer has token ${this.term}`,
      );
  }

  private checkpoint(): Promise<void> {
    if (this.checkpointRunning) return this.checkpointRunning;
    if (!this.progress.dirty) return Promise.resolve();
    this.progress.dirty = false;
    const done = this.progress.done;
    const counters = { ...this.counters };
    const write = async (tx: SqlClient): Promise<void> => {
      // GREATEST: a checkpoint is never moved back, whoever writes it.
      await tx.query('UPDATE vigil_journal_state SET done = GREATEST(done, $1), counters = $2', [
        done,
        JSON.stringify(counters),
      ]);
      const gone = await tx.query<{ bytes: string }>(
        `WITH gone AS (DELETE FROM vigil_journal WHERE id <= $1 RETURNING ${SIZE_SQL} AS size)
         SELECT coalesce(sum(size), 0) AS bytes FROM gone`,
        [done],
      );
      this.storedBytes = Math.max(0, this.storedBytes - Number(gone.rows[0]?.bytes ?? 0));
    };
    const fence = this.options.fence;
    const run = fence
      ? fencedWrite(this.db, fence.name, this.term ?? -1, write, this.options.fenceIdleMs)
      : this.db.transaction(write);
    this.checkpointRunning = run
      .catch(() => {
        // Unreachable: tried again next time. Lease lost: the new leader replays from the
        // last checkpoint this node did write (a replayed message is deduplicated).
        this.progress.dirty = true;
      })
      .finally(() => {
        this.checkpointRunning = null;
      });
    return this.checkpointRunning;
  }
}
