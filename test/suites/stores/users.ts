/**
 * The conformance suite of the console users and their sessions (broker/api/users.ts),
 * run on SQLite and on PostgreSQL (test/suites/stores/backends.ts). On a pair the
 * sessions are in PostgreSQL: a console logged in on the old leader stays logged in on
 * the new one (issue 17 part 1), which `backend.reopen(db)` (the other node) proves here.
 */
import { createHash } from 'node:crypto';
import { beforeEach, expect, it } from 'vitest';
import { ensureAdmin, userMigrations, UserStore } from '../../../broker/api/users.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

export function usersSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let users: UserStore;
  const clock = { now: new Date('2026-12-07T08:00:00.000Z') };

  beforeEach(async () => {
    clock.now = new Date('2026-12-07T08:00:00.000Z');
    db = await backend.open();
    users = new UserStore(db, { now: () => clock.now });
    await users.start();
  });

  const admins = () => db.all("SELECT username FROM users WHERE role = 'admin'");

  it('generates an admin password once, on a new database, and never again', async () => {
    const first = await ensureAdmin(db, undefined);
    expect(first.created).toBe(true);
    expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await admins()).toEqual([{ username: 'admin' }]);
    expect(await users.verify('admin', first.generatedPassword!)).toEqual({
      username: 'admin',
      role: 'admin',
      customerId: null,
    });
    expect(await ensureAdmin(db, undefined)).toEqual({ created: false });
    expect(await users.verify('admin', first.generatedPassword!)).toBeDefined();
  });

  it('creates the admin with a given password, or sets it and ends the old sessions', async () => {
    expect(await ensureAdmin(db, 'first-password')).toEqual({ created: true });
    const user = await users.verify('admin', 'first-password');
    const { token } = await users.openSession(user!);
    expect(await users.session(token)).toMatchObject({ username: 'admin', role: 'admin' });

    expect(await ensureAdmin(db, 'second-password')).toEqual({ created: false });
    expect(await users.verify('admin', 'first-password')).toBeUndefined();
    expect(await users.verify('admin', 'second-password')).toBeDefined();
    expect(await users.session(token)).toBeUndefined();
  });

  it('keeps the admin logged in when a restart sets the same password again', async () => {
    expect(await ensureAdmin(db, 'same-password')).toEqual({ created: true });
    const { token } = await users.openSession((await users.verify('admin', 'same-password'))!);
    expect(await ensureAdmin(db, 'same-password')).toEqual({ created: false });
    expect(await users.session(token)).toMatchObject({ username: 'admin' });
  });

  it('refuses an empty admin password with a message that says what to do', async () => {
    await expect(ensureAdmin(db, '')).rejects.toThrow(/non-empty/);
  });

  it('stores neither the password nor the session token', async () => {
    await ensureAdmin(db, 'plain-text-would-be-bad');
    const { token } = await users.openSession(
      (await users.verify('admin', 'plain-text-would-be-bad'))!,
    );
    const dump = JSON.stringify([
      await db.all('SELECT * FROM users'),
      await db.all('SELECT * FROM sessions'),
    ]);
    expect(dump).not.toContain('plain-text-would-be-bad');
    expect(dump).not.toContain(token);
    expect(dump).toContain(createHash('sha256').update(token).digest('hex'));
    expect(dump).toMatch(/scrypt\$32768\$8\$1\$/);
  });

  it('gives two users with the same password different hashes (salted)', async () => {
    await users.setUser('a', 'viewer', 'same');
    await users.setUser('b', 'viewer', 'same');
    const [a, b] = await db.all<{ password_hash: string }>(
      'SELECT password_hash FROM users ORDER BY username',
    );
    expect(a?.password_hash).not.toBe(b?.password_hash);
  });

  it('ends a session at its expiry, on logout, and when the password changes', async () => {
    await users.setUser('olga', 'operator', 'operator password');
    const olga = (await users.verify('olga', 'operator password'))!;
    const first = await users.openSession(olga);
    expect(first.expiresAt.toISOString()).toBe('2026-12-07T20:00:00.000Z');
    clock.now = new Date('2026-12-07T19:59:59.000Z');
    expect(await users.session(first.token)).toMatchObject({ username: 'olga' });
    clock.now = new Date('2026-12-07T20:00:00.000Z');
    expect(await users.session(first.token)).toBeUndefined();

    const second = await users.openSession(olga);
    // The expired one was cleared when the next was opened.
    expect(await db.all('SELECT token_hash FROM sessions')).toHaveLength(1);
    await users.closeSession(second.token);
    expect(await users.session(second.token)).toBeUndefined();

    const third = await users.openSession(olga);
    await users.setUser('olga', 'operator', 'a new password');
    expect(await users.session(third.token)).toBeUndefined();
  });

  it('ends the sessions of an account moved to another customer, not of a role change', async () => {
    await users.setUser('anna', 'customer', 'customer password', 'alpha');
    await users.setUser('olga', 'viewer', 'viewer password');
    const anna = await users.openSession((await users.verify('anna', 'customer password'))!);
    const olga = await users.openSession((await users.verify('olga', 'viewer password'))!);
    await users.setRole('olga', 'operator');
    expect(await users.session(olga.token)).toMatchObject({ role: 'operator' });
    await users.setRole('anna', 'customer', 'bravo');
    expect(await users.session(anna.token)).toBeUndefined();
    expect(await users.user('anna')).toMatchObject({ role: 'customer', customerId: 'bravo' });
  });

  it('lists users by name with their language and zone, and deletes one with its sessions', async () => {
    await users.setUser('zoe', 'viewer', 'viewer password');
    await users.setUser('olga', 'operator', 'operator password');
    await users.setLocale('olga', 'zh-CN');
    await users.setTimeZone('olga', 'Asia/Shanghai');
    await users.verify('olga', 'operator password');
    expect(await users.list()).toEqual([
      {
        username: 'olga',
        role: 'operator',
        customerId: null,
        locale: 'zh-CN',
        timeZone: 'Asia/Shanghai',
        createdAt: '2026-12-07T08:00:00.000Z',
        lastLoginAt: '2026-12-07T08:00:00.000Z',
      },
      expect.objectContaining({ username: 'zoe', locale: null, timeZone: null, lastLoginAt: null }),
    ]);
    const { token } = await users.openSession((await users.verify('zoe', 'viewer password'))!);
    expect(await users.remove('zoe')).toBe(true);
    expect(await users.remove('zoe')).toBe(false);
    expect(await users.session(token)).toBeUndefined();
    expect(await users.user('zoe')).toBeUndefined();
  });

  it('keeps a session opened on one node valid on the other (a failover keeps the console logged in)', async () => {
    await users.setUser('olga', 'operator', 'operator password');
    const { token, expiresAt } = await users.openSession(
      (await users.verify('olga', 'operator password'))!,
    );
    const other = new UserStore(await backend.reopen(db), { now: () => clock.now });
    await other.start();
    expect(await other.session(token)).toEqual({
      username: 'olga',
      role: 'operator',
      customerId: null,
      expiresAt,
    });
    // Logging out on the new leader ends it everywhere.
    await other.closeSession(token);
    expect(await users.session(token)).toBeUndefined();
  });

  it('counts failed logins of two nodes at once without losing one', async () => {
    await users.setUser('olga', 'operator', 'operator password');
    const other = new UserStore(await backend.reopen(db));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? users : other).recordFailure('olga')),
    );
    expect(await db.get('SELECT failed_logins FROM users WHERE username = ?', ['olga'])).toEqual({
      failed_logins: 10,
    });
    expect(users.failedLogins + other.failedLogins).toBe(10);
  });

  it('upgrades an older table: keeps its users and sessions, and enforces customer ⇔ customerId', async () => {
    const old = await backend.open();
    // The table as versions 1 and 2 left it, with a user and an open session.
    await old.migrate('users', userMigrations.slice(0, 2));
    await old.run(
      `INSERT INTO users (username, role, password_hash, created_at, updated_at, locale)
       VALUES ('olga', 'operator', 'scrypt$x', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 'zh-CN')`,
    );
    await old.run(
      `INSERT INTO sessions (token_hash, username, created_at, expires_at)
       VALUES ('abc', 'olga', '2026-11-01T00:00:00Z', '2999-01-01T00:00:00Z')`,
    );
    const upgraded = new UserStore(old);
    await upgraded.start();
    expect(await upgraded.user('olga')).toMatchObject({
      role: 'operator',
      locale: 'zh-CN',
      customerId: null,
      timeZone: null,
    });
    expect(await old.all('SELECT username FROM sessions')).toEqual([{ username: 'olga' }]);
    // A customer account names its customer, and only a customer account does.
    await expect(
      old.run(
        `INSERT INTO users (username, role, password_hash, created_at, updated_at)
         VALUES ('nobody', 'customer', 'h', 'now', 'now')`,
      ),
    ).rejects.toThrow(/check constraint/i);
    await expect(
      old.run(
        `INSERT INTO users (username, role, customer_id, password_hash, created_at, updated_at)
         VALUES ('mixed', 'viewer', 'alpha', 'h', 'now', 'now')`,
      ),
    ).rejects.toThrow(/check constraint/i);
    await expect(
      old.run(
        `INSERT INTO users (username, role, password_hash, created_at, updated_at)
         VALUES ('root', 'superuser', 'h', 'now', 'now')`,
      ),
    ).rejects.toThrow(/check constraint/i);
    // The foreign key was carried over: a session names an existing user.
    await expect(
      old.run(
        `INSERT INTO sessions (token_hash, username, created_at, expires_at)
         VALUES ('def', 'nobody', 'now', 'now')`,
      ),
    ).rejects.toThrow(/foreign key/i);
    expect(await upgraded.remove('olga')).toBe(true);
    expect(await old.get('SELECT count(*) AS n FROM sessions')).toEqual({ n: 0 });
  });
}
