/**
 * The durable outbox: every notification is a row in the stores' database (broker/sql:
 * SQLite, or PostgreSQL on a pair) before anything is sent, so a restart, a crash or a
 * takeover by the other node loses none (issue 15 part 4, issue 17 part 1).
 *
 *   pending -> sending -> delivered
 *                      -> pending (retryable failure: again after a backoff)
 *                      -> failed  (refused for good, or out of attempts)
 *   pending -> merged  (folded into a digest row by the rate limit)
 *
 * A row is claimed (`sending`, with a lease `claimed_until`) in the database before the
 * request and changed after the answer. The claim is one atomic statement: of two
 * connections claiming at once, one gets the row and the other nothing (PostgreSQL: the
 * row is picked FOR UPDATE SKIP LOCKED, PostgreSQL 15 docs, SELECT "The Locking Clause";
 * SQLite: one writer at a time, https://sqlite.org/lockingv3.html). On a pair every write
 * is fenced by the leader lease (broker/sql/postgres.ts), so a standby's claim is refused
 * and only the leader sends. The robots take no idempotency key, so a row whose claim ran
 * out still `sending` was in flight when its sender died: it is claimed again, sent once
 * more and counted as a repeat. On SQLite one broker owns the file, so at start its rows
 * left `sending` are taken back at once; on PostgreSQL they wait for their lease, since
 * the other node may still be sending them.
 *
 * Rate limit: each driver names its service's limit per minute (DingTalk and WeCom robots
 * 20; past it DingTalk blocks the robot for 10 minutes, errcode 130101). The outbox counts
 * requests per lane over a sliding 60 s window, and when more rows are waiting than the
 * window allows it merges them into one digest instead of queueing past the limit. A lane
 * is the channel, except for SMS: one per phone number, since the provider counts per
 * number (Alibaba Cloud: per number, sign and template) and a text must carry only its
 * reader's tickets, so an SMS row has one recipient and a digest never mixes people.
 *
 * Every counter (delivered, failed, retried, repeated after a crash, merged, dropped,
 * alerts) and every channel's failure spell is kept in the database per channel type, so
 * a restart neither resets what GET /api/health shows nor forgets a channel failing since
 * before it.
 *
 * A channel whose every attempt failed for `alertAfterMs` raises one `channel-alert`
 * through other channels per failure spell.
 */
import { randomUUID } from 'node:crypto';
import { CoalescedRun } from '../../lib/coalesced-run.js';
import type { Log } from '../log.js';
import {
  NotLeaderWriteError,
  type SqlDatabase,
  type SqlSession,
  type StoreMigration,
} from '../sql/types.js';
import { channelAlertMessage, digestMessage, splitByPhone } from './compose.js';
import type {
  ChannelDriver,
  ChannelRegistry,
  DeliveryResult,
  Language,
  OutgoingMessage,
} from './deps.js';

/** What a caller's hook may answer now or later. */
type Maybe<T> = T | Promise<T>;

export type OutboxState = 'pending' | 'sending' | 'delivered' | 'failed' | 'merged';

export interface OutboxRow {
  id: number;
  channelId: string;
  message: OutgoingMessage;
  ticketIds: number[];
  state: OutboxState;
  attempts: number;
  /** Epoch ms of the next attempt. */
  nextAt: number;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
  sentAt: string | null;
  /** Sent again after a restart found it in flight. */
  repeated: boolean;
  mergedInto: number | null;
  /** The same on every attempt (X-Vigil-Delivery of a webhook). */
  deliveryId: string;
  /** The channel's type when it was queued; 'unknown' for a row older than the column. */
  channelType: string;
  /** The recipient's phone of an SMS row, '' otherwise: its pace and its digests. */
  lane: string;
}

/** What the outbox has done, per channel type (GET /api/health). */
export interface OutboxCounts {
  /** Waiting or in flight now. */
  pending: number;
  delivered: number;
  /** Given up: refused for good or out of attempts (not `dropped`). */
  failed: number;
  retried: number;
  /** Sent again because a crash left them in flight. */
  repeats: number;
  /** Folded into a digest. */
  merged: number;
  /** No longer wanted when their turn came (their ticket acknowledged meanwhile). */
  dropped: number;
  /** Alerts this type's failing channels raised through others. */
  alerts: number;
}

/** A channel failing every attempt, since when (kept in SQLite). */
export interface FailingChannel {
  channelId: string;
  type: string;
  since: string;
  alerted: boolean;
  code: string;
}

const COUNTERS = [
  'delivered',
  'failed',
  'retried',
  'repeats',
  'merged',
  'dropped',
  'alerts',
] as const;
type Counter = (typeof COUNTERS)[number];

/** What happened to one attempt, for the ticket timeline. */
export type Outcome =
  { delivered: true } | { delivered: false; code: string; message: string; final: boolean };

export interface OutboxSettings {
  /** First retry after this many ms, doubling up to maxMs. */
  retryFirstMs: number;
  retryMaxMs: number;
  /** Attempts per row, first included. */
  attempts: number;
  /** A channel failing every attempt this long raises its alert. */
  alertAfterMs: number;
  /** One request's deadline. */
  sendTimeoutMs: number;
  /**
   * How long a graceful stop waits for requests under way to be answered and recorded, so
   * that only a crash (or a service that does not answer in time) repeats a message.
   */
  stopWaitMs: number;
  /**
   * Texts a minute to one number of an SMS channel. The SMS services set no rate per
   * minute but cap texts per number and day (Alibaba Cloud: 50 notifications), so a burst
   * must go as a few digests, not one text per alert.
   */
  smsPerMinute: number;
  /**
   * Longest a service's own wait (a retry-after: SMS flow control, a robot's block) may
   * hold an urgent message (an emergency, an SLA alert); past it the row is given up at
   * once, so the escalation hands it to other channels instead of paging late.
   */
  urgentMaxWaitMs: number;
  /**
   * How long a claimed row (`sending`) belongs to its sender: past it, a row still
   * `sending` is taken to have lost its sender (a crash, a node that lost the lead) and is
   * claimed again as a repeat. Never shorter than a request's deadline and its recording.
   */
  claimMs: number;
}

