/**
 * Login limits per client address, in SQLite (component "login-limits"), so that a lock
 * outlives a broker restart.
 *
 * Two counters, both per client address (OWASP Authentication Cheat Sheet, "Login
 * Throttling"; NIST SP 800-63B section 5.2.2, at most 100 failed attempts per account):
 *
 * - per user name and address: `failuresPerAccount` (20) wrong passwords within
 *   `windowMin` lock that name from that address only. Someone guessing from elsewhere
 *   cannot lock the NOC's staff out: their address has a counter of its own. A name no
 *   user has is counted the same way (under its SHA-256, never as typed: people type
 *   their password into the name field), so a lock tells nothing about which names exist.
 * - per address across all names: `failuresPerAddress` (100) lock the address for every
 *   name (password spraying: one password tried against many names).
 *
 * An attempt is counted before its password is checked and given back when it was right:
 * 500 logins fired at once cannot all be checked before the first failure is counted;
 * at most `failuresPerAccount` are in flight for one name from one address. A lock ends
 * by itself at `until` or when an admin lifts it, and its counter starts from zero again.
 *
 * IPv6 clients are counted per /64 (RFC 4291 section 2.5.4: one subnet, usually one
 * site), since a host commonly holds a whole /64 and could otherwise take a fresh address
 * per attempt.
 */
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { LoginLock, LoginLockScope } from '../../shared/api/auth.js';
import type { LoginLimitsConfig } from '../config.js';
import { migrate, type Db, type Migration } from '../db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE login_failures (
        -- the user name, sha256:<hex> of a name no user has, '' for the address's count
        account_key TEXT NOT NULL,
        address TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL,
        PRIMARY KEY (account_key, address)
      );
      CREATE INDEX login_failures_first_at ON login_failures (first_at);
      CREATE TABLE login_locks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
        account_key TEXT NOT NULL,
        username TEXT,
        address TEXT NOT NULL,
        locked_at TEXT NOT NULL,
        until TEXT NOT NULL,
        failures INTEGER NOT NULL,
        refused INTEGER NOT NULL DEFAULT 0,
        lifted_at TEXT,
        lifted_by TEXT
      );
      CREATE INDEX login_locks_key ON login_locks (account_key, address, until);
    `,
  },
];

/** The address-wide counter and lock use this account key. */
const ANY_ACCOUNT = '';

/** Ended locks (expired or lifted) are deleted after a day; the audit log keeps their story. */
const KEEP_ENDED_MS = 24 * 60 * 60 * 1000;

/** Expands an IPv6 address to its eight groups (RFC 4291 section 2.2), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const [head = '', tail, ...more] = address.split('::');
  if (more.length > 0) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  // An IPv4 tail (::ffff:192.0.2.1) is two groups.
  const last = (tail === undefined ? left : right).at(-1);
  if (last !== undefined && isIPv4(last)) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    const side = tail === undefined ? left : right;
    side.splice(-1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => parseInt(g, 16));
}

/**
 * The address a client is counted under: IPv4 as it is (an IPv4-mapped IPv6 address,
 * RFC 4291 section 2.5.5.2, as its IPv4 address), IPv6 as its /64 network.
 */
export function clientKey(address: string): string {
  const plain = address.replace(/%.*$/, '');
  if (isIPv4(plain)) return plain;
  if (!isIPv6(plain)) return plain;
  const groups = ipv6Groups(plain);
  if (groups === undefined) return plain;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** Who a login names: the user when one has this name, else only a hash of what was typed. */
export interface LoginAccount {
  username: string;
  exists: boolean;
}

const accountKey = (account: LoginAccount) =>
  account.exists
    ? account.username
    : `sha256:${createHash('sha256').update(account.username).digest('hex')}`;

/** An attempt counted by begin(), to be settled by failed() or succeeded(). */
export interface LoginAttempt {
  readonly key: string;
  readonly username: string | null;
  readonly address: string;
}

/** A lock that refuses a login; `created` when this very attempt set it. */
export interface LockAnswer {
  lock: LoginLock;
  created: boolean;
}

interface LockRow {
  id: number;
  scope: LoginLockScope;
  username: string | null;
  address: string;
  locked_at: string;
  until: string;
  failures: number;
  refused: number;
}

const toLock = (row: LockRow): LoginLock => ({
  id: row.id,
  scope: row.scope,
  username: row.username,
  address: row.address,
  lockedAt: row.locked_at,
  until: row.until,
  failures: row.failures,
  refused: row.refused,
});

export class LoginLimits {
  constructor(
    private readonly db: Db,
    private readonly config: LoginLimitsConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    migrate(this.db, 'login-limits', migrations);
  }

  /**
   * Before the password is checked: the lock that refuses this login (its refusal
   * counted), or the attempt, counted as a failure until succeeded() gives it back.
   */
  begin(account: LoginAccount, peer: string): LockAnswer | { attempt: LoginAttempt } {
    const address = clientKey(peer);
    const key = accountKey(account);
    const at = this.now();
    return this.db.transaction(() => {
      const held = this.activeLock(key, address, at);
      if (held !== undefined) {
        this.db.prepare('UPDATE login_locks SET refused = refused + 1 WHERE id = ?').run(held.id);
        return { lock: toLock({ ...held, refused: held.refused + 1 }), created: false };
      }
      this.forget(at);
      // As many attempts as the limit are in flight already: this one is one too many.
      const username = account.exists ? account.username : null;
      const perAccount = this.failures(key, address);
      if (perAccount >= this.config.failuresPerAccount)
        return {
          lock: this.lock('account', key, username, address, perAccount, at),
          created: true,
        };
      const perAddress = this.failures(ANY_ACCOUNT, address);
      if (perAddress >= this.config.failuresPerAddress)
        return {
          lock: this.lock('address', ANY_ACCOUNT, null, address, perAddress, at),
          created: true,
        };
      this.count(key, address, at);
      this.count(ANY_ACCOUNT, address, at);
      return { attempt: { key, username, address } };
    })();
  }

  /** The password was wrong: the lock this failure set, if it was one too many. */
  failed(attempt: LoginAttempt): LockAnswer | undefined {
    const at = this.now();
    return this.db.transaction(() => {
      const { key, address } = attempt;
      const held = this.activeLock(key, address, at);
      if (held !== undefined) return { lock: toLock(held), created: false };
      const perAccount = this.failures(key, address);
      if (perAccount >= this.config.failuresPerAccount) {
        const lock = this.lock('account', key, attempt.username, address, perAccount, at);
        return { lock, created: true };
      }
      const perAddress = this.failures(ANY_ACCOUNT, address);
      if (perAddress >= this.config.failuresPerAddress) {
        const lock = this.lock('address', ANY_ACCOUNT, null, address, perAddress, at);
        return { lock, created: true };
      }
      return undefined;
    })();
  }

  /** The password was right: the name's count from this address starts again. */
  succeeded(attempt: LoginAttempt): void {
    this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM login_failures WHERE account_key = ? AND address = ?')
        .run(attempt.key, attempt.address);
      // Only this attempt is given back on the address's count: a valid account must not
      // reset the count of a spray from the same address.
      this.db
        .prepare(
          `UPDATE login_failures SET count = max(count - 1, 0) WHERE account_key = ? AND address = ?`,
        )
        .run(ANY_ACCOUNT, attempt.address);
    })();
  }

  /** The locks in force, newest first. */
  active(): LoginLock[] {
    const rows = this.db
      .prepare('SELECT * FROM login_locks WHERE lifted_at IS NULL AND until > ? ORDER BY id DESC')
      .all(this.now().toISOString()) as LockRow[];
    return rows.map(toLock);
  }

  /** Lifts a lock in force; undefined when there is none with that id. */
  lift(id: number, by: string): LoginLock | undefined {
    const at = this.now().toISOString();
    return this.db.transaction(() => {
      const row = this.db
        .prepare('SELECT * FROM login_locks WHERE id = ? AND lifted_at IS NULL AND until > ?')
        .get(id, at) as (LockRow & { account_key: string }) | undefined;
      if (row === undefined) return undefined;
      this.db
        .prepare('UPDATE login_locks SET lifted_at = ?, lifted_by = ? WHERE id = ?')
        .run(at, by, id);
      this.db
        .prepare('DELETE FROM login_failures WHERE account_key = ? AND address = ?')
        .run(row.account_key, row.address);
      return toLock(row);
    })();
  }

  /** The account's lock from this address, else the address's own, in force at `at`. */
  private activeLock(key: string, address: string, at: Date): LockRow | undefined {
    return this.db
      .prepare(
        `SELECT * FROM login_locks
         WHERE account_key IN (?, ?) AND address = ? AND lifted_at IS NULL AND until > ?
         ORDER BY until DESC LIMIT 1`,
      )
      .get(key, ANY_ACCOUNT, address, at.toISOString()) as LockRow | undefined;
  }

  /** Counts whose window is over are forgotten (a fixed window from the first failure). */
  private forget(at: Date): void {
    const windowStart = new Date(at.getTime() - this.config.windowMin * 60_000).toISOString();
    this.db.prepare('DELETE FROM login_failures WHERE first_at <= ?').run(windowStart);
  }

  private count(key: string, address: string, at: Date): void {
    const now = at.toISOString();
    this.db
      .prepare(
        `INSERT INTO login_failures (account_key, address, count, first_at, last_at)
         VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (account_key, address) DO UPDATE SET count = count + 1, last_at = excluded.last_at`,
      )
      .run(key, address, now, now);
  }

  private failures(key: string, address: string): number {
    const row = this.db
      .prepare('SELECT count FROM login_failures WHERE account_key = ? AND address = ?')
      .get(key, address) as { count: number } | undefined;
    return row?.count ?? 0;
  }

  private lock(
    scope: LoginLockScope,
    key: string,
    username: string | null,
    address: string,
    failures: number,
    at: Date,
  ): LoginLock {
    const until = new Date(at.getTime() + this.config.lockMin * 60_000);
    this.db
      .prepare('DELETE FROM login_locks WHERE until <= ? OR lifted_at <= ?')
      .run(...Array<string>(2).fill(new Date(at.getTime() - KEEP_ENDED_MS).toISOString()));
    // The count starts again once the lock is over.
    this.db
      .prepare('DELETE FROM login_failures WHERE account_key = ? AND address = ?')
      .run(key, address);
    const row = this.db
      .prepare(
        `INSERT INTO login_locks (scope, account_key, username, address, locked_at, until, failures)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        scope,
        key,
        username,
        address,
        at.toISOString(),
        until.toISOString(),
        failures,
      ) as LockRow;
    return toLock(row);
  }
}
