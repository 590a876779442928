/**
 * The acknowledge link of a notification (issue 15 part 5): a token naming the ticket and
 * the person it was sent to, signed with HMAC-SHA256 (RFC 2104) under a key this broker
 * generates at its first start and keeps in its database (never in the repository, never
 * in a log), valid `ttlMs` (24 h by default) and usable once. The key and the used tokens
 * are in the stores' database (broker/sql), so a link issued by one node of a pair is
 * checked, and used once, on either.
 *
 *   <base64url(JSON {t: ticket, p: person id | null, e: expiry ms, n: nonce})>.<base64url(mac)>
 *
 * Only redeeming uses it up (the acknowledge page's POST): chat apps fetch a link for its
 * preview, so reading the token (the GET) must leave it usable.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase, StoreMigration } from '../sql/types.js';

export interface AckClaims {
  ticketId: number;
  /** The person of the on-call directory it was sent to; null: a channel nobody is named in. */
  personId: string | null;
  expiresAt: number;
  nonce: string;
}

export type AckCheck =
  | { ok: true; claims: AckClaims }
  | { ok: false; reason: 'invalid' | 'expired' | 'used'; claims?: AckClaims };

const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    postgres: `
      CREATE TABLE notify_ack_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BYTEA NOT NULL);
      CREATE TABLE notify_ack_used (
        nonce TEXT PRIMARY KEY,
        ticket_id INTEGER NOT NULL,
        used_at TEXT NOT NULL,
        used_by TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
    `,
    sqlite: `
      CREATE TABLE notify_ack_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
      CREATE TABLE notify_ack_used (
        nonce TEXT PRIMARY KEY,
        ticket_id INTEGER NOT NULL,
        used_at TEXT NOT NULL,
        used_by TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
  },
];

export const DEFAULT_ACK_TTL_MS = 24 * 3600_000;

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export class AckLinks {
  private key: Buffer | null = null;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: { ttlMs?: number; now?: () => Date } = {},
  ) {}

  /**
   * Reads the key, or makes it at the very first start. Two nodes starting at once on one
   * database make one key: the second insert does nothing and both read the first. A
   * standby whose writes are refused (it does not lead) still reads the key the leader made.
   */
  async start(): Promise<void> {
    await this.db.migrate('ack-links', migrations);
    const read = async () =>
      (await this.db.get<{ key: Buffer }>('SELECT key FROM notify_ack_key WHERE id = 1'))?.key;
    let key = await read();
    if (key === undefined) {
      await this.db.run(
        'INSERT INTO notify_ack_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING',
        [randomBytes(32)],
      );
      key = await read();
    }
    if (key === undefined) throw new Error('the acknowledge links key could not be made');
    this.key = Buffer.from(key);
    try {
      // Used nonces are needed only while their token could still be presented.
      await this.db.run('DELETE FROM notify_ack_used WHERE expires_at < ?', [this.nowMs()]);
    } catch {
      // A standby's write is refused: the leader keeps the table short.
    }
  }

  private nowMs(): number {
    return (this.options.now?.() ?? new Date()).getTime();
  }

  private mac(payload: string): Buffer {
    if (this.key === null) throw new Error('AckLinks.start() was not called');
    return createHmac('sha256', this.key).update(payload).digest();
  }

  /** A new token for `ticketId` and the person it goes to. */
  issue(ticketId: number, personId: string | null): string {
    const claims = {
      t: ticketId,
      p: personId,
      e: this.nowMs() + (this.options.ttlMs ?? DEFAULT_ACK_TTL_MS),
      n: b64(randomBytes(12)),
    };
    const payload = b64(JSON.stringify(claims));
    return `${payload}.${b64(this.mac(payload))}`;
  }

  /** Whether the token is genuine, unexpired and unused; reading it uses nothing up. */
  async check(token: string): Promise<AckCheck> {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
    const expected = this.mac(payload);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'invalid' };
    let raw: { t?: unknown; p?: unknown; e?: unknown; n?: unknown };
    try {
      raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof raw;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (
      typeof raw.t !== 'number' ||
      typeof raw.e !== 'number' ||
      typeof raw.n !== 'string' ||
      (raw.p !== null && typeof raw.p !== 'string')
    )
      return { ok: false, reason: 'invalid' };
    const claims: AckClaims = {
      ticketId: raw.t,
      personId: raw.p as string | null,
      expiresAt: raw.e,
      nonce: raw.n,
    };
    if (await this.db.get('SELECT 1 FROM notify_ack_used WHERE nonce = ?', [claims.nonce]))
      return { ok: false, reason: 'used', claims };
    if (this.nowMs() > claims.expiresAt) return { ok: false, reason: 'expired', claims };
    return { ok: true, claims };
  }

  /**
   * Uses the token up for `by`, atomically: of two presses at once, one wins and the
   * other is told the link was used, on one node or on the two of a pair (the nonce is
   * the table's key: one insert wins).
   */
  async redeem(token: string, by: string): Promise<AckCheck> {
    const checked = await this.check(token);
    if (!checked.ok) return checked;
    const { claims } = checked;
    const inserted = await this.db.run(
      `INSERT INTO notify_ack_used (nonce, ticket_id, used_at, used_by, expires_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING`,
      [claims.nonce, claims.ticketId, new Date(this.nowMs()).toISOString(), by, claims.expiresAt],
    );
    return inserted.changes === 1 ? checked : { ok: false, reason: 'used', claims };
  }
}
