/**
 * Console users and their sessions (component "users"), over broker/sql: SQLite on one
 * machine, PostgreSQL on an active/standby pair, where a session opened on one node is
 * valid on the other (issue 17 part 1: a console stays logged in through a failover).
 *
 * Passwords: scrypt (RFC 7914) with a random 16-byte salt per user; the stored string
 * carries its own parameters (`scrypt$N$r$p$salt$hash`) so they can be raised later
 * without breaking old rows. Sessions: a random 32-byte token handed to the client once;
 * only its SHA-256 is stored, so a copy of the database opens no session.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { UserRole } from '../../shared/api/auth.js';
import type { Locale, UserSummary } from '../../shared/api/users.js';
import { VigilError } from '../../shared/errors.js';
import type { AuditStore } from '../audit-trail.js';
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** The account ensureAdmin() creates or updates. */
export const ADMIN_USERNAME = 'admin';

export const userMigrations: readonly StoreMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        last_failed_at TEXT,
        last_login_at TEXT
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
    `,
  },
  {
    // The console's language per user (NULL: not chosen yet, the browser's is used).
    version: 2,
    sql: `ALTER TABLE users ADD COLUMN locale TEXT;`,
  },
  {
    // Customer accounts (issue 16 part 5): the role CHECK gains 'customer', and a customer
    // account names its customer (customer_id, required for that role and only for it);
    // time_zone is the console's zone per user (NULL: the browser's). SQLite cannot alter
    // a CHECK (https://sqlite.org/lang_altertable.html, "other kinds of table schema
    // changes"): both tables are made anew and copied. Sessions go first, because with
    // foreign_keys on, dropping users would delete them by its ON DELETE CASCADE; renaming
    // users_new rewrites the sessions' REFERENCES to the new name (legacy_alter_table off).
    // customer_id has no REFERENCES: customers are another component's table, and the
    // route checks the id exists (PUT /api/users/:username).
    version: 3,
    sqlite: `
      CREATE TABLE users_new (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'customer')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        last_failed_at TEXT,
        last_login_at TEXT,
        locale TEXT,
        customer_id TEXT,
        time_zone TEXT,
        CHECK ((role = 'customer') = (customer_id IS NOT NULL))
      );
      INSERT INTO users_new (username, role, password_hash, created_at, updated_at,
                             failed_logins, last_failed_at, last_login_at, locale)
        SELECT username, role, password_hash, created_at, updated_at,
               failed_logins, last_failed_at, last_login_at, locale FROM users;
      CREATE TABLE sessions_new (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users_new (username) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
      INSERT INTO sessions_new SELECT token_hash, username, created_at, expires_at FROM sessions;
      DROP TABLE sessions;
      DROP TABLE users;
      ALTER TABLE users_new RENAME TO users;
      ALTER TABLE sessions_new RENAME TO sessions;
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
    `,
    // PostgreSQL alters a CHECK in place (ALTER TABLE ... DROP/ADD CONSTRAINT; the role
    // check of version 1 has the default name <table>_<column>_check, PostgreSQL 15 docs
    // 5.4.1): the same final table, its rows and sessions untouched.
    postgres: `
      ALTER TABLE users DROP CONSTRAINT users_role_check;
      ALTER TABLE users ADD CONSTRAINT users_role_check
        CHECK (role IN ('admin', 'operator', 'viewer', 'customer'));
      ALTER TABLE users ADD COLUMN customer_id TEXT;
      ALTER TABLE users ADD COLUMN time_zone TEXT;
      ALTER TABLE users ADD CONSTRAINT users_customer_check
        CHECK ((role = 'customer') = (customer_id IS NOT NULL));
    `,
  },
];

export interface SessionUser {
  username: string;
  role: UserRole;
  /** The customer of a `customer` account (broker/api/scope.ts); null for staff. */
  customerId: string | null;
}

export interface Session extends SessionUser {
  expiresAt: Date;
}

// scrypt cost: N = 2^15 (RFC 7914 section 2 suggests 2^14 as the interactive minimum;
// OWASP's 2023 password storage cheat sheet gives 2^17 with r=8 at ~128 MiB, too much
// memory for a gateway-sized broker). About 100 ms and 32 MiB per login on a current core.
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 64 };
const scryptMaxmem = (params: { N: number; r: number }) => 256 * params.N * params.r;

function scryptAsync(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  const { N, r, p, keylen } = params;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem: scryptMaxmem(params) }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Off the event loop (libuv's pool): a hash on the request path must not stall the broker. */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT);
  const { N, r, p } = SCRYPT;
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

function parseHash(stored: string) {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return undefined;
  return {
    N: Number(N),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt, 'base64'),
    hash: Buffer.from(hash, 'base64'),
  };
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  const key = await scryptAsync(password, parsed.salt, { ...parsed, keylen: parsed.hash.length });
  return timingSafeEqual(key, parsed.hash);
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

interface UserRow {
  username: string;
  role: UserRole;
  customer_id: string | null;
  password_hash: string;
}

interface SummaryRow {
  username: string;
  role: UserRole;
  customer_id: string | null;
  locale: Locale | null;
  time_zone: string | null;
  created_at: string;
  last_login_at: string | null;
}

function toSummary(row: SummaryRow): UserSummary {
  return {
    username: row.username,
    role: row.role,
    customerId: row.customer_id,
    locale: row.locale,
    timeZone: row.time_zone,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

const SUMMARY_COLUMNS = 'username, role, customer_id, locale, time_zone, created_at, last_login_at';

export class UserStore {
  private readonly now: () => Date;
  private failures = 0;
  // Checked against when the user does not exist, so that case costs one scrypt too.
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly db: SqlDatabase,
    opts: { now?: () => Date } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Creates or upgrades the tables (existing SQLite files upgrade in place). */
  async start(): Promise<void> {
    await this.db.migrate('users', userMigrations);
  }

  /**
   * The user when the password is right, else undefined. Takes the same time whether or
   * not the user exists, so the answer's timing does not tell.
   */
  async verify(username: string, password: string): Promise<SessionUser | undefined> {
    const row = await this.row(this.db, username);
    this.decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const ok = await passwordMatches(password, row?.password_hash ?? (await this.decoyHash));
    if (row === undefined || !ok) return undefined;
    await this.db.run('UPDATE users SET failed_logins = 0, last_login_at = ? WHERE username = ?', [
      this.now().toISOString(),
      row.username,
    ]);
    return { username: row.username, role: row.role, customerId: row.customer_id };
  }

  /** Counts a failed login (per user when the user exists); returns this process's total. */
  async recordFailure(username: string): Promise<number> {
    // One UPDATE adding to the stored count: two nodes counting at once lose neither.
    await this.db.run(
      'UPDATE users SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE username = ?',
      [this.now().toISOString(), username],
    );
    return ++this.failures;
  }

  /** Failed logins since this process started. */
  get failedLogins(): number {
    return this.failures;
  }

  /**
   * Creates the user or replaces its role and password; ends its sessions. A `customer`
   * needs `customerId` (the caller checks it exists); any other role takes none.
   */
  async setUser(
    username: string,
    role: UserRole,
    password: string,
    customerId: string | null = null,
  ): Promise<void> {
    const hash = await hashPassword(password);
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO users (username, role, customer_id, password_hash, created_at, updated_at)
         VALUES (@username, @role, @customerId, @hash, @now, @now)
         ON CONFLICT (username) DO UPDATE
           SET role = @role, customer_id = @customerId, password_hash = @hash, updated_at = @now,
               failed_logins = 0`,
        { username, role, customerId, hash, now: this.now().toISOString() },
      );
      // A new password ends every session opened with the old one.
      await tx.run('DELETE FROM sessions WHERE username = ?', [username]);
    });
  }

  /**
   * A new session: its token goes to the client once, only its SHA-256 is stored. In the
   * database, so every node of a pair knows it (the console stays logged in on failover).
   */
  async openSession(user: SessionUser): Promise<{ token: string; expiresAt: Date }> {
    const at = this.now();
    const token = randomBytes(32).toString('hex');
    const expiresAt = new Date(at.getTime() + SESSION_TTL_MS);
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM sessions WHERE expires_at <= ?', [at.toISOString()]);
      await tx.run(
        'INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
        [sha256(token), user.username, at.toISOString(), expiresAt.toISOString()],
      );
    });
    return { token, expiresAt };
  }

  /** The session of a token, or undefined when unknown or expired. */
  async session(token: string): Promise<Session | undefined> {
    const row = await this.db.get<{
      username: string;
      role: UserRole;
      customer_id: string | null;
      expires_at: string;
    }>(
      `SELECT u.username, u.role, u.customer_id, s.expires_at
       FROM sessions s JOIN users u ON u.username = s.username
       WHERE s.token_hash = ? AND s.expires_at > ?`,
      [sha256(token), this.now().toISOString()],
    );
    if (row === undefined) return undefined;
    return {
      username: row.username,
      role: row.role,
      customerId: row.customer_id,
      expiresAt: new Date(row.expires_at),
    };
  }

  async closeSession(token: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE token_hash = ?', [sha256(token)]);
  }

  /** One user, or undefined. */
  async user(username: string): Promise<UserSummary | undefined> {
    const row = await this.db.get<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM users WHERE username = ?`,
      [username],
    );
    return row === undefined ? undefined : toSummary(row);
  }

  /** Every user, by name. */
  async list(): Promise<UserSummary[]> {
    const rows = await this.db.all<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM users ORDER BY username`,
    );
    return rows.map(toSummary);
  }

  /**
   * Changes the role (and customer) only; the password stays. Sessions stay unless the
   * account's audience changed (staff to customer, or another customer): a session
   * carries its customer, so those end.
   */
  async setRole(username: string, role: UserRole, customerId: string | null = null): Promise<void> {
    await this.db.transaction(async (tx) => {
      const before = await this.row(tx, username);
      await tx.run(
        'UPDATE users SET role = ?, customer_id = ?, updated_at = ? WHERE username = ?',
        [role, customerId, this.now().toISOString(), username],
      );
      // A session is of one audience: moving an account between the staff and a
      // customer, or between customers, must not leave a session seeing the old one's.
      if (before !== undefined && before.customer_id !== customerId)
        await tx.run('DELETE FROM sessions WHERE username = ?', [username]);
    });
  }

  async setLocale(username: string, locale: Locale): Promise<void> {
    await this.db.run('UPDATE users SET locale = ? WHERE username = ?', [locale, username]);
  }

  /** The console's time zone (IANA name); null: the browser's. */
  async setTimeZone(username: string, timeZone: string | null): Promise<void> {
    await this.db.run('UPDATE users SET time_zone = ? WHERE username = ?', [timeZone, username]);
  }

  /** Deletes the user and its sessions; false when there was none. */
  async remove(username: string): Promise<boolean> {
    // Sessions go with the user (ON DELETE CASCADE needs foreign_keys on in SQLite; be
    // explicit).
    return this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM sessions WHERE username = ?', [username]);
      return (await tx.run('DELETE FROM users WHERE username = ?', [username])).changes > 0;
    });
  }

  /** Whether some user has the admin role. */
  async hasAdmin(): Promise<boolean> {
    return (await this.db.get("SELECT 1 AS one FROM users WHERE role = 'admin'")) !== undefined;
  }

  /** Whether `password` is the user's password and its role is `role` (no write). */
  async hasPassword(username: string, role: UserRole, password: string): Promise<boolean> {
    const row = await this.row(this.db, username);
    return row?.role === role && (await passwordMatches(password, row.password_hash));
  }

  private row(on: SqlSession, username: string): Promise<UserRow | undefined> {
    return on.get<UserRow>(
      'SELECT username, role, customer_id, password_hash FROM users WHERE username = ?',
      [username],
    );
  }
}

