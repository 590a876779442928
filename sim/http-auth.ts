/**
 * HTTP authentication as a device demands it, for the simulator's RTSP server, snapshot
 * URIs and (one personality) SOAP: a `WWW-Authenticate` challenge offering Basic and/or
 * Digest, and a strict check of the `Authorization` that comes back, as real devices do:
 * Basic (RFC 7617); Digest (RFC 7616 with qop=auth, or auth-int where offered: nonce
 * issued by us and not expired, realm, uri equal to the request-target or RTSP
 * Request-URI, algorithm and opaque echoed, nc growing per nonce, cnonce present; RFC 2617
 * without qop as RTSP cameras use it). The header is read as RFC 7616 section 3.4 writes
 * it: username, realm, nonce, uri, response, cnonce and opaque quoted; algorithm, qop and
 * nc not (they are tokens); anything else is malformed and refused.
 * Wrong passwords count towards the device's account lockout (sim/lockout.ts), and a
 * locked user is refused even with the right one. Anything wrong is a 401 with a fresh
 * challenge; `stale=true` only when the digest was
 * right and just its nonce expired (RFC 7616 section 3.3), so a wrong password is never
 * invited to try again as if it had been a timing matter.
 *
 * Written apart from the agent's agent/onvif/http-auth.ts on purpose: the simulator checks
 * the agent, so it must not share its arithmetic (or its mistakes).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { LoginGate } from './lockout.js';

/** What a device offers for one of its servers (sim/personality.ts picks it). */
export interface HttpAuthPolicy {
  /** The schemes offered, in the order the device lists them. */
  offer: readonly ('basic' | 'digest')[];
  /** Digest: MD5 or SHA-256 (RFC 7616 section 3.2); with SHA-256 MD5 is offered too. */
  algorithm: 'MD5' | 'SHA-256';
  /** Digest: qop=auth (RFC 7616) or none (RFC 2617's form, most RTSP servers). */
  qop: boolean;
  /** Digest with qop: offer qop="auth,auth-int" (the body is digested too, RFC 7616 3.4.3). */
  authInt?: boolean;
  /** How long a nonce is good for, in seconds (default 300); then stale=true. */
  nonceLifetimeS?: number;
  /**
   * The opaque this server sends; default a random one per server. Hikvision NVRs send
   * `opaque=""` (a capture in maciej-or/hikvision_next issue 50), and a client that echoes
   * nothing then is as right as one that echoes the empty string.
   */
  opaque?: string;
  /**
   * Writes the Digest challenge as a vendor's web server lays it out (sim/vendor/*:
   * parameter order, quoting, extras such as `stale="FALSE"`); default RFC 7616's layout.
   */
  digestChallenge?: (parts: DigestChallengeParts) => string;
}

/** What a vendor's Digest challenge is written from. */
export interface DigestChallengeParts {
  realm: string;
  nonce: string;
  opaque: string;
  stale: boolean;
}

export interface Account {
  username: string;
  password: string;
}

export type HttpAuthResult = { ok: true } | { ok: false; reason: string };

/** How long a nonce is good for by default; then stale=true (kept twice as long to say so). */
const NONCE_LIFETIME_MS = 5 * 60_000;
/**
 * Nonces kept per server; the oldest is forgotten beyond this (its client then gets a
 * 401 with a new one). Clients answer a challenge within milliseconds, and a snapshot
 * client reuses its nonce, so a few hundred recent ones are plenty even for an NVR of 16
 * channels whose RTSP streams are described every 5 s (about a thousand in 5 min).
 */
const MAX_NONCES = 256;

const HASHES = { md5: 'md5', 'sha-256': 'sha256' } as const;

const WRONG_BASIC = 'wrong username or password (Basic)';
const WRONG_DIGEST = 'wrong username or password (Digest)';

/**
 * Tells the lockout what a check found: a wrong password counts, the right one starts the
 * count again, anything else (stale or unknown nonce, replayed nc) is no guess of the
 * password and leaves it alone.
 */
