/**
 * The console's data layer against a real HTTP server on 127.0.0.1:0 that answers like
 * the broker's API (shared/api/). Only the live stream is a fake: Node 20 has no
 * EventSource without a flag, and the stream's reconnects are checked in the browser.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiRoutes, siteApiRoutes } from '../../../shared/api/routes.js';
import type { SiteRollup } from '../../../shared/api/sites.js';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import { ticketExample, type Ticket } from '../../../shared/api/tickets.js';
import { ApiClient, ApiRequestError } from '../../../console/src/data/api.js';
import type { LiveHandlers, LiveStream } from '../../../console/src/data/live.js';
import { Session } from '../../../console/src/data/session.js';
import { Store } from '../../../console/src/data/store.js';
import { strings } from '../../../console/src/strings.js';

const TOKEN = 'token-of-the-test';

interface FakeApi {
  server: Server;
  base: string;
  devices: Device[];
  tickets: Ticket[];
  /** GET /api/rollup answers these (the broker's figures); null: 404 like an older broker. */
  rollup: SiteRollup[] | null;
  requests: { method: string; url: string; auth?: string; contentType?: string }[];
  sessionValid: boolean;
  /** When set, GET /api/devices takes its snapshot and then waits for `release`. */
  hold: boolean;
  release: (() => void) | null;
}

