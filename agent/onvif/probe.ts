/**
 * The liveness probe's one request (agent/liveness.ts): tds:GetSystemDateAndTime without
 * credentials (ONVIF Core 5.12.1), on a connection of its own kept per device, its bytes
 * composed once per device, its answer read by http1-response.ts. The agent asks every
 * device this every 2 s, 250 requests a second at 500 devices, more than all its polls'
 * requests together (the simulator's log of bench:agent, agent/README.md); through
 * node:http and the SOAP client each cost about 0.25 ms of the agent's CPU, most of it
 * the HTTP client's objects, streams and listeners and the garbage they leave
 * (bench/probe-cost.ts measures both ways side by side).
 *
 * What the probe learns is unchanged: the answer is judged as soap.ts judges every SOAP
 * answer (soapAnswer: status, fault, well-formed XML) and must hold a
 * GetSystemDateAndTimeResponse; the clock reading itself is the `reachable` check's.
 *
 * The connection (RFC 9112 section 9): kept between probes while the device keeps it
 * (HTTP/1.1 without `Connection: close`, the whole answer read and nothing after it),
 * closed after IDLE_MS unused, unreferenced so it never holds the agent open. A device
 * may close a kept connection whenever it likes (section 9.3): a request on a kept
 * connection that ends, or is reset, before a byte of answer is sent once more on a fresh
 * one (section 9.3.1 allows a client to retry a request it knows to be safe, as this
 * question is: ONVIF Core 8.3.11, a read), as node:http's users do with
 * request.reusedSocket. One deadline covers both. When the deadline passes or the caller
 * aborts, the socket is destroyed: a late answer can never be read as the next one's.
 *
 * One more TCP connection per device than the poll's (http-exchange.ts deviceConnections):
 * the probe's runs between polls and the poll's between probes, and keeping them apart
 * keeps node:http's pool and this reader out of each other's sockets.
 */
import { connect, type Socket } from 'node:net';
import { classifySocketError, socketHost, type ExchangeTls } from './http-exchange.js';
import { Http1ResponseReader, type Http1Response, type ReadResult } from './http1-response.js';
// soap.ts's limit, so the probe refuses exactly what a poll refuses.
import { MAX_ANSWER_BYTES } from './soap.js';
import { OnvifError } from './types.js';

/** As http-exchange.ts's IDLE_MS: shorter than the 5 s after which many servers close. */
const IDLE_MS = 4_000;

