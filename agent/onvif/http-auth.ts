/**
 * HTTP authentication as a client answers it, for RTSP (RFC 2326 uses HTTP's schemes),
 * snapshot GETs and ONVIF SOAP: parsing `WWW-Authenticate` challenges (RFC 7235 section
 * 4.1), choosing the strongest one offered, and computing the `Authorization` header for
 * Basic (RFC 7617) and Digest (RFC 7616, and RFC 2617's form without `qop` that RTSP
 * cameras still send). Pure: no I/O; the hashes come from node:crypto.
 *
 * Our own code rather than an npm package: digest-header and www-authenticate know MD5
 * only, digest-fetch is bound to fetch (no RTSP), and none of them covers the RTSP form
 * (no qop, method DESCRIBE, the Request-URI as digest-uri). The worked examples of RFC
 * 2617 section 3.5 and RFC 7616 section 3.9.1 are its unit tests.
 */
import { createHash } from 'node:crypto';
import type { Secret } from '../secret.js';
import { freshNonce } from './nonce.js';

/** One challenge (or, parsed from a request, one set of credentials). */
export interface Challenge {
  /** The auth-scheme in lower case: `basic`, `digest` ... (RFC 7235: case-insensitive). */
  scheme: string;
  /** auth-params by lower-case name, values unquoted and unescaped. */
  params: Record<string, string>;
  /** The token68 form (`Basic dXNlcjpwYXNz`), when the challenge has one. */
  token68?: string;
}

export interface Credentials {
  username: string;
  password: Secret;
}

// RFC 7230 section 3.2.6: tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
// An unquoted auth-param value as devices send it: a token, or base64 with / + =.
const UNQUOTED = /[^\s,"]/;
// RFC 7235 section 2.1: token68.
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  /** A method, not a getter: TypeScript would narrow a getter's value across `i += 1`. */
  char(): string {
    return this.s[this.i] ?? '';
  }
  skipSpace(): void {
    while (this.char() === ' ' || this.char() === '\t') this.i += 1;
  }
  skipSpaceAndCommas(): void {
    while (this.char() === ' ' || this.char() === '\t' || this.char() === ',') this.i += 1;
  }
  read(pattern: RegExp): string {
    const start = this.i;
    while (!this.done && pattern.test(this.char())) this.i += 1;
    return this.s.slice(start, this.i);
  }
  /** A quoted-string (RFC 7230 section 3.2.6) with its backslash escapes undone. */
  quoted(): string {
    let out = '';
    this.i += 1; // the opening quote
    while (!this.done && this.char() !== '"') {
      if (this.char() === '\\' && this.i + 1 < this.s.length) this.i += 1;
      out += this.char();
      this.i += 1;
    }
    this.i += 1; // the closing quote (absent on a truncated header: tolerated)
    return out;
  }
}

/**
 * The auth-params after a scheme, up to the next challenge: a token not followed by `=`
 * is the next challenge's scheme (RFC 7235 section 4.1: challenges share the commas).
 */
function readParams(c: Cursor, challenge: Challenge): void {
  for (;;) {
    c.skipSpaceAndCommas();
    if (c.done) return;
    const start = c.i;
    const name = c.read(TCHAR);
    c.skipSpace();
    if (name === '' || c.char() !== '=') {
      // Not a parameter: the next challenge begins here.
      c.i = start;
      return;
    }
    c.i += 1;
    c.skipSpace();
    // RFC 7235 section 2.2 allows only a token unquoted, but cameras send base64 nonces
    // (`nonce=ab/c+d==`) unquoted; everything up to a comma or space is the value.
    const value = c.char() === '"' ? c.quoted() : c.read(UNQUOTED);
    challenge.params[name.toLowerCase()] = value;
    c.skipSpace();
    if (c.char() !== ',') return;
  }
}

/** token68 after a scheme: its characters, then only `=` padding, then a comma or the end. */
function readToken68(c: Cursor): string | undefined {
  const start = c.i;
  let token = c.read(TOKEN68);
  if (token === '') return undefined;
  while (c.char() === '=') {
    token += '=';
    c.i += 1;
  }
  c.skipSpace();
  if (c.done || c.char() === ',') return token;
  c.i = start;
  return undefined;
}

/**
 * Every challenge of one or more `WWW-Authenticate` (or `Proxy-Authenticate`) header
 * values: a header may carry several challenges, separated by commas, and a response may
 * carry several headers (RFC 7235 section 4.1). Unparseable parts are skipped.
 */
