/**
 * HTTPS on the broker's own listener (http.tls), with a certificate made by Debian's
 * openssl for this test (test/helpers/certs.ts) and a real TLS client that checks it
 * against the test CA: HSTS on every HTTPS answer, the session cookie Secure, the plain
 * port redirecting with the same path, and start-up errors that say what to do.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { apiRoutes } from '../../../../shared/api/routes.js';
import { VigilError } from '../../../../shared/errors.js';
import { startTestBroker, TEST_ADMIN_PASSWORD } from '../../../helpers/broker.js';
import { makeCerts, type TestCerts } from '../../../helpers/certs.js';
import { recordingLog, type RecordingLog } from '../../../helpers/logs.js';
import { freePort } from '../../../helpers/ports.js';

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  authorized?: boolean;
}

function collect(res: IncomingMessage, resolve: (answer: Answer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => {
    const socket = res.socket as TLSSocket;
    resolve({
      status: res.statusCode ?? 0,
      headers: res.headers,
      text: Buffer.concat(chunks).toString('utf8'),
      ...(typeof socket.authorized === 'boolean' ? { authorized: socket.authorized } : {}),
    });
  });
}

/** A TLS client that trusts only the test CA and checks the name (Node's defaults). */
function overTls(url: string, ca: string, method = 'GET', body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        ca,
        agent: false,
        ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' } }),
      },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function plain(url: string, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => collect(res, resolve));
    req.on('error', reject);
    req.end(body);
  });
}

async function startupError(start: Promise<RunningBroker>): Promise<VigilError> {
  try {
    const broker = await start;
    await broker.stop();
  } catch (error) {
    if (error instanceof VigilError) return error;
    throw error;
  }
  throw new Error('the broker started');
}

describe('HTTPS on the broker listener (real TLS client, openssl certificate)', () => {
  let certs: TestCerts;
  let broker: RunningBroker;
  let redirectPort: number;
  let log: RecordingLog;

  beforeAll(async () => {
    certs = await makeCerts();
    redirectPort = await freePort();
    log = recordingLog();
    broker = await startTestBroker({
      settings: { http: { tls: { cert: certs.certFile, key: certs.keyFile, redirectPort } } },
      log,
    });
  });

  afterAll(async () => {
    await broker?.stop();
    await certs?.remove();
  });

  it('serves the API over HTTPS with a certificate the client verifies, and HSTS', async () => {
    expect(broker.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await overTls(`${broker.httpUrl}${apiRoutes.health}`, certs.ca);
    expect(health.status).toBe(200);
    expect(health.authorized).toBe(true);
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    // Error answers carry it too.
    const missing = await overTls(`${broker.httpUrl}/api/nothing-here`, certs.ca);
    expect(missing.status).toBe(404);
    expect(missing.headers['strict-transport-security']).toBe('max-age=31536000');
    // A client that does not trust the CA refuses the connection.
    await expect(
      new Promise((resolve, reject) => {
        const req = httpsRequest(`${broker.httpUrl}${apiRoutes.health}`, { agent: false }, resolve);
        req.on('error', reject);
        req.end();
      }),
    ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('warns at start of a certificate that ends within 14 days (the test one lasts 2)', () => {
    const warning = log.lines.find((line) => line.includes('the HTTPS certificate'));
    expect(warning).toMatch(/^warn .*the HTTPS certificate \(.*server\.crt\) expires on \d{4}-/);
    expect(warning).toContain('renew it and restart the broker');
  });

  it('sets the session cookie Secure over HTTPS', async () => {
    const login = await overTls(`${broker.httpUrl}${apiRoutes.login}`, certs.ca, 'POST', {
      username: 'admin',
      password: TEST_ADMIN_PASSWORD,
    });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^vigil_session=/);
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('HttpOnly');
  });

  it('redirects plain HTTP to HTTPS with the same path: 301 for GET, 308 for POST', async () => {
    const httpsPort = new URL(broker.httpUrl).port;
    const get = await plain(`http://127.0.0.1:${redirectPort}/api/health?probe=1`);
    expect(get.status).toBe(301);
    expect(get.headers.location).toBe(`https://127.0.0.1:${httpsPort}/api/health?probe=1`);
    expect(get.headers['strict-transport-security']).toBeUndefined();
    expect(get.headers['set-cookie']).toBeUndefined();

    const post = await plain(`http://127.0.0.1:${redirectPort}${apiRoutes.login}`, 'POST', '{}');
    expect(post.status).toBe(308);
    expect(post.headers.location).toBe(`https://127.0.0.1:${httpsPort}${apiRoutes.login}`);

    // Followed by the TLS client, the redirect lands on the API.
    const followed = await overTls(String(get.headers.location), certs.ca);
    expect(followed.status).toBe(200);
  });

  it('refuses to start when a file is missing or the key is not the certificate’s, saying what to do', async () => {
    const missing = await startupError(
      startTestBroker({
        settings: {
          http: { tls: { cert: join(certs.dir, 'nope.crt'), key: certs.keyFile } },
        },
      }),
    );
    expect(missing.code).toBe('VIGIL_CONFIG_INVALID');
    expect(missing.details).toEqual([
      `http/tls/cert: cannot read ${join(certs.dir, 'nope.crt')} (ENOENT): put the PEM certificate (and its chain) there, or fix http/tls/cert in the broker config`,
    ]);

    const otherKey = join(certs.dir, 'other.key');
    await writeFile(otherKey, certs.clientKey);
    const mismatch = await startupError(
      startTestBroker({
        settings: { http: { tls: { cert: certs.certFile, key: otherKey } } },
      }),
    );
    expect(mismatch.code).toBe('VIGIL_CONFIG_INVALID');
    expect(mismatch.details).toHaveLength(1);
    expect(mismatch.details[0]).toContain(
      `http/tls/key: ${otherKey} does not belong to the certificate ${certs.certFile}`,
    );
    expect(mismatch.details[0]).toContain('give the key the certificate was made with');

    const notPem = await startupError(
      startTestBroker({
        settings: { http: { tls: { cert: certs.keyFile, key: certs.keyFile } } },
      }),
    );
    expect(notPem.details[0]).toMatch(/^http\/tls\/cert: .* is not a PEM certificate/);
  });
});
