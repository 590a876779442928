/**
 * The one HTTP exchange of the agent (SOAP, snapshots) against a small server of our own:
 * a challenge answered once, the answer remembered so the next request authenticates at
 * once with nc counting up, a stale nonce renewed once, and a refused answer reported as
 * refused rather than retried; no Basic after Digest; IPv6 literals; the password never
 * in a message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAuthorization } from '../../../agent/onvif/http-auth.js';
import {
  deviceConnections,
  httpExchange,
  safeUri,
  type AuthMemory,
  type ExchangeTls,
} from '../../../agent/onvif/http-exchange.js';
import type { KeptConnections } from '../../../agent/onvif/kept-http.js';
import { httpGet } from '../../../agent/onvif/media-probe.js';
import { soapRequest } from '../../../agent/onvif/soap.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { Secret } from '../../../agent/secret.js';
import { makeCerts, type TestCerts } from '../../helpers/certs.js';

let server: Server | null = null;

afterEach(async () => {
  const s = server;
  server = null;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves `handlers` one per request; records each request's Authorization. */
async function serve(
  handlers: Handler[],
  host = '127.0.0.1',
): Promise<{ url: string; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    req.resume();
    const handler = handlers.shift();
    if (handler) handler(req, res);
    else res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const authority = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${authority}:${port}/snapshot/main.jpg?channel=1`, seen };
}

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<OnvifError> {
  const error = await promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnvifError);
  return error as OnvifError;
}

const challenge =
  (nonce: string, stale = false): Handler =>
  (_req, res) => {
    const extra = stale ? ', stale=true' : '';
    res
      .writeHead(401, {
        'WWW-Authenticate': `Digest realm="cam", qop="auth", nonce="${nonce}", opaque="op"${extra}`,
      })
      .end();
  };
const ok: Handler = (_req, res) => res.writeHead(200).end('picture');
const basicOnly: Handler = (_req, res) =>
  res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
const credentials = { username: 'monitor', password: new Secret('s3cret') };

function exchange(url: string, auth: AuthMemory) {
  return httpExchange({ url, method: 'GET', timeoutMs: 2000, maxBytes: 1024, credentials, auth });
}

describe('one HTTP exchange with authentication', () => {
  it('answers a challenge once, then sends the remembered Digest at once with nc counting up', async () => {
    const { url, seen } = await serve([challenge('n1'), ok, ok]);
    const auth: AuthMemory = { authorizer: null };
    const first = await exchange(url, auth);
    expect(first).toMatchObject({ status: 200, authenticated: true });
    expect((await exchange(url, auth)).status).toBe(200);
    expect(seen[0]).toBeUndefined();
    const [second, third] = [parseAuthorization(seen[1]), parseAuthorization(seen[2])];
    // The digest-uri is the request-target: path and query.
    expect(second?.params).toMatchObject({
      nonce: 'n1',
      nc: '00000001',
      uri: '/snapshot/main.jpg?channel=1',
      opaque: 'op',
    });
    expect(third?.params).toMatchObject({ nonce: 'n1', nc: '00000002' });
    expect(seen).toHaveLength(3);
  });

  it('renews a stale nonce once, and reports a refusal after that as refused', async () => {
    const { url, seen } = await serve([
      challenge('n1'),
      challenge('n2', true),
      ok,
      challenge('n3', true),
      challenge('n4'),
    ]);
    const auth: AuthMemory = { authorizer: null };
    expect((await exchange(url, auth)).status).toBe(200);
    expect(parseAuthorization(seen[2])?.params.nonce).toBe('n2');
    // The remembered answer meets an expired nonce: answered afresh (n3); refused without
    // stale, that is the password: given up and forgotten.
    const refused = await exchange(url, auth);
    expect(refused).toMatchObject({ status: 401, authenticated: true });
    expect(seen).toHaveLength(5);
    expect(auth.authorizer).toBeNull();
  });

  it('returns a 401 it cannot answer without retrying: no credentials, or no usable scheme', async () => {
    const { url, seen } = await serve([
      challenge('n1'),
      (_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end(),
    ]);
    const bare = await httpExchange({ url, method: 'GET', timeoutMs: 2000, maxBytes: 1024 });
    expect(bare).toMatchObject({ status: 401, authenticated: false });
    expect(await exchange(url, { authorizer: null })).toMatchObject({
      status: 401,
      authenticated: false,
    });
    expect(seen).toEqual([undefined, undefined]);
  });
});

describe('a server that offered Digest and then offers only Basic', () => {
  it('is refused the password: no Basic header goes out, and the error says why', async () => {
    const { url, seen } = await serve([challenge('n1'), ok, basicOnly]);
    const auth: AuthMemory = { authorizer: null };
    expect((await exchange(url, auth)).status).toBe(200);
    // The remembered Digest meets a 401 offering only Basic, as a man in the middle
    // who stripped the Digest challenge would answer.
    const error = await failure(exchange(url, auth));
    expect(error.kind).toBe('auth-failed');
    expect(error.message).toMatch(/refused this downgrade/);
    expect(error.message).toMatch(/network path/);
    expect(seen).toHaveLength(3);
    expect(seen.filter((h) => h?.startsWith('Basic'))).toEqual([]);
  });

  it('still answers Basic where the server never offered Digest', async () => {
    const { url, seen } = await serve([basicOnly, ok]);
    expect((await exchange(url, { authorizer: null })).status).toBe(200);
    expect(seen[1]).toBe(`Basic ${Buffer.from('monitor:s3cret').toString('base64')}`);
  });
});

describe('addresses and names', () => {
  it('reaches an IPv6 literal address (http://[::1]:port/)', async () => {
    const { url, seen } = await serve([challenge('n1'), ok], '::1');
    expect(url.startsWith('http://[::1]:')).toBe(true);
    expect(await exchange(url, { authorizer: null })).toMatchObject({ status: 200 });
    expect(seen).toHaveLength(2);
  });

  it('authenticates a user name beyond Latin-1 (username*, not a TypeError)', async () => {
    const { url, seen } = await serve([challenge('n1'), ok]);
    const answer = await httpExchange({
      url,
      method: 'GET',
      timeoutMs: 2000,
      maxBytes: 1024,
      credentials: { username: '监控', password: new Secret('s3cret') },
    });
    expect(answer.status).toBe(200);
    expect(seen[1]).toContain(`username*=UTF-8''%E7%9B%91%E6%8E%A7`);
  });
});

describe('the password never in a message', () => {
  // A password with characters that URIs encode, as installers choose them.
  const password = 'p@ss w/rd+1&2';
  const forms = [
    password,
    encodeURIComponent(password),
    new URLSearchParams({ p: password }).toString().slice(2),
  ];
  const secret = new Secret(password);

  it('masks it in a snapshot URI whatever the parameter is called, raw or encoded', () => {
    for (const form of forms) {
      const masked = safeUri(
        `http://192.0.2.1/snapshot.cgi?loginuse=admin&loginpas=${form}&channel=1`,
        secret,
      );
      expect(masked).toBe('http://192.0.2.1/snapshot.cgi?loginuse=admin&loginpas=***&channel=1');
    }
    expect(safeUri(`http://192.0.2.1/${encodeURIComponent(password)}/snap.jpg`, secret)).toBe(
      'http://192.0.2.1/***/snap.jpg',
    );
  });

  it('is not in the auth-failed of a snapshot URI that carries it (?loginuse=&loginpas=)', async () => {
    const { url } = await serve([challenge('n1'), challenge('n2')]);
    const uri = url.replace(
      '?channel=1',
      `?loginuse=admin&loginpas=${encodeURIComponent(password)}&channel=1`,
    );
    const error = await failure(
      httpGet(uri, { timeoutMs: 2000, credentials: { username: 'admin', password: secret } }),
    );
    expect(error.kind).toBe('auth-failed');
    expect(error.message).toContain('loginpas=***');
    for (const form of forms) expect(error.message).not.toContain(form);
  });

  it('drops userinfo and masks query values that look like credentials', () => {
    expect(
      safeUri('http://admin:pw@192.0.2.1/cgi-bin/snapshot.cgi?user=admin&pwd=pw&channel=1'),
    ).toBe('http://192.0.2.1/cgi-bin/snapshot.cgi?user=***&pwd=***&channel=1');
  });
});

