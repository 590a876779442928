/**
 * A device's kept HTTP/1.1 connections (RFC 9112 section 9), and one request on them: the
 * request's bytes as the caller composed them (composeRequest), written in one go, the
 * answer read by http1-response.ts. Every request of the agent to a device over HTTP
 * goes through here when the device's client gives its connections (onvif/adapter.ts):
 * its SOAP requests, snapshots, vendor API and the liveness probe every 2 s, so that a
 * poll's requests and the probes between polls share one connection kept open all along
 * (the probe every 2 s keeps it from the device's idle close, 5 s on many servers), and
 * no poll pays a TCP handshake and close (about 0.4 ms of the agent's CPU each on
 * loopback, against 0.05 ms for a request on a kept connection: bench/probe-cost.ts).
 *
 * Why not node:http's client and Agent: at 500 devices the agent makes about 500 HTTP
 * requests a second, and node:http's per-request objects (ClientRequest, IncomingMessage,
 * their streams and listeners, the Agent's bookkeeping) and their garbage were most of
 * what a request cost beside the write syscall: the liveness probe fell from about 0.26
 * to 0.15 ms of CPU per probe on its own connection through this (agent/README.md).
 *
 * The connections: at most one kept idle per server of the device (scheme, host, port),
 * closed after IDLE_MS unused, unreferenced so they never hold the agent open; requests
 * that overlap each get a connection. A device may close a kept connection whenever it
 * likes (section 9.3): a request on a kept connection that ends, or is reset, before a
 * byte of answer is sent once more on a fresh one (section 9.3.1; the requests that go
 * through here are reads: ONVIF Get* operations, snapshot and vendor API GETs), within
 * the same deadline. When the deadline passes or the caller aborts, the connection is
 * destroyed: a late answer can never be read as the next request's. An https:// server's
 * connections are made by its TLS policy (device-tls.ts: the pinned fingerprint or the
 * CA file), judged before a byte of a request is written, and kept as the plain ones.
 */
import { connect, type Socket } from 'node:net';
import { classifySocketError, socketHost, type ExchangeTls } from './socket.js';
import { Http1ResponseReader, type Http1Response, type ReadResult } from './http1-response.js';
import { OnvifError } from './types.js';

/**
 * How long a connection of ours waits idle for the device's next request. Devices close
 * idle connections themselves, some after a few seconds (Node's own server and many
 * embedded ones after 5 s); our shorter wait makes a race with their close rare, and the
 * one retry answers the race when it happens.
 */
const IDLE_MS = 4_000;

/**
 * The bytes of a request (RFC 9112 sections 3 and 5): request line, Host (the authority
 * of the target URI, brackets and port kept: section 3.2), the caller's fields,
 * Content-Length when there is a body, and `Connection: keep-alive` (persistence is the
 * HTTP/1.1 default, section 9.3; the token is what an HTTP/1.0 server needs to keep it,
 * and what node:http sent). A field value with CR or LF is refused: it would split the
 * request.
 */
export function composeRequest(
  method: string,
  url: URL,
  headers: Record<string, string | number>,
  body?: Buffer,
): Buffer {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const text = String(value);
    if (/[\r\n]/.test(text) || /[\r\n:]/.test(name)) {
      throw new OnvifError('protocol-error', `the request field ${name} holds a line break`);
    }
    head += `${name}: ${text}\r\n`;
  }
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += 'Connection: keep-alive\r\n\r\n';
  const bytes = Buffer.from(head, 'latin1');
  return body && body.length > 0 ? Buffer.concat([bytes, body]) : bytes;
}

export interface KeptRequestOptions {
  /** Deadline of this request, retry included. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Answers larger than this are refused rather than buffered. */
  maxBytes: number;
  /** The device's TLS policy, for an https:// URL. */
  tls?: ExchangeTls;
}

/** What one exchange on one connection ended with. */
type Outcome =
  | { response: Http1Response }
  /** A kept connection closed or reset before any byte of answer: send it again. */
  | { stale: true }
  | { error: OnvifError };

const STALE: Outcome = { stale: true };

/**
 * One socket with its listeners set once, not per request (a probe every 2 s would add
 * and remove them 250 times a second at 500 devices). Between exchanges, anything it
 * hears (the device's close, a reset, stray bytes, IDLE_MS of silence) ends it.
 */
class Connection {
  readonly socket: Socket;
  readonly #owner: KeptConnections;
  readonly #key: string;
  #reader: Http1ResponseReader | null = null;
  #reused = false;
  #received = 0;
  #callback: ((outcome: Outcome) => void) | null = null;

