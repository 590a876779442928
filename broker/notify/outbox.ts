/**
 * The durable outbox: every notification is a row in SQLite before anything is sent, so
 * a restart or a crash loses none (issue 15 part 4).
 *
 *   pending -> sending -> delivered
 *                      -> pending (retryable failure: again after a backoff)
 *                      -> failed  (refused for good, or out of attempts)
 *   pending -> merged  (folded into a digest row by the rate limit)
 *
 * A row is marked `sending` in the database before the request and changed after the
 * answer. The robots take no idempotency key, so a row found `sending` at start was in
 * flight when the broker died: it is sent once more and counted as a repeat; `pending`
 * rows are simply sent.
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
 * alerts) and every channel's failure spell is kept in SQLite per channel type, so a
 * restart neither resets what GET /api/health shows nor forgets a channel failing since
 * before it.
 *
 * A channel whose every attempt failed for `alertAfterMs` raises one `channel-alert`
 * through other channels per failure spell.
 */
import { randomUUID } from 'node:crypto';
import { migrate, type Db, type Migration } from '../db.js';
import type { Log } from '../log.js';
import { channelAlertMessage, digestMessage, splitByPhone } from './compose.js';
import type {
  ChannelDriver,
  ChannelRegistry,
  DeliveryResult,
  Language,
  OutgoingMessage,
} from './deps.js';

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
};

