/**
 * The history of a device's reasons (shared/messages/device-state.ts Reason) as spans in
 * the stores' database (broker/sql/: vigil.db, or PostgreSQL on a pair; component
 * "outages"): one row per device, code and channel from the
 * state message in which the reason appeared (`started`) to the one in which it cleared
 * (`ended`, null while open). The outage timeline of the device page and its API
 * (GET /api/devices/:id/outages) read them.
 *
 * What a NOC engineer expects of a device that goes down or unknown: its other reasons
 * are not known to have cleared, so their spans stay open (a channel that had stopped
 * recording before the NVR went down still has its gap after; the gap does not split).
 * Only the down reasons themselves (`DOWN_CODES`, shared/messages/device-state.ts) open and close
 * while it is down. Refused credentials (auth-failed) are not one: the device answers and
 * records, so their span is a degradation's, never time down (an older agent's
 * down/auth-failed arrives as degraded: shared/messages/device-state.ts statusOf). Spans
 * of auth-failed kept from before that read as what they are, not as time down. The time down is a span of its own (the down reason,
 * channel "") and the API counts it in every channel's gap: a recorder that cannot be
 * reached cannot show that it records.
 *
 * Spans are dated by the agent's message time (a spooled message replayed after an outage
 * keeps its own time). They survive broker restarts: an open span stays open until a
 * later state clears it. Spans that ended more than `retentionDays` ago (400 by default:
 * the quarter of an inspection report and a year back to compare) are deleted at start
 * and then at most once an hour, when a state is recorded.
 */
import { DOWN_CODES, type ReasonCode } from '../../shared/messages/device-state.js';
import type { Device } from '../../shared/api/devices.js';
import {
  NotLeaderWriteError,
  type SqlDatabase,
  type SqlSession,
  type StoreMigration,
} from '../sql/types.js';

export const DEFAULT_OUTAGE_RETENTION_DAYS = 400;
const PRUNE_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Version 1 of the table; the engines differ only in how the id is made. */
const spansTable = (id: string): string => `CREATE TABLE outage_spans (
      id ${id},
      site_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      code TEXT NOT NULL,
      channel TEXT NOT NULL,
      started TEXT NOT NULL,
      ended TEXT,
      message TEXT NOT NULL
    );
    CREATE INDEX outage_spans_device ON outage_spans (site_id, device_id, started);
    CREATE UNIQUE INDEX outage_spans_open ON outage_spans (site_id, device_id, code, channel)
      WHERE ended IS NULL;
    CREATE INDEX outage_spans_ended ON outage_spans (ended) WHERE ended IS NOT NULL;`;

const migrations: StoreMigration[] = [
  {
    version: 1,
    sqlite: spansTable('INTEGER PRIMARY KEY'),
    postgres: spansTable('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY'),
  },
  {
    // The timeline's reads by code and channel (spansSql, channelsSql): with only
    // (site_id, device_id, started) a day of a flapping NVR read every span it kept.
    version: 2,
    sql: `CREATE INDEX outage_spans_channel
      ON outage_spans (site_id, device_id, code, channel, started);`,
  },
];

/**
 * The channels of a device's spans of the codes @c0, @c1 ...: hopping from one channel
 * to the next on outage_spans_channel, a seek each, where DISTINCT would read every span
 * (SQLite's skip-scan done by hand: its own needs ANALYZE statistics). The codes are a
 * VALUES list, which both engines read (SQLite's json_each is its own).
 */
function channelsCte(codes: number): string {
  const values = Array.from({ length: codes }, (_, i) => `(CAST(@c${i} AS TEXT))`).join(', ');
  return `
  WITH RECURSIVE codes(code) AS (VALUES ${values}),
  ch(code, channel) AS (
    SELECT codes.code, (SELECT min(channel) FROM outage_spans
                        WHERE site_id = @site AND device_id = @device AND code = codes.code)
    FROM codes
    UNION ALL
    SELECT ch.code, (SELECT min(channel) FROM outage_spans
                     WHERE site_id = @site AND device_id = @device AND code = ch.code
                       AND channel > ch.channel)
    FROM ch WHERE ch.channel IS NOT NULL
  )`;
}

/** OutageHistory.channels() for `codes` codes, exported for the test of its query plan. */
export function channelsSql(codes: number): string {
  return `${channelsCte(codes)}
  SELECT channel FROM ch WHERE channel IS NOT NULL ORDER BY channel`;
}

/**
 * OutageHistory.spans() for `codes` codes, exported for the test of its query plan. The
 * spans of one code and channel do not overlap (one is open at a time; the next opens
 * after it closed), so of those that began before the period only the last can reach
 * into it: one seek per code and channel (ORDER BY started DESC LIMIT 1), then the range
 * of those that began in the period. Neither reads the spans before the period, nor
 * after it. CROSS JOIN keeps the channels as the outer loop in SQLite (its planner
 * reorders any other join); PostgreSQL takes it as the plain join it is.
 */
export function spansSql(codes: number): string {
  return `${channelsCte(codes)}
  SELECT code, channel, started, ended, message FROM (
    SELECT s.id, s.code, s.channel, s.started, s.ended, s.message FROM ch
    CROSS JOIN outage_spans s
    WHERE ch.channel IS NOT NULL
      AND s.id = (
        SELECT id FROM outage_spans
        WHERE site_id = @site AND device_id = @device AND code = ch.code
          AND channel = ch.channel AND started < @from
        ORDER BY started DESC, id DESC LIMIT 1)
      AND (s.ended IS NULL OR s.ended > @from)
    UNION ALL
    SELECT s.id, s.code, s.channel, s.started, s.ended, s.message FROM ch
    CROSS JOIN outage_spans s
    WHERE ch.channel IS NOT NULL
      AND s.site_id = @site AND s.device_id = @device AND s.code = ch.code
      AND s.channel = ch.channel AND s.started >= @from AND s.started < @to
  ) AS found ORDER BY started, id`;
}

