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
import type { Agent } from 'node:http';
import { connect } from 'node:net';
import { isStale, type Credentials } from './http-auth.js';
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

/** Runs `start` with a deadline and abort signal; `cleanup` destroys the socket. */
function guarded<T>(
  options: ProbeOptions,
  start: (resolve: (value: T) => void, reject: (error: OnvifError) => void) => () => void,
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
 * The status code of an RTSP DESCRIBE of `uri` (200: the stream is described). A 401
 * with a challenge is answered on the same connection, CSeq counting up (RFC 2326
 * section 12.17), with Digest (the RFC 2617 form most cameras use: no qop, the response
 * covers DESCRIBE and the Request-URI) or Basic; a 401 after that is auth-failed. An
 * answer is taken only when its CSeq is the one just sent (RFC 2326 section 12.17: the
 * CSeq pairs a response with its request); a late or duplicate answer to an earlier
 * request is passed over.
 */
export function rtspDescribe(uri: string, options: ProbeOptions): Promise<number> {
  const url = new URL(uri);
  // RFC 2326 section 3.2: the Request-URI without userinfo.
  url.username = '';
  url.password = '';
  const requestUri = url.toString();
  return guarded<number>(options, (resolve, reject) => {
    const socket = connect(Number(url.port || 554), socketHost(url));
    let buffer: Buffer = Buffer.alloc(0);
    let cseq = 0;
    let authorized = false;
    let renewedStale = false;
    const send = (authorization?: string): void => {
      cseq += 1;
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
      if (response.status !== 401) return resolve(response.status);
      const { credentials } = options;
      const challenges = response.headers.get('www-authenticate') ?? [];
      if (authorized && (renewedStale || !isStale(challenges))) {
        return reject(credentialsRejected(what, requestUri, 401, credentials?.password));
      }
      if (authorized) renewedStale = true;
      const authorizer =
        credentials && answerChallenges(what, requestUri, challenges, credentials, options.auth);
      if (authorizer instanceof OnvifError) return reject(authorizer);
      if (!authorizer) {
        return reject(cannotAuthenticate(what, requestUri, challenges, credentials));
      }
      authorized = true;
      send(authorizer.authorization('DESCRIBE', requestUri));
    };
    socket.on('connect', () => send());
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
    socket.on('error', (error: NodeJS.ErrnoException) =>
      reject(new OnvifError('unreachable', `RTSP ${url.host}: ${error.code ?? error.message}`)),
    );
    socket.on('close', () =>
      reject(
        new OnvifError('unreachable', `RTSP ${url.host}: the connection closed without an answer`),
      ),
    );
    return () => socket.destroy();
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
    connections?: Agent;
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
