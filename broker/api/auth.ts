/**
 * Logging in and out, and the session check every protected route passes.
 *
 * A session token travels either as `Authorization: Bearer <token>` (RFC 6750 section
 * 2.1: scripts, tests) or as the session cookie (the console: EventSource cannot set
 * headers). The cookie is HttpOnly (page scripts cannot read it) and SameSite=Strict
 * (RFC 6265bis: no other site can make the browser send it, which is the CSRF defence).
 * A token never goes in a URL: URLs end up in logs and browser history.
 *
 * Logins are limited per client address (login-limits.ts): a login refused by a lock
 * answers 429 with the lock's end, before its password is checked. Every login, failed
 * login, lock and logout goes to the audit log with the client's address, never the
 * password, and never a name no user has (it may be a password typed in the wrong field).
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  LoginLocked,
  LoginRequest,
  LoginResponse,
  SESSION_COOKIE,
  type LoginLock,
} from '../../shared/api/auth.js';
import { ApiError } from '../../shared/api/common.js';
import { apiRoutes } from '../../shared/api/routes.js';
import { VigilError } from '../../shared/errors.js';
import type { AuditStore } from '../audit-trail.js';
import type { LockAnswer, LoginAccount, LoginLimits } from './login-limits.js';
import type { SessionUser, UserStore } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user; set by the session hook on protected routes. */
    user: SessionUser | null;
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The session token of a request: the Authorization header first, then the cookie. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) return BEARER.exec(header)?.[1];
  return request.cookies[SESSION_COOKIE];
}

/**
 * onRequest hook: every /api route needs a session unless its scope is `public`
 * (broker/api/scope.ts, where every route declares who it is for). The
 * console's files are public (the login page must load), and an unknown path answers
 * 404 whoever asks: the list of routes is no secret (it is in the source).
 */
export function sessionHook(users: UserStore): onRequestAsyncHookHandler {
  return async (request) => {
    if (request.is404) return;
    if (!(request.routeOptions.url ?? '').startsWith('/api/')) return;
    if (request.routeOptions.config.scope === 'public') return;
    const token = tokenOf(request);
    const session = token === undefined ? undefined : await users.session(token);
    if (session === undefined) {
      throw new VigilError(
        'VIGIL_AUTH_REQUIRED',
        token === undefined
          ? 'Log in first: send "Authorization: Bearer <token>" or the session cookie.'
          : 'The session is unknown or expired: log in again.',
      );
    }
    request.user = {
      username: session.username,
      role: session.role,
      customerId: session.customerId,
    };
  };
}

export interface AuthRoutesOptions {
  users: UserStore;
  limits: LoginLimits;
  /** Where logins, failures and locks are recorded; absent in API-only tests. */
  audit?: AuditStore;
  /** Wait before answering a failed login. */
  failureDelayMs: number;
  now?: () => Date;
}

/** The audit target of a login: the user, or a name no user has, which is not kept. */
export const loginTarget = (account: LoginAccount) =>
  account.exists ? `user:${account.username}` : 'user:(unknown)';

/** The audit target of a lock: the user from an address, or the address for every name. */
export const lockTarget = (lock: LoginLock) =>
  lock.scope === 'address'
    ? `address:${lock.address}`
    : `user:${lock.username ?? '(unknown)'}@${lock.address}`;

/** What the lock answer says: which lock, until when, what to do. The same for any name. */
export function lockedMessage(lock: LoginLock): string {
  const what =
    lock.scope === 'account'
      ? `Too many wrong passwords for this user name from your address (${lock.address}): its logins from this address are refused until ${lock.until}.`
      : `Too many wrong passwords from your address (${lock.address}): logins from it are refused for every user name until ${lock.until}.`;
  return `${what} Wait until then, or ask an admin to lift the lock.`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  expires: Date,
) {
  void reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    // Only the API reads it; the console's files do not need it.
    path: '/api',
    // Behind plain HTTP (the demo) a Secure cookie would never come back.
    secure: request.protocol === 'https',
    expires,
  });
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, opts) => {
  const { users, limits, audit, failureDelayMs } = opts;
  const now = opts.now ?? (() => new Date());

  const refuse = (reply: FastifyReply, lock: LoginLock) => {
    const seconds = Math.max(1, Math.ceil((Date.parse(lock.until) - now().getTime()) / 1000));
    const body: LoginLocked = {
      code: 'VIGIL_AUTH_LOCKED',
      message: lockedMessage(lock),
      lock: { scope: lock.scope, address: lock.address, until: lock.until },
    };
    return reply.status(429).header('retry-after', String(seconds)).send(body);
  };

  /** A lock this attempt set is audited once; refusals while it holds are counted on it. */
  const audited = async (answer: LockAnswer, address: string) => {
    if (!answer.created) return;
    const { lock } = answer;
    await audit?.add('system', 'auth.lock', lockTarget(lock), {
      lockId: lock.id,
      scope: lock.scope,
      address,
      failures: lock.failures,
      until: lock.until,
    });
  };

  app.post(
    apiRoutes.login,
    {
      config: { scope: 'public' },
      schema: {
        summary: 'Log in; answers a session token and sets the session cookie',
        tags: ['auth'],
        security: [],
        body: LoginRequest,
        response: { 200: LoginResponse, 400: ApiError, 401: ApiError, 429: LoginLocked },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      // request.ip: the peer, or with http.trustProxy the client the proxy names.
      const address = request.ip;
      const account: LoginAccount = {
        username,
        exists: (await users.user(username)) !== undefined,
      };
      const begun = await limits.begin(account, address);
      if ('lock' in begun) {
        await audited(begun, address);
        return refuse(reply, begun.lock);
      }
      const user = await users.verify(username, password);
      if (user === undefined) {
        const total = await users.recordFailure(username);
        const locked = await limits.failed(begun.attempt);
        await audit?.add('anonymous', 'auth.login-failed', loginTarget(account), { address });
        if (locked) await audited(locked, address);
        // The username is left out: people type their password into that field.
        request.log.warn({ failedLogins: total, address }, 'login failed');
        // One answer and about one delay for a wrong password and an unknown user, so
        // neither the text nor the timing says which; the delay slows guessing.
        await sleep(failureDelayMs);
        if (locked) return refuse(reply, locked.lock);
        throw new VigilError('VIGIL_AUTH_FAILED');
      }
      await limits.succeeded(begun.attempt);
      const session = await users.openSession(user);
      setSessionCookie(request, reply, session.token, session.expiresAt);
      await audit?.add(user.username, 'auth.login', loginTarget(account), { address });
      request.log.info({ user: user.username, address }, 'login');
      return {
        token: session.token,
        username: user.username,
        role: user.role,
        customerId: user.customerId,
        expiresAt: session.expiresAt.toISOString(),
      };
    },
  );

  app.post(
    apiRoutes.logout,
    {
      // Public so that an expired session can still clear its cookie.
      config: { scope: 'public' },
      schema: {
        summary: 'Log out: ends the session and clears the cookie',
        tags: ['auth'],
        security: [],
        response: { 204: Type.Null({ description: 'Logged out' }) },
      },
    },
    async (request, reply) => {
      const token = tokenOf(request);
      const session = token === undefined ? undefined : await users.session(token);
      if (token !== undefined) await users.closeSession(token);
      if (session !== undefined)
        await audit?.add(session.username, 'auth.logout', `user:${session.username}`, {
          address: request.ip,
        });
      void reply.clearCookie(SESSION_COOKIE, { path: '/api' });
      return reply.status(204).send(null);
    },
  );
};
