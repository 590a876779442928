/**
 * Login limits per client address (component "login-limits"), over broker/sql, so that a
 * lock outlives a broker restart and, on an active/standby pair (PostgreSQL), holds on
 * both nodes: the new leader refuses what the old one locked.
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
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';

const failuresTable = `
      CREATE TABLE login_failures (
        -- the user name, sha256:<hex> of a name no user has, '' for the address's count
        account_key TEXT NOT NULL,
        address TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL,
        PRIMARY KEY (account_key, address)
      );
      CREATE INDEX login_failures_first_at ON login_failures (first_at);`;

const locksColumns = `
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
      CREATE INDEX login_locks_key ON login_locks (account_key, address, until);`;

const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: `${failuresTable}
      CREATE TABLE login_locks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,${locksColumns}`,
    postgres: `${failuresTable}
      CREATE TABLE login_locks (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,${locksColumns}`,
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
  /** When this process last deleted the counts whose window is over (ms since 1970). */
  private forgotAt = 0;

  constructor(
    private readonly db: SqlDatabase,
    private readonly config: LoginLimitsConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<void> {
    await this.db.migrate('login-limits', migrations);
  }

  /**
   * Before the password is checked: the lock that refuses this login (its refusal
   * counted), or the attempt, counted as a failure until succeeded() gives it back.
   *
   * The attempt is counted first (one INSERT ... ON CONFLICT DO UPDATE adding 1, whose
   * RETURNING says the new count): on PostgreSQL that holds the counter's row until
   * COMMIT, so two nodes' attempts for one name and address take turns, none is lost,
   * and the lock check after it sees a lock the other node has just set (READ COMMITTED
   * takes a new snapshot per statement, PostgreSQL 15 docs 13.2.1). An attempt refused
   * here is taken off the counts again.
   */
  async begin(
    account: LoginAccount,
    peer: string,
  ): Promise<LockAnswer | { attempt: LoginAttempt }> {
    const address = clientKey(peer);
    const key = accountKey(account);
    const at = this.now();
    await this.forget(at);
    const username = account.exists ? account.username : null;
    return this.db.transaction(async (tx) => {
      const perAccount = await this.count(tx, key, address, at);
      const perAddress = await this.count(tx, ANY_ACCOUNT, address, at);
      const held = await this.activeLock(tx, key, address, at);
      if (held !== undefined) {
        await this.uncount(tx, key, address);
        await this.uncount(tx, ANY_ACCOUNT, address);
        const refused = await tx.run<LockRow>(
          'UPDATE login_locks SET refused = refused + 1 WHERE id = ? RETURNING *',
          [held.id],
        );
        return { lock: toLock(refused.rows[0] ?? held), created: false };
      }
      // As many attempts as the limit are in flight already: this one is one too many.
      if (perAccount > this.config.failuresPerAccount) {
        await this.uncount(tx, ANY_ACCOUNT, address);
        const lock = await this.lock(tx, 'account', key, username, address, perAccount - 1, at);
        return { lock, created: true };
      }
      if (perAddress > this.config.failuresPerAddress) {
        await this.uncount(tx, key, address);
        const lock = await this.lock(tx, 'address', ANY_ACCOUNT, null, address, perAddress - 1, at);
        return { lock, created: true };
      }
      return { attempt: { key, username, address } };
    });
  }

  /** The password was wrong: the lock this failure set, if it was one too many. */
  async failed(attempt: LoginAttempt): Promise<LockAnswer | undefined> {
    const at = this.now();
    const { key, address } = attempt;
    return this.db.transaction(async (tx) => {
      // The counters' rows first, as in begin(): another node's failure for the same name
      // waits here, then finds the lock this one set instead of setting a second.
      const perAccount = await this.failures(tx, key, address, at);
      const perAddress = await this.failures(tx, ANY_ACCOUNT, address, at);
      const held = await this.activeLock(tx, key, address, at);
      if (held !== undefined) return { lock: toLock(held), created: false };
      if (perAccount >= this.config.failuresPerAccount) {
        const lock = await this.lock(tx, 'account', key, attempt.username, address, perAccount, at);
        return { lock, created: true };
      }
      if (perAddress >= this.config.failuresPerAddress) {
        const lock = await this.lock(tx, 'address', ANY_ACCOUNT, null, address, perAddress, at);
        return { lock, created: true };
      }
      return undefined;
    });
  }

  /** The password was right: the name's count from this address starts again. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM login_failures WHERE account_key = ? AND address = ?', [
        attempt.key,
        attempt.address,
      ]);
      // Only this attempt is given back on the address's count: a valid account must not
      // reset the count of a spray from the same address.
      await this.uncount(tx, ANY_ACCOUNT, attempt.address);
    });
  }

  /** The locks in force, newest first. */
  async active(): Promise<LoginLock[]> {
    const rows = await this.db.all<LockRow>(
      'SELECT * FROM login_locks WHERE lifted_at IS NULL AND until > ? ORDER BY id DESC',
      [this.now().toISOString()],
    );
    return rows.map(toLock);
  }

  /** Lifts a lock in force; undefined when there is none with that id. */
  async lift(id: number, by: string): Promise<LoginLock | undefined> {
    const at = this.now().toISOString();
    return this.db.transaction(async (tx) => {
      const held = await tx.get<{ account_key: string; address: string }>(
        'SELECT account_key, address FROM login_locks WHERE id = ? AND lifted_at IS NULL AND until > ?',
        [id, at],
      );
      if (held === undefined) return undefined;
      // The count's row before the lock's, in the order a login refused by this lock takes
      // them (begin(): its counts, then the refusal on the lock). The other order waits in
      // a circle with such a login on PostgreSQL, which then fails one of the two.
      await tx.run('DELETE FROM login_failures WHERE account_key = ? AND address = ?', [
        held.account_key,
        held.address,
      ]);
      // One conditional UPDATE: of two admins lifting at once, one lifts it.
      const { rows } = await tx.run<LockRow>(
        `UPDATE login_locks SET lifted_at = ?, lifted_by = ?
         WHERE id = ? AND lifted_at IS NULL AND until > ? RETURNING *`,
        [at, by, id, at],
      );
      const row = rows[0];
      return row === undefined ? undefined : toLock(row);
    });
  }

  /** The account's lock from this address, else the address's own, in force at `at`. */
  private activeLock(
    tx: SqlSession,
    key: string,
    address: string,
    at: Date,
  ): Promise<LockRow | undefined> {
    return tx.get<LockRow>(
      `SELECT * FROM login_locks
       WHERE account_key IN (?, ?) AND address = ? AND lifted_at IS NULL AND until > ?
       ORDER BY until DESC LIMIT 1`,
      [key, ANY_ACCOUNT, address, at.toISOString()],
    );
  }

  /** The start of the window that ends at `at`: counts begun before it are over. */
  private windowStart(at: Date): string {
    return new Date(at.getTime() - this.config.windowMin * 60_000).toISOString();
  }

  /**
   * Deletes the counts whose window is over (a fixed window from the first failure), at
   * most once a minute per process and outside the attempt's transaction: the window is
   * also checked where a count is read, so this only keeps the table small.
   *
   * On PostgreSQL a count another login holds is left to it (SKIP LOCKED; that login
   * starts its count again anyway). A plain DELETE would lock the rows it meets one by
   * one and wait for a held one while holding the others: a login holding its name's row
   * and waiting for its address's row, which the DELETE took first, closes a circle
   * (PostgreSQL 15 docs 13.3.4, "Deadlocks"), and PostgreSQL fails one of the two. SQLite
   * has one writer at a time and no row locks.
   */
  private async forget(at: Date): Promise<void> {
    if (at.getTime() - this.forgotAt < 60_000 && at.getTime() >= this.forgotAt) return;
    this.forgotAt = at.getTime();
    const free = this.db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    await this.db.run(
      `DELETE FROM login_failures WHERE (account_key, address) IN (
         SELECT account_key, address FROM login_failures WHERE first_at <= ?${free})`,
      [this.windowStart(at)],
    );
  }

  /** Adds this attempt to a count (a count whose window is over starts again); the new count. */
  private async count(tx: SqlSession, key: string, address: string, at: Date): Promise<number> {
    const { rows } = await tx.run<{ count: number }>(
      `INSERT INTO login_failures (account_key, address, count, first_at, last_at)
       VALUES (@key, @address, 1, @now, @now)
       ON CONFLICT (account_key, address) DO UPDATE SET
         count = CASE WHEN login_failures.first_at <= @windowStart THEN 1
                      ELSE login_failures.count + 1 END,
         first_at = CASE WHEN login_failures.first_at <= @windowStart THEN excluded.first_at
                         ELSE login_failures.first_at END,
         last_at = excluded.last_at
       RETURNING count`,
      { key, address, now: at.toISOString(), windowStart: this.windowStart(at) },
    );
    return rows[0]?.count ?? 1;
  }

  /** Takes one attempt off a count. */
  private async uncount(tx: SqlSession, key: string, address: string): Promise<void> {
    await tx.run(
      `UPDATE login_failures SET count = CASE WHEN count > 0 THEN count - 1 ELSE 0 END
       WHERE account_key = ? AND address = ?`,
      [key, address],
    );
  }

  /**
   * The failures counted within the window. An UPDATE rather than a SELECT: it holds the
   * row to COMMIT on PostgreSQL, so the decision made from it is this transaction's alone.
   */
  private async failures(tx: SqlSession, key: string, address: string, at: Date): Promise<number> {
    const { rows } = await tx.run<{ count: number }>(
      `UPDATE login_failures SET last_at = last_at
       WHERE account_key = ? AND address = ? AND first_at > ? RETURNING count`,
      [key, address, this.windowStart(at)],
    );
    return rows[0]?.count ?? 0;
  }

  private async lock(
    tx: SqlSession,
    scope: LoginLockScope,
    key: string,
    username: string | null,
    address: string,
    failures: number,
    at: Date,
  ): Promise<LoginLock> {
    const until = new Date(at.getTime() + this.config.lockMin * 60_000);
    const ended = new Date(at.getTime() - KEEP_ENDED_MS).toISOString();
    await tx.run('DELETE FROM login_locks WHERE until <= ? OR lifted_at <= ?', [ended, ended]);
    // The count starts again once the lock is over.
    await tx.run('DELETE FROM login_failures WHERE account_key = ? AND address = ?', [
      key,
      address,
    ]);
    const { rows } = await tx.run<LockRow>(
      `INSERT INTO login_locks (scope, account_key, username, address, locked_at, until, failures)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [scope, key, username, address, at.toISOString(), until.toISOString(), failures],
    );
    return toLock(rows[0]!);
  }
}
