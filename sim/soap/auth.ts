/**
 * The WS-Security UsernameToken check ONVIF Core section 5.12 requires of a device:
 * PasswordDigest = Base64(SHA-1(nonce + Created + password)) with the nonce's decoded
 * bytes (WS-Security UsernameToken Profile 1.0 section 3.1), a Created time close to the
 * device clock, and no nonce accepted twice. Section 3.1 of the profile recommends the
 * freshness limit (five minutes) and a cache of used nonces at least as long.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { UsernameToken } from './envelope.js';
import { PASSWORD_DIGEST_TYPE } from './namespaces.js';

export interface Credentials {
  username: string;
  password: string;
}

/** How far Created may be from the device clock, either way. */
export const CREATED_WINDOW_MS = 5 * 60_000;

export type AuthResult = { ok: true } | { ok: false; reason: string };

/** The refusal of a wrong username or password: the one that counts towards a lockout. */
export const WRONG_PASSWORD = 'wrong username or password';

export interface AuthCheck {
  credentials: Credentials;
  /** The device clock, in ms since the epoch (wall clock plus the device's offset). */
  deviceNow: number;
  nonces: NonceCache;
  windowMs?: number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** xsd:dateTime with a zone, as the profile's wsu:Created must be. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

export function checkUsernameToken(token: UsernameToken | null, check: AuthCheck): AuthResult {
  const windowMs = check.windowMs ?? CREATED_WINDOW_MS;
  if (!token) return refuse('the request carries no WS-Security UsernameToken');
  if (token.passwordType !== PASSWORD_DIGEST_TYPE) {
    return refuse('the password must be sent as a PasswordDigest');
  }
  if (!token.nonce || !BASE64.test(token.nonce)) return refuse('the token has no valid Nonce');
  if (!token.created || !DATE_TIME.test(token.created)) {
    return refuse('the token has no valid Created time');
  }
  const nonce = Buffer.from(token.nonce, 'base64');
  const expected = Buffer.from(
    passwordDigest(nonce, token.created, check.credentials.password),
    'base64',
  );
  const given = Buffer.from(token.password, 'base64');
  const digestMatches = given.length === expected.length && timingSafeEqual(given, expected);
  if (token.username !== check.credentials.username || !digestMatches) {
    return refuse(WRONG_PASSWORD);
  }
  if (Math.abs(Date.parse(token.created) - check.deviceNow) > windowMs) {
    return refuse(
      `Created ${token.created} is more than ${windowMs / 60_000} min from the device clock ` +
        `${new Date(check.deviceNow).toISOString()}; read it with GetSystemDateAndTime`,
    );
  }
  // Only a token that passed every other check uses up its nonce, so garbage cannot
  // push real nonces out of the cache. A replay is the same nonce with the same
  // Created: libonvif (onvif-util) seeds its nonce from the clock's second, so two of
  // its calls in one second share a nonce but not a Created (milliseconds differ).
  if (!check.nonces.remember(`${nonce.toString('base64')} ${token.created}`, check.deviceNow)) {
    return refuse('the nonce was already used (replay)');
  }
  return { ok: true };
}

function refuse(reason: string): AuthResult {
  return { ok: false, reason };
}

/**
 * Nonces seen in the last `ttlMs`, at most `maxEntries` of them (the oldest go first).
 * A nonce must be kept while its Created can still pass the window: up to two windows.
 */
export class NonceCache {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 2 * CREATED_WINDOW_MS,
  ) {}

  /** Records the nonce; false if it was already there (a replay). */
  remember(nonce: string, now: number): boolean {
    this.evict(now);
    if (this.expiries.has(nonce)) return false;
    if (this.expiries.size >= this.maxEntries) {
      const oldest = this.expiries.keys().next();
      if (!oldest.done) this.expiries.delete(oldest.value);
    }
    this.expiries.set(nonce, now + this.ttlMs);
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  /** Insertion order is expiry order, so expired entries are at the front. */
  private evict(now: number): void {
    for (const [nonce, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(nonce);
    }
  }
}
