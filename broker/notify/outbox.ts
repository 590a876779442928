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
 * requests per channel over a sliding 60 s window, and when more rows are waiting than the
 * window allows it merges them into one digest instead of queueing past the limit.
 *
 * A channel whose every attempt failed for `alertAfterMs` raises one `channel-alert`
 * through other channels per failure spell.
 */
import { migrate, type Db, type Migration } from '../db.js';
import type { Log } from '../log.js';
import { channelAlertMessage, digestMessage } from './compose.js';
import type { ChannelRegistry, DeliveryResult, Language, OutgoingMessage } from './deps.js';

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
}

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
   * Texts a minute per SMS channel. The SMS services set no rate per minute but cap
   * texts per number and day (Alibaba Cloud: 50 notifications), so a burst must go as a
   * few digests, not one text per alert.
   */
  smsPerMinute: number;
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
): { room: number; nextAt: number } {
  const burst = Math.max(1, Math.floor(limit / 6));
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
});

interface Spell {
  since: number;
  alerted: boolean;
  code: string;
  message: string;
}

export class Outbox {
  readonly settings: OutboxSettings;
  /** Since this process started; `repeats` counts rows sent again after a crash. */
  readonly counters = {
    delivered: 0,
    failed: 0,
    retried: 0,
    repeats: 0,
    merged: 0,
    alerts: 0,
    /** Rows no longer wanted when their turn came (their ticket acknowledged meanwhile). */
    dropped: 0,
  };
  private readonly now: () => Date;
  private readonly sentAt = new Map<string, number[]>();
  private readonly spells = new Map<string, Spell>();
  private readonly busy = new Map<string, Promise<void>>();
  /** Channels whose secrets could not be opened, logged once until they open again. */
  private readonly unopened = new Set<string>();
  /** Channels whose window is full: the moment the next request leaves it. */
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
    // The window survives a restart: a robot counts our requests, not our processes.
    const recent = db
      .prepare('SELECT channel_id, last_attempt_at FROM notify_outbox WHERE last_attempt_at > ?')
      .all(now - WINDOW_MS) as { channel_id: string; last_attempt_at: number }[];
    for (const r of recent) this.window(r.channel_id, now).push(r.last_attempt_at);
    const inFlight = db
      .prepare(
        "UPDATE notify_outbox SET state = 'pending', repeated = 1, next_at = ? WHERE state = 'sending'",
      )
      .run(now).changes;
    if (inFlight > 0) {
      this.counters.repeats += inFlight;
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

  /** Queues one notification for one channel; returns its row id. */
  enqueue(channelId: string, message: OutgoingMessage): number {
    const at = this.now();
    const id = Number(
      this.opts.db
        .prepare(
          'INSERT INTO notify_outbox (channel_id, message, ticket_ids, next_at, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(
          channelId,
          JSON.stringify(message),
          JSON.stringify(message.ticketIds),
          at.getTime(),
          at.toISOString(),
        ).lastInsertRowid,
    );
    // Inside a caller's transaction the pass waits for its commit: it would otherwise send
    // (and mark `sending`) rows a rollback then takes back.
    if (this.opts.db.inTransaction) queueMicrotask(() => this.kick());
    else this.kick();
    return id;
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

  private window(channelId: string, now: number): number[] {
    const list = (this.sentAt.get(channelId) ?? []).filter((t) => t > now - WINDOW_MS);
    this.sentAt.set(channelId, list);
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
      const limit = driver.perMinute ?? (driver.type === 'sms' ? this.settings.smsPerMinute : null);
      const window = this.window(channelId, now);
      let room = Infinity;
      let wakeAt = now;
      if (limit !== null) {
        // The limit in any 60 s is the hard cap; the pace spreads what it allows.
        const times = [...window].sort((a, b) => a - b);
        const pace = paced(times, now, limit);
        room = Math.min(limit - window.length, pace.room);
        const freed =
          window.length >= limit ? (times[times.length - limit] ?? now) + WINDOW_MS : now;
        wakeAt = Math.max(pace.nextAt, freed);
      }
      if (room <= 0) {
        // Held back: the timer comes back when the pace or the window lets the next
        // request go, not every pass. Nothing is merged yet: rows that come meanwhile
        // join the digest made when it actually goes, once.
        this.heldUntil.set(channelId, wakeAt);
        continue;
      }
      this.heldUntil.delete(channelId);
      // A repeat (in flight at a crash) goes first and alone, as it was: it may have reached
      // the service already, and its ticket's timeline says it was sent again; folded into
      // a digest it would be neither.
      const repeats = rows.filter((r) => r.repeated).slice(0, room);
      const others = rows.filter((r) => !r.repeated);
      const left = room - repeats.length;
      let sends = repeats;
      if (left > 0 && others.length > 0) {
        const plan = planSends(others, left);
        sends = [...sends, ...plan.alone];
        if (plan.merged.length > 0) sends = [...sends, this.merge(channelId, plan.merged, now)];
      }
      sends = sends.slice(0, room === Infinity ? sends.length : room);
      const work = (async () => {
        for (const row of sends) {
          // Stopping: what has not started waits in the database for the next start.
          if (!this.started || this.controller.signal.aborted) return;
          await this.send(row, driver);
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
        this.counters.dropped++;
      }
    }
    return kept;
  }

  /** Folds `rows` into one digest row; they become `merged`. */
  private merge(channelId: string, rows: OutboxRow[], now: number): OutboxRow {
    const { db } = this.opts;
    const digest = digestMessage(rows.map((r) => r.message));
    const at = new Date(now).toISOString();
    const id = db.transaction(() => {
      const newId = Number(
        db
          .prepare(
            'INSERT INTO notify_outbox (channel_id, message, ticket_ids, next_at, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(channelId, JSON.stringify(digest), JSON.stringify(digest.ticketIds), now, at)
          .lastInsertRowid,
      );
      const mark = db.prepare(
        "UPDATE notify_outbox SET state = 'merged', merged_into = ? WHERE id = ? AND state = 'pending'",
      );
      for (const row of rows) mark.run(newId, row.id);
      return newId;
    })();
    this.counters.merged += rows.length;
    return this.get(id)!;
  }

  private async send(
    row: OutboxRow,
    driver: NonNullable<ReturnType<ChannelRegistry['driver']>>,
  ): Promise<void> {
    const { db } = this.opts;
    const startedAt = this.now().getTime();
    // On disk before the request: a crash from here on is a repeat at the next start.
    db.prepare(
      "UPDATE notify_outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = ? WHERE id = ?",
    ).run(startedAt, row.id);
    this.window(row.channelId, startedAt).push(startedAt);
    const signal = AbortSignal.any([
      this.controller.signal,
      AbortSignal.timeout(this.settings.sendTimeoutMs),
    ]);
    let result: DeliveryResult;
    try {
      result = await driver.send(row.message, signal);
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
    if (this.controller.signal.aborted) return;
    // The window counts the request from its answer on: the service took it somewhere
    // between our start and its answer, and counts its own minute from then. Counting
    // from our start, a slow answer followed by a fast one could land 21 in its minute.
    const answeredAt = this.now().getTime();
    const list = this.sentAt.get(row.channelId) ?? [];
    const at = list.indexOf(startedAt);
    if (at >= 0) list.splice(at, 1);
    list.push(answeredAt);
    db.prepare('UPDATE notify_outbox SET last_attempt_at = ? WHERE id = ?').run(answeredAt, row.id);
    this.finish({ ...row, attempts: row.attempts + 1 }, result);
  }

  private finish(row: OutboxRow, result: DeliveryResult): void {
    const { db, log } = this.opts;
    const now = this.now();
    const nowMs = now.getTime();
    if (result.delivered) {
      db.prepare("UPDATE notify_outbox SET state = 'delivered', sent_at = ? WHERE id = ?").run(
        now.toISOString(),
        row.id,
      );
      this.counters.delivered++;
      const spell = this.spells.get(row.channelId);
      if (spell?.alerted) log.info(`channel ${row.channelId} delivers again`);
      this.spells.delete(row.channelId);
      this.tell({ ...row, state: 'delivered' }, { delivered: true });
      return;
    }
    const final = !result.retryable || row.attempts >= this.settings.attempts;
    const wait = Math.max(
      backoffMs(row.attempts, this.settings.retryFirstMs, this.settings.retryMaxMs),
      result.retryAfterMs ?? 0,
    );
    db.prepare(
      'UPDATE notify_outbox SET state = ?, next_at = ?, error_code = ?, error_message = ? WHERE id = ?',
    ).run(
      final ? 'failed' : 'pending',
      final ? nowMs : nowMs + wait,
      result.code,
      result.message,
      row.id,
    );
    if (final) {
      this.counters.failed++;
      log.warn(
        `notification ${row.id} through channel ${row.channelId} given up after ${row.attempts} attempt(s): ${result.code}: ${result.message}`,
      );
    } else this.counters.retried++;
    this.tell(
      { ...row, state: final ? 'failed' : 'pending' },
      { delivered: false, code: result.code, message: result.message, final },
    );
    // A failure of the message, not of the channel (nobody in it has a phone or an email
    // address), says nothing of the channel's health.
    if (result.code !== 'channel-unavailable' && !MESSAGE_FAILURES.has(result.code))
      this.failing(row.channelId, result, nowMs);
  }

  /** The timeline hears of an outcome; its failure must not stop the channel's other sends. */
  private tell(row: OutboxRow, outcome: Outcome): void {
    try {
      this.opts.onOutcome?.(row, outcome);
    } catch (error) {
      this.failed(`recording the outcome of notification ${row.id}`, error);
    }
  }

  /** Counts a failure into the channel's spell and raises its alert once. */
  private failing(
    channelId: string,
    result: Extract<DeliveryResult, { delivered: false }>,
    now: number,
  ): void {
    const spell = this.spells.get(channelId) ?? {
      since: now,
      alerted: false,
      code: result.code,
      message: result.message,
    };
    spell.code = result.code;
    spell.message = result.message;
    this.spells.set(channelId, spell);
    // A refusal no retry changes (a revoked robot token, a changed secret: DingTalk
    // 300005 / 310000, WeCom 93000, Feishu 19021) alerts at once: a quiet night may bring
    // no second failure to make a spell of.
    const refused = !result.retryable;
    if (spell.alerted || (!refused && now - spell.since < this.settings.alertAfterMs)) return;
    spell.alerted = true;
    const targets = this.opts.alertTargets?.(channelId) ?? { channelIds: [], language: 'zh-CN' };
    const others = targets.channelIds.filter(
      (id) => id !== channelId && !this.spells.get(id)?.alerted,
    );
    const name = this.opts.channels.get(channelId)?.name ?? channelId;
    const minutes = Math.round((now - spell.since) / 60_000);
    this.opts.log.error(
      `channel "${name}" (${channelId}) ${refused ? 'refused a notification for good' : `has failed every delivery for ${minutes} min`} (${result.code}: ${result.message}); alerting through ${others.length} other channel(s)`,
    );
    this.counters.alerts++;
    for (const id of others) {
      this.enqueue(
        id,
        channelAlertMessage(name, minutes, result.code, result.message, targets.language, refused),
      );
    }
  }

  /**
   * Wakes at the next moment something can go: per channel, its earliest pending row, or
   * later when its window is full; a channel under way is woken by its own completion.
   */
  private schedule(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.now().getTime();
    const next = this.opts.db
      .prepare(
        "SELECT channel_id, MIN(next_at) AS at FROM notify_outbox WHERE state = 'pending' GROUP BY channel_id",
      )
      .all() as { channel_id: string; at: number }[];
    let at = Infinity;
    for (const { channel_id: id, at: due } of next) {
      if (this.busy.has(id)) continue;
      at = Math.min(at, Math.max(due, this.heldUntil.get(id) ?? 0));
    }
    if (at === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.max(10, Math.min(at - now, 60_000)));
    this.timer.unref();
  }
}