export function parseChallenges(headers: string | readonly string[] | undefined): Challenge[] {
  const values = headers === undefined ? [] : typeof headers === 'string' ? [headers] : headers;
  const out: Challenge[] = [];
  for (const value of values) {
    const c = new Cursor(value);
    for (;;) {
      c.skipSpaceAndCommas();
      if (c.done) break;
      const scheme = c.read(TCHAR);
      if (scheme === '') {
        c.i += 1; // garbage: skip a character and look for the next challenge
        continue;
      }
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      c.skipSpace();
      const token68 = readToken68(c);
      if (token68 !== undefined) challenge.token68 = token68;
      else readParams(c, challenge);
      out.push(challenge);
    }
  }
  return out;
}

/** An `Authorization` header as a server reads it (the simulator): the same grammar. */
export function parseAuthorization(header: string | undefined): Challenge | null {
  return parseChallenges(header)[0] ?? null;
}

/** RFC 7616 section 3.2 algorithms, by lower-case name, with their node:crypto hash. */
const ALGORITHMS: Record<string, { hash: string; rank: number }> = {
  md5: { hash: 'md5', rank: 1 },
  'md5-sess': { hash: 'md5', rank: 1 },
  'sha-256': { hash: 'sha256', rank: 2 },
  'sha-256-sess': { hash: 'sha256', rank: 2 },
  'sha-512-256': { hash: 'sha512-256', rank: 3 },
  'sha-512-256-sess': { hash: 'sha512-256', rank: 3 },
};

/** RFC 7616 section 3.3: without an `algorithm` parameter, MD5. */
function algorithmOf(challenge: Challenge): string {
  return (challenge.params.algorithm ?? 'MD5').toLowerCase();
}

/** The qop we answer with: `auth` when offered; null when the challenge has no qop (RFC 2617). */
function qopOf(challenge: Challenge): 'auth' | null | undefined {
  const offered = challenge.params.qop;
  if (offered === undefined) return null;
  const options = offered.split(',').map((q) => q.trim().toLowerCase());
  // auth-int would need a hash of the body; no device we know offers only that.
  return options.includes('auth') ? 'auth' : undefined;
}

/** RFC 7616 section 3.4.2: the -sess algorithms, whose HA1 is a session key. */
function isSess(algorithm: string): boolean {
  return algorithm.toLowerCase().endsWith('-sess');
}

/** How strong a challenge is, or 0 when we cannot answer it (Basic 1, Digest 10 + algorithm). */
function rank(challenge: Challenge): number {
  if (challenge.scheme === 'basic') return 1;
  if (challenge.scheme !== 'digest') return 0;
  const algorithm = ALGORITHMS[algorithmOf(challenge)];
  const qop = qopOf(challenge);
  if (!algorithm || challenge.params.nonce === undefined || qop === undefined) return 0;
  // -sess without qop cannot be answered: its session key needs a cnonce, and RFC 2617
  // section 3.2.2 forbids sending cnonce (and nc) when the server sent no qop.
  if (qop === null && isSess(algorithmOf(challenge))) return 0;
  return 10 + algorithm.rank;
}

/**
 * The strongest challenge we can answer (Digest SHA-512/256 > SHA-256 > MD5 > Basic), or
 * null when none is usable. RFC 7616 section 3.7: a client should pick the strongest.
 */
export function strongest(challenges: readonly Challenge[]): Challenge | null {
  let best: Challenge | null = null;
  let bestRank = 0;
  for (const challenge of challenges) {
    const r = rank(challenge);
    if (r > bestRank) {
      best = challenge;
      bestRank = r;
    }
  }
  return best;
}

export interface DigestInput {
  /** The challenge's algorithm, any case (MD5, SHA-256, MD5-sess ...). */
  algorithm: string;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  /** The digest-uri: the request-target of HTTP, the Request-URI of RTSP. */
  uri: string;
  /** `auth`, or null for RFC 2617's form without qop (most RTSP cameras). */
  qop: 'auth' | null;
  /** 8 hex digits; with qop only. */
  nc?: string;
  cnonce?: string;
}

/**
 * The `response` value. RFC 7616 section 3.4.1: with qop, H(HA1:nonce:nc:cnonce:qop:HA2);
 * RFC 2617 section 3.2.2.1 without it, H(HA1:nonce:HA2). HA1 = H(user:realm:password),
 * for -sess H(H(user:realm:password):nonce:cnonce) (section 3.4.2); HA2 = H(method:uri).
 */
