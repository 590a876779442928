/**
 * HTTP authentication as a device demands it, for the simulator's RTSP server, snapshot
 * URIs and (one personality) SOAP: a `WWW-Authenticate` challenge offering Basic and/or
 * Digest, and a strict check of the `Authorization` that comes back, as real devices do:
 * Basic (RFC 7617); Digest (RFC 7616 with qop=auth: nonce issued by us and not expired,
 * realm, uri equal to the request-target or RTSP Request-URI, algorithm and opaque echoed,
 * nc growing per nonce, cnonce present; RFC 2617 without qop as RTSP cameras use it).
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
}

export interface Account {
  username: string;
  password: string;
}

export type HttpAuthResult = { ok: true } | { ok: false; reason: string };

/** How long a nonce is good for; then stale=true (kept twice as long to say so). */
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

/** `name=value` pairs of a Digest credentials header, quoted values unescaped. */
function credentialParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const pair = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = pair.exec(text); m; m = pair.exec(text)) {
    const quoted = m[2];
    out.set(
      (m[1] ?? '').toLowerCase(),
      quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (m[3] ?? ''),
    );
  }
  return out;
}

function hex(hash: string, text: string): string {
  return createHash(hash).update(Buffer.from(text, 'utf8')).digest('hex');
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
  readonly #opaque = randomBytes(12).toString('base64');
  /** nonce -> when it was issued and the highest nc seen with it. */
  readonly #nonces = new Map<string, { issuedAt: number; nc: number }>();
  /** The clock nonces age by (a test moves it instead of waiting). */
  readonly #now: () => number;

  constructor(realm: string, policy: HttpAuthPolicy, now: () => number = () => Date.now()) {
    this.#realm = realm;
    this.policy = policy;
    this.#now = now;
  }

  /** The `WWW-Authenticate` header values of a 401 (one per challenge). */
  challenges(stale = false): string[] {
    const out: string[] = [];
    for (const scheme of this.policy.offer) {
      if (scheme === 'basic') {
        out.push(`Basic realm="${this.#realm}"`);
        continue;
      }
      // RFC 7616 section 3.7: a server offering SHA-256 lists MD5 too, strongest first.
      const algorithms = this.policy.algorithm === 'SHA-256' ? ['SHA-256', 'MD5'] : [undefined];
      for (const algorithm of algorithms) {
        const nonce = this.#issue();
        const parts = [`realm="${this.#realm}"`];
        if (this.policy.qop) parts.push('qop="auth"');
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
   * `gate`: the device's account lockout for the client's address (sim/lockout.ts).
   */
  verify(
    header: string | undefined,
    method: string,
    target: string,
    account: Account,
    gate?: LoginGate,
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
      const params = credentialParams(rest);
      const username = params.get('username') ?? '';
      const locked = gate?.locked(username);
      if (locked) return { ok: false, reason: locked };
      return counted(gate, username, this.#verifyDigest(params, method, target, account));
    }
    return { ok: false, reason: `scheme ${scheme} not offered` };
  }

  #verifyDigest(
    p: Map<string, string>,
    method: string,
    target: string,
    account: Account,
  ): HttpAuthResult & { stale?: boolean } {
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
    const a2 = hex(hash, `${method}:${target}`);
    let expected: string;
    let count = 0;
    if (this.policy.qop) {
      const nc = p.get('nc') ?? '';
      const cnonce = p.get('cnonce') ?? '';
      if (p.get('qop') !== 'auth') return { ok: false, reason: 'qop=auth missing' };
      if (!/^[0-9a-f]{8}$/i.test(nc) || cnonce === '') {
        return { ok: false, reason: 'nc or cnonce missing' };
      }
      if (p.get('opaque') !== this.#opaque) return { ok: false, reason: 'opaque not echoed' };
      count = parseInt(nc, 16);
      expected = hex(hash, [a1, nonce, nc, cnonce, 'auth', a2].join(':'));
    } else {
      if (p.has('qop')) return { ok: false, reason: 'qop sent but not offered' };
      expected = hex(hash, `${a1}:${nonce}:${a2}`);
    }
    if (p.get('username') !== account.username || !sameText(p.get('response') ?? '', expected)) {
      return { ok: false, reason: WRONG_DIGEST };
    }
    // RFC 7616 section 3.3: stale=true says the digest was valid and only the nonce is
    // old, so it is said only now, after the response was verified.
    if (this.#now() - known.issuedAt > NONCE_LIFETIME_MS) {
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
      if (now - issuedAt <= NONCE_LIFETIME_MS * 2 && this.#nonces.size < MAX_NONCES) break;
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