  constructor(socket: Socket, owner: KeptConnections, key: string) {
    this.socket = socket;
    this.#owner = owner;
    this.#key = key;
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('end', () => this.#end());
    socket.on('error', (error: NodeJS.ErrnoException) => this.#error(error));
    // A close without 'end' or 'error' first (the TLS layer, or destroyed elsewhere).
    socket.on('close', () => this.#end());
    socket.on('timeout', () => this.drop());
  }

  /** Writes the request and calls back once with what came of it. */
  send(
    request: Buffer,
    reused: boolean,
    maxBytes: number,
    callback: (outcome: Outcome) => void,
  ): void {
    this.#reader = new Http1ResponseReader({ maxBody: maxBytes });
    this.#reused = reused;
    this.#received = 0;
    this.#callback = callback;
    this.socket.setTimeout(0);
    this.socket.ref();
    this.socket.write(request);
  }

  /** Ends the connection; an exchange on it is given up without a callback. */
  drop(): void {
    this.#callback = null;
    this.#reader = null;
    this.socket.destroy();
    this.#owner.forget(this.#key, this);
  }

  #data(chunk: Buffer): void {
    if (!this.#reader) return this.drop();
    this.#received += chunk.length;
    this.#judge(this.#reader.feed(chunk));
  }

  #end(): void {
    if (!this.#reader) return this.drop();
    this.#judge(this.#reader.end());
  }

  #error(error: NodeJS.ErrnoException): void {
    if (!this.#reader) return this.drop();
    if (error instanceof OnvifError) return this.#finish({ error }, false);
    // The device closed the kept connection as we wrote on it.
    const closedIdle = error.code === 'ECONNRESET' || error.code === 'EPIPE';
    if (this.#reused && this.#received === 0 && closedIdle) return this.#finish(STALE, false);
    this.#finish({ error: new OnvifError(classifySocketError(error), error.message) }, false);
  }

  #judge(result: ReadResult): void {
    if (result.state === 'more') return;
    if (result.state === 'done') {
      // Bytes beyond the answer: the connection's next answer would not be ours.
      const clean = (this.#reader?.leftover ?? 1) === 0;
      return this.#finish(result, result.response.reusable && clean);
    }
    // Closed before a byte of answer: on a kept connection the device closed it idle as
    // we wrote (send again); on a fresh one, nobody answered ("socket hang up").
    if (this.#received === 0) {
      return this.#finish(
        this.#reused ? STALE : { error: new OnvifError('unreachable', result.message) },
        false,
      );
    }
    const cut = result.message.includes('closed');
    this.#finish(
      { error: new OnvifError(cut ? 'unreachable' : 'protocol-error', result.message) },
      false,
    );
  }

  #finish(outcome: Outcome, keep: boolean): void {
    const callback = this.#callback;
    this.#callback = null;
    this.#reader = null;
    if (keep && this.#owner.keep(this.#key, this)) {
      this.socket.setTimeout(IDLE_MS);
      this.socket.unref();
    } else {
      this.drop();
    }
    callback?.(outcome);
  }
}

/** One device's kept connections, one idle at most per server (scheme, host, port). */
export class KeptConnections {
  readonly #idle = new Map<string, Connection>();

  /**
   * Sends `request` (composeRequest) to the server of `url` and reads its answer,
   * whatever its status. Rejects with an OnvifError when no answer came: timeout (the
   * deadline, or `signal` aborted), unreachable (refused, reset, closed without an
   * answer), protocol-error (not HTTP, too large), or the TLS policy's own verdict on an
   * https:// device. Callbacks rather than an AbortController and awaits: this runs
   * hundreds of times a second at 500 devices.
   */
  ask(url: URL, request: Buffer, options: KeptRequestOptions): Promise<Http1Response> {
    const { timeoutMs, signal, maxBytes, tls } = options;
    const key = `${url.protocol}//${url.host}`;
    return new Promise<Http1Response>((resolve, reject) => {
      let connection: Connection | null = null;
      let tlsAbort: AbortController | null = null;
      let done = false;
      const settle = (error: OnvifError | null, response?: Http1Response): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          // Given up: a late answer must never be read as the next request's.
          connection?.drop();
          tlsAbort?.abort();
          reject(error);
        } else {
          resolve(response as Http1Response);
        }
      };
      const timer = setTimeout(
        () => settle(new OnvifError('timeout', `no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = (): void =>
        settle(new OnvifError('timeout', 'the poll was cancelled before the device answered'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const send = (on: Connection, reused: boolean): void => {
        connection = on;
        on.send(request, reused, maxBytes, (outcome) => {
          connection = null;
          if ('stale' in outcome) return fresh();
          if ('error' in outcome) return settle(outcome.error);
          settle(null, outcome.response);
        });
      };
      const fresh = (): void => {
        if (done) return;
        const https = url.protocol === 'https:';
        const port = Number(url.port || (https ? 443 : 80));
        if (url.protocol === 'http:') {
          const socket = connect({ host: socketHost(url), port });
          // As node:http's client: the request is one write; its answer waits on no Nagle.
          socket.setNoDelay(true);
          return send(new Connection(socket, this, key), false);
        }
        if (!https) {
          return settle(
            new OnvifError('protocol-error', `${url.protocol} device addresses are not supported`),
          );
        }
        if (!tls) {
          return settle(
            new OnvifError('protocol-error', 'an https:// device address needs its TLS policy'),
          );
        }
        // Judged before a byte is written (device-tls.ts); its verdicts come as they are.
        // device-tls.ts strips an IPv6 literal's brackets itself.
        tlsAbort = new AbortController();
        tls.connect(url.hostname, port, { timeoutMs, signal: tlsAbort.signal }).then(
          (socket) => {
            if (done) socket.destroy();
            else send(new Connection(socket, this, key), false);
          },
          (error: unknown) =>
            settle(
              error instanceof OnvifError
                ? error
                : new OnvifError(
                    'unreachable',
                    error instanceof Error ? error.message : String(error),
                  ),
            ),
        );
      };
      const kept = this.#idle.get(key);
      if (kept) {
        this.#idle.delete(key);
        send(kept, true);
      } else {
        fresh();
      }
    });
  }

  /** Closes every kept connection (the device left the config; tests). */
  destroy(): void {
    for (const connection of [...this.#idle.values()]) connection.drop();
    this.#idle.clear();
  }

  /** A connection whose answer left it fit for the next request: kept unless one already is. */
  keep(key: string, connection: Connection): boolean {
    if (this.#idle.has(key) || connection.socket.destroyed) return false;
    this.#idle.set(key, connection);
    return true;
  }

  /** The connection ended: not kept any more. */
  forget(key: string, connection: Connection): void {
    if (this.#idle.get(key) === connection) this.#idle.delete(key);
  }
}