/** The request's bytes: fixed for a device, so made once (RFC 9112 sections 3 and 5). */
export function composeRequest(url: URL, headers: Record<string, string>, body: Buffer): Buffer {
  const lines = [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    // RFC 9112 section 3.2: Host is the authority of the target URI (brackets and port kept).
    `Host: ${url.host}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${body.length}`,
    // Persistent is the HTTP/1.1 default (section 9.3); the token is what an HTTP/1.0
    // server needs to keep it, and what node:http sends on kept connections too.
    'Connection: keep-alive',
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
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
  readonly #owner: ProbeConnection;
  #reader: Http1ResponseReader | null = null;
  #reused = false;
  #received = 0;
  #callback: ((outcome: Outcome) => void) | null = null;

  constructor(socket: Socket, owner: ProbeConnection) {
    this.socket = socket;
    this.#owner = owner;
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('end', () => this.#end());
    socket.on('error', (error: NodeJS.ErrnoException) => this.#error(error));
    // A close without 'end' or 'error' first (the TLS layer, or destroyed elsewhere).
    socket.on('close', () => this.#end());
    socket.on('timeout', () => this.drop());
  }

  /** Writes the request and calls back once with what came of it. */
  send(request: Buffer, reused: boolean, callback: (outcome: Outcome) => void): void {
    this.#reader = new Http1ResponseReader({ maxBody: MAX_ANSWER_BYTES });
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
    this.#owner.forget(this);
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
    if (keep && this.#owner.keep(this)) {
      this.socket.setTimeout(IDLE_MS);
      this.socket.unref();
    } else {
      this.drop();
    }
    callback?.(outcome);
  }
}

/**
 * One device's probe connection. A second ask() while one is in flight gets a connection
 * of its own (the scheduler never overlaps two probes of a device; a test may).
 */
export class ProbeConnection {
  readonly #url: URL;
  readonly #request: Buffer;
  readonly #tls: ExchangeTls | undefined;
  #idle: Connection | null = null;

  constructor(url: string, headers: Record<string, string>, body: Buffer, tls?: ExchangeTls) {
    this.#url = new URL(url);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') {
      throw new OnvifError(
        'protocol-error',
        `${this.#url.protocol} device addresses are not supported`,
      );
    }
    this.#request = composeRequest(this.#url, headers, body);
    this.#tls = tls;
  }

  /**
   * Sends the request and reads its answer, whatever its status. Rejects with an
   * OnvifError when no answer came: timeout (the deadline, or `signal` aborted),
   * unreachable (refused, reset, closed without an answer), protocol-error (not HTTP, too
   * large), or the TLS policy's own verdict on an https:// device. Callbacks rather than
   * an AbortController and awaits: this runs 250 times a second at 500 devices.
   */
  ask(timeoutMs: number, signal?: AbortSignal): Promise<Http1Response> {
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
          // Given up: a late answer must never be read as the next probe's.
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
        on.send(this.#request, reused, (outcome) => {
          connection = null;
          if ('stale' in outcome) return fresh();
          if ('error' in outcome) return settle(outcome.error);
          settle(null, outcome.response);
        });
      };
      const fresh = (): void => {
        if (done) return;
        const port = Number(this.#url.port || (this.#url.protocol === 'https:' ? 443 : 80));
        if (this.#url.protocol === 'http:') {
          const socket = connect({ host: socketHost(this.#url), port });
          // As node:http's client: the request is one write; its answer waits on no Nagle.
          socket.setNoDelay(true);
          return send(new Connection(socket, this), false);
        }
        if (!this.#tls) {
          return settle(
            new OnvifError('protocol-error', 'an https:// device address needs its TLS policy'),
          );
        }
        // Judged before a byte is written (device-tls.ts); its verdicts come as they are.
        tlsAbort = new AbortController();
        this.#tls.connect(this.#url.hostname, port, { timeoutMs, signal: tlsAbort.signal }).then(
          (socket) => {
            if (done) socket.destroy();
            else send(new Connection(socket, this), false);
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
      const kept = this.#idle;
      this.#idle = null;
      if (kept) send(kept, true);
      else fresh();
    });
  }

  /** Closes the kept connection (the device left the config). */
  close(): void {
    this.#idle?.drop();
  }

  /** A connection whose answer left it fit for the next probe: kept unless one already is. */
  keep(connection: Connection): boolean {
    if (this.#idle !== null || connection.socket.destroyed) return false;
    this.#idle = connection;
    return true;
  }

  /** The connection ended: not kept any more. */
  forget(connection: Connection): void {
    if (this.#idle === connection) this.#idle = null;
  }
}

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SEMICOLON = 0x3b;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;

/**
 * `body` is `reference` byte for byte except for digits replaced by digits in character
 * data: not inside a tag (names, attribute values), not inside a reference (`&#49;`).
 * Such a document has the same elements, attributes, faults and well-formedness as the
 * reference (XML 1.0 section 2.4: character data is anything but `<` and `&`), so it is
 * judged as the reference was. A device answers GetSystemDateAndTime with the same bytes
 * every time but for its clock's digits; this spares the probe decoding and parsing an
 * answer it already judged (a seventh of the probe's CPU, bench/probe-cost.ts). Only for
 * ASCII-compatible encodings: a UTF-16 answer (a byte order mark first) is parsed.
 * Conservative where unsure (a quote or `>` inside a comment or CDATA section keeps the
 * tag state on): a changed digit there means a full parse, never a wrong verdict.
 */
export function sameButDigits(reference: Buffer, body: Buffer): boolean {
  if (reference.length !== body.length) return false;
  if (reference[0] === 0xff || reference[0] === 0xfe) return false;
  let inTag = false;
  let quote = 0;
  let inReference = false;
  for (let i = 0; i < body.length; i++) {
    const a = reference[i] as number;
    const b = body[i] as number;
    if (a !== b) {
      if (inTag || inReference || !isDigit(a) || !isDigit(b)) return false;
      continue;
    }
    if (inTag) {
      if (quote !== 0) {
        if (a === quote) quote = 0;
      } else if (a === DQUOTE || a === SQUOTE) {
        quote = a;
      } else if (a === GT) {
        inTag = false;
      }
    } else if (inReference) {
      if (a === SEMICOLON) inReference = false;
    } else if (a === LT) {
      inTag = true;
    } else if (a === AMP) {
      inReference = true;
    }
  }
  return true;
}
