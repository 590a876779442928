/**
 * One HTTP exchange with a device, the one place the agent's HTTP requests (ONVIF SOAP,
 * snapshot GETs) go through: one deadline for the whole exchange (connect, send, answer,
 * and the authenticated retry), an abort signal, a size limit, and HTTP authentication
 * (http-auth.ts): a `401` with a challenge is answered once with Digest or Basic, and the
 * answer that worked is remembered per device (`AuthMemory`) so the next request
 * authenticates at once (RFC 7616 section 3.6: the nonce may be reused, `nc` counts up).
 *
 * When the deadline passes or the caller aborts, the socket is destroyed, so a device
 * that hangs holds nothing of ours. Credentials never enter a URL or a message.
 *
 * A device's exchanges share its persistent connections (`connections`, one set per
 * device, see deviceConnections and kept-http.ts): a poll's ten requests and the liveness
 * probe every 2 s then cost no TCP handshake and close each; connect and close were a
 * fifth of the agent's CPU at 500 devices (bench:agent, agent/README.md). Those requests
 * are written and read by kept-http.ts, not node:http; a request without them (a one-off
 * look such as `vigil agent check`) gets a node:http connection of its own.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Secret } from '../secret.js';
import { composeRequest, KeptConnections } from './kept-http.js';
import { classifySocketError, socketHost, type ExchangeTls } from './socket.js';
import {
  HttpAuthorizer,
  isStale,
  parseChallenges,
  strongest,
  type Credentials,
} from './http-auth.js';
import { OnvifError } from './types.js';

// Kept where they were first exported from: the other importers need not change.
export { classifySocketError, socketHost, type ExchangeTls };

/** What one device's exchanges remember about its HTTP authentication. */
export interface AuthMemory {
  /** The challenge answer that worked last; sent at once with the next request. */
  authorizer: HttpAuthorizer | null;
  /**
   * This server once offered Digest. From then on a challenge offering only Basic is
   * refused (downgradeRefused): over http:// and rtsp:// Basic sends the password readable,
   * and stripping the Digest challenge is all a man in the middle needs for it (RFC 7617
   * section 4, RFC 7616 section 5.8).
   */
  digestSeen?: boolean;
}

export interface ExchangeRequest {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /**
   * The body, or a function that makes it for each attempt: a SOAP request signs a fresh
   * UsernameToken (nonce, Created) for its authenticated retry, so no device sees a nonce
   * twice (WS-Security UsernameToken Profile 1.0 section 3.1: replays are refused).
   */
  body?: Buffer | (() => Buffer);
  timeoutMs: number;
  signal?: AbortSignal;
  /** Answers larger than this are refused rather than buffered. */
  maxBytes: number;
  /** The device's credentials, for a `401` with a challenge; without them a 401 is returned. */
  credentials?: Credentials;
  /** Per-device memory of the authentication that worked (kept by the caller). */
  auth?: AuthMemory;
  tls?: ExchangeTls;
  /**
   * The device's persistent connections (deviceConnections); absent, a connection of its
   * own for this request, closed after it.
   */
  connections?: KeptConnections;
}

/**
 * A device's kept connections (kept-http.ts), shared by its SOAP, snapshot and vendor API
 * requests and its liveness probe; kept by the device's client for as long as the device
 * is configured (onvif/adapter.ts).
 */
export function deviceConnections(): KeptConnections {
  return new KeptConnections();
}

export interface ExchangeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The last request carried an Authorization header. */
  authenticated: boolean;
  /** Wall-clock times (Date.now()) around the last request, for clock offsets. */
  sentAtMs: number;
  receivedAtMs: number;
  /** The round trip of the last request, measured with the monotonic clock. */
  elapsedMs: number;
}

const MASK = '***';