function counted<R extends HttpAuthResult>(
  gate: LoginGate | undefined,
  user: string,
  result: R,
): R {
  if (result.ok) gate?.succeeded(user);
  else if (result.reason === WRONG_BASIC || result.reason === WRONG_DIGEST) gate?.failed(user);
  return result;
}

/** RFC 7616 section 3.4: these are quoted strings in an Authorization header... */
const QUOTED = new Set(['username', 'realm', 'nonce', 'uri', 'response', 'cnonce', 'opaque']);
/** ...and these tokens, never quoted (username* is an RFC 8187 ext-value, a token too). */
const UNQUOTED = new Set(['algorithm', 'qop', 'nc', 'userhash', 'username*']);
/** RFC 9110 section 5.6.2 token characters. */
const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/**
 * The parameters of a Digest credentials header (RFC 7616 section 3.4, auth-param list of
 * RFC 9110 section 11.2), read strictly: `name=token` or `name="quoted string"` separated
 * by commas, each name once, and each known name quoted or not as the RFC writes it. An
 * error says what is wrong, for the request log.
 */
export function digestParams(text: string): Map<string, string> | { error: string } {
  const out = new Map<string, string>();
  let i = 0;
  const skipSpace = (): void => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  const tokenAt = (): string => {
    TOKEN.lastIndex = i;
    const found = TOKEN.exec(text)?.[0] ?? '';
    i += found.length;
    return found;
  };
  for (;;) {
    skipSpace();
    const name = tokenAt().toLowerCase();
    if (!name) return { error: `a parameter name expected at character ${i}` };
    skipSpace();
    if (text[i] !== '=') return { error: `${name} has no value` };
    i++;
    skipSpace();
    let value = '';
    const quoted = text[i] === '"';
    if (quoted) {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
      }
      if (text[i] !== '"') return { error: `${name}: the quoted string is not closed` };
      i++;
    } else {
      value = tokenAt();
      if (!value) return { error: `${name} has no value` };
    }
    if (out.has(name)) return { error: `${name} appears twice` };
    if (QUOTED.has(name) && !quoted) {
      return { error: `${name} must be a quoted string (RFC 7616 section 3.4)` };
    }
    if (UNQUOTED.has(name) && quoted) {
      return { error: `${name} must not be quoted (RFC 7616 section 3.4)` };
    }
    out.set(name, value);
    skipSpace();
    if (i >= text.length) return out;
    if (text[i] !== ',') return { error: `a comma expected after ${name}` };
    i++;
  }
}

/**
 * The user a Digest header names: `username`, or `username*` (RFC 7616 section 3.4.4: an
 * RFC 8187 ext-value, for a name that is not ASCII); never both.
 */
function digestUser(p: Map<string, string>): string | { error: string } {
  const plain = p.get('username');
  const extended = p.get('username*');
  if (plain !== undefined && extended !== undefined) {
    return { error: 'username and username* both given (RFC 7616 section 3.4.4)' };
  }
  if (extended === undefined) return plain ?? { error: 'username missing' };
  const match = /^UTF-8'[^']*'(.*)$/i.exec(extended);
  try {
    if (match) return decodeURIComponent(match[1] ?? '');
  } catch {
    // Falls through to the error below.
  }
  return { error: 'username* is not a UTF-8 ext-value (RFC 8187)' };
}

