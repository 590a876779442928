/**
 * MQTT credentials of the site agents. The broker keeps only a salted scrypt hash of
 * each password (the contract's security section: no secret stored or logged in the
 * clear); the password itself is shown once, when it is created.
 *
 * An agent's MQTT username is `<siteId>.<agentId>`; the account remembers both ids so
 * the authorizer knows which topics the agent may use. Re-adding an agent replaces its
 * password (the demo and docker-compose provision the same agent on every start);
 * every change bumps the account's `generation`, so the MQTT server can drop a session
 * that was opened with credentials that are no longer valid.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isId } from '../../shared/ids.js';
import type { SqlDatabase, StoreMigration } from '../sql/types.js';

/**
 * What an account is for: a site agent, the console (reads the tree and $SYS), or an
 * internal service of the NOC (reads everything, writes agent commands).
 */
export type ClientRole = 'agent' | 'console' | 'internal';
export const CLIENT_ROLES: readonly ClientRole[] = ['agent', 'console', 'internal'];

/** Who an authenticated MQTT client is. */
export interface AgentIdentity {
  username: string;
  siteId: string;
  agentId: string;
  /** Absent: an agent. */
  role?: ClientRole;
}

export interface AgentAccount extends AgentIdentity {
  createdAt: string;
  /** When the password was last set (created or replaced). */
  passwordSetAt: string;
  revokedAt: string | null;
}

export interface NewAgentCredentials extends AgentIdentity {
  /** Shown once; only its hash is kept. */
  password: string;
  /** True when an account of that name existed and its password was replaced. */
  replaced: boolean;
}

export interface AgentStoreEvents {
  /** The account's credentials stopped being valid (revoked or password replaced). */
  invalidated: [username: string];
}

/** The default agent name when `add()` gets none: the first free `gw-01`, `gw-02`, ... */
const DEFAULT_NAME_PREFIX = 'gw-';
export const MIN_PASSWORD_LENGTH = 12;

// scrypt cost N=2^14, r=8 (16 MiB, tens of milliseconds): generated passwords carry 192
// random bits, so stretching only matters for chosen ones (--password-env), while a
// broker restart makes every agent of the fleet reconnect, and check, at once.
const SCRYPT: ScryptOptions = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

// The same text on both engines (broker/sql/types.ts: TEXT times, INTEGER generation).
const migrations: StoreMigration[] = [
  {
    version: 1,
    sql: `CREATE TABLE agent_accounts (
      username TEXT PRIMARY KEY,
      site_id TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      password_hash TEXT NOT NULL,
      generation INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL,
      password_set_at TEXT NOT NULL,
      revoked_at TEXT
    );
    CREATE UNIQUE INDEX agent_accounts_site_agent ON agent_accounts (site_id, agent_id);`,
  },
  {
    version: 2,
    sql: `ALTER TABLE agent_accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'agent'`,
  },
];

interface AccountRow {
  username: string;
  site_id: string;
  agent_id: string;
  password_hash: string;
  generation: number;
  created_at: string;
  password_set_at: string;
  revoked_at: string | null;
  role: ClientRole;
}

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((done, fail) => {
    scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? fail(error) : done(key)));
  });
}

/** "scrypt$N$r$p$salt$hash", base64url: the cost travels with the hash, so it can grow later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, SCRYPT);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const options: ScryptOptions = {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  };
  const key = await derive(password, Buffer.from(salt, 'base64url'), options);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A request the accounts cannot satisfy (a bad name, a taken username): said to the user as is. */
export class AgentAccountError extends Error {
  override name = 'AgentAccountError';
}

export function agentUsername(siteId: string, agentId: string): string {
  return `${siteId}.${agentId}`;
}

/** "console:noc-wall": ":" is not allowed in ids, so it never clashes with an agent's name. */
export function clientUsername(role: Exclude<ClientRole, 'agent'>, name: string): string {
  return `${role}:${name}`;
}

