/**
 * Login limits over the real HTTP API of the whole broker (test/helpers/broker.ts): each
 * client comes from its own loopback address (127.0.0.0/8 is all loopback on Linux), so
 * the broker sees them apart as it would see two offices. Proves issue 16 part 8: 20
 * wrong passwords from one address lock that name from that address only, another
 * address still logs in, the lock ends by itself or an admin lifts it, it outlives a
 * restart, and the audit log shows every step, never a password.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { LoginLock, LoginLocked } from '../../../../shared/api/auth.js';
import type { AuditEntry } from '../../../../shared/api/audit.js';
import { apiRoutes, loginLockPath, loginLockRoutes } from '../../../../shared/api/routes.js';
import { validator } from '../../../../shared/validate.js';
import { loginToken, startTestBroker, type TestBrokerSettings } from '../../../helpers/broker.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One HTTP request from `from` (a local address), as a browser at that address sends it. */
function call(
  broker: RunningBroker,
  method: string,
  path: string,
  opts: { from?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const url = new URL(path, broker.httpUrl);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        localAddress: opts.from ?? '127.0.0.1',
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
          ...opts.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === '' ? null : (JSON.parse(text) as unknown),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (
  broker: RunningBroker,
  username: string,
  password: string,
  from: string,
  headers?: Record<string, string>,
) =>
  call(broker, 'POST', apiRoutes.login, {
    from,
    body: { username, password },
    ...(headers ? { headers } : {}),
  });

const OLGA = { username: 'olga', password: 'correct horse battery staple' };
const WRONG = 'not-her-password';
const isLocked = validator(LoginLocked);
const isLock = validator(LoginLock);

async function createUser(
  broker: RunningBroker,
  admin: string,
  username: string,
  password: string,
) {
  const res = await call(broker, 'PUT', `/api/users/${username}`, {
    token: admin,
    body: { role: 'operator', password },
  });
  expect(res.status).toBe(200);
}

async function audit(broker: RunningBroker, admin: string, query: string): Promise<AuditEntry[]> {
  const res = await call(broker, 'GET', `/api/audit?limit=1000&${query}`, { token: admin });
  expect(res.status).toBe(200);
  return res.body as AuditEntry[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('login limits per client address (real HTTP, whole broker)', () => {
  describe('with a lock of 6 s', () => {
    let broker: RunningBroker;
    let admin: string;
    const settings: TestBrokerSettings = {
      http: { loginLimits: { failuresPerAccount: 20, lockMin: 0.1 } },
    };

    beforeAll(async () => {
      broker = await startTestBroker({ settings });
      admin = await loginToken(broker);
      await createUser(broker, admin, OLGA.username, OLGA.password);
    });

    afterAll(async () => {
      await broker?.stop();
    });

    it('locks a name from the address that sent 20 wrong passwords, only from there, until the lock ends by itself', async () => {
      // 19 at once: counted before their passwords are checked, none of them too many.
      const first = await Promise.all(
        Array.from({ length: 19 }, () => login(broker, OLGA.username, WRONG, '127.0.0.2')),
      );
      expect(first.map((a) => a.status)).toEqual(Array<number>(19).fill(401));

      const twentieth = await login(broker, OLGA.username, WRONG, '127.0.0.2');
      expect(twentieth.status).toBe(429);
      expect(isLocked(twentieth.body).ok).toBe(true);
      const { lock, message } = twentieth.body as LoginLocked;
      expect(lock).toMatchObject({ scope: 'account', address: '127.0.0.2' });
      expect(Date.parse(lock.until) - Date.now()).toBeGreaterThan(1000);
      expect(Date.parse(lock.until) - Date.now()).toBeLessThanOrEqual(6000);
      expect(message).toContain('from your address (127.0.0.2)');
      expect(message).toContain(`until ${lock.until}`);
      expect(message).toContain('ask an admin to lift the lock');
      expect(Number(twentieth.headers['retry-after'])).toBeGreaterThanOrEqual(1);

      // The right password from there is refused too: it is not even checked.
      const right = await login(broker, OLGA.username, OLGA.password, '127.0.0.2');
      expect(right.status).toBe(429);
      // From another address (another office) she logs in.
      const elsewhere = await login(broker, OLGA.username, OLGA.password, '127.0.0.3');
      expect(elsewhere.status).toBe(200);
      // The lock ends by itself.
      await sleep(Date.parse(lock.until) - Date.now() + 100);
      const after = await login(broker, OLGA.username, OLGA.password, '127.0.0.2');
      expect(after.status).toBe(200);

      const entries = await audit(broker, admin, `target=user:${OLGA.username}`);
      const failed = entries.filter((e) => e.action === 'auth.login-failed');
      expect(failed).toHaveLength(20);
      for (const entry of failed)
        expect(JSON.parse(entry.detail)).toEqual({ address: '127.0.0.2' });
      const logins = entries.filter((e) => e.action === 'auth.login');
      expect(logins.map((e) => JSON.parse(e.detail).address)).toEqual(['127.0.0.2', '127.0.0.3']);
      expect(entries.some((e) => e.action === 'user.create' && e.actor === 'admin')).toBe(true);
      const locks = await audit(broker, admin, `target=user:${OLGA.username}@127.0.0.2`);
      expect(locks).toHaveLength(1);
      expect(locks[0]).toMatchObject({ actor: 'system', action: 'auth.lock' });
      expect(JSON.parse(locks[0]?.detail ?? '{}')).toMatchObject({
        scope: 'account',
        address: '127.0.0.2',
        failures: 20,
        until: lock.until,
      });
      const everything = JSON.stringify(await audit(broker, admin, ''));
      expect(everything).not.toContain(OLGA.password);
      expect(everything).not.toContain(WRONG);
    });
  });

  describe('the audit of user changes', () => {
    let broker: RunningBroker;

    beforeAll(async () => {
      broker = await startTestBroker();
    });

    afterAll(async () => {
      await broker?.stop();
    });

    it('records every user change, by whom, without the password', async () => {
      const admin = await loginToken(broker);
      await createUser(broker, admin, 'temp', 'temp password 1');
      const role = await call(broker, 'PUT', '/api/users/temp', {
        token: admin,
        body: { role: 'viewer' },
      });
      expect(role.status).toBe(200);
      const password = await call(broker, 'PUT', '/api/users/temp', {
        token: admin,
        body: { role: 'viewer', password: 'temp password 2' },
      });
      expect(password.status).toBe(200);
      const own = (await login(broker, 'temp', 'temp password 2', '127.0.0.8')).body as {
        token: string;
      };
      const locale = await call(broker, 'PATCH', '/api/auth/session', {
        token: own.token,
        body: { locale: 'zh-CN' },
      });
      expect(locale.status).toBe(200);
      const logout = await call(broker, 'POST', apiRoutes.logout, { token: own.token });
      expect(logout.status).toBe(204);
      expect((await call(broker, 'DELETE', '/api/users/temp', { token: admin })).status).toBe(204);

      const entries = (await audit(broker, admin, 'target=user:temp')).reverse();
      expect(entries.map((e) => [e.actor, e.action, JSON.parse(e.detail)])).toEqual([
        ['admin', 'user.create', { role: 'operator', passwordChanged: true }],
        [
          'admin',
          'user.update',
          { role: 'viewer', previousRole: 'operator', passwordChanged: false },
        ],
        ['admin', 'user.update', { role: 'viewer', passwordChanged: true }],
        ['temp', 'auth.login', { address: '127.0.0.8' }],
        ['temp', 'user.locale', { locale: 'zh-CN' }],
        ['temp', 'auth.logout', { address: '127.0.0.1' }],
        ['admin', 'user.delete', { role: 'viewer' }],
      ]);
      // The admin account the broker set at start (VIGIL_ADMIN_PASSWORD).
      const start = await audit(broker, admin, 'target=user:admin');
      expect(start.at(-1)).toMatchObject({ actor: 'system', action: 'user.create' });
      const everything = JSON.stringify(await audit(broker, admin, ''));
      expect(everything).not.toMatch(/temp password|test-admin-password/);
    });
  });

  describe('with a lock of 15 min, behind a reverse proxy on 127.0.0.1', () => {
    let dataDir: string;
    let broker: RunningBroker;
    let admin: string;
    const settings: TestBrokerSettings = {
      http: { trustProxy: ['127.0.0.1'], loginLimits: { failuresPerAddress: 30 } },
    };

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'vigil-login-limits-'));
      broker = await startTestBroker({ settings, dataDir });
      admin = await loginToken(broker);
      await createUser(broker, admin, OLGA.username, OLGA.password);
    });

    afterAll(async () => {
      await broker?.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('answers a name nobody has with the same lock, and never keeps what was typed', async () => {
      const typed = 'hunter2-typed-in-the-name-field';
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => login(broker, typed, WRONG, '127.0.0.4')),
      );
      const locked = answers.filter((a) => a.status === 429);
      expect(locked.length).toBeGreaterThanOrEqual(1);
      expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
      const body = locked[0]?.body as LoginLocked;
      expect(body.lock).toMatchObject({ scope: 'account', address: '127.0.0.4' });
      // The same words as for a name that exists (only address and time differ).
      expect(body.message.replace(/127\.0\.0\.4|\S+Z\./g, '')).toBe(
        'Too many wrong passwords for this user name from your address (): its logins from this address are refused until  Wait until then, or ask an admin to lift the lock.',
      );
      const listed = await call(broker, 'GET', loginLockRoutes.list, { token: admin });
      const lock = (listed.body as LoginLock[]).find((l) => l.address === '127.0.0.4');
      expect(lock).toMatchObject({ scope: 'account', username: null });
      const everything = JSON.stringify([await audit(broker, admin, ''), listed.body]);
      expect(everything).not.toContain(typed);
      expect(everything).toContain('user:(unknown)');
    });

    it('locks an address that tries many names (password spraying) for every name, and only that address', async () => {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => login(broker, `name-${i}`, WRONG, '127.0.0.6')),
      );
      expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(1);
      const refused = await login(broker, OLGA.username, OLGA.password, '127.0.0.6');
      expect(refused.status).toBe(429);
      const body = refused.body as LoginLocked;
      expect(body.lock).toMatchObject({ scope: 'address', address: '127.0.0.6' });
      expect(body.message).toContain('for every user name');
      expect((await login(broker, OLGA.username, OLGA.password, '127.0.0.7')).status).toBe(200);
      const entries = await audit(broker, admin, 'target=address:127.0.0.6');
      expect(entries.map((e) => e.action)).toEqual(['auth.lock']);
    });

    it('keeps the lock across a restart until an admin lifts it, and believes X-Forwarded-For only from the proxy', async () => {
      await createUser(broker, admin, 'piet', 'piet password 1');
      const client = { 'x-forwarded-for': '198.51.100.7' };
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => login(broker, 'piet', WRONG, '127.0.0.1', client)),
      );
      expect(answers.some((a) => a.status === 429)).toBe(true);
      expect((answers.find((a) => a.status === 429)?.body as LoginLocked).lock.address).toBe(
        '198.51.100.7',
      );
      // A client that is no proxy cannot pose as the locked address, nor escape its own.
      const direct = await login(broker, 'piet', 'piet password 1', '127.0.0.5', client);
      expect(direct.status).toBe(200);

      await broker.stop();
      broker = await startTestBroker({ settings, dataDir });
      const again = await login(broker, 'piet', 'piet password 1', '127.0.0.1', client);
      expect(again.status).toBe(429);
      expect((again.body as LoginLocked).lock.address).toBe('198.51.100.7');

      const token = await loginToken(broker);
      const operator = (await login(broker, 'piet', 'piet password 1', '127.0.0.5')).body as {
        token: string;
      };
      const forbidden = await call(broker, 'GET', loginLockRoutes.list, { token: operator.token });
      expect(forbidden.status).toBe(403);
      const listed = await call(broker, 'GET', loginLockRoutes.list, { token });
      expect(listed.status).toBe(200);
      const locks = (listed.body as LoginLock[]).filter((l) => l.address === '198.51.100.7');
      expect(locks).toHaveLength(1);
      const [lock] = locks;
      expect(isLock(lock).ok).toBe(true);
      expect(lock).toMatchObject({
        scope: 'account',
        username: 'piet',
        address: '198.51.100.7',
        failures: 20,
      });
      expect(lock?.refused).toBeGreaterThanOrEqual(1);

      const lifted = await call(broker, 'DELETE', loginLockPath(lock!.id), { token });
      expect(lifted.status).toBe(204);
      expect((await call(broker, 'DELETE', loginLockPath(lock!.id), { token })).status).toBe(404);
      const now = await login(broker, 'piet', 'piet password 1', '127.0.0.1', client);
      expect(now.status).toBe(200);

      const entries = await audit(broker, token, 'target=user:piet@198.51.100.7');
      expect(entries.map((e) => [e.action, e.actor])).toEqual([
        ['auth.unlock', 'admin'],
        ['auth.lock', 'system'],
      ]);
    });
  });
});
