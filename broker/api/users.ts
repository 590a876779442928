/**
 * Console users and their sessions, in SQLite (component "users").
 *
 * Passwords: scrypt (RFC 7914) with a random 16-byte salt per user; the stored string
 * carries its own parameters (`scrypt$N$r$p$salt$hash`) so they can be raised later
 * without breaking old rows. Sessions: a random 32-byte token handed to the client once;
 * only its SHA-256 is stored, so a copy of the database opens no session.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { UserRole } from '../../shared/api/auth.js';
import type { Locale, UserSummary } from '../../shared/api/users.js';
import { VigilError } from '../../shared/errors.js';
import type { AuditStore } from '../audit-trail.js';
import { migrate, type Db, type Migration } from '../db.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** The account ensureAdmin() creates or updates. */
export const ADMIN_USERNAME = 'admin';

export const userMigrations: readonly Migration[] = [
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
    sql: `
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

export interface UserStore {
  /**
   * The user when the password is right, else undefined. Takes the same time whether or
   * not the user exists, so the answer's timing does not tell.
   */
  verify(username: string, password: string): Promise<SessionUser | undefined>;
  /** Counts a failed login (per user when the user exists); returns the process total. */
  recordFailure(username: string): number;
  /** Failed logins since this process started. */
  readonly failedLogins: number;
  /**
   * Creates the user or replaces its role and password; ends its sessions. A `customer`
   * needs `customerId` (the caller checks it exists); any other role takes none.
   */
  setUser(username: string, role: UserRole, password: string, customerId?: string | null): void;
  openSession(user: SessionUser): { token: string; expiresAt: Date };
  /** The session of a token, or undefined when unknown or expired. */
  session(token: string): Session | undefined;
  closeSession(token: string): void;
  /** One user, or undefined. */
  user(username: string): UserSummary | undefined;
  /** Every user, by name. */
  list(): UserSummary[];
  /**
   * Changes the role (and customer) only; the password stays. Sessions stay unless the
   * account's audience changed (staff to customer, or another customer): a session
   * carries its customer, so those end.
   */
  setRole(username: string, role: UserRole, customerId?: string | null): void;
  setLocale(username: string, locale: Locale): void;
  /** The console's time zone (IANA name); null: the browser's. */
  setTimeZone(username: string, timeZone: string | null): void;
  /** Deletes the user and its sessions; false when there was none. */
  remove(username: string): boolean;
}

// scrypt cost: N = 2^15 (RFC 7914 section 2 suggests 2^14 as the interactive minimum;
// OWASP's 2023 password storage cheat sheet gives 2^17 with r=8 at ~128 MiB, too much
// memory for a gateway-sized broker). About 100 ms and 32 MiB per login on a current core.
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 64 };
const scryptMaxmem = (params: { N: number; r: number }) => 256 * params.N * params.r;

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const { N, r, p, keylen } = SCRYPT;
  const hash = scryptSync(password, salt, keylen, { N, r, p, maxmem: scryptMaxmem(SCRYPT) });
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

function scryptAsync(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  const { N, r, p, keylen } = params;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem: scryptMaxmem(params) }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  const key = await scryptAsync(password, parsed.salt, { ...parsed, keylen: parsed.hash.length });
  return timingSafeEqual(key, parsed.hash);
}

/** The same check, synchronous: for start-up only, never on a request path. */
function passwordMatchesSync(password: string, stored: string): boolean {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  const { N, r, p } = parsed;
  const key = scryptSync(password, parsed.salt, parsed.hash.length, {
    N,
    r,
    p,
    maxmem: scryptMaxmem(parsed),
  });
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

/** Creates the tables on first use and prepares the statements. */
export function createUserStore(db: Db, opts: { now?: () => Date } = {}): UserStore {
  migrate(db, 'users', userMigrations);
  const now = opts.now ?? (() => new Date());
  let failedLogins = 0;
  // Checked against when the user does not exist, so that case costs one scrypt too.
  let decoyHash: string | undefined;

  const selectUser = db.prepare(
    'SELECT username, role, customer_id, password_hash FROM users WHERE username = ?',
  );
  const upsertUser = db.prepare(`
    INSERT INTO users (username, role, customer_id, password_hash, created_at, updated_at)
    VALUES (@username, @role, @customerId, @hash, @now, @now)
    ON CONFLICT (username) DO UPDATE
      SET role = @role, customer_id = @customerId, password_hash = @hash, updated_at = @now,
          failed_logins = 0`);
  const deleteUserSessions = db.prepare('DELETE FROM sessions WHERE username = ?');
  const countFailure = db.prepare(
    'UPDATE users SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE username = ?',
  );
  const markLogin = db.prepare(
    'UPDATE users SET failed_logins = 0, last_login_at = ? WHERE username = ?',
  );
  const insertSession = db.prepare(
    'INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
  );
  const deleteExpired = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
  const selectSession = db.prepare(`
    SELECT u.username, u.role, u.customer_id, s.expires_at
    FROM sessions s JOIN users u USING (username)
    WHERE s.token_hash = ? AND s.expires_at > ?`);
  const deleteSession = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
  const summaryColumns =
    'username, role, customer_id, locale, time_zone, created_at, last_login_at';
  const selectSummary = db.prepare(`SELECT ${summaryColumns} FROM users WHERE username = ?`);
  const selectSummaries = db.prepare(`SELECT ${summaryColumns} FROM users ORDER BY username`);
  const updateRole = db.prepare(
    'UPDATE users SET role = ?, customer_id = ?, updated_at = ? WHERE username = ?',
  );
  const updateLocale = db.prepare('UPDATE users SET locale = ? WHERE username = ?');
  const updateTimeZone = db.prepare('UPDATE users SET time_zone = ? WHERE username = ?');
  const deleteUser = db.prepare('DELETE FROM users WHERE username = ?');

  return {
    async verify(username, password) {
      const row = selectUser.get(username) as UserRow | undefined;
      decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
      const ok = await passwordMatches(password, row?.password_hash ?? decoyHash);
      if (row === undefined || !ok) return undefined;
      markLogin.run(now().toISOString(), row.username);
      return { username: row.username, role: row.role, customerId: row.customer_id };
    },
    recordFailure(username) {
      countFailure.run(now().toISOString(), username);
      return ++failedLogins;
    },
    get failedLogins() {
      return failedLogins;
    },
    setUser(username, role, password, customerId = null) {
      const hash = hashPassword(password);
      db.transaction(() => {
        upsertUser.run({ username, role, customerId, hash, now: now().toISOString() });
        // A new password ends every session opened with the old one.
        deleteUserSessions.run(username);
      })();
    },
    openSession(user) {
      const at = now();
      const token = randomBytes(32).toString('hex');
      const expiresAt = new Date(at.getTime() + SESSION_TTL_MS);
      deleteExpired.run(at.toISOString());
      insertSession.run(sha256(token), user.username, at.toISOString(), expiresAt.toISOString());
      return { token, expiresAt };
    },
    session(token) {
      const row = selectSession.get(sha256(token), now().toISOString()) as
        | { username: string; role: UserRole; customer_id: string | null; expires_at: string }
        | undefined;
      if (row === undefined) return undefined;
      return {
        username: row.username,
        role: row.role,
        customerId: row.customer_id,
        expiresAt: new Date(row.expires_at),
      };
    },
    closeSession(token) {
      deleteSession.run(sha256(token));
    },
    user(username) {
      const row = selectSummary.get(username) as SummaryRow | undefined;
      return row === undefined ? undefined : toSummary(row);
    },
    list() {
      return (selectSummaries.all() as SummaryRow[]).map(toSummary);
    },
    setRole(username, role, customerId = null) {
      db.transaction(() => {
        const before = selectUser.get(username) as UserRow | undefined;
        updateRole.run(role, customerId, now().toISOString(), username);
        // A session is of one audience: moving an account between the staff and a
        // customer, or between customers, must not leave a session seeing the old one's.
        if (before !== undefined && before.customer_id !== customerId)
          deleteUserSessions.run(username);
      })();
    },
    setLocale(username, locale) {
      updateLocale.run(locale, username);
    },
    setTimeZone(username, timeZone) {
      updateTimeZone.run(timeZone, username);
    },
    remove(username) {
      // Sessions go with the user (ON DELETE CASCADE needs foreign_keys on; be explicit).
      return db.transaction(() => {
        deleteUserSessions.run(username);
        return deleteUser.run(username).changes > 0;
      })();
    },
  };
}

/**
 * Makes sure someone can log in to a new broker. With a password (from the config or
 * VIGIL_ADMIN_PASSWORD): creates "admin" or sets its password. Without one: when no
 * admin exists, creates "admin" with a generated password and returns it for the caller
 * to print once (it is stored only as a hash); when an admin exists, does nothing.
 */
export function ensureAdmin(
  db: Db,
  password: string | undefined,
  audit?: AuditStore,
): { created: boolean; generatedPassword?: string } {
  if (password === '') {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      'The admin password is empty: set a non-empty one, or none to have one generated.',
    );
  }
  const users = createUserStore(db);
  const exists = (username: string) =>
    db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  if (password !== undefined) {
    const row = db
      .prepare('SELECT role, password_hash FROM users WHERE username = ?')
      .get(ADMIN_USERNAME) as { role: UserRole; password_hash: string } | undefined;
    // The same password at every start (VIGIL_ADMIN_PASSWORD) must not end the admin's
    // open sessions: only a changed password or role is written.
    if (row?.role === 'admin' && passwordMatchesSync(password, row.password_hash)) {
      return { created: false };
    }
    users.setUser(ADMIN_USERNAME, 'admin', password);
    audit?.add(
      'system',
      row === undefined ? 'user.create' : 'user.update',
      `user:${ADMIN_USERNAME}`,
      {
        role: 'admin',
        passwordChanged: true,
        source: 'the admin password of the broker (VIGIL_ADMIN_PASSWORD)',
      },
    );
    return { created: row === undefined };
  }
  if (db.prepare("SELECT 1 FROM users WHERE role = 'admin'").get() !== undefined) {
    return { created: false };
  }
  const generatedPassword = randomBytes(18).toString('base64url');
  const created = !exists(ADMIN_USERNAME);
  users.setUser(ADMIN_USERNAME, 'admin', generatedPassword);
  audit?.add('system', created ? 'user.create' : 'user.update', `user:${ADMIN_USERNAME}`, {
    role: 'admin',
    passwordChanged: true,
    source: 'generated at start (no admin existed)',
  });
  return { created, generatedPassword };
}
