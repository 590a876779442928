/**
 * A minimal reader of one HTTP/1.1 response (RFC 9112), fed the bytes of a connection as
 * they come: the status line, the header fields, and the body by the rules of RFC 9112
 * section 6.3 (no body for 1xx, 204 and 304; chunked; Content-Length; else until the
 * device closes the connection), with a size limit. It tells whether the connection may
 * carry the next request (section 9.3: HTTP/1.1 persists unless `Connection: close`;
 * HTTP/1.0 only with `Connection: keep-alive`; a close-delimited body or a response with
 * both Transfer-Encoding and Content-Length ends it, section 6.3 item 3).
 *
 * Why not node:http: the liveness probe (probe.ts) asks every device one small question
 * every 2 s, 250 a second at 500 devices, and node:http's client (ClientRequest,
 * IncomingMessage, their streams and listeners per request) was most of what a probe cost
 * in the agent's CPU beside the write syscall (bench/probe-cost.ts, agent/README.md).
 * This reader allocates a few strings and the body per response.
 *
 * Tolerant where real devices are loose and the standard allows it: a bare LF as line
 * end (section 2.2), a status line without reason phrase (section 4), obsolete line
 * folding replaced by a space (section 5.2), repeated identical Content-Length values
 * (section 6.3 item 5). What it cannot read as HTTP (garbage, a header line without a
 * colon, an invalid or conflicting Content-Length, a bad chunk size) is an error: the
 * answer is not one an ONVIF device gives.
 */

/** One complete response. */
export interface Http1Response {
  status: number;
  /** Field names in lower case; repeated fields joined by ", " (RFC 9110 section 5.3). */
  headers: Map<string, string>;
  body: Buffer;
  /** The connection may carry another request (RFC 9112 section 9.3). */
  reusable: boolean;
}

/** What feed() or end() found: more bytes needed, the response, or why it is not one. */
export type ReadResult =
  | { state: 'more' }
  | { state: 'done'; response: Http1Response }
  | { state: 'error'; message: string };

/** A status line and header fields longer than this are not a device answering us. */
const MAX_HEAD = 64 * 1024;

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?:[ \t].*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/;

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'close';

const MORE: ReadResult = { state: 'more' };
const CRLF_CR = 0x0d;
const LF = 0x0a;

export class Http1ResponseReader {
  readonly #maxBody: number;
  /** The request was HEAD: no body whatever the fields say (RFC 9112 section 6.3 item 1). */
  readonly #head: boolean;
  #buffer: Buffer = Buffer.alloc(0);
  #phase: Phase = 'head';
  #status = 0;
  #headers = new Map<string, string>();
  #reusable = true;
  /** Bytes of body (length phase) or of the chunk (chunk-data) still to come. */
  #remaining = 0;
  #body: Buffer[] = [];
  #bodySize = 0;
  #finished = false;

  constructor(options: { maxBody: number; head?: boolean }) {
    this.#maxBody = options.maxBody;
    this.#head = options.head ?? false;
  }

