/**
 * The history of a device's reasons (shared/messages/device-state.ts Reason) as spans in
 * SQLite (vigil.db, component "outages"): one row per device, code and channel from the
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
import { migrate, type Db } from '../db.js';

export const DEFAULT_OUTAGE_RETENTION_DAYS = 400;
const PRUNE_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

const migrations = [
  {
    version: 1,
    sql: `CREATE TABLE outage_spans (
      id INTEGER PRIMARY KEY,
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
    CREATE INDEX outage_spans_ended ON outage_spans (ended) WHERE ended IS NOT NULL;`,
  },
  {
    // The timeline's reads by code and channel (SPANS_SQL, CHANNELS_SQL): with only
    // (site_id, device_id, started) a day of a flapping NVR read every span it kept.
    version: 2,
    sql: `CREATE INDEX outage_spans_channel
      ON outage_spans (site_id, device_id, code, channel, started);`,
  },
];

/**
 * The channels of a device's spans of the codes in @codes (a JSON array): hopping from
 * one channel to the next on outage_spans_channel, a seek each, where DISTINCT would read
 * every span (SQLite's skip-scan done by hand: its own needs ANALYZE statistics).
 */
const CHANNELS_CTE = `
  WITH RECURSIVE ch(code, channel) AS (
    SELECT c.value, (SELECT min(channel) FROM outage_spans
                     WHERE site_id = @site AND device_id = @device AND code = c.value)
    FROM json_each(@codes) c
    UNION ALL
    SELECT ch.code, (SELECT min(channel) FROM outage_spans
                     WHERE site_id = @site AND device_id = @device AND code = ch.code
                       AND channel > ch.channel)
    FROM ch WHERE ch.channel IS NOT NULL
  )`;

/** SqliteOutageHistory.channels(), exported for the test of its query plan. */
export const CHANNELS_SQL = `${CHANNELS_CTE}
  SELECT channel FROM ch WHERE channel IS NOT NULL ORDER BY channel`;

/**
 * SqliteOutageHistory.spans(), exported for the test of its query plan. The spans of one
 * code and channel do not overlap (one is open at a time; the next opens after it
 * closed), so of those that began before the period only the last can reach into it:
 * one seek per code and channel (ORDER BY started DESC LIMIT 1), then the range of those
 * that began in the period. Neither reads the spans before the period, nor after it.
 */
export const SPANS_SQL = `${CHANNELS_CTE}
  SELECT code, channel, started, ended, message FROM (
    SELECT s.id, s.code, s.channel, s.started, s.ended, s.message FROM ch
    CROSS JOIN outage_spans s ON s.id = (
      SELECT id FROM outage_spans
      WHERE site_id = @site AND device_id = @device AND code = ch.code
        AND channel = ch.channel AND started < @from
      ORDER BY started DESC, id DESC LIMIT 1)
    WHERE ch.channel IS NOT NULL AND (s.ended IS NULL OR s.ended > @from)
    UNION ALL
    SELECT s.id, s.code, s.channel, s.started, s.ended, s.message FROM ch
    CROSS JOIN outage_spans s INDEXED BY outage_spans_channel
      ON s.site_id = @site AND s.device_id = @device AND s.code = ch.code
        AND s.channel = ch.channel AND s.started >= @from AND s.started < @to
    WHERE ch.channel IS NOT NULL
  ) ORDER BY started, id`;

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
  ): StoredSpan[];
  /** Every channel that has a span of `code` for this device in the kept history. */
  channels(siteId: string, deviceId: string, code: ReasonCode): string[];
}

function key(code: string, channel: string): string {
  return `${code}\u0000${channel}`;
}

export class SqliteOutageHistory implements OutageHistory {
  readonly retentionDays: number;
  private readonly now: () => number;
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    options: OutageHistoryOptions = {},
  ) {
    this.retentionDays = options.retentionDays ?? DEFAULT_OUTAGE_RETENTION_DAYS;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    migrate(this.db, 'outages', migrations);
    this.prune();
  }

  /**
   * Opens the spans of reasons that appeared and closes those that cleared between
   * `previous` and `device`, at `at` (the agent's message time). Call it inside the
   * transaction that stores `device`, so the registry and the history never disagree.
   */
  record(previous: Device | undefined, device: Device, at: string): void {
    const down = device.status === 'down' || device.status === 'unknown';
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
      this.isDown(previous) === down
    ) {
      return;
    }
    const open = this.db
      .prepare(
        `SELECT id, code, channel, started FROM outage_spans
         WHERE site_id = ? AND device_id = ? AND ended IS NULL`,
      )
      .all(device.siteId, device.id) as {
      id: number;
      code: ReasonCode;
      channel: string;
      started: string;
    }[];
    const close = this.db.prepare('UPDATE outage_spans SET ended = ? WHERE id = ?');
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
      close.run(at > span.started ? at : span.started, span.id);
    }
    const insert = this.db.prepare(
      `INSERT INTO outage_spans (site_id, device_id, code, channel, started, ended, message)
       VALUES (?, ?, ?, ?, ?, NULL, ?)`,
    );
    for (const [k, r] of now) {
      if (!openKeys.has(k)) insert.run(device.siteId, device.id, r.code, r.channel, at, r.message);
    }
    if (this.now() - this.lastPrune >= PRUNE_EVERY_MS) this.prune();
  }

  private isDown(device: Device): boolean {
    return device.status === 'down' || device.status === 'unknown';
  }

  /** Deletes the spans that ended before the retention; open spans are always kept. */
  prune(): number {
    this.lastPrune = this.now();
    const cut = new Date(this.now() - this.retentionDays * DAY_MS).toISOString();
    return this.db
      .prepare('DELETE FROM outage_spans WHERE ended IS NOT NULL AND ended < ?')
      .run(cut).changes;
  }

  spans(
    siteId: string,
    deviceId: string,
    codes: readonly ReasonCode[],
    from: string,
    to: string,
  ): StoredSpan[] {
    if (codes.length === 0) return [];
    return this.db.prepare(SPANS_SQL).all({
      site: siteId,
      device: deviceId,
      codes: JSON.stringify(codes),
      from,
      to,
    }) as StoredSpan[];
  }

  channels(siteId: string, deviceId: string, code: ReasonCode): string[] {
    return (
      this.db
        .prepare(CHANNELS_SQL)
        .all({ site: siteId, device: deviceId, codes: JSON.stringify([code]) }) as {
        channel: string;
      }[]
    ).map((row) => row.channel);
  }
}
