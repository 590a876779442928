/**
 * The one scoping test of the customer portal (issue 16 part 5): every /api/ route the
 * server registered (read from the server, not listed here) is called as customer A's
 * account with customer B's ids. A staff route answers 403; a customer route answers 404
 * for B's site, device, ticket, window, report or customer, and its lists hold nothing
 * of B's; no answer anywhere carries B's data. A route that declares no audience stops
 * the server from starting, so a new route cannot slip past this test. The live stream
 * (/api/live) carries A's events and not B's.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../../../shared/api/routes.js';
import type { Ticket } from '../../../../shared/api/tickets.js';
import type { ScopedRoute } from '../../../../broker/api/scope.js';
import type { ApiDeps } from '../../../../broker/api/types.js';
import { UserStore } from '../../../../broker/api/users.js';
import { CommandSender } from '../../../../broker/commands/sender.js';
import { ChannelStore } from '../../../../broker/notify/channels/store.js';
import { SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { defaultEscalationConfig } from '../../../../broker/notify/config.js';
import { Escalations } from '../../../../broker/notify/escalation.js';
import { OnCallStore } from '../../../../broker/oncall/store.js';
import { silentLog } from '../../../helpers/logs.js';
import { camera, deskApi, deskUsers, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';
import { login } from './fixture.js';

/**
 * Every id and text of B's has "bravo" in it (or is cam-b7): an answer to a request that
 * names none of B's may not hold the word at all. A request naming B's id may be told
 * "no site bravo-site" (its own words back), never B's names and titles.
 */
const B_MARK = 'bravo';
const B_TEXTS = ['bravo harbour', 'bravo quay'];

/** Two customers, a site each, a camera each, a ticket each, and B's maintenance window. */
async function twoCustomers(f: DeskFixture) {
  const { desk } = f;
  await desk.customers.create({ id: 'alpha', name: 'Alpha Water Works' });
  await desk.customers.create({ id: 'bravo', name: 'Bravo Harbour Ltd' });
  await desk.sites.put('alpha-site', { customerId: 'alpha' });
  await desk.sites.put('bravo-site', { customerId: 'bravo' });
  const ticket = (siteId: string, deviceId: string, title: string): Promise<Ticket> =>
    desk.tickets.openManual({
      siteId,
      deviceId,
      title,
      description: 'reported by phone',
      reportedBy: deskUsers.operator.username,
      via: 'phone',
    });
  const alphaTicket = await ticket('alpha-site', 'cam-a1', 'Alpha gate picture blurred');
  const bravoTicket = await ticket('bravo-site', 'cam-b7', 'Bravo quay picture blurred');
  const bravoWindow = await desk.maintenance.create(
    { siteId: 'bravo-site', durationMin: 60, reason: 'Bravo quay mast repainted' },
    deskUsers.operator.username,
  );
  return { alphaTicket, bravoTicket, bravoWindow };
}

/**
 * Every optional part of the API as the broker wires it (broker/app.ts): on call,
 * channels, escalations, commands, broker figures; so that every route is registered.
 */
async function everyPart(f: DeskFixture): Promise<Partial<ApiDeps>> {
  const oncall = new OnCallStore(new SqliteDatabase(f.db, 'vigil.db'), f.desk.sites);
  await oncall.start();
  const channels = new ChannelStore(f.store, {});
  await channels.start();
  const escalations = new Escalations({
    db: f.store,
    events: f.events,
    tickets: f.desk.tickets,
    directory: oncall,
    channels,
    sites: f.desk.sites,
    config: defaultEscalationConfig,
    log: silentLog,
    now: () => f.clock.now,
  });
  return {
    oncall,
    channels,
    escalations,
    commands: new CommandSender({ publish: async () => undefined }),
    brokerStats: () => {
      throw new Error('not asked in this test');
    },
  };
}

const CUSTOMER_A = { username: 'anna', password: 'customer password 1' };
const CUSTOMER_B = { username: 'bravo-bert', password: 'customer password 2' };