export function generatePassword(): string {
  // 24 random bytes: 192 bits, 32 characters of base64url, safe in YAML and on a shell line.
  return randomBytes(24).toString('base64url');
}

export class AgentStore extends EventEmitter<AgentStoreEvents> {
  // Compared against when the username is unknown, so a wrong username costs as much
  // time as a wrong password and the answer time does not reveal which accounts exist.
  private dummyHash: Promise<string> | null = null;

  constructor(private readonly db: SqlDatabase) {
    super();
  }

  /** Creates the table on first use. */
  async start(): Promise<void> {
    await this.db.migrate('agents', migrations);
  }

  /**
   * Creates the account `<siteId>.<name>` with a new random password, or replaces the
   * password of an existing one (and un-revokes it). `password` sets a chosen one instead,
   * for provisioning from a secret store (`--password-env`).
   */
  async add(siteId: string, name?: string, password?: string): Promise<NewAgentCredentials> {
    const agentId = name ?? (await this.nextFreeName(siteId));
    const problems: string[] = [];
    if (!isId(siteId))
      problems.push(`site "${siteId}": use letters, digits, "_", "." or "-" (at most 64)`);
    if (!isId(agentId))
      problems.push(`name "${agentId}": use letters, digits, "_", "." or "-" (at most 64)`);
    if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
      problems.push(`password: use at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    if (problems.length > 0)
      throw new AgentAccountError(`cannot add the agent: ${problems.join('; ')}`);

    const username = agentUsername(siteId, agentId);
    const clash = await this.row(username);
    if (clash && (clash.site_id !== siteId || clash.agent_id !== agentId)) {
      // "a.b" + "c" and "a" + "b.c" give the same username; the first one keeps it.
      throw new AgentAccountError(
        `the username ${username} already belongs to site "${clash.site_id}", agent "${clash.agent_id}"; choose another --name`,
      );
    }
    const secret = password ?? generatePassword();
    const hash = await hashPassword(secret);
    const now = new Date().toISOString();
    await this.db.run(
      `INSERT INTO agent_accounts (username, site_id, agent_id, password_hash, generation, created_at, password_set_at)
       VALUES (@username, @siteId, @agentId, @hash, 1, @now, @now)
       ON CONFLICT (username) DO UPDATE SET
         password_hash = excluded.password_hash,
         generation = agent_accounts.generation + 1,
         password_set_at = excluded.password_set_at,
         revoked_at = NULL`,
      { username, siteId, agentId, hash, now },
    );
    if (clash) this.emit('invalidated', username);
    return { username, siteId, agentId, password: secret, replaced: clash !== undefined };
  }

  /**
   * Creates (or replaces the password of) a console or internal account: its own
   * credentials, not an agent's, with the rights of its role (broker/mqtt/roles.ts).
   */
  async addClient(
    role: Exclude<ClientRole, 'agent'>,
    name: string,
    password?: string,
  ): Promise<NewAgentCredentials> {
    if (!isId(name))
      throw new AgentAccountError(
        `cannot add the ${role} account: name "${name}": use letters, digits, "_", "." or "-" (at most 64)`,
      );
    if (password !== undefined && password.length < MIN_PASSWORD_LENGTH)
      throw new AgentAccountError(`password: use at least ${MIN_PASSWORD_LENGTH} characters`);
    const username = clientUsername(role, name);
    const clash = await this.row(username);
    const secret = password ?? generatePassword();
    const hash = await hashPassword(secret);
    const now = new Date().toISOString();
    await this.db.run(
      `INSERT INTO agent_accounts (username, site_id, agent_id, password_hash, generation, created_at, password_set_at, role)
       VALUES (@username, @siteId, @name, @hash, 1, @now, @now, @role)
       ON CONFLICT (username) DO UPDATE SET
         password_hash = excluded.password_hash,
         generation = agent_accounts.generation + 1,
         password_set_at = excluded.password_set_at,
         revoked_at = NULL`,
      { username, siteId: `$${role}`, name, hash, now, role },
    );
    if (clash) this.emit('invalidated', username);
    return {
      username,
      siteId: `$${role}`,
      agentId: name,
      role,
      password: secret,
      replaced: clash !== undefined,
    };
  }

  /** Refuses a console or internal account from now on. */
  revokeClient(role: Exclude<ClientRole, 'agent'>, name: string): Promise<boolean> {
    return this.revokeUsername(clientUsername(role, name));
  }

  /** Refuses the agent from now on; returns false when there is no such active account. */
  revoke(siteId: string, name: string): Promise<boolean> {
    return this.revokeUsername(agentUsername(siteId, name));
  }

  private async revokeUsername(username: string): Promise<boolean> {
    const result = await this.db.run(
      `UPDATE agent_accounts SET revoked_at = ?, generation = generation + 1
       WHERE username = ? AND revoked_at IS NULL`,
      [new Date().toISOString(), username],
    );
    if (result.changes === 0) return false;
    this.emit('invalidated', username);
    return true;
  }

  /**
   * The identity behind a username and password, or null when they do not match an
   * active account. Takes about as long for an unknown username as for a wrong password.
   */
  async verify(
    username: string,
    password: string,
  ): Promise<(AgentIdentity & { generation: number }) | null> {
    const row = await this.row(username);
    if (!row) {
      this.dummyHash ??= hashPassword(generatePassword());
      await checkPassword(password, await this.dummyHash);
      return null;
    }
    const matches = await checkPassword(password, row.password_hash);
    if (!matches || row.revoked_at !== null) return null;
    return {
      username,
      siteId: row.site_id,
      agentId: row.agent_id,
      generation: row.generation,
      ...(row.role !== 'agent' ? { role: row.role } : {}),
    };
  }

  /** Why `verify` said no, for the log: never includes the password. */
  async status(username: string): Promise<'active' | 'revoked' | 'unknown'> {
    const row = await this.row(username);
    if (!row) return 'unknown';
    return row.revoked_at === null ? 'active' : 'revoked';
  }

  /** The account's credential generation while it is active; null once revoked or unknown. */
  async generation(username: string): Promise<number | null> {
    const row = await this.db.get<{ generation: number }>(
      'SELECT generation FROM agent_accounts WHERE username = ? AND revoked_at IS NULL',
      [username],
    );
    return row?.generation ?? null;
  }

  /**
   * The credential generation of every active account, in one read: the MQTT server's
   * sweep compares each session against it (thousands of sessions, one query).
   */
  async generations(): Promise<Map<string, number>> {
    const rows = await this.db.all<{ username: string; generation: number }>(
      'SELECT username, generation FROM agent_accounts WHERE revoked_at IS NULL',
    );
    return new Map(rows.map((row) => [row.username, row.generation]));
  }

  async list(): Promise<AgentAccount[]> {
    const rows = await this.db.all<AccountRow>(
      'SELECT * FROM agent_accounts ORDER BY site_id, agent_id',
    );
    return rows.map((row) => ({
      username: row.username,
      siteId: row.site_id,
      agentId: row.agent_id,
      createdAt: row.created_at,
      passwordSetAt: row.password_set_at,
      revokedAt: row.revoked_at,
      ...(row.role !== 'agent' ? { role: row.role } : {}),
    }));
  }

  private row(username: string): Promise<AccountRow | undefined> {
    return this.db.get<AccountRow>('SELECT * FROM agent_accounts WHERE username = ?', [username]);
  }

  private async nextFreeName(siteId: string): Promise<string> {
    const rows = await this.db.all<{ agent_id: string }>(
      'SELECT agent_id FROM agent_accounts WHERE site_id = ?',
      [siteId],
    );
    const taken = new Set(rows.map((row) => row.agent_id));
    for (let n = 1; ; n++) {
      const name = `${DEFAULT_NAME_PREFIX}${String(n).padStart(2, '0')}`;
      if (!taken.has(name)) return name;
    }
  }
}
