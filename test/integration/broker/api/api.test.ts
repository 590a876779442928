import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { LoginResponse, SESSION_COOKIE } from '../../../../shared/api/auth.js';
import { ApiError } from '../../../../shared/api/common.js';
import { DeviceList, deviceExample } from '../../../../shared/api/devices.js';
import { Health } from '../../../../shared/api/health.js';
import { apiRoutes, ticketPath } from '../../../../shared/api/routes.js';
import { Ticket, TicketList } from '../../../../shared/api/tickets.js';
import { validator } from '../../../../shared/validate.js';
import { buildApi, login, makeFixture, OPERATOR, type Fixture } from './fixture.js';
import { deviceDown, deviceUp } from '../../../../broker/detect/rules/device-down.js';

const valid = {
  login: validator(LoginResponse),
  error: validator(ApiError),
  devices: validator(DeviceList),
  tickets: validator(TicketList),
  ticket: validator(Ticket),
  health: validator(Health),
};

describe('broker API', () => {
  let fx: Fixture;
  let app: FastifyInstance;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeEach(async () => {
    fx = await makeFixture();
    app = await buildApi(fx.deps);
    token = (await login(app)).token;
  });

  afterEach(async () => {
    await app.close();
    fx.cleanup();
  });

  describe('login', () => {
    it('answers a token and sets an HttpOnly, SameSite=Strict session cookie', async () => {
      const { res } = await login(app);
      const body = res.json();
      expect(valid.login(body).ok).toBe(true);
      expect(body).toMatchObject({
        username: OPERATOR.username,
        role: 'operator',
        expiresAt: '2026-11-26T20:00:00.000Z', // 12 h
      });
      expect(body.token).toMatch(/^[0-9a-f]{64}$/);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toContain(`${SESSION_COOKIE}=${body.token}`);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).toMatch(/Path=\/api/);
    });

    it('refuses a wrong password and an unknown user with the same answer, after a delay', async () => {
      const started = Date.now();
      const wrong = await app.inject({
        method: 'POST',
        url: apiRoutes.login,
        payload: { username: OPERATOR.username, password: 'not-the-password' },
      });
      const unknown = await app.inject({
        method: 'POST',
        url: apiRoutes.login,
        payload: { username: 'nobody', password: 'not-the-password' },
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      for (const res of [wrong, unknown]) {
        expect(res.statusCode).toBe(401);
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(valid.error(res.json()).ok).toBe(true);
      }
      expect(wrong.json()).toEqual(unknown.json());
      expect(wrong.json().code).toBe('VIGIL_AUTH_FAILED');
      expect(fx.logLines).toContain('login failed (failedLogins=2, address=127.0.0.1)');
      const row = fx.db.prepare('SELECT failed_logins FROM users WHERE username = ?').get('olga');
      expect(row).toEqual({ failed_logins: 1 });
    });

    it('lists every field that does not match the login schema', async () => {
      const res = await app.inject({
        method: 'POST',
        url: apiRoutes.login,
        payload: { username: '', extra: 1 },
      });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.code).toBe('VIGIL_BAD_REQUEST');
      expect(body.details).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^username: /),
          expect.stringMatching(/password/),
          '(root): unknown field(s) extra',
        ]),
      );
    });

    it('answers malformed JSON with a coded 400', async () => {
      const res = await app.inject({
        method: 'POST',
        url: apiRoutes.login,
        headers: { 'content-type': 'application/json' },
        payload: '{"username":',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VIGIL_BAD_REQUEST');
    });
  });

  describe('sessions', () => {
    it('refuses every protected route without a session: 401 VIGIL_AUTH_REQUIRED', async () => {
      for (const url of [
        apiRoutes.devices,
        apiRoutes.tickets,
        ticketPath(1),
        apiRoutes.live,
        apiRoutes.openapi,
      ]) {
        const res = await app.inject({ url });
        expect(res.statusCode, url).toBe(401);
        expect(res.json(), url).toMatchObject({ code: 'VIGIL_AUTH_REQUIRED' });
      }
    });

    it('refuses an unknown token and a malformed Authorization header', async () => {
      for (const authorization of [`Bearer ${'0'.repeat(64)}`, `Basic ${token}`, token]) {
        const res = await app.inject({ url: apiRoutes.devices, headers: { authorization } });
        expect(res.statusCode).toBe(401);
        expect(res.json().code).toBe('VIGIL_AUTH_REQUIRED');
      }
    });

    it('accepts the session cookie instead of the header', async () => {
      const res = await app.inject({
        url: apiRoutes.devices,
        cookies: { [SESSION_COOKIE]: token },
      });
      expect(res.statusCode).toBe(200);
    });

    it('ends the session at logout and clears the cookie', async () => {
      const out = await app.inject({ method: 'POST', url: apiRoutes.logout, headers: auth() });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`${SESSION_COOKIE}=;`));
      const res = await app.inject({ url: apiRoutes.devices, headers: auth() });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toMatch(/log in again/);
    });

    it('expires a session after 12 hours', async () => {
      fx.clock.now = new Date('2026-11-26T19:59:59.000Z');
      expect((await app.inject({ url: apiRoutes.devices, headers: auth() })).statusCode).toBe(200);
      fx.clock.now = new Date('2026-11-26T20:00:00.000Z');
      expect((await app.inject({ url: apiRoutes.devices, headers: auth() })).statusCode).toBe(401);
    });
  });

  describe('resources', () => {
    it('lists the devices of the registry, matching their schema', async () => {
      const res = await app.inject({ url: apiRoutes.devices, headers: auth() });
      expect(res.statusCode).toBe(200);
      expect(valid.devices(res.json()).ok).toBe(true);
      expect(res.json()).toEqual([deviceExample]);
    });

    it('lists open and all tickets and one ticket, matching their schemas', async () => {
      const device = { ...deviceExample, status: 'down' as const };
      await fx.deps.tickets.apply(deviceDown(device, fx.clock.now));

      const open = await app.inject({ url: apiRoutes.tickets, headers: auth() });
      expect(open.statusCode).toBe(200);
      expect(valid.tickets(open.json()).ok).toBe(true);
      expect(open.json()).toHaveLength(1);
      expect(open.json()[0]).toMatchObject({ id: 1, status: 'open', priority: 'emergency' });

      await fx.deps.tickets.apply(deviceUp(deviceExample, fx.clock.now));
      const stillOpen = await app.inject({
        url: `${apiRoutes.tickets}?status=open`,
        headers: auth(),
      });
      expect(stillOpen.json()).toEqual([]);
      const all = await app.inject({
        url: `${apiRoutes.tickets}?status=all&limit=10`,
        headers: auth(),
      });
      expect(valid.tickets(all.json()).ok).toBe(true);
      expect(all.json().map((t: Ticket) => t.status)).toEqual(['resolved']);

      const one = await app.inject({ url: ticketPath(1), headers: auth() });
      expect(one.statusCode).toBe(200);
      expect(valid.ticket(one.json()).ok).toBe(true);
      expect(one.json().timeline.map((e: { kind: string }) => e.kind)).toEqual([
        'detected',
        'resolved',
      ]);
    });

    it('answers 404 for a missing ticket and 400 for a bad id or status', async () => {
      const missing = await app.inject({ url: ticketPath(999), headers: auth() });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().code).toBe('VIGIL_NOT_FOUND');

      const badId = await app.inject({ url: '/api/tickets/abc', headers: auth() });
      expect(badId.statusCode).toBe(400);
      expect(badId.json().details).toEqual([expect.stringMatching(/^id: /)]);

      const badStatus = await app.inject({
        url: `${apiRoutes.tickets}?status=closed`,
        headers: auth(),
      });
      expect(badStatus.statusCode).toBe(400);
      expect(badStatus.json()).toMatchObject({
        code: 'VIGIL_BAD_REQUEST',
        details: [expect.stringMatching(/^status: /)],
      });
    });

    it('serves health without a session (for container health checks)', async () => {
      const res = await app.inject({ url: apiRoutes.health });
      expect(res.statusCode).toBe(200);
      expect(valid.health(res.json()).ok).toBe(true);
    });

    it('lists every route in the OpenAPI document', async () => {
      const res = await app.inject({ url: apiRoutes.openapi, headers: auth() });
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc.openapi).toMatch(/^3\./);
      // Other resources register their own routes too; these are the core.
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          apiRoutes.login,
          apiRoutes.logout,
          apiRoutes.health,
          apiRoutes.devices,
          apiRoutes.tickets,
          '/api/tickets/{id}',
          '/api/tickets/{id}/actions',
          '/api/tickets/{id}/report',
          '/api/tickets/{id}/report.html',
          apiRoutes.live,
        ]),
      );
      expect(doc.paths[apiRoutes.tickets].get.parameters).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'status', in: 'query' })]),
      );
      expect(doc.paths[apiRoutes.health].get.security).toEqual([]);
      expect(doc.components.securitySchemes.cookie).toMatchObject({
        in: 'cookie',
        name: SESSION_COOKIE,
      });
    });

    it('answers an unknown API path 404 VIGIL_NOT_FOUND, with or without a session', async () => {
      for (const headers of [{}, auth()]) {
        const res = await app.inject({ url: '/api/nothing-here', headers });
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe('VIGIL_NOT_FOUND');
      }
    });

    it('tells how to build the console when there is none', async () => {
      const res = await app.inject({ url: '/' });
      expect(res.statusCode).toBe(404);
      expect(res.json().message).toMatch(/npm run build:console/);
    });

    it('answers a failure with a coded 500 and logs it', async () => {
      fx.deps.health = async () => {
        throw new Error('disk I/O error');
      };
      const broken = await buildApi(fx.deps);
      try {
        const res = await broken.inject({ url: apiRoutes.health });
        expect(res.statusCode).toBe(500);
        expect(res.json()).toMatchObject({ code: 'VIGIL_INTERNAL' });
        expect(res.body).not.toContain('disk I/O');
        expect(
          fx.logLines.some((l) => l.includes('request failed') && l.includes('disk I/O error')),
        ).toBe(true);
      } finally {
        await broken.close();
      }
    });
  });

  it('never writes a password or a token to the log', async () => {
    await app.inject({
      method: 'POST',
      url: apiRoutes.login,
      payload: { username: OPERATOR.username, password: 'wrong-secret-123' },
    });
    await app.inject({
      url: apiRoutes.devices,
      headers: auth(),
      cookies: { [SESSION_COOKIE]: token },
    });
    await app.inject({ method: 'POST', url: apiRoutes.logout, headers: auth() });
    const log = fx.logLines.join('\n');
    expect(fx.logLines.length).toBeGreaterThan(0);
    for (const secret of [OPERATOR.password, 'wrong-secret-123', token])
      expect(log).not.toContain(secret);
  });
});

describe('console files', () => {
  let fx: Fixture;
  let app: FastifyInstance;

  beforeEach(async () => {
    fx = await makeFixture({ console: true });
    app = await buildApi(fx.deps);
  });

  afterEach(async () => {
    await app.close();
    fx.cleanup();
  });

  it('serves the console without a session, and index.html for its own routes', async () => {
    for (const url of ['/', '/tickets/17', '/fleet']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/text\/html/);
      expect(res.body, url).toContain('<title>Vigil</title>');
    }
    const asset = await app.inject({ url: '/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('answers 404 for a missing file and for an unknown API path, not index.html', async () => {
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    const api = await app.inject({ url: '/api/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.json().code).toBe('VIGIL_NOT_FOUND');
  });
});