async function startApi(): Promise<FakeApi> {
  const api: FakeApi = {
    server: createServer(),
    base: '',
    devices: [deviceExample],
    tickets: [{ ...ticketExample, status: 'open', resolvedAt: null }],
    rollup: null,
    requests: [],
    sessionValid: true,
    hold: false,
    release: null,
  };
  const body = async (req: IncomingMessage) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return text;
  };
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    api.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization,
      contentType: req.headers['content-type'],
    });
    const send = (status: number, value?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(value === undefined ? '' : JSON.stringify(value));
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === apiRoutes.login) {
      const { username, password } = JSON.parse(await body(req)) as Record<string, string>;
      if (username !== 'admin' || password !== 'right') {
        return send(401, { code: 'VIGIL_AUTH_FAILED', message: 'Wrong username or password.' });
      }
      return send(200, {
        token: TOKEN,
        username,
        role: 'admin',
        expiresAt: '2030-01-01T00:00:00.000Z',
      });
    }
    if (path === apiRoutes.logout) return send(204);
    if (!api.sessionValid || req.headers.authorization !== `Bearer ${TOKEN}`) {
      return send(401, { code: 'VIGIL_AUTH_REQUIRED', message: 'Log in first.' });
    }
    if (path === apiRoutes.devices) {
      const snapshot = structuredClone(api.devices);
      if (api.hold) await new Promise<void>((resolve) => (api.release = resolve));
      return send(200, snapshot);
    }
    if (path === apiRoutes.tickets) return send(200, api.tickets);
    if (path === siteApiRoutes.rollup && api.rollup !== null) return send(200, api.rollup);
    return send(404, { code: 'VIGIL_NOT_FOUND', message: 'No such resource.' });
  };
  // A fault of the fake itself (a body that is not JSON) answers 500 with what went wrong,
  // so the test that met it fails on it instead of waiting for an answer that never comes.
  api.server.on('request', (req, res) => {
    answer(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'VIGIL_TEST_FAKE', message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  api.base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  return api;
}

class FakeLive implements LiveStream {
  state: LiveStream['state'] = 'idle';
  constructor(readonly handlers: LiveHandlers) {}
  start(): void {
    this.state = 'connecting';
  }
  stop(): void {
    this.state = 'idle';
  }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('Session', () => {
  let api: FakeApi;
  let store: Store;
  let live: FakeLive | null;
  let session: Session;

  beforeEach(async () => {
    api = await startApi();
    store = new Store();
    live = null;
    session = new Session(store, new ApiClient(api.base), (_url, handlers) => {
      live = new FakeLive(handlers);
      return live;
    });
  });

  afterEach(async () => {
    session.stop();
    api.release?.();
    await new Promise((resolve) => api.server.close(resolve));
  });

  it('shows the API message for a wrong password and stays signed out', async () => {
    store.update({ session: 'signed-out' });
    const failure = await session.login('admin', 'wrong').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiRequestError);
    expect(failure).toMatchObject({
      code: 'VIGIL_AUTH_FAILED',
      message: 'Wrong username or password.',
    });
    expect(store.get().session).toBe('signed-out');
    expect(live).toBeNull();
  });

  it('signs in, loads both lists with the token and opens the live stream', async () => {
    await session.login('admin', 'right');
    expect(store.get()).toMatchObject({ session: 'signed-in', user: { username: 'admin' } });
    expect([...store.get().devices.keys()]).toEqual(['cam-01']);
    expect([...store.get().tickets.keys()]).toEqual([17]);
    const gets = api.requests.filter((r) => r.method === 'GET').map((r) => [r.url, r.auth]);
    // Who am I (role, language) first, then the lists; sites and maintenance are optional
    // (this fake answers 404 for them, as an older broker would, and that is no failure).
    expect(gets[0]).toEqual(['/api/auth/session', `Bearer ${TOKEN}`]);
    expect(gets.filter(([url]) => /^\/api\/(devices|tickets)/.test(url ?? ''))).toEqual([
      ['/api/devices', `Bearer ${TOKEN}`],
      ['/api/tickets?status=open', `Bearer ${TOKEN}`],
    ]);
    expect(store.get().problem).toBeNull();
    expect(live?.state).toBe('connecting');
  });

  it('keeps a live change that arrives while the lists reload', async () => {
    await session.login('admin', 'right');
    api.hold = true;
    live?.handlers.opened(true);
    await until(() => api.release !== null);
    // The reload's snapshot was taken before cam-01 went down...
    live?.handlers.event({ type: 'device', device: { ...deviceExample, status: 'down' } });
    const before = store.get().devices;
    api.release?.();
    await until(() => store.get().devices !== before);
    // ...and still the board shows it down.
    expect(store.get().devices.get('cam-01')?.status).toBe('down');
  });

  it('goes back to the login screen when the stream fails because the session ended', async () => {
    await session.login('admin', 'right');
    api.sessionValid = false;
    live?.handlers.failed();
    await until(() => store.get().session === 'signed-out');
    expect(store.get().notice).toBe(strings.login.sessionEnded);
    expect(live?.state).toBe('idle');
  });

  it('shows the resolved tickets only after asking the API for all of them', async () => {
    await session.login('admin', 'right');
    api.tickets = [...api.tickets, { ...ticketExample, id: 16 }];
    await session.showResolved(true);
    const lastTickets = api.requests.filter((r) => r.url.startsWith('/api/tickets')).at(-1);
    expect(lastTickets?.url).toBe('/api/tickets?status=all');
    expect(store.get()).toMatchObject({ ticketScope: 'all', loadingTickets: false });
    expect(store.get().tickets.size).toBe(2);
  });

  it('logs out with a bodiless POST and forgets the token', async () => {
    await session.login('admin', 'right');
    await session.logout();
    const logout = api.requests.find((r) => r.url === apiRoutes.logout);
    expect(logout).toMatchObject({ method: 'POST', contentType: undefined });
    expect(store.get().session).toBe('signed-out');
    expect(store.get().devices.size).toBe(0);
    await expect(new ApiClient(api.base).fetchDevices()).rejects.toMatchObject({
      needsLogin: true,
    });
  });

  it("shows the broker's site roll-up and asks again once after a burst of live changes", async () => {
    const rollup = (state: SiteRollup['state'], down: number): SiteRollup[] => [
      {
        siteId: 'demo-site',
        name: 'Demo plant',
        state,
        total: 1,
        counts: { up: 1 - down, degraded: 0, down, unknown: 0 },
        inMaintenance: false,
        agentsOffline: 0,
      },
    ];
    api.rollup = rollup('ok', 0);
    // Signed in: the lists, the roll-up among them, are loaded (and no reload is in flight).
    await session.login('admin', 'right');
    expect(store.get().rollup[0]?.state).toBe('ok');
    const asked = () => api.requests.filter((r) => r.url === siteApiRoutes.rollup).length;
    const before = asked();
    // cam-01 goes down: the broker's figure changes, and 20 events bring one request.
    api.rollup = rollup('down', 1);
    for (let i = 0; i < 20; i++) {
      live?.handlers.event({ type: 'device', device: { ...deviceExample, status: 'down' } });
    }
    await until(() => store.get().rollup[0]?.state === 'down');
    expect(store.get().rollup[0]?.counts.down).toBe(1);
    expect(asked() - before).toBe(1);
  });
});