export const defaultOutboxSettings: OutboxSettings = {
  retryFirstMs: 5_000,
  retryMaxMs: 5 * 60_000,
  // 5 s, 10 s, 20 s ... 5 min: about 23 min of trying, past a robot's 10-minute block.
  attempts: 10,
  alertAfterMs: 10 * 60_000,
  sendTimeoutMs: 15_000,
  stopWaitMs: 15_000,
  smsPerMinute: 5,
  urgentMaxWaitMs: 120_000,
  claimMs: 60_000,
};

export interface OutboxOptions {
  db: SqlDatabase;
  channels: ChannelRegistry;
  log: Log;
  now?: () => Date;
  settings?: Partial<OutboxSettings>;
  /** Told of every attempt's outcome (the ticket timeline). */
  onOutcome?: (row: OutboxRow, outcome: Outcome) => unknown;
  /**
   * Whether a row is still worth sending (checked before every attempt, first or retry):
   * a page for a ticket acknowledged meanwhile is dropped, not sent late.
   */
  wanted?: (row: OutboxRow) => Maybe<boolean>;
  /**
   * Whether another channel carries an urgent row (the step's other channels, or a
   * fallback): only then is it given up rather than sit out a long wait of its service. A
   * robot that is the only way to reach anyone is waited for, late rather than never.
   */
  handOver?: (row: OutboxRow) => Maybe<boolean>;
  /** Where a failing channel's alert goes: other channels' ids, and their language. */
  alertTargets?: (channelId: string) => Maybe<{ channelIds: string[]; language: Language }>;
}

/** The wait before attempt `attempt + 1` after `attempt` failures: doubling, capped. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * How the rows waiting on one channel go out given the room left in its window: the
 * first `room - 1` alone and the rest as one digest, so that the channel never gets more
 * requests than its limit; all of them alone when they fit. Pure: tested alone.
 */
export function planSends<T>(waiting: readonly T[], room: number): { alone: T[]; merged: T[] } {
  if (waiting.length <= Math.max(room, 1)) return { alone: [...waiting], merged: [] };
  const alone = waiting.slice(0, Math.max(0, room - 1));
  const merged = waiting.slice(alone.length);
  return merged.length >= 2 ? { alone, merged } : { alone: [...waiting], merged: [] };
}

const WINDOW_MS = 60_000;

/**
 * The sends a channel's pace allows now, within its limit per minute: a token bucket of
 * `burst` (a sixth of the limit: 3 of DingTalk's 18) refilled one every 60 s / (limit -
 * burst) (4 s), replayed over the channel's sends of the last minute from full a minute
 * back. So at most `limit` go in any 60 s, and a burst of tickets goes out as a digest
 * every few seconds: sent alone while there was room, the 19th ticket of a burst waited for
 * most of a minute (bench:notify p95 56 s; issue 15 asks 5 s). `nextAt`: when the next
 * send may go, when none may now. Pure: tested alone.
 */
export function paced(
  sends: readonly number[],
  now: number,
  limit: number,
  perSecond?: number,
): { room: number; nextAt: number } {
  // A service that also limits each second (Feishu: 5) gets a burst that, with the
  // refill of the following second, stays within it: b + (limit - b) / 60 <= perSecond.
  const burst = Math.max(
    1,
    Math.min(
      Math.floor(limit / 6),
      perSecond === undefined ? Infinity : Math.floor(((perSecond - limit / 60) * 60) / 59),
    ),
  );
  const spacing = WINDOW_MS / Math.max(1, limit - burst);
  let tokens = burst;
  let at = now - WINDOW_MS;
  for (const t of [...sends].sort((a, b) => a - b)) {
    tokens = Math.min(burst, tokens + (Math.max(t, at) - at) / spacing) - 1;
    at = Math.max(t, at);
  }
  tokens = Math.min(burst, tokens + (now - at) / spacing);
  // A hair of slack: replayed floating-point refills must not lose a whole token.
  const room = Math.floor(tokens + 1e-6);
  return { room, nextAt: room > 0 ? now : now + Math.ceil((1 - tokens) * spacing) };
}

/** Failure codes caused by the message rather than the channel (channels/sms.ts, email.ts). */
export const MESSAGE_FAILURES: ReadonlySet<string> = new Set(['no-recipient']);

/**
 * A channel that cannot be opened (ChannelStore.driver decrypts its secrets): said without
 * the error's own text, which for a damaged row may quote the decrypted secrets.
 */
export function unopenable(error: unknown): Extract<DeliveryResult, { delivered: false }> {
  const noKey = error instanceof Error && /no secrets key/i.test(error.message);
  return {
    delivered: false,
    code: 'channel-unavailable',
    message: noKey
      ? 'cannot be opened: its secrets are encrypted and the broker has no secrets key (VIGIL_SECRETS_KEY missing). Start the broker with the key it used when the channel was saved, or enter the channel again.'
      : `cannot be opened: its secrets do not decrypt. VIGIL_SECRETS_KEY changed or is missing since the channel was saved: start the broker with the key it used, or enter the channel's secrets again.`,
    retryable: false,
  };
}

/**
 * Component "outbox": the same versions as before the move to broker/sql, so a vigil.db
 * of an earlier release upgrades in place. PostgreSQL gets the same final schema in its
 * own DDL (identity ids, BIGINT epoch milliseconds); its step 2 has no old rows to fix.
 */
