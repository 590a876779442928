/**
 * Logging in and out, and the session check every protected route passes.
 *
 * A session token travels either as `Authorization: Bearer <token>` (RFC 6750 section
 * 2.1: scripts, tests) or as the session cookie (the console: EventSource cannot set
 * headers). The cookie is HttpOnly (page scripts cannot read it) and SameSite=Strict
 * (RFC 6265bis: no other site can make the browser send it, which is the CSRF defence).
 * A token never goes in a URL: URLs end up in logs and browser history.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { LoginRequest, LoginResponse, SESSION_COOKIE } from '../../shared/api/auth.js';
import { ApiError } from '../../shared/api/common.js';
import { apiRoutes } from '../../shared/api/routes.js';
import { VigilError } from '../../shared/errors.js';
import type { SessionUser, UserStore } from './users.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a session (login, logout, health). Every other /api route needs one. */
    public?: boolean;
  }
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
 * onRequest hook: every /api route needs a session unless it is marked public. The
 * console's files are public (the login page must load), and an unknown path answers
 * 404 whoever asks: the list of routes is no secret (it is in the source).
 */
export function sessionHook(users: UserStore): onRequestAsyncHookHandler {
  return async (request) => {
    if (request.is404) return;
    if (!(request.routeOptions.url ?? '').startsWith('/api/')) return;
    if (request.routeOptions.config.public === true) return;
    const token = tokenOf(request);
    const session = token === undefined ? undefined : users.session(token);
    if (session === undefined) {
      throw new VigilError(
        'VIGIL_AUTH_REQUIRED',
        token === undefined
          ? 'Log in first: send "Authorization: Bearer <token>" or the session cookie.'
          : 'The session is unknown or expired: log in again.',
      );
    }
    request.user = { username: session.username, role: session.role };
  };
}

export interface AuthRoutesOptions {
  users: UserStore;
  /** Wait before answering a failed login. */
  failureDelayMs: number;
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
  const { users, failureDelayMs } = opts;

  app.post(
    apiRoutes.login,
    {
      config: { public: true },
      schema: {
        summary: 'Log in; answers a session token and sets the session cookie',
        tags: ['auth'],
        security: [],
        body: LoginRequest,
        response: { 200: LoginResponse, 400: ApiError, 401: ApiError },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = await users.verify(username, password);
      if (user === undefined) {
        const total = users.recordFailure(username);
        // The username is left out: people type their password into that field.
        request.log.warn({ failedLogins: total }, 'login failed');
        // One answer and about one delay for a wrong password and an unknown user, so
        // neither the text nor the timing says which; the delay slows guessing.
        await sleep(failureDelayMs);
        throw new VigilError('VIGIL_AUTH_FAILED');
      }
      const session = users.openSession(user);
      setSessionCookie(request, reply, session.token, session.expiresAt);
      request.log.info({ user: user.username }, 'login');
      return {
        token: session.token,
        username: user.username,
        role: user.role,
        expiresAt: session.expiresAt.toISOString(),
      };
    },
  );

  app.post(
    apiRoutes.logout,
    {
      // Public so that an expired session can still clear its cookie.
      config: { public: true },
      schema: {
        summary: 'Log out: ends the session and clears the cookie',
        tags: ['auth'],
        security: [],
        response: { 204: Type.Null({ description: 'Logged out' }) },
      },
    },
    async (request, reply) => {
      const token = tokenOf(request);
      if (token !== undefined) users.closeSession(token);
      void reply.clearCookie(SESSION_COOKIE, { path: '/api' });
      return reply.status(204).send(null);
    },
  );
};