export interface OutboxOptions {
  db: Db;
  channels: ChannelRegistry;
  log: Log;
  now?: () => Date;
  settings?: Partial<OutboxSettings>;
  /** Told of every attempt's outcome (the ticket timeline). */
  onOutcome?: (row: OutboxRow, outcome: Outcome) => void;
  /**
   * Whether a row is still worth sending (checked before every attempt, first or retry):
   * a page for a ticket acknowledged meanwhile is dropped, not sent late.
   */
  wanted?: (row: OutboxRow) => boolean;
  /**
   * Whether another channel carries an urgent row (the step's other channels, or a
   * fallback): only then is it given up rather than sit out a long wait of its service. A
   * robot that is the only way to reach anyone is waited for, late rather than never.
   */
  handOver?: (row: OutboxRow) => boolean;
  /** Where a failing channel's alert goes: other channels' ids, and their language. */
  alertTargets?: (channelId: string) => { channelIds: string[]; language: Language };
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

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
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
  },
  {
    version: 2,
    sql: `
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

export class Outbox {
  readonly settings: OutboxSettings;
  private readonly now: () => Date;
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
  private running: Promise<void> | null = null;
  private again = false;
  private lastFailure: string | null = null;
  private started = false;

  constructor(private readonly opts: OutboxOptions) {
    this.now = opts.now ?? (() => new Date());
    this.settings = { ...defaultOutboxSettings, ...opts.settings };
  }

  /** Creates the table, takes back what a crash left in flight, and starts sending. */
  start(): void {
    migrate(this.opts.db, 'outbox', migrations);
    const { db } = this.opts;
    const now = this.now().getTime();
    // Rows queued before the type column: their channel's type now, if it still exists.
    const untyped = db
      .prepare('SELECT DISTINCT channel_id FROM notify_outbox WHERE channel_type IS NULL')
      .all() as { channel_id: string }[];
    for (const { channel_id: id } of untyped)
      db.prepare(
        'UPDATE notify_outbox SET channel_type = ? WHERE channel_id = ? AND channel_type IS NULL',
      ).run(this.typeOf(id), id);
    // The window survives a restart: a robot counts our requests, not our processes.
    const recent = db
      .prepare(
        'SELECT channel_id, lane, last_attempt_at FROM notify_outbox WHERE last_attempt_at > ?',
      )
      .all(now - WINDOW_MS) as { channel_id: string; lane: string; last_attempt_at: number }[];
    for (const r of recent) this.window(laneKey(r.channel_id, r.lane), now).push(r.last_attempt_at);
    const inFlight = db.transaction(() => {
      const byType = db
        .prepare(
          "SELECT channel_type AS type, COUNT(*) AS n FROM notify_outbox WHERE state = 'sending' GROUP BY channel_type",
        )
        .all() as { type: string | null; n: number }[];
      for (const { type, n } of byType) this.count(type ?? 'unknown', 'repeats', n);
      return db
        .prepare(
          "UPDATE notify_outbox SET state = 'pending', repeated = 1, next_at = ? WHERE state = 'sending'",
        )
        .run(now).changes;
    })();
    if (inFlight > 0) {
      this.opts.log.warn(
        `${inFlight} notification(s) were in flight when the broker stopped; sending them again (a recipient may see them twice)`,
      );
    }
    // Finished rows are kept 30 days: the delivery log of the channels screen.
    db.prepare(
      "DELETE FROM notify_outbox WHERE state IN ('delivered', 'failed', 'merged') AND next_at < ?",
    ).run(now - 30 * 24 * 3600_000);
    this.started = true;
    this.kick();
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
    await this.running;
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
   * digests, and a text carries only its reader's tickets.
   */
  enqueue(channelId: string, message: OutgoingMessage): number {
    const at = this.now();
    const type = this.typeOf(channelId);
    const parts: [string, OutgoingMessage][] =
      type === 'sms' ? splitByPhone(message) : [['', message]];
    const { db } = this.opts;
    const ids = db.transaction(() =>
      parts.map(([lane, part]) => this.insert(channelId, type, lane, part, at.getTime())),
    )();
    // Inside a caller's transaction the pass waits for its commit: it would otherwise send
    // (and mark `sending`) rows a rollback then takes back.
    if (db.inTransaction) queueMicrotask(() => this.kick());
    else this.kick();
    return ids[0]!;
  }

  private insert(
    channelId: string,
    type: string,
    lane: string,
    message: OutgoingMessage,
    at: number,
  ): number {
    return Number(
      this.opts.db
        .prepare(
          `INSERT INTO notify_outbox
             (channel_id, channel_type, lane, delivery_id, message, ticket_ids, next_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          channelId,
          type,
          lane,
          randomUUID(),
          JSON.stringify(message),
          JSON.stringify(message.ticketIds),
          at,
          new Date(at).toISOString(),
        ).lastInsertRowid,
    );
  }

  private typeOf(channelId: string): string {
    return this.opts.channels.get(channelId)?.type ?? 'unknown';
  }

  /** Adds to a counter of a channel type, on disk. */
  private count(type: string, counter: Counter, by = 1): void {
    this.opts.db
      .prepare(
        `INSERT INTO notify_outbox_counts (channel_type, counter, n) VALUES (?, ?, ?)
         ON CONFLICT (channel_type, counter) DO UPDATE SET n = n + excluded.n`,
      )
      .run(type, counter, by);
  }

  /** Every counter summed over the channel types, since the outbox's table was made. */
  get counters(): Record<Counter, number> {
    const out = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
    for (const counts of Object.values(this.stats().byType))
      for (const c of COUNTERS) out[c] += counts[c];
    return out;
  }

  /**
   * The counters per channel type (since the table was made; kept across restarts), the
   * rows waiting or in flight now, and the channels failing now with when they started:
   * GET /api/health. Never a message, a recipient or a secret.
   */
  stats(): { byType: Record<string, OutboxCounts>; failing: FailingChannel[] } {
    const { db } = this.opts;
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
    for (const r of db
      .prepare('SELECT channel_type, counter, n FROM notify_outbox_counts')
      .all() as {
      channel_type: string;
      counter: Counter;
      n: number;
    }[])
      if ((COUNTERS as readonly string[]).includes(r.counter)) of(r.channel_type)[r.counter] = r.n;
    for (const r of db
      .prepare(
        "SELECT channel_type AS type, COUNT(*) AS n FROM notify_outbox WHERE state IN ('pending', 'sending') GROUP BY channel_type",
      )
      .all() as { type: string | null; n: number }[])
      of(r.type ?? 'unknown').pending = r.n;
    const failing = (
      db.prepare('SELECT * FROM notify_channel_spells ORDER BY since').all() as SpellRow[]
    ).map((r) => ({
      channelId: r.channel_id,
      type: r.channel_type,
      since: new Date(r.since).toISOString(),
      alerted: r.alerted === 1,
      code: r.code,
    }));
    return { byType, failing };
  }

  get(id: number): OutboxRow | undefined {
    const row = this.opts.db.prepare('SELECT * FROM notify_outbox WHERE id = ?').get(id) as
      Row | undefined;
    return row === undefined ? undefined : view(row);
  }

  /** The newest rows, of one channel or all: the delivery log. */
  list(channelId?: string, limit = 100): OutboxRow[] {
    const rows = (
      channelId === undefined
        ? this.opts.db.prepare('SELECT * FROM notify_outbox ORDER BY id DESC LIMIT ?').all(limit)
        : this.opts.db
            .prepare('SELECT * FROM notify_outbox WHERE channel_id = ? ORDER BY id DESC LIMIT ?')
            .all(channelId, limit)
    ) as Row[];
    return rows.map(view);
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
      await this.running;
      await Promise.allSettled([...this.busy.values()]);
      if (this.running === null && this.busy.size === 0) return;
    }
  }

  /** Sends what is due now (the timer calls it; tests may too). */
  runDue(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          this.pass();
        } catch (error) {
          this.failed('a pass', error);
        }
        // Lets an enqueue made meanwhile ask for another pass.
        await Promise.resolve();
      } while (this.again);
    })().finally(() => {
      this.running = null;
      if (this.again) this.kick();
      else this.schedule();
    });
    return this.running;
  }

  private kick(): void {
    if (this.started) this.runDue().catch((error: unknown) => this.failed('a pass', error));
  }

  /**
   * Nothing of the outbox may end the broker: a promise nobody awaits that rejects is an
   * unhandled rejection, which stops Node. Said once per cause, without the error's text
   * repeated if it comes back every pass.
   */
  private failed(what: string, error: unknown): void {
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
  private pass(): void {
    const { db, channels } = this.opts;
    const now = this.now().getTime();
    const due = (
      db
        .prepare("SELECT * FROM notify_outbox WHERE state = 'pending' AND next_at <= ? ORDER BY id")
        .all(now) as Row[]
    ).map(view);
    const byChannel = new Map<string, OutboxRow[]>();
    for (const row of due) {
      const list = byChannel.get(row.channelId) ?? [];
      list.push(row);
      byChannel.set(row.channelId, list);
    }
    for (const [channelId, all] of byChannel) {
      if (this.busy.has(channelId)) continue;
      const rows = this.keep(all);
      if (rows.length === 0) continue;
      let driver: ReturnType<ChannelRegistry['driver']>;
      try {
        driver = channels.driver(channelId);
      } catch (error) {
        // Opening a channel decrypts its secrets; a changed or missing VIGIL_SECRETS_KEY
        // (or a damaged row) throws here. One channel that cannot be opened must not stop
        // the others, nor the broker: like a disabled channel it is unavailable, and its
        // pages fail at once, so that the escalation hands them to other channels now
        // rather than after 23 minutes of retries.
        const result = unopenable(error);
        if (!this.unopened.has(channelId)) {
          this.unopened.add(channelId);
          const name = this.opts.channels.get(channelId)?.name ?? channelId;
          this.opts.log.error(`channel "${name}" (${channelId}) ${result.message}`);
        }
        const count = db.prepare(
          'UPDATE notify_outbox SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ?',
        );
        for (const row of rows) {
          count.run(now, row.id);
          this.finish({ ...row, attempts: row.attempts + 1 }, result);
        }
        continue;
      }
      this.unopened.delete(channelId);
      if (driver === undefined) {
        for (const row of rows) {
          this.finish(row, {
            delivered: false,
            code: 'channel-unavailable',
            message: `channel ${channelId} is unknown or disabled; enable it or remove it from the team`,
            retryable: false,
          });
        }
        continue;
      }
      const sends = this.plan(channelId, driver, rows, now);
      if (sends.length === 0) continue;
      const work = (async () => {
        for (const row of sends) {
          // Stopping: what has not started waits in the database for the next start.
          if (!this.started || this.controller.signal.aborted) return;
          // The service asked this lane to wait (a block, flow control): the rest of it waits too.
          if ((this.heldUntil.get(laneKey(channelId, row.lane)) ?? 0) > this.now().getTime()) {
            if (driver.ordered) return;
            continue;
          }
          const delivered = await this.send(row, driver);
          // A receiver that takes changes in order gets none past one still to be retried.
          if (!delivered && driver.ordered) return;
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
  private plan(
    channelId: string,
    driver: ChannelDriver,
    rows: OutboxRow[],
    now: number,
  ): OutboxRow[] {
    let candidates = rows;
    if (driver.ordered) {
      // In order: nothing past the oldest row still waiting for its retry.
      const blocked = this.opts.db
        .prepare(
          "SELECT MIN(id) AS id FROM notify_outbox WHERE channel_id = ? AND state = 'pending' AND next_at > ?",
        )
        .get(channelId, now) as { id: number | null };
      if (blocked.id !== null) candidates = rows.filter((r) => r.id < blocked.id!);
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
        if (plan.merged.length > 0)
          lanes = [...lanes, this.merge(channelId, lane, plan.merged, now)];
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
  private keep(rows: OutboxRow[]): OutboxRow[] {
    const { wanted } = this.opts;
    if (!wanted) return rows;
    const kept: OutboxRow[] = [];
    const drop = this.opts.db.prepare(
      "UPDATE notify_outbox SET state = 'failed', error_code = 'not-needed', error_message = ? WHERE id = ? AND state = 'pending'",
    );
    for (const row of rows) {
      let keepIt = true;
      try {
        keepIt = wanted(row);
      } catch (error) {
        this.failed('deciding whether a notification is still wanted', error);
      }
      if (keepIt) kept.push(row);
      else {
        drop.run('its tickets were acknowledged or closed before it could go', row.id);
        this.count(row.channelType, 'dropped');
      }
    }
    return kept;
  }

  /** Folds `rows` (of one lane) into one digest row; they become `merged`. */
  private merge(channelId: string, lane: string, rows: OutboxRow[], now: number): OutboxRow {
    const { db } = this.opts;
    const digest = digestMessage(rows.map((r) => r.message));
    const type = rows[0]?.channelType ?? this.typeOf(channelId);
    const id = db.transaction(() => {
      const newId = this.insert(channelId, type, lane, digest, now);
      const mark = db.prepare(
        "UPDATE notify_outbox SET state = 'merged', merged_into = ? WHERE id = ? AND state = 'pending'",
      );
      for (const row of rows) mark.run(newId, row.id);
      this.count(type, 'merged', rows.length);
      return newId;
    })();
    return this.get(id)!;
  }

  /** One attempt of one row; true when delivered. */
  private async send(row: OutboxRow, driver: ChannelDriver): Promise<boolean> {
    const { db } = this.opts;
    const startedAt = this.now().getTime();
    const key = laneKey(row.channelId, row.lane);
    // On disk before the request: a crash from here on is a repeat at the next start.
    db.prepare(
      "UPDATE notify_outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = ? WHERE id = ?",
    ).run(startedAt, row.id);
    this.window(key, startedAt).push(startedAt);
    const signal = AbortSignal.any([
      this.controller.signal,
      AbortSignal.timeout(this.settings.sendTimeoutMs),
    ]);
    let result: DeliveryResult;
    try {
      result = await driver.send(row.message, signal, {
        deliveryId: row.deliveryId,
        attempt: row.attempts + 1,
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
    db.prepare('UPDATE notify_outbox SET last_attempt_at = ? WHERE id = ?').run(answeredAt, row.id);
    this.finish({ ...row, attempts: row.attempts + 1 }, result, driver.retry);
    return result.delivered;
  }

  private finish(
    row: OutboxRow,
    result: DeliveryResult,
    retry?: { attempts: number; firstMs: number },
  ): void {
    const { db, log } = this.opts;
    const now = this.now();
    const nowMs = now.getTime();
    if (result.delivered) {
      db.transaction(() => {
        db.prepare("UPDATE notify_outbox SET state = 'delivered', sent_at = ? WHERE id = ?").run(
          now.toISOString(),
          row.id,
        );
        this.count(row.channelType, 'delivered');
        const ended = db
          .prepare('DELETE FROM notify_channel_spells WHERE channel_id = ? RETURNING alerted')
          .get(row.channelId) as { alerted: number } | undefined;
        if (ended?.alerted === 1) log.info(`channel ${row.channelId} delivers again`);
      })();
      this.tell({ ...row, state: 'delivered' }, { delivered: true });
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
      this.handsOver(row);
    const final = !result.retryable || tooLate || row.attempts >= attempts;
    const message = tooLate
      ? `${result.message} (the service asks to wait ${Math.round((result.retryAfterMs ?? 0) / 60_000)} min, too long for an urgent notification: handed to other channels)`
      : result.message;
    db.transaction(() => {
      db.prepare(
        'UPDATE notify_outbox SET state = ?, next_at = ?, error_code = ?, error_message = ? WHERE id = ?',
      ).run(
        final ? 'failed' : 'pending',
        final ? nowMs : nowMs + wait,
        result.code,
        message,
        row.id,
      );
      this.count(row.channelType, final ? 'failed' : 'retried');
    })();
    if (final)
      log.warn(
        `notification ${row.id} through channel ${row.channelId} given up after ${row.attempts} attempt(s): ${result.code}: ${message}`,
      );
    this.tell(
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
      this.failing(row.channelId, row.channelType, result, nowMs);
  }

  private handsOver(row: OutboxRow): boolean {
    try {
      return this.opts.handOver?.(row) ?? false;
    } catch (error) {
      this.failed('deciding whether another channel carries a notification', error);
      return false;
    }
  }

  /** The timeline hears of an outcome; its failure must not stop the channel's other sends. */
  private tell(row: OutboxRow, outcome: Outcome): void {
    try {
      this.opts.onOutcome?.(row, outcome);
    } catch (error) {
      this.failed(`recording the outcome of notification ${row.id}`, error);
    }
  }

  /**
   * Counts a failure into the channel's spell (SQLite: a restart does not forget a channel
   * failing since before it) and raises its alert once.
   */
  private failing(
    channelId: string,
    type: string,
    result: Extract<DeliveryResult, { delivered: false }>,
    now: number,
  ): void {
    const { db } = this.opts;
    db.prepare(
      `INSERT INTO notify_channel_spells (channel_id, channel_type, since, alerted, code, message)
       VALUES (?, ?, ?, 0, ?, ?)
       ON CONFLICT (channel_id) DO UPDATE SET code = excluded.code, message = excluded.message`,
    ).run(channelId, type, now, result.code, result.message);
    const spell = db
      .prepare('SELECT * FROM notify_channel_spells WHERE channel_id = ?')
      .get(channelId) as SpellRow;
    // A refusal no retry changes (a revoked robot token, a changed secret: DingTalk
    // 300005 / 310000, WeCom 93000, Feishu 19021) alerts at once: a quiet night may bring
    // no second failure to make a spell of.
    const refused = !result.retryable;
    if (spell.alerted === 1 || (!refused && now - spell.since < this.settings.alertAfterMs)) return;
    db.prepare('UPDATE notify_channel_spells SET alerted = 1 WHERE channel_id = ?').run(channelId);
    const targets = this.opts.alertTargets?.(channelId) ?? { channelIds: [], language: 'zh-CN' };
    const alerted = new Set(
      (
        db.prepare('SELECT channel_id FROM notify_channel_spells WHERE alerted = 1').all() as {
          channel_id: string;
        }[]
      ).map((r) => r.channel_id),
    );
    const others = targets.channelIds.filter((id) => id !== channelId && !alerted.has(id));
    const name = this.opts.channels.get(channelId)?.name ?? channelId;
    const minutes = Math.round((now - spell.since) / 60_000);
    this.opts.log.error(
      `channel "${name}" (${channelId}) ${refused ? 'refused a notification for good' : `has failed every delivery for ${minutes} min`} (${result.code}: ${result.message}); alerting through ${others.length} other channel(s)`,
    );
    this.count(type, 'alerts');
    for (const id of others) {
      this.enqueue(
        id,
        channelAlertMessage(name, minutes, result.code, result.message, targets.language, refused),
      );
    }
  }

  /**
   * Wakes at the next moment something can go: per lane, its earliest pending row, or
   * later when it is held; a channel under way is woken by its own completion.
   */
  private schedule(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.now().getTime();
    const next = this.opts.db
      .prepare(
        "SELECT channel_id, lane, MIN(next_at) AS at FROM notify_outbox WHERE state = 'pending' GROUP BY channel_id, lane",
      )
      .all() as { channel_id: string; lane: string; at: number }[];
    let at = Infinity;
    for (const { channel_id: id, lane, at: due } of next) {
      if (this.busy.has(id)) continue;
      at = Math.min(at, Math.max(due, this.heldUntil.get(laneKey(id, lane)) ?? 0));
    }
    if (at === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.max(10, Math.min(at - now, 60_000)));
    this.timer.unref();
  }
}