const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: `
      CREATE TABLE notify_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel_id TEXT NOT NULL,
        message TEXT NOT NULL,
        ticket_ids TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT 'pending'
          CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'merged')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        last_attempt_at INTEGER,
        error_code TEXT,
        error_message TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        repeated INTEGER NOT NULL DEFAULT 0,
        merged_into INTEGER
      );
      CREATE INDEX notify_outbox_due ON notify_outbox (state, next_at);
    `,
    postgres: `
      CREATE TABLE notify_outbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel_id TEXT NOT NULL,
        message TEXT NOT NULL,
        ticket_ids TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT 'pending'
          CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'merged')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL,
        last_attempt_at BIGINT,
        error_code TEXT,
        error_message TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        repeated INTEGER NOT NULL DEFAULT 0,
        merged_into BIGINT
      );
      CREATE INDEX notify_outbox_due ON notify_outbox (state, next_at);
    `,
  },
  {
    version: 2,
    sqlite: `
      -- The delivery id of every attempt of a row (X-Vigil-Delivery), its channel's type
      -- (the counters, and the health of a channel since deleted), its lane (an SMS row's
      -- phone).
      ALTER TABLE notify_outbox ADD COLUMN delivery_id TEXT;
      ALTER TABLE notify_outbox ADD COLUMN channel_type TEXT;
      ALTER TABLE notify_outbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
      UPDATE notify_outbox SET delivery_id = lower(hex(randomblob(16))) WHERE delivery_id IS NULL;
      CREATE TABLE notify_outbox_counts (
        channel_type TEXT NOT NULL,
        counter TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (channel_type, counter)
      );
      CREATE TABLE notify_channel_spells (
        channel_id TEXT PRIMARY KEY,
        channel_type TEXT NOT NULL,
        since INTEGER NOT NULL,
        alerted INTEGER NOT NULL DEFAULT 0,
        code TEXT NOT NULL,
        message TEXT NOT NULL
      );
    `,
    postgres: `
      ALTER TABLE notify_outbox ADD COLUMN delivery_id TEXT;
      ALTER TABLE notify_outbox ADD COLUMN channel_type TEXT;
      ALTER TABLE notify_outbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
      CREATE TABLE notify_outbox_counts (
        channel_type TEXT NOT NULL,
        counter TEXT NOT NULL,
        n BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (channel_type, counter)
      );
      CREATE TABLE notify_channel_spells (
        channel_id TEXT PRIMARY KEY,
        channel_type TEXT NOT NULL,
        since BIGINT NOT NULL,
        alerted INTEGER NOT NULL DEFAULT 0,
        code TEXT NOT NULL,
        message TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    // The claim's lease (epoch ms): a row `sending` past it lost its sender (issue 17).
    sqlite: `ALTER TABLE notify_outbox ADD COLUMN claimed_until INTEGER`,
    postgres: `ALTER TABLE notify_outbox ADD COLUMN claimed_until BIGINT`,
  },
];

interface Row {
  id: number;
  channel_id: string;
  message: string;
  ticket_ids: string;
  state: OutboxState;
  attempts: number;
  next_at: number;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  sent_at: string | null;
  repeated: number;
  merged_into: number | null;
  delivery_id: string;
  channel_type: string | null;
  lane: string;
  claimed_until: number | null;
}

const view = (r: Row): OutboxRow => ({
  id: r.id,
  channelId: r.channel_id,
  message: JSON.parse(r.message) as OutgoingMessage,
  ticketIds: JSON.parse(r.ticket_ids) as number[],
  state: r.state,
  attempts: r.attempts,
  nextAt: r.next_at,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  createdAt: r.created_at,
  sentAt: r.sent_at,
  repeated: r.repeated === 1,
  mergedInto: r.merged_into,
  deliveryId: r.delivery_id,
  channelType: r.channel_type ?? 'unknown',
  lane: r.lane,
});

interface SpellRow {
  channel_id: string;
  channel_type: string;
  since: number;
  alerted: number;
  code: string;
  message: string;
}

/** The pace and window of a channel's lane: the channel, or one phone of an SMS channel. */
const laneKey = (channelId: string, lane: string): string =>
  lane === '' ? channelId : `${channelId}\u0000${lane}`;

/**
 * Due: pending and its time came, or `sending` with its claim run out (its sender died).
 * Both engines compare the same INTEGER / BIGINT epoch milliseconds.
 */
const DUE = `((state = 'pending' AND next_at <= @now)
  OR (state = 'sending' AND COALESCE(claimed_until, 0) <= @now))`;

/** How long a standby (its claims refused by the fence) waits before it looks again. */
const STANDBY_RETRY_MS = 5_000;

export class Outbox {
  readonly settings: OutboxSettings;
  private readonly now: () => Date;
  private readonly db: SqlDatabase;
  /** Per lane (laneKey): when its requests were answered, over the last minute. */
  private readonly sentAt = new Map<string, number[]>();
  private readonly busy = new Map<string, Promise<void>>();
  /** Channels whose secrets could not be opened, logged once until they open again. */
  private readonly unopened = new Set<string>();
  /**
   * Lanes held back: their window or pace is full, or the service asked to wait (a
   * retry-after: DingTalk's block, SMS flow control), until this moment.
   */
  private readonly heldUntil = new Map<string, number>();
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  /** Passes one at a time; one asked for during a pass runs after it (lib/coalesced-run.ts). */
  private readonly passes = new CoalescedRun(
    async () => {
      try {
        await this.pass();
      } catch (error) {
        this.failed('a pass', error);
      }
    },
    (askedAgain) => {
      if (askedAgain) this.kick();
      else
        this.schedule().catch((error: unknown) => {
          this.failed('planning the next pass', error);
          this.retryLater(STANDBY_RETRY_MS);
        });
    },
  );
  private lastFailure: string | null = null;
  private started = false;
  /** This node does not lead (a write was refused by the fence): look again then. */
  private standbyUntil = 0;

  constructor(private readonly opts: OutboxOptions) {
    this.now = opts.now ?? (() => new Date());
    this.db = opts.db;
    this.settings = { ...defaultOutboxSettings, ...opts.settings };
  }

  /** Creates the tables. Safe to call before start(), and more than once. */
  async migrate(): Promise<void> {
    await this.db.migrate('outbox', migrations);
  }

  /**
   * Creates the tables, takes back what a crash left in flight, and starts sending. On a
   * standby of a pair the writes of the take-back are refused (it does not lead): the
   * outbox starts all the same and sends once reload() is called on takeover.
   */
  async start(): Promise<void> {
    await this.migrate();
    this.started = true;
    await this.reload();
  }

  /**
   * Reads again what this node keeps in memory from the database: the lanes' windows (a
   * robot counts our requests, not our processes or nodes), and takes back rows left in
   * flight; then sends what is due. The broker calls it at start and on takeover (the
   * new leader of a pair: broker/app.ts).
   */
  async reload(): Promise<void> {
    this.standbyUntil = 0;
    this.heldUntil.clear();
    this.sentAt.clear();
    const now = this.now().getTime();
    const recent = await this.db.all<{ channel_id: string; lane: string; last_attempt_at: number }>(
      'SELECT channel_id, lane, last_attempt_at FROM notify_outbox WHERE last_attempt_at > ?',
      [now - WINDOW_MS],
    );
    for (const r of recent) this.window(laneKey(r.channel_id, r.lane), now).push(r.last_attempt_at);
    try {
      await this.takeBack(now);
    } catch (error) {
      this.failed('taking back the notifications left in flight', error);
    }
    this.kick();
  }

  private async takeBack(now: number): Promise<void> {
    // Rows queued before the type column: their channel's type now, if it still exists.
    const untyped = await this.db.all<{ channel_id: string }>(
      'SELECT DISTINCT channel_id FROM notify_outbox WHERE channel_type IS NULL',
    );
    for (const { channel_id: id } of untyped)
      await this.db.run(
        'UPDATE notify_outbox SET channel_type = ? WHERE channel_id = ? AND channel_type IS NULL',
        [await this.typeOf(id), id],
      );
    // One broker owns a SQLite file: what it left `sending` died with it, and goes again
    // now. On PostgreSQL the other node may still be sending it: it waits for its claim.
    const inFlight =
      this.db.dialect === 'sqlite'
        ? (
            await this.db.run(
              "UPDATE notify_outbox SET claimed_until = NULL WHERE state = 'sending'",
            )
          ).changes
        : ((
            await this.db.get<{ n: number }>(
              "SELECT COUNT(*) AS n FROM notify_outbox WHERE state = 'sending' AND COALESCE(claimed_until, 0) <= ?",
              [now],
            )
          )?.n ?? 0);
    if (inFlight > 0)
      this.opts.log.warn(
        `${inFlight} notification(s) were in flight when the broker stopped; sending them again (a recipient may see them twice)`,
      );
    // Finished rows are kept 30 days: the delivery log of the channels screen.
    await this.db.run(
      "DELETE FROM notify_outbox WHERE state IN ('delivered', 'failed', 'merged') AND next_at < ?",
      [now - 30 * 24 * 3600_000],
    );
  }

  /**
   * Stops sending. Nothing new starts; requests under way get up to `stopWaitMs` to be
   * answered and recorded, since the robots take no idempotency key and a row left
   * `sending` is sent again at the next start. Past that they are aborted and left
   * `sending`: the next start repeats them and counts it, as after a crash.
   */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.passes.current;
    const under = Promise.allSettled([...this.busy.values()]);
    let bound: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      under.then(() => true),
      new Promise<false>((done) => {
        bound = setTimeout(() => done(false), this.settings.stopWaitMs);
      }),
    ]);
    clearTimeout(bound);
    if (!waited)
      this.opts.log.warn(
        `stopping with ${this.busy.size} channel(s) still waiting for an answer after ${this.settings.stopWaitMs} ms; their messages are sent again at the next start`,
      );
    this.controller.abort();
    await Promise.allSettled([...this.busy.values()]);
  }

  /**
   * Queues one notification for one channel; returns its row id. For an SMS channel, one
   * row per recipient's phone (the first id returned): each number has its own pace and
   * digests, and a text carries only its reader's tickets. Inside a caller's transaction
   * (`tx`) the rows go in with it, and the caller calls wake() after its commit: a pass
   * before it would not see them (PostgreSQL), or would send what a rollback takes back.
   * `type`, the channel's type, is then required: nothing but `tx` may be read inside it.
   */
  async enqueue(
    channelId: string,
    message: OutgoingMessage,
    tx?: SqlSession,
    type?: string,
  ): Promise<number> {
    if (tx !== undefined && type === undefined)
      throw new Error('Outbox.enqueue inside a transaction needs the channel type');
    const at = this.now().getTime();
    type ??= await this.typeOf(channelId);
    const parts: [string, OutgoingMessage][] =
      type === 'sms' ? splitByPhone(message) : [['', message]];
    const kind = type;
    const write = async (session: SqlSession) => {
      const ids: number[] = [];
      for (const [lane, part] of parts)
        ids.push(await this.insert(session, channelId, kind, lane, part, at));
      return ids;
    };
    const ids =
      tx !== undefined
        ? await write(tx)
        : parts.length === 1
          ? await write(this.db)
          : await this.db.transaction(write);
    if (tx === undefined) this.kick();
    return ids[0]!;
  }

  /** Looks for due rows now (after a caller's transaction that queued some committed). */
  wake(): void {
    this.kick();
  }

  private async insert(
    session: SqlSession,
    channelId: string,
    type: string,
    lane: string,
    message: OutgoingMessage,
    at: number,
  ): Promise<number> {
    const { rows } = await session.run<{ id: number }>(
      `INSERT INTO notify_outbox
         (channel_id, channel_type, lane, delivery_id, message, ticket_ids, next_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING id`,
      [
        channelId,
        type,
        lane,
        randomUUID(),
        JSON.stringify(message),
        JSON.stringify(message.ticketIds),
        at,
        new Date(at).toISOString(),
      ],
    );
    return Number(rows[0]!.id);
  }

  private async typeOf(channelId: string): Promise<string> {
    return (await this.opts.channels.get(channelId))?.type ?? 'unknown';
  }

  /** Adds to a counter of a channel type, in the database. */
  private async count(session: SqlSession, type: string, counter: Counter, by = 1): Promise<void> {
    await session.run(
      `INSERT INTO notify_outbox_counts (channel_type, counter, n) VALUES (?, ?, ?)
       ON CONFLICT (channel_type, counter) DO UPDATE SET n = notify_outbox_counts.n + excluded.n`,
      [type, counter, by],
    );
  }

  /** Every counter summed over the channel types, since the outbox's table was made. */
  async counters(): Promise<Record<Counter, number>> {
    const out = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
    for (const counts of Object.values((await this.stats()).byType))
      for (const c of COUNTERS) out[c] += counts[c];
    return out;
  }

  /**
   * The counters per channel type (since the table was made; kept across restarts), the
   * rows waiting or in flight now, and the channels failing now with when they started:
   * GET /api/health. Never a message, a recipient or a secret.
   */
  async stats(): Promise<{ byType: Record<string, OutboxCounts>; failing: FailingChannel[] }> {
    const byType: Record<string, OutboxCounts> = {};
    const of = (type: string): OutboxCounts =>
      (byType[type] ??= {
        pending: 0,
        delivered: 0,
        failed: 0,
        retried: 0,
        repeats: 0,
        merged: 0,
        dropped: 0,
        alerts: 0,
      });
    const counts = await this.db.all<{ channel_type: string; counter: Counter; n: number }>(
      'SELECT channel_type, counter, n FROM notify_outbox_counts',
    );
    for (const r of counts)
      if ((COUNTERS as readonly string[]).includes(r.counter)) of(r.channel_type)[r.counter] = r.n;
    const waiting = await this.db.all<{ type: string | null; n: number }>(
      "SELECT channel_type AS type, COUNT(*) AS n FROM notify_outbox WHERE state IN ('pending', 'sending') GROUP BY channel_type",
    );
    for (const r of waiting) of(r.type ?? 'unknown').pending = r.n;
    const spells = await this.db.all<SpellRow>(
      'SELECT * FROM notify_channel_spells ORDER BY since',
    );
    const failing = spells.map((r) => ({
      channelId: r.channel_id,
      type: r.channel_type,
      since: new Date(r.since).toISOString(),
      alerted: r.alerted === 1,
      code: r.code,
    }));
    return { byType, failing };
  }

  async get(id: number): Promise<OutboxRow | undefined> {
    const row = await this.db.get<Row>('SELECT * FROM notify_outbox WHERE id = ?', [id]);
    return row === undefined ? undefined : view(row);
  }

  /** The newest rows, of one channel or all: the delivery log. */
  async list(channelId?: string, limit = 100): Promise<OutboxRow[]> {
    const rows =
      channelId === undefined
        ? await this.db.all<Row>('SELECT * FROM notify_outbox ORDER BY id DESC LIMIT ?', [limit])
        : await this.db.all<Row>(
            'SELECT * FROM notify_outbox WHERE channel_id = ? ORDER BY id DESC LIMIT ?',
            [channelId, limit],
          );
    return rows.map(view);
  }

  /**
   * Claims one due row for this sender, in one atomic statement: of two connections (the
   * nodes of a pair, two outboxes on one file) claiming at once, one gets it and the other
   * undefined. A row whose claim ran out while `sending` comes back as a repeat. On a
   * standby the fence refuses the statement (NotLeaderWriteError).
   */
  async claim(id: number): Promise<OutboxRow | undefined> {
    const now = this.now().getTime();
    const until = now + Math.max(this.settings.claimMs, this.settings.sendTimeoutMs + 5_000);
    // SKIP LOCKED: a row another transaction holds is not waited for but left to it.
    const lock = this.db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const { rows } = await this.db.run<Row & { was_sending: number }>(
      `UPDATE notify_outbox SET
         repeated = CASE WHEN state = 'sending' THEN 1 ELSE repeated END,
         state = 'sending', attempts = attempts + 1, last_attempt_at = @now,
         claimed_until = @until
       WHERE id = (SELECT id FROM notify_outbox WHERE id = @id AND ${DUE}${lock})
       RETURNING *`,
      { id, now, until },
    );
    const row = rows[0];
    return row === undefined ? undefined : view(row);
  }

  /**
   * One message outside the queue (the channels screen's test button), within the
   * channel's limit: it counts in the window like any request, so a few test presses during
   * a burst cannot push a robot past its limit (DingTalk would block it for 10 minutes);
   * when there is no room now it is not sent but answered `rate-limited`, with the wait.
   */
  async sendOutside(
    channelId: string,
    driver: ChannelDriver,
    message: OutgoingMessage,
  ): Promise<DeliveryResult> {
    const lane = driver.type === 'sms' ? (splitByPhone(message)[0]?.[0] ?? '') : '';
    const key = laneKey(channelId, lane);
    const now = this.now().getTime();
    const limit = this.limitOf(driver);
    let wait = Math.max(0, (this.heldUntil.get(key) ?? 0) - now);
    if (wait === 0) {
      const { room, wakeAt } = this.room(key, driver, now);
      if (room <= 0) wait = wakeAt - now;
    }
    if (wait > 0)
      return {
        delivered: false,
        code: 'rate-limited',
        message: `The channel is at its service's limit (${limit ?? '-'} a minute) with the notifications going out now; try again in ${Math.ceil(wait / 1000)} s.`,
        retryable: true,
        retryAfterMs: wait,
      };
    this.window(key, now).push(now);
    const result = await driver.send(message, AbortSignal.timeout(this.settings.sendTimeoutMs));
    const list = this.sentAt.get(key) ?? [];
    const at = list.indexOf(now);
    if (at >= 0) list.splice(at, 1);
    list.push(this.now().getTime());
    if (!result.delivered && result.retryable && result.retryAfterMs !== undefined)
      this.heldUntil.set(key, this.now().getTime() + result.retryAfterMs);
    return result;
  }

  /** Resolves when nothing is due or in flight (tests). */
  async idle(): Promise<void> {
    for (;;) {
      await this.passes.current;
      await Promise.allSettled([...this.busy.values()]);
      if (this.passes.current === null && this.busy.size === 0) return;
    }
  }

  /** Sends what is due now (the timer calls it; tests may too). */
  runDue(): Promise<void> {
    return this.passes.run();
  }

  private kick(): void {
    if (this.started) this.runDue().catch((error: unknown) => this.failed('a pass', error));
  }

  /** A database that cannot be reached: look again later, never spin on it. */
  private retryLater(ms: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
    this.timer.unref();
  }

  /**
   * Nothing of the outbox may end the broker: a promise nobody awaits that rejects is an
   * unhandled rejection, which stops Node. Said once per cause, without the error's text
   * repeated if it comes back every pass. A write refused because this node does not lead
   * is no failure: the outbox waits, and the leader sends.
   */
  private failed(what: string, error: unknown): void {
    if (error instanceof NotLeaderWriteError) {
      if (this.standbyUntil === 0)
        this.opts.log.info(`notification outbox: this node does not lead; the leader sends`);
      this.standbyUntil = this.now().getTime() + STANDBY_RETRY_MS;
      return;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (text === this.lastFailure) return;
    this.lastFailure = text;
    this.opts.log.error(`notification outbox: ${what} failed: ${text}`);
  }

  private window(lane: string, now: number): number[] {
    const list = (this.sentAt.get(lane) ?? []).filter((t) => t > now - WINDOW_MS);
    this.sentAt.set(lane, list);
    return list;
  }

  /** One look at the due rows: plan each idle channel's sends and start them. */
  private async pass(): Promise<void> {
    const { channels } = this.opts;
    const now = this.now().getTime();
    if (this.standbyUntil > now) return;
    const due = (
      await this.db.all<Row>(`SELECT * FROM notify_outbox WHERE ${DUE} ORDER BY id`, { now })
    ).map((r) => (r.state === 'sending' ? { ...view(r), repeated: true } : view(r)));
    const byChannel = new Map<string, OutboxRow[]>();
    for (const row of due) {
      const list = byChannel.get(row.channelId) ?? [];
      list.push(row);
      byChannel.set(row.channelId, list);
    }
    for (const [channelId, all] of byChannel) {
      if (this.busy.has(channelId)) continue;
      if (this.standbyUntil > now) return;
      const rows = await this.keep(all);
      if (rows.length === 0) continue;
      let driver: ChannelDriver | undefined;
      try {
        driver = await channels.driver(channelId);
      } catch (error) {
        // Opening a channel decrypts its secrets; a changed or missing VIGIL_SECRETS_KEY
        // (or a damaged row) throws here. One channel that cannot be opened must not stop
        // the others, nor the broker: like a disabled channel it is unavailable, and its
        // pages fail at once, so that the escalation hands them to other channels now
        // rather than after 23 minutes of retries.
        const result = unopenable(error);
        if (!this.unopened.has(channelId)) {
          this.unopened.add(channelId);
          const name = (await this.opts.channels.get(channelId))?.name ?? channelId;
          this.opts.log.error(`channel "${name}" (${channelId}) ${result.message}`);
        }
        for (const row of rows) {
          const claimed = await this.claim(row.id);
          if (claimed) await this.finish(claimed, result);
        }
        continue;
      }
      this.unopened.delete(channelId);
      if (driver === undefined) {
        for (const row of rows) {
          const claimed = await this.claim(row.id);
          if (!claimed) continue;
          await this.finish(claimed, {
            delivered: false,
            code: 'channel-unavailable',
            message: `channel ${channelId} is unknown or disabled; enable it or remove it from the team`,
            retryable: false,
          });
        }
        continue;
      }
      const sends = await this.plan(channelId, driver, rows, now);
      if (sends.length === 0) continue;
      const ready = driver;
      const work = (async () => {
        for (const row of sends) {
          // Stopping: what has not started waits in the database for the next start.
          if (!this.started || this.controller.signal.aborted) return;
          // The service asked this lane to wait (a block, flow control): the rest of it waits too.
          if ((this.heldUntil.get(laneKey(channelId, row.lane)) ?? 0) > this.now().getTime()) {
            if (ready.ordered) return;
            continue;
          }
          const delivered = await this.send(row, ready);
          // A receiver that takes changes in order gets none past one still to be retried.
          if (!delivered && ready.ordered) return;
        }
      })()
        .catch((error: unknown) => this.failed(`sending through channel ${channelId}`, error))
        .finally(() => {
          this.busy.delete(channelId);
          this.kick();
        });
      this.busy.set(channelId, work);
    }
  }

  /**
   * What goes now of one channel's due rows, lane by lane (the channel; each phone of an
   * SMS channel): within the lane's pace, a repeat alone and first, what fits alone, the
   * rest as one digest.
   */
  private async plan(
    channelId: string,
    driver: ChannelDriver,
    rows: OutboxRow[],
    now: number,
  ): Promise<OutboxRow[]> {
    let candidates = rows;
    if (driver.ordered) {
      // In order: nothing past the oldest row still waiting for its retry.
      const blocked = await this.db.get<{ id: number | null }>(
        "SELECT MIN(id) AS id FROM notify_outbox WHERE channel_id = ? AND state = 'pending' AND next_at > ?",
        [channelId, now],
      );
      const first = blocked?.id ?? null;
      if (first !== null) candidates = rows.filter((r) => r.id < first);
    }
    const byLane = new Map<string, OutboxRow[]>();
    for (const row of candidates) byLane.set(row.lane, [...(byLane.get(row.lane) ?? []), row]);
    const sends: OutboxRow[] = [];
    for (const [lane, waiting] of byLane) {
      const key = laneKey(channelId, lane);
      if ((this.heldUntil.get(key) ?? 0) > now) continue;
      this.heldUntil.delete(key);
      const { room, wakeAt } = this.room(key, driver, now);
      if (room <= 0) {
        // Held back: the timer comes back when the pace or the window lets the next
        // request go, not every pass. Nothing is merged yet: rows that come meanwhile
        // join the digest made when it actually goes, once.
        this.heldUntil.set(key, wakeAt);
        continue;
      }
      // A repeat (in flight at a crash) goes first and alone, as it was: it may have reached
      // the service already, and its ticket's timeline says it was sent again; folded into
      // a digest it would be neither.
      const repeats = waiting.filter((r) => r.repeated).slice(0, room);
      const others = waiting.filter((r) => !r.repeated);
      const left = room - repeats.length;
      let lanes = repeats;
      // An ordered channel sends each row as it is, in order: a digest would reorder them.
      if (left > 0 && others.length > 0 && !driver.ordered) {
        const plan = planSends(others, left);
        lanes = [...lanes, ...plan.alone];
        if (plan.merged.length > 0) {
          const digest = await this.merge(channelId, lane, plan.merged, now);
          if (digest) lanes = [...lanes, digest];
        }
      } else if (left > 0) lanes = [...lanes, ...others];
      sends.push(...lanes.slice(0, room === Infinity ? lanes.length : room));
    }
    return sends;
  }

  /** Requests a minute the channel takes; null: no limit. */
  private limitOf(driver: ChannelDriver): number | null {
    return driver.perMinute ?? (driver.type === 'sms' ? this.settings.smsPerMinute : null);
  }

  /**
   * How many requests a lane may send now, and when the next may go if none: the limit in
   * any 60 s is the hard cap, the pace spreads what it allows.
   */
  private room(key: string, driver: ChannelDriver, now: number): { room: number; wakeAt: number } {
    const limit = this.limitOf(driver);
    if (limit === null) return { room: Infinity, wakeAt: now };
    const window = this.window(key, now);
    const times = [...window].sort((a, b) => a - b);
    const pace = paced(times, now, limit, driver.perSecond);
    const freed = window.length >= limit ? (times[times.length - limit] ?? now) + WINDOW_MS : now;
    return {
      room: Math.min(limit - window.length, pace.room),
      wakeAt: Math.max(pace.nextAt, freed),
    };
  }

  /**
   * The rows still wanted; the others are closed as `failed` with the code `not-needed`
   * (the table's states predate this; the code tells them apart in the delivery log).
   */
  private async keep(rows: OutboxRow[]): Promise<OutboxRow[]> {
    const { wanted } = this.opts;
    if (!wanted) return rows;
    const kept: OutboxRow[] = [];
    for (const row of rows) {
      let keepIt = true;
      try {
        keepIt = await wanted(row);
      } catch (error) {
        this.failed('deciding whether a notification is still wanted', error);
      }
      if (keepIt) {
        kept.push(row);
        continue;
      }
      await this.db.transaction(async (tx) => {
        const { changes } = await tx.run(
          "UPDATE notify_outbox SET state = 'failed', error_code = 'not-needed', error_message = ? WHERE id = ? AND state = 'pending'",
          ['its tickets were acknowledged or closed before it could go', row.id],
        );
        if (changes === 1) await this.count(tx, row.channelType, 'dropped');
      });
    }
    return kept;
  }

  /**
   * Folds `rows` (of one lane) into one digest row; they become `merged`. Only the rows
   * still pending when the transaction takes them are folded (another connection may have
   * claimed some meanwhile); fewer than two left: nothing is merged, they go alone later.
   */
  private async merge(
    channelId: string,
    lane: string,
    rows: OutboxRow[],
    now: number,
  ): Promise<OutboxRow | undefined> {
    const type = rows[0]?.channelType ?? (await this.typeOf(channelId));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const id = await this.db
      .transaction(async (tx) => {
        const taken: OutboxRow[] = [];
        for (const row of rows) {
          const { changes } = await tx.run(
            "UPDATE notify_outbox SET state = 'merged' WHERE id = ? AND state = 'pending'",
            [row.id],
          );
          if (changes === 1) taken.push(byId.get(row.id)!);
        }
        if (taken.length < 2) throw new NothingToMerge();
        const digest = digestMessage(taken.map((r) => r.message));
        const newId = await this.insert(tx, channelId, type, lane, digest, now);
        await tx.run(
          `UPDATE notify_outbox SET merged_into = ? WHERE id IN (${taken.map(() => '?').join(', ')})`,
          [newId, ...taken.map((r) => r.id)],
        );
        await this.count(tx, type, 'merged', taken.length);
        return newId;
      })
      .catch((error: unknown) => {
        if (error instanceof NothingToMerge) return undefined;
        throw error;
      });
    return id === undefined ? undefined : this.get(id);
  }

  /** One attempt of one row; true when delivered. */
  private async send(planned: OutboxRow, driver: ChannelDriver): Promise<boolean> {
    // In the database before the request, atomically: a crash from here on is a repeat
    // once the claim runs out, and no other connection sends it meanwhile.
    const row = await this.claim(planned.id);
    if (row === undefined) return false;
    if (planned.state === 'sending') {
      // In flight when its sender died: counted once, as it goes again.
      await this.count(this.db, row.channelType, 'repeats');
    }
    const startedAt = this.now().getTime();
    const key = laneKey(row.channelId, row.lane);
    this.window(key, startedAt).push(startedAt);
    const signal = AbortSignal.any([
      this.controller.signal,
      AbortSignal.timeout(this.settings.sendTimeoutMs),
    ]);
    let result: DeliveryResult;
    try {
      result = await driver.send(row.message, signal, {
        deliveryId: row.deliveryId,
        attempt: row.attempts,
      });
    } catch (error) {
      // Drivers never throw (the channels' contract); one that does is a bug, still retried.
      result = {
        delivered: false,
        code: 'driver-error',
        message: error instanceof Error ? error.message : String(error),
        retryable: true,
      };
    }
    // Stopped mid-request: we cannot know whether it arrived; leave the row `sending`.
    if (this.controller.signal.aborted) return false;
    // The window counts the request from its answer on: the service took it somewhere
    // between our start and its answer, and counts its own minute from then. Counting
    // from our start, a slow answer followed by a fast one could land 21 in its minute.
    const answeredAt = this.now().getTime();
    const list = this.sentAt.get(key) ?? [];
    const at = list.indexOf(startedAt);
    if (at >= 0) list.splice(at, 1);
    list.push(answeredAt);
    await this.db.run('UPDATE notify_outbox SET last_attempt_at = ? WHERE id = ?', [
      answeredAt,
      row.id,
    ]);
    await this.finish(row, result, driver.retry);
    return result.delivered;
  }

  /** Records the outcome of an attempt of a claimed row (`row.attempts` counts it). */
  private async finish(
    row: OutboxRow,
    result: DeliveryResult,
    retry?: { attempts: number; firstMs: number },
  ): Promise<void> {
    const { log } = this.opts;
    const now = this.now();
    const nowMs = now.getTime();
    if (result.delivered) {
      const ended = await this.db.transaction(async (tx) => {
        await tx.run(
          "UPDATE notify_outbox SET state = 'delivered', sent_at = ?, claimed_until = NULL WHERE id = ?",
          [now.toISOString(), row.id],
        );
        await this.count(tx, row.channelType, 'delivered');
        const { rows } = await tx.run<{ alerted: number }>(
          'DELETE FROM notify_channel_spells WHERE channel_id = ? RETURNING alerted',
          [row.channelId],
        );
        return rows[0];
      });
      if (ended?.alerted === 1) log.info(`channel ${row.channelId} delivers again`);
      await this.tell({ ...row, state: 'delivered' }, { delivered: true });
      return;
    }
    const attempts = retry?.attempts ?? this.settings.attempts;
    const wait = Math.max(
      backoffMs(
        row.attempts,
        retry?.firstMs ?? this.settings.retryFirstMs,
        this.settings.retryMaxMs,
      ),
      result.retryAfterMs ?? 0,
    );
    // The service asked to wait (a robot's block, SMS flow control): the whole lane waits,
    // not only this row; the next rows would be refused the same way.
    if (result.retryable && result.retryAfterMs !== undefined)
      this.heldUntil.set(laneKey(row.channelId, row.lane), nowMs + result.retryAfterMs);
    // An emergency or an SLA alert does not sit out a long wait of the service: given up
    // now, the escalation hands it to other channels (docs/NOTIFY.md).
    const tooLate =
      result.retryable &&
      row.message.urgent === true &&
      (result.retryAfterMs ?? 0) > this.settings.urgentMaxWaitMs &&
      (await this.handsOver(row));
    const final = !result.retryable || tooLate || row.attempts >= attempts;
    const message = tooLate
      ? `${result.message} (the service asks to wait ${Math.round((result.retryAfterMs ?? 0) / 60_000)} min, too long for an urgent notification: handed to other channels)`
      : result.message;
    await this.db.transaction(async (tx) => {
      await tx.run(
        'UPDATE notify_outbox SET state = ?, next_at = ?, error_code = ?, error_message = ?, claimed_until = NULL WHERE id = ?',
        [final ? 'failed' : 'pending', final ? nowMs : nowMs + wait, result.code, message, row.id],
      );
      await this.count(tx, row.channelType, final ? 'failed' : 'retried');
    });
    if (final)
      log.warn(
        `notification ${row.id} through channel ${row.channelId} given up after ${row.attempts} attempt(s): ${result.code}: ${message}`,
      );
    await this.tell(
      { ...row, state: final ? 'failed' : 'pending' },
      { delivered: false, code: result.code, message, final },
    );
    // A failure of the message, not of the channel (nobody in it has a phone or an email
    // address), says nothing of the channel's health; nor does flow control of one number.
    if (
      result.code !== 'channel-unavailable' &&
      !MESSAGE_FAILURES.has(result.code) &&
      result.perRecipient !== true
    )
      await this.failing(row.channelId, row.channelType, result, nowMs);
  }

  private async handsOver(row: OutboxRow): Promise<boolean> {
    try {
      return (await this.opts.handOver?.(row)) ?? false;
    } catch (error) {
      this.failed('deciding whether another channel carries a notification', error);
      return false;
    }
  }

  /** The timeline hears of an outcome; its failure must not stop the channel's other sends. */
  private async tell(row: OutboxRow, outcome: Outcome): Promise<void> {
    try {
      await this.opts.onOutcome?.(row, outcome);
    } catch (error) {
      this.failed(`recording the outcome of notification ${row.id}`, error);
    }
  }

  /**
   * Counts a failure into the channel's spell (in the database: a restart does not forget
   * a channel failing since before it) and raises its alert once, whichever node sees it.
   */
  private async failing(
    channelId: string,
    type: string,
    result: Extract<DeliveryResult, { delivered: false }>,
    now: number,
  ): Promise<void> {
    await this.db.run(
      `INSERT INTO notify_channel_spells (channel_id, channel_type, since, alerted, code, message)
       VALUES (?, ?, ?, 0, ?, ?)
       ON CONFLICT (channel_id) DO UPDATE SET code = excluded.code, message = excluded.message`,
      [channelId, type, now, result.code, result.message],
    );
    const spell = await this.db.get<SpellRow>(
      'SELECT * FROM notify_channel_spells WHERE channel_id = ?',
      [channelId],
    );
    if (spell === undefined) return;
    // A refusal no retry changes (a revoked robot token, a changed secret: DingTalk
    // 300005 / 310000, WeCom 93000, Feishu 19021) alerts at once: a quiet night may bring
    // no second failure to make a spell of.
    const refused = !result.retryable;
    if (spell.alerted === 1 || (!refused && now - spell.since < this.settings.alertAfterMs)) return;
    // Once per spell: of two writers, the one whose update changed the row alerts.
    const mark = await this.db.run(
      'UPDATE notify_channel_spells SET alerted = 1 WHERE channel_id = ? AND alerted = 0',
      [channelId],
    );
    if (mark.changes !== 1) return;
    const targets = (await this.opts.alertTargets?.(channelId)) ?? {
      channelIds: [],
      language: 'zh-CN',
    };
    const alerted = new Set(
      (
        await this.db.all<{ channel_id: string }>(
          'SELECT channel_id FROM notify_channel_spells WHERE alerted = 1',
        )
      ).map((r) => r.channel_id),
    );
    const others = targets.channelIds.filter((id) => id !== channelId && !alerted.has(id));
    const name = (await this.opts.channels.get(channelId))?.name ?? channelId;
    const minutes = Math.round((now - spell.since) / 60_000);
    this.opts.log.error(
      `channel "${name}" (${channelId}) ${refused ? 'refused a notification for good' : `has failed every delivery for ${minutes} min`} (${result.code}: ${result.message}); alerting through ${others.length} other channel(s)`,
    );
    await this.count(this.db, type, 'alerts');
    for (const id of others) {
      await this.enqueue(
        id,
        channelAlertMessage(name, minutes, result.code, result.message, targets.language, refused),
      );
    }
  }

  /**
   * Wakes at the next moment something can go: per lane, its earliest pending row (or the
   * end of a claim whose sender may have died), or later when it is held; a channel under
   * way is woken by its own completion.
   */
  private async schedule(): Promise<void> {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = await this.db.all<{ channel_id: string; lane: string; at: number }>(
      `SELECT channel_id, lane, MIN(CASE WHEN state = 'pending' THEN next_at ELSE COALESCE(claimed_until, 0) END) AS at
       FROM notify_outbox WHERE state IN ('pending', 'sending') GROUP BY channel_id, lane`,
    );
    if (!this.started) return;
    const now = this.now().getTime();
    let at = Infinity;
    for (const { channel_id: id, lane, at: due } of next) {
      if (this.busy.has(id)) continue;
      at = Math.min(at, Math.max(due, this.heldUntil.get(laneKey(id, lane)) ?? 0));
    }
    if (this.standbyUntil > now) at = Math.max(at, this.standbyUntil);
    if (at === Infinity) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(10, Math.min(at - now, 60_000)));
    this.timer.unref();
  }
}

/** A merge that found fewer than two rows still pending: rolled back, nothing merged. */
class NothingToMerge extends Error {}
