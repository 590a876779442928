/**
 * The two media checks that are not SOAP: an RTSP DESCRIBE of a stream URI (RTSP 1.0,
 * RFC 2326 section 10.2) and an HTTP GET of a snapshot URI (ONVIF Media 5.16.1). Both
 * with one deadline for the whole exchange; the socket is destroyed when it passes.
 *
 * Real cameras answer both without credentials with 401 and a challenge; they are
 * answered with the device's credentials (http-auth.ts): RTSP on the same connection with
 * the next CSeq, snapshots through http-exchange.ts like SOAP. Credentials are never put
 * into the URIs (they would end up in logs) nor into a message.
 */
import type { KeptConnections } from './kept-http.js';
import { connect, type Socket } from 'node:net';
import { isStale, type Credentials, type HttpAuthorizer } from './http-auth.js';
import {
  answerChallenges,
  cannotAuthenticate,
  credentialsRejected,
  httpExchange,
  safeUri,
  socketHost,
  type AuthMemory,
  type ExchangeTls,
} from './http-exchange.js';
import { OnvifError } from './types.js';

export interface ProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** The device's credentials, for a 401 with a challenge. */
  credentials?: Credentials;
  /** What this server offered before (http-exchange.ts: no Basic after Digest). */
  auth?: AuthMemory;
}

/** A DESCRIBE's options: with the device's kept RTSP connections; absent, one per DESCRIBE. */
export type DescribeOptions = ProbeOptions & { connections?: RtspConnections };

/** Runs `start` with a deadline and abort signal; `cleanup` destroys the socket. */
function guarded<T>(
  options: ProbeOptions,
  start: (resolve: (value: T) => void, reject: (error: Error) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => undefined;
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      cleanup();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() => reject(new OnvifError('timeout', `no answer within ${options.timeoutMs} ms`))),
      options.timeoutMs,
    );
    const onAbort = (): void =>
      finish(() => reject(new OnvifError('timeout', 'the poll was cancelled')));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}

/** One RTSP response: status, headers (names in lower case, repeated ones kept), body. */
export interface RtspResponse {
  status: number;
  headers: Map<string, string[]>;
  body: Buffer;
}

/** Headers above this are not an RTSP server talking to us. */
const MAX_RTSP_HEAD = 64 * 1024;
/** An SDP is a few KiB; more is refused rather than buffered. */
const MAX_RTSP_BODY = 1024 * 1024;

/**
 * Reads one whole response from `buffer` (RFC 2326 section 7: status line, headers, an
 * empty line, then Content-Length bytes of body; without Content-Length, no body).
 * Returns null while incomplete; throws on what is not RTSP.
 */
export function readRtspResponse(buffer: Buffer): { response: RtspResponse; rest: Buffer } | null {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buffer.length > MAX_RTSP_HEAD)
      throw new OnvifError('protocol-error', 'RTSP headers too long');
    const firstLine = buffer.toString('latin1').split('\r\n', 1)[0] ?? '';
    // Fail early on a server that is plainly not RTSP (it may never send an empty line).
    if (buffer.includes('\r\n') && !/^RTSP\/1\.\d \d{3}/.test(firstLine)) {
      throw new OnvifError('protocol-error', `not an RTSP answer: ${firstLine.slice(0, 80)}`);
    }
    return null;
  }
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = lines[0] ?? '';
  const match = /^RTSP\/1\.\d (\d{3})/.exec(statusLine);
  if (!match)
    throw new OnvifError('protocol-error', `not an RTSP answer: ${statusLine.slice(0, 80)}`);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  const length = Number(headers.get('content-length')?.[0] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > MAX_RTSP_BODY) {
    throw new OnvifError('protocol-error', `RTSP Content-Length ${length} is not acceptable`);
  }
  const bodyStart = end + 4;
  if (buffer.length < bodyStart + length) return null;
  return {
    response: {
      status: Number(match[1]),
      headers,
      body: buffer.subarray(bodyStart, bodyStart + length),
    },
    rest: buffer.subarray(bodyStart + length),
  };
}