/** Every form the password may take in a URI: raw, percent-encoded, form-encoded. */
function passwordForms(password: Secret | undefined): string[] {
  const raw = password?.reveal() ?? '';
  if (raw === '') return [];
  const forms = new Set([
    raw,
    encodeURIComponent(raw),
    encodeURI(raw),
    new URLSearchParams({ p: raw }).toString().slice(2),
  ]);
  // Percent-encoding is case-insensitive (RFC 3986 section 2.1): %2f as well as %2F.
  for (const form of [...forms]) forms.add(form.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
  // Longest first, so a form that contains another is masked whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * Text with every occurrence of the password masked, in any of its URI forms: for what a
 * device gave us (a URI, a fault reason) before it goes into a message, and from there to
 * MQTT, tickets and logs. Devices put the password where we cannot predict it
 * (`?loginuse=admin&loginpas=...`, path segments), so its value is what is looked for.
 */
export function redact(text: string, password: Secret | undefined): string {
  let out = text;
  for (const form of passwordForms(password)) out = out.split(form).join(MASK);
  return out;
}

/**
 * A URI fit for a message: without userinfo, with the values of query parameters that look
 * like credentials (some snapshot URIs carry `?user=..&pwd=..`) masked, and with every
 * occurrence of the device's password masked whatever the parameter is called.
 */
export function safeUri(uri: string, password?: Secret): string {
  let url: URL;
  try {
    // Masked before parsing too: a raw password with & or + would split into parameters.
    url = new URL(redact(uri, password));
  } catch {
    return '(an invalid URI)';
  }
  url.username = '';
  url.password = '';
  // Decoded values and segments catch encodings of the password that no form above has.
  const holds = (decoded: string): boolean => redact(decoded, password) !== decoded;
  url.pathname = url.pathname
    .split('/')
    .map((segment) => {
      try {
        return holds(decodeURIComponent(segment)) ? MASK : segment;
      } catch {
        return segment;
      }
    })
    .join('/');
  for (const [key, value] of [...url.searchParams.entries()]) {
    if (/user|pass|pwd|auth|token|key|secret/i.test(key) || holds(value)) {
      url.searchParams.set(key, MASK);
    }
  }
  return redact(url.toString(), password);
}

/**
 * The failure of a request that carried the device's credentials and was refused: the
 * password changed on the device, or the account may not use this (media needs live-view
 * rights on most firmware). Names the URI, never the credentials.
 */
export function credentialsRejected(
  what: string,
  uri: string,
  status: number,
  password: Secret | undefined,
  rights = 'media (live view)',
): OnvifError {
  return new OnvifError(
    'auth-failed',
    `${what} ${safeUri(uri, password)} refused the device's credentials (${status}): ` +
      `the password was changed on the device (update it in the agent config or secrets file), ` +
      `or the account lacks ${rights} rights`,
  );
}

/**
 * A 401 that we could not answer: the device has no credentials in the config, or it
 * offers only schemes we do not speak (`offered`, from its challenges).
 */
export function cannotAuthenticate(
  what: string,
  uri: string,
  offered: string | readonly string[] | undefined,
  credentials: Credentials | undefined,
): OnvifError {
  const schemes = parseChallenges(offered).map((c) => c.scheme);
  const where = `${what} ${safeUri(uri, credentials?.password)}`;
  return new OnvifError(
    'auth-failed',
    credentials
      ? `${where} asks for an authentication the agent cannot answer (${schemes.join(', ') || 'no challenge'}): enable Digest or Basic authentication on the device`
      : `${where} asks for credentials (401) and the device has none in the agent config: set its username and password`,
  );
}

/**
 * The server offered only Basic after it had offered Digest (AuthMemory.digestSeen): the
 * password is not sent. Auth-failed, as no authenticated request went out.
 */
export function downgradeRefused(what: string, uri: string, password: Secret): OnvifError {
  return new OnvifError(
    'auth-failed',
    `${what} ${safeUri(uri, password)} now offers only Basic authentication, though it offered Digest before: ` +
      `the agent refused this downgrade and did not send the password. Check the network path to the device ` +
      `for something that rewrites its answers; if Digest was switched off on the device on purpose, restart the agent`,
  );
}

/**
 * How to answer a 401's challenges: the authorizer for the strongest one we can answer,
 * null when there is none, or the downgrade error when only Basic is offered by a server
 * that offered Digest before. Remembers in `auth` that Digest was offered.
 */
export function answerChallenges(
  what: string,
  uri: string,
  challenges: string | readonly string[] | undefined,
  credentials: Credentials,
  auth: AuthMemory | undefined,
): HttpAuthorizer | OnvifError | null {
  const challenge = strongest(parseChallenges(challenges));
  if (!challenge) return null;
  if (challenge.scheme === 'digest') {
    if (auth) auth.digestSeen = true;
  } else if (auth?.digestSeen) {
    return downgradeRefused(what, uri, credentials.password);
  }
  return new HttpAuthorizer(challenge, credentials);
}

interface Attempt {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sentAtMs: number;
  receivedAtMs: number;
  elapsedMs: number;
}

/**
 * One request: on the device's kept connections (`connections`, kept-http.ts, which also
 * sends it once more on a fresh connection when the device closed a kept one as it went
 * out), else on a node:http connection made for it and closed after it.
 */
async function attempt(
  request: ExchangeRequest,
  authorization: string | undefined,
  signal: AbortSignal,
): Promise<Attempt> {
  const url = new URL(request.url);
  const body = typeof request.body === 'function' ? request.body() : request.body;
  const headers: Record<string, string | number> = { ...request.headers };
  if (authorization) headers.Authorization = authorization;
  if (request.connections) {
    const bytes = composeRequest(request.method, url, headers, body);
    const startedAt = performance.now();
    const sentAtMs = Date.now();
    const answer = await request.connections.ask(url, bytes, {
      timeoutMs: request.timeoutMs,
      signal,
      maxBytes: request.maxBytes,
      ...(request.tls ? { tls: request.tls } : {}),
    });
    return {
      status: answer.status,
      headers: Object.fromEntries(answer.headers),
      body: answer.body,
      sentAtMs,
      receivedAtMs: Date.now(),
      elapsedMs: performance.now() - startedAt,
    };
  }
  return attemptAlone(request, url, headers, body, signal);
}

/** One request on a node:http connection of its own (no kept connections given). */
async function attemptAlone(
  request: ExchangeRequest,
  url: URL,
  headers: Record<string, string | number>,
  body: Buffer | undefined,
  signal: AbortSignal,
): Promise<Attempt> {
  let socket: Socket | undefined;
  const https = url.protocol === 'https:';
  if (https) {
    if (!request.tls) {
      throw new OnvifError('protocol-error', 'an https:// device address needs its TLS policy');
    }
    // device-tls.ts strips an IPv6 literal's brackets itself.
    socket = await request.tls.connect(url.hostname, Number(url.port || 443), {
      timeoutMs: request.timeoutMs,
      signal,
    });
  } else if (url.protocol !== 'http:') {
    throw new OnvifError('protocol-error', `${url.protocol} device addresses are not supported`);
  }
  return new Promise<Attempt>((resolve, reject) => {
    const startedAt = performance.now();
    const sentAtMs = Date.now();
    if (body) headers['Content-Length'] = body.length;
    const tlsSocket = socket;
    const options: http.ClientRequestArgs = {
      hostname: socketHost(url),
      port: url.port || (https ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers,
      // A TLS socket already judged (ExchangeTls), else one connection for this request.
      // `agent: false` did the same through a new http.Agent per request (its socket and
      // request tables, its listeners), garbage that lived as long as the request and so
      // was promoted to the old generation with it (agent/README.md, Memory); with
      // createConnection and no agent, node:http uses the socket as given (ClientRequest:
      // "agent will not be used when createConnection is provided").
      createConnection: () =>
        tlsSocket ?? connect({ host: socketHost(url), port: Number(url.port || 80) }),
    };
    const req = http.request(options);
    const onAbort = (): void => {
      req.destroy();
      reject(new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const fail = (error: OnvifError): void => {
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      reject(error);
    };
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The TLS policy's own verdict (certificate-changed, untrusted, its timeouts) as given.
      if (error instanceof OnvifError) return fail(error);
      fail(new OnvifError(classifySocketError(error), error.message));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxBytes) {
          fail(new OnvifError('protocol-error', `answer larger than ${request.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error: NodeJS.ErrnoException) => {
        fail(new OnvifError(classifySocketError(error), error.message));
      });
      // Answers without Content-Length (a quirk of real devices) simply end with the connection.
      res.on('end', () => {
        signal.removeEventListener('abort', onAbort);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          sentAtMs,
          receivedAtMs: Date.now(),
          elapsedMs: performance.now() - startedAt,
        });
      });
    });
    req.end(body);
  });
}

/**
 * Sends the request; on a `401` with a challenge we can answer, sends it again with the
 * credentials (and once more on `stale=true`, RFC 7616 section 3.3). Resolves with the
 * last answer whatever its status: the caller decides what a status means, and knows from
 * `authenticated` whether a 401 refused our credentials. Rejects with an OnvifError only
 * when no answer came (timeout, cancelled, unreachable, too large).
 */
export async function httpExchange(request: ExchangeRequest): Promise<ExchangeAnswer> {
  const controller = new AbortController();
  let reason: OnvifError | null = null;
  const stop = (error: OnvifError): void => {
    reason ??= error;
    controller.abort();
  };
  const timer = setTimeout(
    () => stop(new OnvifError('timeout', `no answer within ${request.timeoutMs} ms`)),
    request.timeoutMs,
  );
  const onAbort = (): void =>
    stop(new OnvifError('timeout', 'the poll was cancelled before the device answered'));
  if (request.signal?.aborted) onAbort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const { credentials, auth } = request;
  const path = (() => {
    const url = new URL(request.url);
    return `${url.pathname}${url.search}`;
  })();
  try {
    let authorizer = credentials ? (auth?.authorizer ?? null) : null;
    // The remembered answer may meet an expired nonce: one fresh challenge is then fair.
    let remembered = authorizer !== null;
    let renewedStale = false;
    for (;;) {
      const authorization = authorizer?.authorization(request.method, path);
      const answer = await attempt(request, authorization, controller.signal);
      const authenticated = authorization !== undefined;
      if (answer.status !== 401 || !credentials) {
        if (auth && authenticated) auth.authorizer = authorizer;
        return { ...answer, authenticated };
      }
      const challenges = answer.headers['www-authenticate'];
      if (authorizer && !remembered) {
        // Our answer to this very challenge was refused: wrong credentials, unless the
        // device says only the nonce went stale (RFC 7616 section 3.3), once.
        if (renewedStale || !isStale(challenges)) {
          if (auth) auth.authorizer = null;
          return { ...answer, authenticated };
        }
        renewedStale = true;
      }
      remembered = false;
      const next = answerChallenges('the device at', request.url, challenges, credentials, auth);
      if (next instanceof OnvifError) throw next;
      if (!next) {
        if (auth) auth.authorizer = null;
        return { ...answer, authenticated };
      }
      authorizer = next;
    }
  } catch (error) {
    if (reason) throw reason;
    throw error;
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}
