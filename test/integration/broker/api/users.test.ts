import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUserStore, ensureAdmin } from '../../../../broker/api/users.js';
import { openDatabase, type Db } from '../../../../broker/db.js';

describe('users and sessions over a SQLite file', () => {
  let dir: string;
  let db: Db;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-users-'));
    db = openDatabase(join(dir, 'vigil.db'));
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const admins = () => db.prepare("SELECT username FROM users WHERE role = 'admin'").all();

  it('generates an admin password once, on a new database, and never again', async () => {
    const first = ensureAdmin(db, undefined);
    expect(first.created).toBe(true);
    expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(admins()).toEqual([{ username: 'admin' }]);
    const users = createUserStore(db);
    expect(await users.verify('admin', first.generatedPassword!)).toEqual({
      username: 'admin',
      role: 'admin',
      customerId: null,
    });

    expect(ensureAdmin(db, undefined)).toEqual({ created: false });
    expect(await users.verify('admin', first.generatedPassword!)).toBeDefined();
  });

  it('creates the admin with a given password, or sets it and ends the old sessions', async () => {
    expect(ensureAdmin(db, 'first-password')).toEqual({ created: true });
    const users = createUserStore(db);
    const user = await users.verify('admin', 'first-password');
    const { token } = users.openSession(user!);
    expect(users.session(token)).toMatchObject({ username: 'admin', role: 'admin' });

    expect(ensureAdmin(db, 'second-password')).toEqual({ created: false });
    expect(await users.verify('admin', 'first-password')).toBeUndefined();
    expect(await users.verify('admin', 'second-password')).toBeDefined();
    expect(users.session(token)).toBeUndefined();
  });

  it('keeps the admin logged in when a restart sets the same password again', async () => {
    expect(ensureAdmin(db, 'same-password')).toEqual({ created: true });
    const users = createUserStore(db);
    const { token } = users.openSession((await users.verify('admin', 'same-password'))!);
    expect(ensureAdmin(db, 'same-password')).toEqual({ created: false });
    expect(users.session(token)).toMatchObject({ username: 'admin' });
  });

  it('refuses an empty admin password with a message that says what to do', () => {
    expect(() => ensureAdmin(db, '')).toThrow(/non-empty/);
  });

  it('stores neither the password nor the session token', async () => {
    ensureAdmin(db, 'plain-text-would-be-bad');
    const users = createUserStore(db);
    const { token } = users.openSession((await users.verify('admin', 'plain-text-would-be-bad'))!);
    const dump = JSON.stringify([
      db.prepare('SELECT * FROM users').all(),
      db.prepare('SELECT * FROM sessions').all(),
    ]);
    expect(dump).not.toContain('plain-text-would-be-bad');
    expect(dump).not.toContain(token);
    expect(dump).toContain(createHash('sha256').update(token).digest('hex'));
    expect(dump).toMatch(/scrypt\$32768\$8\$1\$/);
  });

  it('gives two users with the same password different hashes (salted)', () => {
    const users = createUserStore(db);
    users.setUser('a', 'viewer', 'same');
    users.setUser('b', 'viewer', 'same');
    const [a, b] = db.prepare('SELECT password_hash FROM users ORDER BY username').all() as {
      password_hash: string;
    }[];
    expect(a?.password_hash).not.toBe(b?.password_hash);
  });
});
