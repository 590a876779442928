/**
 * HTTPS on the API's own listener (http.tls): the certificate and key read and checked
 * once at start, each problem said with the config path and what to do; and the plain
 * HTTP listener that only redirects to HTTPS (http.tls.redirectPort).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { VigilError } from '../../shared/errors.js';
import type { HttpTlsConfig } from '../config.js';

export interface TlsFiles {
  cert: string;
  key: string;
  /** When the certificate ends (its notAfter). */
  validTo: Date;
  /** Its subject alternative names, for the start-up line. */
  names: string;
}

function readPem(path: string, what: string, configPath: string, errors: string[]): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const todo =
      code === 'EACCES'
        ? `let the broker's user read it (chmod 640, chgrp to its group)`
        : `put the PEM ${what} there, or fix ${configPath} in the broker config`;
    errors.push(`${configPath}: cannot read ${path} (${code}): ${todo}`);
    return null;
  }
}

/**
 * Reads http.tls's files and checks that they make a TLS server: a PEM certificate, a PEM
 * private key without passphrase, and the key the certificate was made for. Throws
 * VIGIL_CONFIG_INVALID listing every problem.
 */
export function loadTlsFiles(tls: HttpTlsConfig): TlsFiles {
  const errors: string[] = [];
  const cert = readPem(tls.certFile, 'certificate (and its chain)', 'http/tls/cert', errors);
  const key = readPem(tls.keyFile, 'private key', 'http/tls/key', errors);
  let x509: X509Certificate | null = null;
  if (cert !== null) {
    try {
      x509 = new X509Certificate(cert);
    } catch (error) {
      errors.push(
        `http/tls/cert: ${tls.certFile} is not a PEM certificate (${(error as Error).message}): give the file that starts with "-----BEGIN CERTIFICATE-----"`,
      );
    }
  }
  let keyOk = false;
  if (key !== null) {
    try {
      createPrivateKey(key);
      keyOk = true;
    } catch (error) {
      errors.push(
        `http/tls/key: ${tls.keyFile} is not a PEM private key without passphrase (${(error as Error).message}): give the key the certificate was made with; remove a passphrase with "openssl pkey -in KEY -out KEY.plain"`,
      );
    }
  }
  if (x509 !== null && keyOk && cert !== null && key !== null) {
    try {
      createSecureContext({ cert, key });
    } catch (error) {
      const reason = (error as Error).message;
      errors.push(
        /mismatch/i.test(reason)
          ? `http/tls/key: ${tls.keyFile} does not belong to the certificate ${tls.certFile} (key values mismatch): give the key the certificate was made with (the outputs of "openssl x509 -noout -pubkey -in CERT" and "openssl pkey -pubout -in KEY" must be the same)`
          : `http/tls: ${tls.certFile} and ${tls.keyFile} do not make a TLS server (${reason}): check both files`,
      );
    }
  }
  if (errors.length > 0 || x509 === null || cert === null || key === null) {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      'the HTTPS listener (http.tls) cannot start',
      errors,
    );
  }
  return {
    cert,
    key,
    validTo: new Date(x509.validTo),
    names: x509.subjectAltName ?? x509.subject,
  };
}

/** A host name, IPv4 or [IPv6] address, with an optional port (RFC 9110 section 7.2). */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/**
 * Where a plain request goes on HTTPS: the host it asked for, the HTTPS port, the same
 * path and query. undefined when the Host header is missing or malformed (no redirect
 * to a place the request did not name).
 */
export function httpsLocation(
  hostHeader: string | undefined,
  path: string | undefined,
  httpsPort: number,
): string | undefined {
  const match = HOST.exec(hostHeader ?? '');
  if (match === null) return undefined;
  const host = match[1] ?? '';
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  // An absolute-form target (RFC 9112 section 3.2.2) is a proxy request: keep only "/".
  const target = path?.startsWith('/') ? path : '/';
  return `https://${host}${port}${target}`;
}

/**
 * The plain HTTP listener: every request answered with a redirect to HTTPS, 301 for GET
 * and HEAD, 308 for the rest so that a POST stays a POST with its body (RFC 9110 section
 * 15.4.2, RFC 7538). Nothing else is served over plain HTTP: no session cookie, no API.
 */
export function redirectServer(httpsPort: () => number): Server {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const location = httpsLocation(request.headers.host, request.url, httpsPort());
    if (location === undefined) {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('This port only redirects to HTTPS; send a Host header, or use https://.\n');
      return;
    }
    const status = request.method === 'GET' || request.method === 'HEAD' ? 301 : 308;
    response.writeHead(status, { location, 'content-type': 'text/plain; charset=utf-8' });
    response.end(request.method === 'HEAD' ? undefined : `Moved to ${location}\n`);
  });
}
