/**
 * The signed-in user's session and language, users managed by an admin, and the metric
 * series for charts, over the real API (fastify inject) on a real SQLite file and the
 * real embedded metrics store.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserStore } from '../../../../broker/api/users.js';
import { EmbeddedMetricsStore } from '../../../../broker/metrics/embedded.js';
import { buildApi, login, makeFixture, OPERATOR, type Fixture } from './fixture.js';

const ADMIN = { username: 'ada', password: 'admin password 1' };

describe('session, users and metrics API', () => {
  let fx: Fixture;
  let app: FastifyInstance;
  let metrics: EmbeddedMetricsStore;

  beforeEach(async () => {
    fx = await makeFixture();
    await new UserStore(fx.store).setUser(ADMIN.username, 'admin', ADMIN.password);
    metrics = new EmbeddedMetricsStore({ file: join(fx.dir, 'metrics.db') });
    await metrics.start();
    app = await buildApi({ ...fx.deps, metrics });
  });

  afterEach(async () => {
    await app.close();
    await metrics.stop();
    fx.cleanup();
  });

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  it('tells who is signed in and remembers their language', async () => {
    const { token } = await login(app);
    const first = await app.inject({ url: '/api/auth/session', headers: auth(token) });
    expect(first.json()).toMatchObject({
      username: OPERATOR.username,
      role: 'operator',
      locale: null,
    });

    const set = await app.inject({
      method: 'PATCH',
      url: '/api/auth/session',
      headers: auth(token),
      payload: { locale: 'zh-CN' },
    });
    expect(set.statusCode).toBe(200);
    // A new session (another desk) gets the same language.
    const again = await login(app);
    const second = await app.inject({ url: '/api/auth/session', headers: auth(again.token) });
    expect(second.json()).toMatchObject({ locale: 'zh-CN' });

    const bad = await app.inject({
      method: 'PATCH',
      url: '/api/auth/session',
      headers: auth(token),
      payload: { locale: 'fr' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VIGIL_BAD_REQUEST');
  });

  it('lets an admin create, change and delete users, and nobody else', async () => {
    const operator = await login(app);
    const refused = await app.inject({ url: '/api/users', headers: auth(operator.token) });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('VIGIL_FORBIDDEN');

    const admin = await login(app, ADMIN);
    const created = await app.inject({
      method: 'PUT',
      url: '/api/users/viewer1',
      headers: auth(admin.token),
      payload: { role: 'viewer', password: 'viewer password' },
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ username: 'viewer1', role: 'viewer' });
    const viewer = await login(app, { username: 'viewer1', password: 'viewer password' });

    // A role change keeps the password and the viewer's session.
    await app.inject({
      method: 'PUT',
      url: '/api/users/viewer1',
      headers: auth(admin.token),
      payload: { role: 'operator' },
    });
    const me = await app.inject({ url: '/api/auth/session', headers: auth(viewer.token) });
    expect(me.json()).toMatchObject({ role: 'operator' });

    const list = await app.inject({ url: '/api/users', headers: auth(admin.token) });
    expect(list.json().map((u: { username: string }) => u.username)).toEqual([
      'ada',
      'olga',
      'viewer1',
    ]);

    const noPassword = await app.inject({
      method: 'PUT',
      url: '/api/users/newbie',
      headers: auth(admin.token),
      payload: { role: 'viewer' },
    });
    expect(noPassword.statusCode).toBe(400);

    const self = await app.inject({
      method: 'DELETE',
      url: '/api/users/ada',
      headers: auth(admin.token),
    });
    expect(self.statusCode).toBe(400);
    const gone = await app.inject({
      method: 'DELETE',
      url: '/api/users/viewer1',
      headers: auth(admin.token),
    });
    expect(gone.statusCode).toBe(204);
    // Deleting a user ends their sessions.
    const after = await app.inject({ url: '/api/auth/session', headers: auth(viewer.token) });
    expect(after.statusCode).toBe(401);
  });

  it('serves a device metric in buckets for a chart', async () => {
    const base = Date.parse('2026-11-26T08:00:00.000Z');
    await metrics.write(
      [0, 20, 40, 310].map((s, i) => ({
        measurement: 'device',
        tags: { site: 'demo-site', agent: 'gw-01', device: 'cam-01', kind: 'camera' },
        fields: { responseMs: 10 + i * 10, up: true },
        time: new Date(base + s * 1000),
      })),
    );
    const { token } = await login(app);
    const res = await app.inject({
      url: '/api/metrics/series',
      headers: auth(token),
      query: {
        measurement: 'device',
        device: 'cam-01',
        field: 'responseMs',
        from: '2026-11-26T08:00:00.000Z',
        to: '2026-11-26T09:00:00.000Z',
        bucketS: '300',
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      field: 'responseMs',
      bucketS: 300,
      time: [base, base + 300_000],
      mean: [20, 40],
      min: [10, 40],
      max: [30, 40],
    });
    const backwards = await app.inject({
      url: '/api/metrics/series',
      headers: auth(token),
      query: {
        measurement: 'device',
        device: 'cam-01',
        field: 'responseMs',
        from: '2026-11-26T09:00:00.000Z',
        to: '2026-11-26T08:00:00.000Z',
      },
    });
    expect(backwards.statusCode).toBe(400);
  });
});
