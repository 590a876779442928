import { Type, type Static } from 'typebox';
import { Timestamp } from '../ids.js';

export const UserRole = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('operator'),
  Type.Literal('admin'),
  // A customer's own account (issue 16 part 5): bound to one customer, it sees that
  // customer's sites only, through the portal (broker/api/scope.ts, docs/CUSTOMERS.md).
  Type.Literal('customer'),
]);
export type UserRole = Static<typeof UserRole>;

export const LoginRequest = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

export const LoginResponse = Type.Object({
  token: Type.String(),
  username: Type.String(),
  role: UserRole,
  /** The customer a `customer` account belongs to; null for the NOC's staff. */
  customerId: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Timestamp,
});
export type LoginResponse = Static<typeof LoginResponse>;

/** Name of the session cookie set by POST /api/auth/login (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'vigil_session';

export const loginResponseExample: LoginResponse = {
  token: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  username: 'admin',
  role: 'admin',
  customerId: null,
  expiresAt: '2026-11-27T08:00:00.000Z',
};

/**
 * Login locks (broker/api/login-limits.ts, docs/PORTAL-SECURITY.md). Too many wrong
 * passwords for one user name from one client address lock that name from that address
 * only (scope `account`), so an attacker elsewhere cannot lock the NOC's staff out; too
 * many from one address across names (password spraying) lock that address for every
 * name (scope `address`). A lock ends by itself at `until`, or an admin lifts it.
 *
 *   GET    /api/auth/locks        -> LoginLock[]   (admin; the locks in force, newest first)
 *   DELETE /api/auth/locks/:id    -> 204           (admin; lifts one)
 */
export const LoginLockScope = Type.Union([Type.Literal('account'), Type.Literal('address')]);
export type LoginLockScope = Static<typeof LoginLockScope>;

export const LoginLock = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  scope: LoginLockScope,
  /**
   * The account's name, for an `account` lock of a user that exists; null for an
   * `address` lock and for a name no user has (what was typed is not kept: people type
   * their password into the name field).
   */
  username: Type.Union([Type.String(), Type.Null()]),
  /** The client address as the broker saw it (an IPv6 client as its /64 network). */
  address: Type.String(),
  lockedAt: Timestamp,
  until: Timestamp,
  /** Wrong passwords that set the lock. */
  failures: Type.Integer({ minimum: 0 }),
  /** Logins refused while it holds. */
  refused: Type.Integer({ minimum: 0 }),
});
export type LoginLock = Static<typeof LoginLock>;
export const LoginLockList = Type.Array(LoginLock);

export const LoginLockParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type LoginLockParams = Static<typeof LoginLockParams>;

/**
 * The answer to a login refused by a lock: 429 `VIGIL_AUTH_LOCKED` with `Retry-After`
 * (RFC 6585 section 4). The same for a name that exists and one that does not, so it
 * tells nothing about which names exist.
 */
export const LoginLocked = Type.Object({
  code: Type.Literal('VIGIL_AUTH_LOCKED'),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.String())),
  lock: Type.Object({
    scope: LoginLockScope,
    address: Type.String(),
    until: Timestamp,
  }),
});
export type LoginLocked = Static<typeof LoginLocked>;

export const loginLockExample: LoginLock = {
  id: 3,
  scope: 'account',
  username: 'operator1',
  address: '203.0.113.7',
  lockedAt: '2026-12-07T01:00:00.000Z',
  until: '2026-12-07T01:15:00.000Z',
  failures: 20,
  refused: 4,
};

export const loginLockedExample: LoginLocked = {
  code: 'VIGIL_AUTH_LOCKED',
  message:
    'Too many wrong passwords for this user name from your address (203.0.113.7): its logins from this address are refused until 2026-12-07T01:15:00.000Z. Wait until then, or ask an admin to lift the lock.',
  lock: { scope: 'account', address: '203.0.113.7', until: '2026-12-07T01:15:00.000Z' },
};