export function digestResponse(input: DigestInput): string {
  const algorithm = ALGORITHMS[input.algorithm.toLowerCase()];
  if (!algorithm) throw new Error(`unsupported digest algorithm ${input.algorithm}`);
  const h = (text: string): string => createHash(algorithm.hash).update(text, 'utf8').digest('hex');
  let ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  if (isSess(input.algorithm)) {
    ha1 = h(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  }
  const ha2 = h(`${input.method}:${input.uri}`);
  if (input.qop === null) return h(`${ha1}:${input.nonce}:${ha2}`);
  return h(`${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
}

/** A quoted-string with `"` and `\` escaped (RFC 7230 section 3.2.6). */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The username parameter. RFC 7616 section 3.4.4: a name that a quoted-string cannot carry
 * (anything but printable ASCII) goes as `username*`, an RFC 5987 ext-value in UTF-8
 * (section 3.9.2: `username*=UTF-8''J%C3%A4s%C3%B8n%20Doe`); Node would refuse such a
 * name in a header, and a device could not know its charset.
 */
function usernameParam(username: string): string {
  if (/^[\x20-\x7e]*$/.test(username)) return `username=${quote(username)}`;
  // RFC 5987 attr-char leaves ' ( ) * out, which encodeURIComponent keeps.
  const encoded = encodeURIComponent(username).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `username*=UTF-8''${encoded}`;
}

/**
 * The answer to one challenge, for as many requests as the server keeps its nonce: each
 * `authorization()` counts `nc` up (RFC 7616 section 3.4: the server may check that it
 * grows, against replays). Holds the password only inside the Secret.
 */
export class HttpAuthorizer {
  readonly challenge: Challenge;
  readonly #credentials: Credentials;
  readonly #cnonce: () => string;
  #nc = 0;
  /**
   * -sess: the cnonce of the first request, kept for the session. RFC 2617 section
   * 3.2.2.2 and RFC 7616 section 3.4.2: the session key H(HA1:nonce:cnonce) is computed
   * once, on the first request after the challenge, and serves every later request.
   */
  #sessionCnonce: string | undefined;

  constructor(challenge: Challenge, credentials: Credentials, cnonce?: () => string) {
    this.challenge = challenge;
    this.#credentials = credentials;
    this.#cnonce = cnonce ?? (() => freshNonce(16).toString('hex'));
  }

  /** `basic` or `digest`. */
  get scheme(): string {
    return this.challenge.scheme;
  }

  /** What is offered, for messages: "Digest SHA-256", "Basic" (never the credentials). */
  get describe(): string {
    if (this.scheme === 'basic') return 'Basic';
    return `Digest ${this.challenge.params.algorithm ?? 'MD5'}`;
  }

  /** The `Authorization` header value for a request of `method` to `uri`. */
  authorization(method: string, uri: string): string {
    const { username, password } = this.#credentials;
    if (this.scheme === 'basic') {
      // RFC 7617 section 2.1: UTF-8 (the charset devices that say one ask for).
      return `Basic ${Buffer.from(`${username}:${password.reveal()}`, 'utf8').toString('base64')}`;
    }
    const params = this.challenge.params;
    const qop = qopOf(this.challenge) ?? null;
    const algorithm = params.algorithm;
    const input: DigestInput = {
      algorithm: algorithm ?? 'MD5',
      username,
      password: password.reveal(),
      realm: params.realm ?? '',
      nonce: params.nonce ?? '',
      method,
      uri,
      qop,
    };
    // RFC 2617 section 3.2.2: nc and cnonce only with qop (rank() refuses -sess without).
    if (qop !== null) {
      this.#nc += 1;
      input.nc = this.#nc.toString(16).padStart(8, '0');
      input.cnonce = isSess(input.algorithm)
        ? (this.#sessionCnonce ??= this.#cnonce())
        : this.#cnonce();
    }
    // The order of RFC 7616 section 3.9.1's example. RFC 7616 section 3.4: algorithm, qop
    // and nc are tokens, never quoted; algorithm and opaque are echoed as the server sent them.
    const parts = [usernameParam(username), `realm=${quote(input.realm)}`, `uri=${quote(uri)}`];
    if (algorithm !== undefined) parts.push(`algorithm=${algorithm}`);
    parts.push(`nonce=${quote(input.nonce)}`);
    if (input.nc !== undefined) parts.push(`nc=${input.nc}`, `cnonce=${quote(input.cnonce ?? '')}`);
    if (qop !== null) parts.push(`qop=${qop}`);
    parts.push(`response=${quote(digestResponse(input))}`);
    if (params.opaque !== undefined) parts.push(`opaque=${quote(params.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

/** An authorizer for the strongest usable challenge of these headers, or null. */
export function authorizerFor(
  headers: string | readonly string[] | undefined,
  credentials: Credentials,
): HttpAuthorizer | null {
  const challenge = strongest(parseChallenges(headers));
  return challenge ? new HttpAuthorizer(challenge, credentials) : null;
}

/** RFC 7616 section 3.3: `stale=true` means the nonce expired, not that the password is wrong. */
export function isStale(headers: string | readonly string[] | undefined): boolean {
  return parseChallenges(headers).some(
    (c) => c.scheme === 'digest' && c.params.stale?.toLowerCase() === 'true',
  );
}
