/**
 * Customer accounts (issue 16 part 5) in the users store and through PUT /api/users: a
 * `customer` names an existing customer and nothing else does, its session carries it,
 * and every user keeps a console time zone (the older table's upgrade is in
 * test/suites/stores/users.ts, on both engines).
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deskApi, deskUsers, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';
import { login } from './fixture.js';

describe('customer accounts', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let admin = '';

  beforeEach(async () => {
    f = await makeDesk();
    await f.desk.customers.create({ id: 'alpha', name: 'Alpha Water Works' });
    let tokens: Record<keyof typeof deskUsers, string>;
    ({ app, tokens } = await deskApi(f, deskUsers));
    admin = tokens.admin;
  });

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  const put = (token: string, username: string, payload: object) =>
    app.inject({
      method: 'PUT',
      url: `/api/users/${username}`,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });

  it('lets an admin bind a customer account to an existing customer, and says what is wrong otherwise', async () => {
    const password = 'customer password 1';
    const none = await put(admin, 'anna', { role: 'customer', password });
    expect(none.statusCode).toBe(400);
    expect(none.json().details).toEqual([
      'customerId: required for role "customer" (GET /api/customers lists them)',
    ]);
    const unknown = await put(admin, 'anna', { role: 'customer', password, customerId: 'zeta' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().details[0]).toMatch(/create it with POST \/api\/customers first/);
    const staff = await put(admin, 'anna', { role: 'viewer', password, customerId: 'alpha' });
    expect(staff.statusCode).toBe(400);

    const made = await put(admin, 'anna', { role: 'customer', password, customerId: 'alpha' });
    expect(made.statusCode, made.body).toBe(200);
    expect(made.json()).toMatchObject({ username: 'anna', role: 'customer', customerId: 'alpha' });
    const signedIn = await login(app, { username: 'anna', password });
    expect(signedIn.res.json()).toMatchObject({ role: 'customer', customerId: 'alpha' });
    const session = await app.inject({
      url: '/api/auth/session',
      headers: { authorization: `Bearer ${signedIn.token}` },
    });
    expect(session.json()).toMatchObject({ role: 'customer', customerId: 'alpha' });

    // Made staff: the customer's session ends (it was of another audience).
    expect((await put(admin, 'anna', { role: 'viewer' })).json()).toMatchObject({
      role: 'viewer',
      customerId: null,
    });
    const after = await app.inject({
      url: '/api/auth/session',
      headers: { authorization: `Bearer ${signedIn.token}` },
    });
    expect(after.statusCode).toBe(401);

    const audit = await f.desk.audit.list({ target: 'user:anna' });
    expect(audit.map((a) => JSON.parse(String(a.detail)) as unknown)).toContainEqual({
      role: 'customer',
      customerId: 'alpha',
      passwordChanged: true,
    });
  });

  it("keeps each user's console time zone, refusing names that are no IANA zone", async () => {
    const { username, password } = deskUsers.operator;
    const token = (await login(app, { username, password })).token;
    const patch = (payload: object) =>
      app.inject({
        method: 'PATCH',
        url: '/api/auth/session',
        headers: { authorization: `Bearer ${token}` },
        payload,
      });
    expect((await patch({ timeZone: 'Europe/Berlin' })).json()).toMatchObject({
      timeZone: 'Europe/Berlin',
    });
    const bad = await patch({ timeZone: 'CST' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details[0]).toMatch(/abbreviations such as CST are ambiguous/);
    expect((await patch({ timeZone: null })).json()).toMatchObject({ timeZone: null });
  });
});