function hex(hash: string, text: string | Buffer): string {
  return createHash(hash)
    .update(typeof text === 'string' ? Buffer.from(text, 'utf8') : text)
    .digest('hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One server's authentication: its realm, its nonces, its policy. */
export class HttpAuthGuard {
  readonly policy: HttpAuthPolicy;
  readonly #realm: string;
  readonly #opaque: string;
  /** nonce -> when it was issued and the highest nc seen with it. */
  readonly #nonces = new Map<string, { issuedAt: number; nc: number }>();
  /** The clock nonces age by (a test moves it instead of waiting). */
  readonly #now: () => number;

  constructor(realm: string, policy: HttpAuthPolicy, now: () => number = () => Date.now()) {
    this.#realm = realm;
    this.policy = policy;
    this.#opaque = policy.opaque ?? randomBytes(12).toString('base64');
    this.#now = now;
  }

  get #lifetimeMs(): number {
    return this.policy.nonceLifetimeS === undefined
      ? NONCE_LIFETIME_MS
      : this.policy.nonceLifetimeS * 1000;
  }

  /** The `WWW-Authenticate` header values of a 401 (one per challenge). */
  challenges(stale = false): string[] {
    const out: string[] = [];
    for (const scheme of this.policy.offer) {
      if (scheme === 'basic') {
        out.push(`Basic realm="${this.#realm}"`);
        continue;
      }
      const write = this.policy.digestChallenge;
      if (write) {
        out.push(write({ realm: this.#realm, nonce: this.#issue(), opaque: this.#opaque, stale }));
        continue;
      }
      // RFC 7616 section 3.7: a server offering SHA-256 lists MD5 too, strongest first.
      const algorithms = this.policy.algorithm === 'SHA-256' ? ['SHA-256', 'MD5'] : [undefined];
      for (const algorithm of algorithms) {
        const nonce = this.#issue();
        const parts = [`realm="${this.#realm}"`];
        if (this.policy.qop) parts.push(this.policy.authInt ? 'qop="auth,auth-int"' : 'qop="auth"');
        if (algorithm) parts.push(`algorithm=${algorithm}`);
        parts.push(`nonce="${nonce}"`);
        if (this.policy.qop) parts.push(`opaque="${this.#opaque}"`);
        if (stale) parts.push('stale=TRUE');
        out.push(`Digest ${parts.join(', ')}`);
      }
    }
    return out;
  }

  /**
   * Checks an `Authorization` header for `method` on `target` (the HTTP request-target,
   * or the RTSP Request-URI). `stale` in the refusal: the nonce expired, ask again.
   * `gate`: the device's account lockout for the client's address (sim/lockout.ts);
   * `entity`: the request's body, which qop=auth-int digests.
   */
  verify(
    header: string | undefined,
    method: string,
    target: string,
    account: Account,
    gate?: LoginGate,
    entity: string | Buffer = '',
  ): HttpAuthResult & { stale?: boolean } {
    if (!header) return { ok: false, reason: 'no credentials' };
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const rest = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic' && this.policy.offer.includes('basic')) {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      const username = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
      const locked = gate?.locked(username);
      if (locked) return { ok: false, reason: locked };
      const right = sameText(decoded, `${account.username}:${account.password}`);
      const result: HttpAuthResult = right ? { ok: true } : { ok: false, reason: WRONG_BASIC };
      return counted(gate, username, result);
    }
    if (scheme === 'digest' && this.policy.offer.includes('digest')) {
      const params = digestParams(rest);
      if (!(params instanceof Map)) {
        return { ok: false, reason: `malformed Digest credentials: ${params.error}` };
      }
      const username = digestUser(params);
      if (typeof username !== 'string') {
        return { ok: false, reason: `malformed Digest credentials: ${username.error}` };
      }
      const locked = gate?.locked(username);
      if (locked) return { ok: false, reason: locked };
      return counted(
        gate,
        username,
        this.#verifyDigest(params, username, { method, target, entity }, account),
      );
    }
    return { ok: false, reason: `scheme ${scheme} not offered` };
  }

  #verifyDigest(
    p: Map<string, string>,
    username: string,
    request: { method: string; target: string; entity: string | Buffer },
    account: Account,
  ): HttpAuthResult & { stale?: boolean } {
    const { method, target, entity } = request;
    for (const name of ['realm', 'nonce', 'uri', 'response']) {
      if (!p.has(name))
        return { ok: false, reason: `malformed Digest credentials: ${name} missing` };
    }
    if (p.get('userhash') === 'true') return { ok: false, reason: 'userhash was not offered' };
    const nonce = p.get('nonce') ?? '';
    const known = this.#nonces.get(nonce);
    if (!known) return { ok: false, reason: 'a nonce this device did not issue' };
    if (p.get('realm') !== this.#realm) return { ok: false, reason: 'wrong realm' };
    if (p.get('uri') !== target) return { ok: false, reason: `uri is not ${target}` };
    const algorithm = (p.get('algorithm') ?? 'MD5').toLowerCase();
    const offered = this.policy.algorithm === 'SHA-256' ? ['sha-256', 'md5'] : ['md5'];
    if (!offered.includes(algorithm)) return { ok: false, reason: `algorithm ${algorithm}` };
    const hash = HASHES[algorithm as keyof typeof HASHES];
    const a1 = hex(hash, `${account.username}:${this.#realm}:${account.password}`);
    let a2 = hex(hash, `${method}:${target}`);
    let expected: string;
    let count = 0;
    if (this.policy.qop) {
      const nc = p.get('nc') ?? '';
      const cnonce = p.get('cnonce') ?? '';
      const qop = p.get('qop');
      const offered = this.policy.authInt ? ['auth', 'auth-int'] : ['auth'];
      if (qop === undefined || !offered.includes(qop)) {
        return {
          ok: false,
          reason: `qop=${qop ?? '(none)'}, where ${offered.join(' or ')} was offered`,
        };
      }
      // RFC 7616 section 3.4.3: auth-int digests the body as well.
      if (qop === 'auth-int') a2 = hex(hash, `${method}:${target}:${hex(hash, entity)}`);
      if (!/^[0-9a-f]{8}$/i.test(nc) || cnonce === '') {
        return { ok: false, reason: 'nc or cnonce missing' };
      }
      if ((p.get('opaque') ?? '') !== this.#opaque) {
        return { ok: false, reason: 'opaque not echoed' };
      }
      count = parseInt(nc, 16);
      expected = hex(hash, [a1, nonce, nc, cnonce, qop, a2].join(':'));
    } else {
      if (p.has('qop')) return { ok: false, reason: 'qop sent but not offered' };
      expected = hex(hash, `${a1}:${nonce}:${a2}`);
    }
    if (username !== account.username || !sameText(p.get('response') ?? '', expected)) {
      return { ok: false, reason: WRONG_DIGEST };
    }
    // RFC 7616 section 3.3: stale=true says the digest was valid and only the nonce is
    // old, so it is said only now, after the response was verified.
    if (this.#now() - known.issuedAt > this.#lifetimeMs) {
      return { ok: false, reason: 'the nonce expired', stale: true };
    }
    if (this.policy.qop) {
      // RFC 7616 section 3.4: a repeated nc is a replay.
      if (count <= known.nc) return { ok: false, reason: `nc ${p.get('nc') ?? ''} did not grow` };
      known.nc = count;
    }
    return { ok: true };
  }

  #issue(): string {
    const now = this.#now();
    // Oldest first (a Map keeps insertion order): forget the expired ones and, beyond the
    // limit, the oldest, so 500 devices polled for days hold a bounded few.
    for (const [nonce, { issuedAt }] of this.#nonces) {
      if (now - issuedAt <= this.#lifetimeMs * 2 && this.#nonces.size < MAX_NONCES) break;
      this.#nonces.delete(nonce);
    }
    const nonce = randomBytes(16).toString('hex');
    this.#nonces.set(nonce, { issuedAt: now, nc: 0 });
    return nonce;
  }
}

/** A 401 with one `WWW-Authenticate` header per challenge, and a short body as devices send. */
export function sendUnauthorized(res: ServerResponse, challenges: readonly string[]): void {
  const body = Buffer.from('401 Unauthorized\n', 'utf8');
  res.writeHead(401, {
    'WWW-Authenticate': [...challenges],
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}