describe('customer accounts see only their own customer', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let anna = '';
  let ids: Awaited<ReturnType<typeof twoCustomers>>;

  beforeEach(async () => {
    f = await makeDesk({}, [
      camera('cam-a1', { siteId: 'alpha-site', name: 'Alpha gate' }),
      camera('cam-b7', { siteId: 'bravo-site', name: 'Bravo quay' }),
    ]);
    ids = await twoCustomers(f);
    ({ app } = await deskApi(f, deskUsers, await everyPart(f)));
    const users = new UserStore(f.store);
    await users.setUser(CUSTOMER_A.username, 'customer', CUSTOMER_A.password, 'alpha');
    await users.setUser(CUSTOMER_B.username, 'customer', CUSTOMER_B.password, 'bravo');
    anna = (await login(app, CUSTOMER_A)).token;
  });

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  const call = (method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${anna}` },
      ...(payload ? { payload } : {}),
    });

  /** B's id for each path parameter; the resource a `:id` names depends on the path. */
  const pathFor = (route: ScopedRoute): string =>
    route.url.replace(/:(\w+)/g, (_m, name: string) => {
      if (name === 'site') return 'bravo-site';
      if (name === 'device') return 'cam-b7';
      if (name === 'username') return CUSTOMER_B.username;
      if (name === 'agent') return 'gw-01';
      if (name === 'period') return '2026-11';
      if (name === 'version') return '1';
      if (name === 'id') {
        if (route.url.startsWith('/api/tickets/')) return String(ids.bravoTicket.id);
        if (route.url.startsWith('/api/customers/')) return 'bravo';
        if (route.url.startsWith('/api/maintenance/')) return String(ids.bravoWindow.id);
        if (route.url.startsWith('/api/devices/')) return 'cam-b7';
        return '1';
      }
      return 'bravo';
    });

  /**
   * Queries and bodies a customer route needs to pass its schema, each naming B's site or
   * device where it names one. A new customer route with a required query or body that
   * answers 400 here fails below with the words to add it.
   */
  const queries: Record<string, string> = {
    [apiRoutes.tickets]: '?siteId=bravo-site',
    '/api/maintenance': '?siteId=bravo-site',
    '/api/metrics/series':
      '?measurement=device&device=cam-b7&field=responseMs&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z',
    '/api/devices/:id/outages':
      '?site=bravo-site&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z',
    '/api/sites/:site/inspection': '?period=2026-11',
    '/api/sites/:site/inspection.html': '?period=2026-11',
    '/api/customers/:id/figures': '?period=2026-11',
  };
  const bodies: Record<string, object> = {
    'POST /api/sites/:site/inspection/issued/:period/:version/sign-offs': {
      name: 'Anna Li',
      signedOn: '2026-12-01',
    },
    [`POST ${apiRoutes.tickets}`]: {
      siteId: 'bravo-site',
      title: 'Fence light out',
      description: 'seen from the road',
    },
  };

  /** Whether a request names one of B's ids (in its path, query or body). */
  const namesB = (text: string) => /bravo|cam-b7/i.test(text);

  it('answers every declared route as customer A with customer B ids: 403, 404, or A only', async () => {
    // The live stream has its own test below; logging out, last, would end A's session.
    const routes = app.scopedRoutes
      .filter((r) => r.method !== 'HEAD' && r.url !== apiRoutes.live)
      .sort((a, b) => Number(a.url === apiRoutes.logout) - Number(b.url === apiRoutes.logout));
    // The server's own list: every resource of the portal is in it (and the test's
    // expectations below follow each route's declared scope, not a hand list).
    const urls = new Set(routes.map((r) => r.url));
    for (const url of ['/api/sites', '/api/tickets/:id', '/api/customers/:id', '/api/devices'])
      expect(urls).toContain(url);
    expect(routes.length).toBeGreaterThan(60);

    const problems: string[] = [];
    for (const route of routes) {
      const path = pathFor(route);
      const url = path + (route.method === 'GET' ? (queries[route.url] ?? '') : '');
      const payload =
        route.method === 'GET' || route.method === 'DELETE'
          ? undefined
          : (bodies[`${route.method} ${route.url}`] ?? {});
      const res = await call(route.method, url, payload);
      const what = `${route.method} ${route.url} (${route.scope}) → ${res.statusCode}`;
      // Every path parameter is filled with B's (a ticket or window id is a number).
      const asked = route.url.includes(':') || namesB(url + JSON.stringify(payload ?? {}));
      const body = res.body.toLowerCase();
      if (asked ? B_TEXTS.some((t) => body.includes(t)) : body.includes(B_MARK))
        problems.push(`${what}: B's data in ${res.body.slice(0, 200)}`);
      if (route.scope === 'staff' && res.statusCode !== 403) problems.push(`${what}: want 403`);
      if (route.scope === 'customer') {
        if (res.statusCode === 400)
          problems.push(
            `${what}: give it a valid query or body in this test (${res.body.slice(0, 160)})`,
          );
        else if (!asked) {
          if (res.statusCode !== 200) problems.push(`${what}: want 200 with A's items only`);
        } else if (res.statusCode !== 404 && res.statusCode !== 403)
          problems.push(`${what}: want 404 (not another customer's)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lets customer A read its own sites, devices, tickets and customer, and report a fault on its own site', async () => {
    const json = async (url: string) => {
      const res = await call('GET', url);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      return res.json<unknown>();
    };
    expect(await json('/api/sites')).toMatchObject([{ id: 'alpha-site', customerId: 'alpha' }]);
    expect(await json('/api/rollup')).toMatchObject([{ siteId: 'alpha-site' }]);
    expect(await json('/api/devices')).toMatchObject([{ id: 'cam-a1', siteId: 'alpha-site' }]);
    expect(await json(apiRoutes.tickets)).toMatchObject([{ id: ids.alphaTicket.id }]);
    expect(await json(`/api/tickets/${ids.alphaTicket.id}`)).toMatchObject({
      siteId: 'alpha-site',
    });
    expect(await json('/api/customers')).toMatchObject([{ id: 'alpha' }]);
    expect(await json('/api/customers/alpha')).toMatchObject({ name: 'Alpha Water Works' });
    expect(await json('/api/sites/alpha-site')).toMatchObject({ id: 'alpha-site' });
    expect(await json('/api/auth/session')).toMatchObject({
      role: 'customer',
      customerId: 'alpha',
    });

    const reported = await call('POST', apiRoutes.tickets, {
      siteId: 'alpha-site',
      deviceId: 'cam-a1',
      title: 'The picture at the gate is blurred',
      description: 'since this morning',
    });
    expect(reported.statusCode, reported.body).toBe(201);
    expect(reported.json()).toMatchObject({ siteId: 'alpha-site', reportedVia: 'portal' });
    // A customer takes no step of the work order, not even on its own ticket.
    const act = await call('POST', `/api/tickets/${ids.alphaTicket.id}/actions`, {
      action: 'acknowledge',
    });
    expect(act.statusCode).toBe(403);
  });

  it("gives customer A a whole page of its own tickets when customer B's are more recent", async () => {
    const report = (siteId: string, title: string) =>
      f.desk.tickets.openManual({
        siteId,
        deviceId: null,
        title,
        description: 'reported by phone',
        reportedBy: deskUsers.operator.username,
        via: 'phone',
      });
    // A has 1 + 4 tickets; B then gets 1 + 6 newer ones, which fill any page of everybody's.
    for (let i = 0; i < 4; i++) {
      f.clock.now = new Date(f.clock.now.getTime() + 60_000);
      await report('alpha-site', `Alpha fence light ${i} out`);
    }
    for (let i = 0; i < 6; i++) {
      f.clock.now = new Date(f.clock.now.getTime() + 60_000);
      await report('bravo-site', `Bravo quay light ${i} out`);
    }
    for (const query of ['?status=all&limit=3', '?limit=3', '?status=all&sort=newest&limit=5']) {
      const res = await call('GET', apiRoutes.tickets + query);
      expect(res.statusCode, res.body).toBe(200);
      const list = res.json<Ticket[]>();
      const want = Number(new URLSearchParams(query).get('limit'));
      expect(
        list.map((t) => t.siteId),
        query,
      ).toEqual(Array(want).fill('alpha-site'));
    }
  });

  it('answers an unknown site and another customer’s site in the same words', async () => {
    const other = await call('GET', '/api/sites/bravo-site');
    const none = await call('GET', '/api/sites/no-such-site');
    expect(other.statusCode).toBe(404);
    expect(none.statusCode).toBe(404);
    expect(other.body.replace('bravo-site', 'X')).toBe(none.body.replace('no-such-site', 'X'));
  });

  it('refuses to start when a route declares no audience', async () => {
    // No user logs in, so nothing has started it yet.
    const { app: fresh } = await deskApi(f, {});
    // A plugin of the API that forgot to say who its route is for.
    void fresh.register(async (child) => {
      child.get('/api/forgotten', async () => ({ secret: true }));
    });
    await expect(fresh.ready()).rejects.toThrow(/\/api\/forgotten declares no audience/);
    await fresh.close().catch(() => undefined);
  });

  /** Customer A's live stream: what it carried so far, and a wait for a text in it. */
  async function annasStream() {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}${apiRoutes.live}`, {
      headers: { authorization: `Bearer ${anna}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const stream = {
      text: '',
      /** Reads on until `needle`; fails after `ms` with what the stream carried. */
      async readUntil(needle: string, ms = 15_000) {
        const timer = setTimeout(() => abort.abort(), ms);
        try {
          while (!stream.text.includes(needle)) {
            const { value, done } = await reader.read();
            if (done) throw new Error('the stream ended');
            stream.text += decoder.decode(value, { stream: true });
          }
        } catch (error) {
          throw new Error(
            `no ${needle} on the stream within ${ms} ms; it carried: ${stream.text}`,
            {
              cause: error,
            },
          );
        } finally {
          clearTimeout(timer);
        }
      },
      close: () => abort.abort(),
    };
    await stream.readUntil(': connected');
    return stream;
  }

  it("streams customer A's events on /api/live and not customer B's", async () => {
    const stream = await annasStream();
    // B's first, then A's: once A's arrived, B's would have been written before it.
    f.report('cam-b7', 'down');
    f.report('cam-a1', 'down');
    await stream.readUntil('cam-a1');
    stream.close();
    expect(stream.text).toContain('"siteId":"alpha-site"');
    expect(stream.text.toLowerCase()).not.toContain(B_MARK);
  });

  it('follows the sites given to and taken from customer A while its stream is open', async () => {
    const stream = await annasStream();
    // The two sites change hands after the stream opened.
    await f.desk.sites.put('alpha-site', { customerId: 'bravo' });
    await f.desk.sites.put('bravo-site', { customerId: 'alpha' });
    // The site A lost first, then the one it got: once the latter arrived, the former
    // would have been written before it.
    f.report('cam-a1', 'down');
    f.report('cam-b7', 'down');
    await stream.readUntil('cam-b7');
    stream.close();
    expect(stream.text).toContain('"siteId":"bravo-site"');
    expect(stream.text).not.toContain('cam-a1');
    expect(stream.text).not.toContain('alpha-site');
  });
});