/**
 * A device's kept RTSP connection (RFC 2326 section 1.3: RTSP requests need no connection
 * of their own, and a client may send many on one): an NVR's channels are described one
 * after another in a poll, and on one connection they cost one TCP handshake and one
 * challenge instead of one each. At most one idle connection per server (host:port), kept
 * `IDLE_MS` and then closed, so no connection slot of the device (cameras serve a handful
 * of RTSP clients) is held between polls. The Digest answer that worked on a connection
 * is sent at once with the next request on that same connection only, as HTTP clients do
 * with a nonce (RFC 7616 section 3.6); some servers (live555) bind a nonce to its
 * connection, so a new connection starts with an unauthenticated request and its challenge.
 */
export class RtspConnections {
  readonly #idle = new Map<string, KeptRtsp>();

  /** The idle connection to `key`, taken out of the pool; null when there is none. */
  take(key: string): KeptRtsp | null {
    const kept = this.#idle.get(key);
    if (!kept) return null;
    this.#idle.delete(key);
    clearTimeout(kept.timer);
    kept.socket.removeAllListeners('close');
    kept.socket.removeAllListeners('error');
    kept.socket.removeAllListeners('data');
    return kept;
  }

  /** Keeps `kept` idle for the next request to `key`; an older idle one is closed. */
  keep(key: string, kept: Omit<KeptRtsp, 'timer'>): void {
    this.take(key)?.socket.destroy();
    const { socket } = kept;
    const drop = (): void => {
      if (this.#idle.get(key)?.socket === socket) this.#idle.delete(key);
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(drop, RTSP_IDLE_MS);
    timer.unref();
    // The server may close it (or say something unasked) while it waits: then it is gone.
    socket.once('close', drop);
    socket.once('error', drop);
    socket.once('data', drop);
    this.#idle.set(key, { ...kept, timer });
  }
}

/** An idle RTSP connection with what the next request on it needs. */
interface KeptRtsp {
  socket: Socket;
  /** The CSeq last sent on it (RFC 2326 section 12.17: counts up per connection). */
  cseq: number;
  /** The answer to this connection's challenge that worked, or null. */
  authorizer: HttpAuthorizer | null;
  timer: ReturnType<typeof setTimeout>;
}

/** How long a kept RTSP connection waits for the next DESCRIBE (a poll's channels follow within ms). */
export const RTSP_IDLE_MS = 2000;

/** A kept connection the server had closed meanwhile: the request goes again on a new one. */
class RtspClosedWhileIdle extends Error {}

/**
 * The status code of an RTSP DESCRIBE of `uri` (200: the stream is described). A 401
 * with a challenge is answered on the same connection, CSeq counting up (RFC 2326
 * section 12.17), with Digest (the RFC 2617 form most cameras use: no qop, the response
 * covers DESCRIBE and the Request-URI) or Basic; a 401 after that is auth-failed. An
 * answer is taken only when its CSeq is the one just sent (RFC 2326 section 12.17: the
 * CSeq pairs a response with its request); a late or duplicate answer to an earlier
 * request is passed over. With `connections` (RtspConnections) the connection is kept for
 * the device's next DESCRIBE, and one kept is used first.
 */
export async function rtspDescribe(uri: string, options: DescribeOptions): Promise<number> {
  const url = new URL(uri);
  // RFC 2326 section 3.2: the Request-URI without userinfo.
  url.username = '';
  url.password = '';
  const key = `${socketHost(url)}:${Number(url.port || 554)}`;
  const kept = options.connections?.take(key) ?? null;
  if (kept) {
    try {
      return await describeOn(url, key, kept, options);
    } catch (error) {
      if (!(error instanceof RtspClosedWhileIdle)) throw error;
    }
  }
  return describeOn(url, key, null, options);
}

function describeOn(
  url: URL,
  key: string,
  kept: KeptRtsp | null,
  options: DescribeOptions,
): Promise<number> {
  const requestUri = url.toString();
  return guarded<number>(options, (resolve, reject) => {
    const socket = kept?.socket ?? connect(Number(url.port || 554), socketHost(url));
    let buffer: Buffer = Buffer.alloc(0);
    let cseq = kept?.cseq ?? 0;
    let authorizer = kept?.authorizer ?? null;
    // The kept connection's answer may meet a nonce the server renewed: one fresh challenge is fair.
    let remembered = authorizer !== null;
    let authorized = remembered;
    let renewedStale = false;
    let answeredAny = false;
    let reusable = false;
    const send = (): void => {
      cseq += 1;
      const authorization = authorizer?.authorization('DESCRIBE', requestUri);
      const auth = authorization ? `Authorization: ${authorization}\r\n` : '';
      socket.write(
        `DESCRIBE ${requestUri} RTSP/1.0\r\nCSeq: ${cseq}\r\n${auth}Accept: application/sdp\r\nUser-Agent: vigil-agent\r\n\r\n`,
      );
    };
    const what = 'RTSP DESCRIBE of';
    const answer = (response: RtspResponse): void => {
      // A response without CSeq (against section 12.17) is taken: nothing else can be waited for.
      const answered = response.headers.get('cseq')?.[0];
      if (answered !== undefined && Number(answered) !== cseq) return;
      answeredAny = true;
      if (response.status !== 401) {
        // Kept only when nothing else is pending on it and the server did not say it closes.
        const closes = response.headers.get('connection')?.some((v) => /close/i.test(v));
        reusable = buffer.length === 0 && !closes;
        return resolve(response.status);
      }
      const { credentials } = options;
      const challenges = response.headers.get('www-authenticate') ?? [];
      if (authorized && !remembered && (renewedStale || !isStale(challenges))) {
        return reject(credentialsRejected(what, requestUri, 401, credentials?.password));
      }
      if (authorized && !remembered) renewedStale = true;
      remembered = false;
      const next =
        credentials && answerChallenges(what, requestUri, challenges, credentials, options.auth);
      if (next instanceof OnvifError) return reject(next);
      if (!next) {
        return reject(cannotAuthenticate(what, requestUri, challenges, credentials));
      }
      authorized = true;
      authorizer = next;
      send();
    };
    if (kept) send();
    else socket.on('connect', () => send());
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      // One chunk may hold several responses (a passed-over one, then ours).
      for (;;) {
        let read: ReturnType<typeof readRtspResponse>;
        try {
          read = readRtspResponse(buffer);
        } catch (error) {
          reject(error as OnvifError);
          return;
        }
        if (!read) return;
        buffer = read.rest;
        answer(read.response);
      }
    });
    // A kept connection that fails before any answer was closed by the server meanwhile.
    const lost = (message: string): void =>
      reject(
        kept && !answeredAny
          ? new RtspClosedWhileIdle(message)
          : new OnvifError('unreachable', message),
      );
    socket.on('error', (error: NodeJS.ErrnoException) =>
      lost(`RTSP ${url.host}: ${error.code ?? error.message}`),
    );
    socket.on('close', () => lost(`RTSP ${url.host}: the connection closed without an answer`));
    return () => {
      if (reusable && options.connections && !socket.destroyed) {
        socket.removeAllListeners('data');
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        socket.removeAllListeners('connect');
        options.connections.keep(key, {
          socket,
          cseq,
          authorizer: authorized ? authorizer : null,
        });
      } else socket.destroy();
    };
  });
}