/** @c0, @c1 ... for the codes of channelsCte. */
function codeParams(codes: readonly string[]): Record<string, string> {
  return Object.fromEntries(codes.map((code, i) => [`c${i}`, code]));
}

/** One stored span; times are ISO 8601 UTC (they compare as strings). */
export interface StoredSpan {
  code: ReasonCode;
  /** "" when the reason concerns the whole device. */
  channel: string;
  started: string;
  ended: string | null;
  message: string;
}

export interface OutageHistoryOptions {
  /** Days a span is kept after it ended; 400 by default. */
  retentionDays?: number;
  /** The clock for pruning; tests pass their own. */
  now?: () => number;
}

/** Read side, as the API uses it. */
export interface OutageHistory {
  readonly retentionDays: number;
  /** Spans of the device overlapping [from, to) whose code is one of `codes`, oldest first. */
  spans(
    siteId: string,
    deviceId: string,
    codes: readonly ReasonCode[],
    from: string,
    to: string,
  ): Promise<StoredSpan[]>;
  /** Every channel that has a span of `code` for this device in the kept history. */
  channels(siteId: string, deviceId: string, code: ReasonCode): Promise<string[]>;
}

function key(code: string, channel: string): string {
  return `${code}\u0000${channel}`;
}

export class SqlOutageHistory implements OutageHistory {
  readonly retentionDays: number;
  private readonly now: () => number;
  private lastPrune = 0;

  constructor(
    private readonly db: SqlDatabase,
    options: OutageHistoryOptions = {},
  ) {
    this.retentionDays = options.retentionDays ?? DEFAULT_OUTAGE_RETENTION_DAYS;
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.db.migrate('outages', migrations);
    try {
      await this.prune();
    } catch (error) {
      // A standby of a pair writes nothing: the leader prunes, at its start or within the hour.
      if (!(error instanceof NotLeaderWriteError)) throw error;
    }
  }

  /**
   * Opens the spans of reasons that appeared and closes those that cleared between
   * `previous` and `device`, at `at` (the agent's message time). Give it the transaction
   * that stores `device` (broker/devices/store.ts), so the registry and the history
   * never disagree: both are written, or neither.
   */
  async record(
    previous: Device | undefined,
    device: Device,
    at: string,
    tx: SqlSession = this.db,
  ): Promise<void> {
    const down = isDown(device);
    const now = new Map<string, { code: ReasonCode; channel: string; message: string }>();
    for (const r of device.reasons) {
      const channel = r.channel ?? '';
      now.set(key(r.code, channel), { code: r.code, channel, message: r.message });
    }
    const before = previous?.reasons ?? [];
    if (
      previous !== undefined &&
      before.length === now.size &&
      before.every((r) => now.has(key(r.code, r.channel ?? ''))) &&
      isDown(previous) === down
    ) {
      return;
    }
    const open = await tx.all<{ id: number; code: ReasonCode; channel: string; started: string }>(
      `SELECT id, code, channel, started FROM outage_spans
       WHERE site_id = ? AND device_id = ? AND ended IS NULL`,
      [device.siteId, device.id],
    );
    const openKeys = new Set<string>();
    for (const span of open) {
      const k = key(span.code, span.channel);
      if (now.has(k)) {
        openKeys.add(k);
        continue;
      }
      // Down or unknown: only the down reasons are known to have changed.
      if (down && !DOWN_CODES.includes(span.code)) continue;
      // A message older than the span's start (out of order) ends it where it began.
      await tx.run('UPDATE outage_spans SET ended = ? WHERE id = ?', [
        at > span.started ? at : span.started,
        span.id,
      ]);
    }
    for (const [k, r] of now) {
      if (openKeys.has(k)) continue;
      await tx.run(
        `INSERT INTO outage_spans (site_id, device_id, code, channel, started, ended, message)
         VALUES (?, ?, ?, ?, ?, NULL, ?)`,
        [device.siteId, device.id, r.code, r.channel, at, r.message],
      );
    }
    if (this.now() - this.lastPrune >= PRUNE_EVERY_MS) await this.prune(tx);
  }

  /** Deletes the spans that ended before the retention; open spans are always kept. */
  async prune(tx: SqlSession = this.db): Promise<number> {
    this.lastPrune = this.now();
    const cut = new Date(this.now() - this.retentionDays * DAY_MS).toISOString();
    return (await tx.run('DELETE FROM outage_spans WHERE ended IS NOT NULL AND ended < ?', [cut]))
      .changes;
  }

  async spans(
    siteId: string,
    deviceId: string,
    codes: readonly ReasonCode[],
    from: string,
    to: string,
  ): Promise<StoredSpan[]> {
    if (codes.length === 0) return [];
    return this.db.all<StoredSpan>(spansSql(codes.length), {
      site: siteId,
      device: deviceId,
      ...codeParams(codes),
      from,
      to,
    });
  }

  async channels(siteId: string, deviceId: string, code: ReasonCode): Promise<string[]> {
    const rows = await this.db.all<{ channel: string }>(channelsSql(1), {
      site: siteId,
      device: deviceId,
      ...codeParams([code]),
    });
    return rows.map((row) => row.channel);
  }
}

function isDown(device: Device): boolean {
  return device.status === 'down' || device.status === 'unknown';
}