/**
 * Makes sure someone can log in to a new broker. With a password (from the config or
 * VIGIL_ADMIN_PASSWORD): creates "admin" or sets its password. Without one: when no
 * admin exists, creates "admin" with a generated password and returns it for the caller
 * to print once (it is stored only as a hash); when an admin exists, does nothing.
 */
export async function ensureAdmin(
  db: SqlDatabase,
  password: string | undefined,
  audit?: AuditStore,
): Promise<{ created: boolean; generatedPassword?: string }> {
  if (password === '') {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      'The admin password is empty: set a non-empty one, or none to have one generated.',
    );
  }
  const users = new UserStore(db);
  await users.start();
  if (password !== undefined) {
    // The same password at every start (VIGIL_ADMIN_PASSWORD) must not end the admin's
    // open sessions: only a changed password or role is written.
    if (await users.hasPassword(ADMIN_USERNAME, 'admin', password)) return { created: false };
    const existed = (await users.user(ADMIN_USERNAME)) !== undefined;
    await users.setUser(ADMIN_USERNAME, 'admin', password);
    await audit?.add('system', existed ? 'user.update' : 'user.create', `user:${ADMIN_USERNAME}`, {
      role: 'admin',
      passwordChanged: true,
      source: 'the admin password of the broker (VIGIL_ADMIN_PASSWORD)',
    });
    return { created: !existed };
  }
  if (await users.hasAdmin()) return { created: false };
  const generatedPassword = randomBytes(18).toString('base64url');
  const created = (await users.user(ADMIN_USERNAME)) === undefined;
  await users.setUser(ADMIN_USERNAME, 'admin', generatedPassword);
  await audit?.add('system', created ? 'user.create' : 'user.update', `user:${ADMIN_USERNAME}`, {
    role: 'admin',
    passwordChanged: true,
    source: 'generated at start (no admin existed)',
  });
  return { created, generatedPassword };
}