/**
 * The bytes of an HTTP GET (a snapshot), at most `maxBytes`, with HTTP Digest or Basic
 * when the device challenges (http-exchange.ts). 401 or 403 after credentials: the
 * credentials or the account's rights (auth-failed). A 403 to a request without
 * credentials refused no credentials of ours (RFC 9110 section 15.5.4: Forbidden is not a
 * challenge, so none were sent): protocol-error, as is any other status.
 */
export async function httpGet(
  uri: string,
  options: ProbeOptions & {
    maxBytes?: number;
    auth?: AuthMemory;
    tls?: ExchangeTls;
    connections?: KeptConnections;
  },
): Promise<Buffer> {
  const answer = await httpExchange({
    url: uri,
    method: 'GET',
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.connections ? { connections: options.connections } : {}),
  });
  const { status } = answer;
  const { credentials } = options;
  const what = 'the snapshot URI';
  if (status === 200) return answer.body;
  if ((status === 401 || status === 403) && answer.authenticated) {
    throw credentialsRejected(what, uri, status, credentials?.password);
  }
  if (status === 401) {
    throw cannotAuthenticate(what, uri, answer.headers['www-authenticate'], credentials);
  }
  if (status === 403) {
    throw new OnvifError(
      'protocol-error',
      `${what} ${safeUri(uri, credentials?.password)} answered 403 (Forbidden) without asking for credentials, so the agent sent none: ` +
        `allow snapshots for the device's account, or enable HTTP authentication for snapshots, on the device`,
    );
  }
  throw new OnvifError('protocol-error', `${what} answered HTTP ${status}`);
}