  /** More bytes of the connection. After 'done' or 'error' nothing more is read. */
  feed(chunk: Buffer): ReadResult {
    if (this.#finished) return { state: 'error', message: 'bytes after the answer' };
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const result = this.#advance();
    if (result.state !== 'more') this.#finished = true;
    return result;
  }

  /**
   * The device closed the connection (or half-closed it). A close-delimited body ends
   * here; anything else incomplete is an answer cut off.
   */
  end(): ReadResult {
    if (this.#finished) return { state: 'error', message: 'closed after the answer' };
    this.#finished = true;
    if (this.#phase === 'close') return this.#done(false);
    if (this.#phase === 'head' && this.#buffer.length === 0) {
      return { state: 'error', message: 'the connection closed without an answer' };
    }
    return { state: 'error', message: 'the connection closed in the middle of the answer' };
  }

  /** Bytes received beyond the response (a device writing more than it was asked). */
  get leftover(): number {
    return this.#buffer.length;
  }

  #advance(): ReadResult {
    for (;;) {
      switch (this.#phase) {
        case 'head': {
          const r = this.#readHead();
          if (r !== null) return r;
          break;
        }
        case 'length': {
          const take = Math.min(this.#remaining, this.#buffer.length);
          if (take > 0) {
            this.#addBody(this.#buffer.subarray(0, take));
            this.#buffer = this.#buffer.subarray(take);
            this.#remaining -= take;
          }
          if (this.#remaining > 0) return MORE;
          return this.#done(this.#reusable);
        }
        case 'close': {
          if (this.#buffer.length > 0) {
            this.#addBody(this.#buffer);
            this.#buffer = Buffer.alloc(0);
          }
          return this.#bodySize > this.#maxBody ? this.#tooLarge() : MORE;
        }
        case 'chunk-size': {
          const line = this.#line();
          if (line === null) return this.#buffer.length > 1024 ? this.#bad('chunk size') : MORE;
          const match = CHUNK_SIZE.exec(line);
          if (!match) return this.#bad('chunk size');
          this.#remaining = parseInt(match[1] ?? '', 16);
          this.#phase = this.#remaining === 0 ? 'trailer' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.#remaining, this.#buffer.length);
          if (take > 0) {
            this.#addBody(this.#buffer.subarray(0, take));
            this.#buffer = this.#buffer.subarray(take);
            this.#remaining -= take;
          }
          if (this.#bodySize > this.#maxBody) return this.#tooLarge();
          if (this.#remaining > 0) return MORE;
          this.#phase = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          const line = this.#line();
          if (line === null) return this.#buffer.length > 2 ? this.#bad('chunk end') : MORE;
          if (line !== '') return this.#bad('chunk end');
          this.#phase = 'chunk-size';
          break;
        }
        case 'trailer': {
          // Trailer fields (RFC 9112 section 7.1.2) are read past: the probe needs none.
          const line = this.#line();
          if (line === null) return this.#buffer.length > MAX_HEAD ? this.#bad('trailer') : MORE;
          if (line === '') return this.#done(this.#reusable);
          break;
        }
      }
    }
  }

  /** One line (CRLF or bare LF) from the buffer, without its end; null when incomplete. */
  #line(): string | null {
    const lf = this.#buffer.indexOf(LF);
    if (lf < 0) return null;
    const end = lf > 0 && this.#buffer[lf - 1] === CRLF_CR ? lf - 1 : lf;
    const line = this.#buffer.toString('latin1', 0, end);
    this.#buffer = this.#buffer.subarray(lf + 1);
    return line;
  }

  /** Reads the status line and fields once they are all here; null to go on with the body. */
  #readHead(): ReadResult | null {
    const end = headEnd(this.#buffer);
    if (end === null) {
      if (this.#buffer.length > MAX_HEAD) return this.#bad('header section too large');
      // Not even the start of a status line: garbage, said at once rather than at the deadline.
      if (!startsLikeHttp(this.#buffer)) return this.#bad('status line');
      return MORE;
    }
    const lines = this.#buffer.toString('latin1', 0, end.at).split(/\r?\n/);
    this.#buffer = this.#buffer.subarray(end.next);
    const statusLine = STATUS_LINE.exec(lines[0] ?? '');
    if (!statusLine) return this.#bad('status line');
    const minor = statusLine[1];
    this.#status = Number(statusLine[2]);
    const headers = new Map<string, string>();
    let last = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line === '') continue;
      if ((line[0] === ' ' || line[0] === '\t') && last !== '') {
        headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).toLowerCase() : '';
      if (!TOKEN.test(name)) return this.#bad('header field');
      const value = line.slice(colon + 1).trim();
      const before = headers.get(name);
      headers.set(name, before === undefined ? value : `${before}, ${value}`);
      last = name;
    }
    // An interim answer (100 Continue, 103 Early Hints): the final one follows (RFC 9110
    // section 15.2). We send no Expect, but a device may still send one.
    if (this.#status < 200 && this.#status !== 101) {
      this.#headers = new Map();
      return null;
    }
    this.#headers = headers;
    const connection = (headers.get('connection') ?? '').toLowerCase();
    const tokens = connection.split(',').map((t) => t.trim());
    this.#reusable =
      this.#status !== 101 &&
      !tokens.includes('close') &&
      (minor === '1' || tokens.includes('keep-alive'));
    if (this.#head || this.#status === 101 || this.#status === 204 || this.#status === 304) {
      this.#phase = 'length';
      this.#remaining = 0;
      return null;
    }
    const transfer = headers.get('transfer-encoding');
    const length = headers.get('content-length');
    if (transfer !== undefined) {
      const codings = transfer
        .toLowerCase()
        .split(',')
        .map((t) => t.trim());
      // Chunked is the last coding or the body runs to the close (section 6.3 item 4);
      // with Content-Length beside it, the connection is not kept (item 3).
      if (length !== undefined) this.#reusable = false;
      if (codings[codings.length - 1] === 'chunked') {
        if (codings.length > 1) return this.#bad('transfer coding');
        this.#phase = 'chunk-size';
      } else {
        this.#phase = 'close';
        this.#reusable = false;
      }
      return null;
    }
    if (length !== undefined) {
      const values = length.split(',').map((v) => v.trim());
      const first = values[0] ?? '';
      if (!/^\d{1,15}$/.test(first) || values.some((v) => v !== first)) {
        return this.#bad('Content-Length');
      }
      this.#remaining = Number(first);
      if (this.#remaining > this.#maxBody) return this.#tooLarge();
      this.#phase = 'length';
      return null;
    }
    this.#phase = 'close';
    this.#reusable = false;
    return null;
  }

  #addBody(bytes: Buffer): void {
    this.#body.push(bytes);
    this.#bodySize += bytes.length;
  }

  #done(reusable: boolean): ReadResult {
    const body = this.#body.length === 1 ? (this.#body[0] as Buffer) : Buffer.concat(this.#body);
    return {
      state: 'done',
      response: { status: this.#status, headers: this.#headers, body, reusable },
    };
  }

  #bad(what: string): ReadResult {
    return { state: 'error', message: `not an HTTP/1.1 answer (${what})` };
  }

  #tooLarge(): ReadResult {
    return { state: 'error', message: `answer larger than ${this.#maxBody} bytes` };
  }
}

/** Where the header section ends (CRLF CRLF, or bare LF LF) and its body starts. */
function headEnd(buffer: Buffer): { at: number; next: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n', 0, 'latin1');
  const lf = buffer.indexOf('\n\n', 0, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, next: crlf + 4 };
  if (lf >= 0) return { at: lf, next: lf + 2 };
  // A mix of the two (LF then CRLF) closes the section too.
  const mixed = buffer.indexOf('\n\r\n', 0, 'latin1');
  return mixed >= 0 ? { at: mixed, next: mixed + 3 } : null;
}

const HTTP_PREFIX = Buffer.from('HTTP/1.', 'latin1');

/** The bytes so far can be the start of "HTTP/1.". */
function startsLikeHttp(buffer: Buffer): boolean {
  const n = Math.min(buffer.length, HTTP_PREFIX.length);
  return buffer.subarray(0, n).equals(HTTP_PREFIX.subarray(0, n));
}