describe('403 Forbidden', () => {
  const forbidden: Handler = (_req, res) => res.writeHead(403).end();

  it('to a snapshot request without credentials is not a refusal of our credentials', async () => {
    const { url, seen } = await serve([forbidden]);
    const error = await failure(httpGet(url, { timeoutMs: 2000, credentials }));
    expect(seen).toEqual([undefined]);
    expect(error.kind).toBe('protocol-error');
    expect(error.message).toMatch(/403 \(Forbidden\) without asking for credentials/);
    expect(error.message).not.toMatch(/refused the device's credentials/);
  });

  it('after our Digest is the account refused (auth-failed)', async () => {
    const { url } = await serve([challenge('n1'), forbidden]);
    const error = await failure(httpGet(url, { timeoutMs: 2000, credentials }));
    expect(error.kind).toBe('auth-failed');
    expect(error.message).toMatch(/refused the device's credentials \(403\)/);
  });

  it('to a SOAP request sent without credentials says none were sent', async () => {
    const { url } = await serve([forbidden]);
    const error = await failure(soapRequest({ url, action: 'a', body: '<x/>', timeoutMs: 2000 }));
    expect(error.kind).toBe('auth-failed');
    expect(error.message).toMatch(/demands credentials for a request the agent sends without/);
  });
});

describe("a device's kept connections (deviceConnections)", () => {
  /** Serves `handlers` one per request, counting the connections the client opened. */
  async function counting(
    handlers: Handler[],
  ): Promise<{ url: string; connections: () => number }> {
    const served = await serve(handlers);
    let opened = 0;
    server!.on('connection', () => (opened += 1));
    return { url: served.url, connections: () => opened };
  }
  const get = (url: string, connections?: KeptConnections, timeoutMs = 2000) =>
    httpExchange({
      url,
      method: 'GET',
      timeoutMs,
      maxBytes: 1024,
      ...(connections ? { connections } : {}),
    });

  it('sends a poll’s requests over one connection, where each used to open its own', async () => {
    const kept = await counting([ok, ok, ok, ok, ok]);
    const connections = deviceConnections();
    for (let i = 0; i < 5; i += 1) expect((await get(kept.url, connections)).status).toBe(200);
    expect(kept.connections()).toBe(1);
    connections.destroy();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;

    const fresh = await counting([ok, ok, ok]);
    for (let i = 0; i < 3; i += 1) expect((await get(fresh.url)).status).toBe(200);
    expect(fresh.connections()).toBe(3);
  });

  it('sends a request again on a new connection when the device closed the kept one as it went out', async () => {
    // The second request arrives on the kept connection and the device drops it unanswered
    // (its idle close racing our write); the retry on a new connection is answered.
    const dropped: Handler = (req) => req.socket.destroy();
    const kept = await counting([ok, dropped, ok]);
    const connections = deviceConnections();
    expect((await get(kept.url, connections)).status).toBe(200);
    const again = await get(kept.url, connections);
    expect(again.status).toBe(200);
    expect(again.body.toString()).toBe('picture');
    expect(kept.connections()).toBe(2);
    connections.destroy();
  });

  it('still times out a device that hangs on a kept connection, and names it unreachable once it refuses', async () => {
    const hang: Handler = () => undefined;
    const kept = await counting([ok, hang]);
    const connections = deviceConnections();
    expect((await get(kept.url, connections)).status).toBe(200);
    const started = Date.now();
    expect((await failure(get(kept.url, connections, 300))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
    // Switched off: its connections close and its port refuses.
    server!.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;
    expect((await failure(get(kept.url, connections, 1000))).kind).toBe('unreachable');
    connections.destroy();
  });
});

describe("an https device's kept connections", () => {
  let certs: TestCerts | null = null;
  let secure: HttpsServer | null = null;
  afterEach(async () => {
    const s = secure;
    secure = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await certs?.remove();
    certs = null;
  });

  /** A TLS policy that accepts the test certificate and counts its handshakes. */
  function countingPolicy(): ExchangeTls & { handshakes: number } {
    const policy = {
      handshakes: 0,
      connect(host: string, port: number): Promise<Socket> {
        policy.handshakes += 1;
        return new Promise((resolve, reject) => {
          const socket = tlsConnect({ host, port, rejectUnauthorized: false });
          socket.once('secureConnect', () => resolve(socket));
          socket.once('error', reject);
        });
      },
    };
    return policy;
  }

  it('makes one handshake, through the device’s TLS policy, for a poll’s requests', async () => {
    certs = await makeCerts();
    const [cert, key] = await Promise.all([
      readFile(certs.certFile, 'utf8'),
      readFile(certs.keyFile, 'utf8'),
    ]);
    secure = createHttpsServer({ cert, key }, (req, res) => {
      req.resume();
      res.writeHead(200).end('picture');
    });
    await new Promise<void>((resolve) => secure!.listen(0, '127.0.0.1', resolve));
    const address = secure.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = `https://127.0.0.1:${port}/snapshot`;
    const policy = countingPolicy();
    const connections = deviceConnections();
    for (let i = 0; i < 4; i += 1) {
      const answer = await httpExchange({
        url,
        method: 'GET',
        timeoutMs: 2000,
        maxBytes: 1024,
        tls: policy,
        connections,
      });
      expect(answer.body.toString()).toBe('picture');
    }
    expect(policy.handshakes).toBe(1);
    connections.destroy();
  });

  it('gives the policy’s refusal as it is: a changed certificate stays certificate-changed', async () => {
    const refusing: ExchangeTls = {
      connect: () =>
        Promise.reject(
          new OnvifError('certificate-changed', 'the device presents another certificate'),
        ),
    };
    const connections = deviceConnections();
    const error = await failure(
      httpExchange({
        url: 'https://127.0.0.1:9/onvif/device_service',
        method: 'GET',
        timeoutMs: 2000,
        maxBytes: 1024,
        tls: refusing,
        connections,
      }),
    );
    expect(error.kind).toBe('certificate-changed');
    expect(error.message).toMatch(/another certificate/);
    connections.destroy();
  });
});
