/**
 * The signed-in user's own session (GET, and PATCH for the language and time zone), the console
 * users, which only an admin manages (shared/api/users.ts), and the login locks an admin
 * lifts (shared/api/auth.ts). Every change to a user and every lifted lock is audited.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { LoginLockList, LoginLockParams } from '../../shared/api/auth.js';
import { ApiError } from '../../shared/api/common.js';
import { loginLockRoutes } from '../../shared/api/routes.js';
import {
  SessionInfo,
  SessionPatch,
  UserParams,
  UserSummary,
  UserSummaryList,
  UserWrite,
  userRoutes,
} from '../../shared/api/users.js';
import { VigilError } from '../../shared/errors.js';
import type { UserRole } from '../../shared/api/auth.js';
import type { AuditStore } from '../audit-trail.js';
import { timeZoneError } from '../oncall/validate.js';
import { lockTarget, tokenOf } from './auth.js';
import type { LoginLimits } from './login-limits.js';
import type { SessionUser, UserStore } from './users.js';

/** The user of a protected route; the session hook has set it. */
function signedIn(request: FastifyRequest): SessionUser {
  if (request.user === null) throw new VigilError('VIGIL_AUTH_REQUIRED');
  return request.user;
}

function requireAdmin(request: FastifyRequest): SessionUser {
  const user = signedIn(request);
  if (user.role !== 'admin') {
    throw new VigilError('VIGIL_FORBIDDEN', 'Only an admin manages users.');
  }
  return user;
}

export interface UserAdminOptions {
  users: UserStore;
  limits: LoginLimits;
  /** Whether a customer id exists (the customers store); none do without the ticket desk. */
  customerExists: (customerId: string) => boolean;
  /** Where user changes and lifted locks are recorded; absent in API-only tests. */
  audit?: AuditStore;
}

export const userAdminRoutes: FastifyPluginAsyncTypebox<UserAdminOptions> = async (
  app,
  { users, limits, audit, customerExists },
) => {
  /**
   * The customer a `customer` account is bound to: required and existing for that role,
   * refused with any other (a staff account bound to a customer would read as both).
   */
  const customerOfAccount = (role: UserRole, customerId: string | undefined): string | null => {
    if (role !== 'customer') {
      if (customerId === undefined) return null;
      throw new VigilError('VIGIL_BAD_REQUEST', 'Only a customer account names a customer.', [
        `customerId: leave it out for role ${role}, or send role "customer"`,
      ]);
    }
    if (customerId === undefined) {
      throw new VigilError('VIGIL_BAD_REQUEST', 'A customer account names its customer.', [
        'customerId: required for role "customer" (GET /api/customers lists them)',
      ]);
    }
    if (!customerExists(customerId)) {
      throw new VigilError('VIGIL_BAD_REQUEST', `No customer "${customerId}".`, [
        `customerId: "${customerId}" is no customer; create it with POST /api/customers first`,
      ]);
    }
    return customerId;
  };
  const sessionInfo = async (request: FastifyRequest) => {
    const user = signedIn(request);
    const token = tokenOf(request);
    const session = token === undefined ? undefined : await users.session(token);
    const summary = await users.user(user.username);
    if (session === undefined || summary === undefined) throw new VigilError('VIGIL_AUTH_REQUIRED');
    return {
      username: summary.username,
      role: summary.role,
      customerId: summary.customerId,
      locale: summary.locale,
      timeZone: summary.timeZone,
      expiresAt: session.expiresAt.toISOString(),
    };
  };

  app.get(
    userRoutes.session,
    {
      config: { scope: 'signed-in' },
      schema: {
        summary: 'The signed-in user: name, role, language',
        tags: ['auth'],
        response: { 200: SessionInfo, 401: ApiError },
      },
    },
    async (request) => sessionInfo(request),
  );

  app.patch(
    userRoutes.session,
    {
      config: { scope: 'signed-in' },
      schema: {
        summary: "Sets the signed-in user's language and the console's time zone",
        tags: ['auth'],
        body: SessionPatch,
        response: { 200: SessionInfo, 400: ApiError, 401: ApiError },
      },
    },
    async (request) => {
      const { username } = signedIn(request);
      const { locale, timeZone } = request.body;
      const zoneError = typeof timeZone === 'string' ? timeZoneError(timeZone) : null;
      if (zoneError !== null)
        throw new VigilError('VIGIL_BAD_REQUEST', 'Unknown time zone.', [zoneError]);
      if (locale !== undefined) {
        await users.setLocale(username, locale);
        await audit?.add(username, 'user.locale', `user:${username}`, { locale });
      }
      if (timeZone !== undefined) {
        await users.setTimeZone(username, timeZone);
        await audit?.add(username, 'user.time-zone', `user:${username}`, { timeZone });
      }
      return sessionInfo(request);
    },
  );

  app.get(
    userRoutes.users,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Every console user (admin)',
        tags: ['users'],
        response: { 200: UserSummaryList, 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      requireAdmin(request);
      return await users.list();
    },
  );

  app.put(
    userRoutes.user,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Creates a user or changes its role or password (admin)',
        tags: ['users'],
        params: UserParams,
        body: UserWrite,
        response: { 200: UserSummary, 400: ApiError, 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      const admin = requireAdmin(request);
      const { username } = request.params;
      const { role, password } = request.body;
      const customerId = customerOfAccount(role, request.body.customerId);
      const existing = await users.user(username);
      if (existing === undefined && password === undefined) {
        throw new VigilError('VIGIL_BAD_REQUEST', 'A new user needs a password.', [
          'password: required for a new user (at least 8 characters)',
        ]);
      }
      if (username === admin.username && role !== 'admin') {
        // Otherwise the last admin could lock everyone out of user management.
        throw new VigilError('VIGIL_BAD_REQUEST', 'You cannot take the admin role from yourself.', [
          'role: ask another admin to change yours',
        ]);
      }
      if (password !== undefined) await users.setUser(username, role, password, customerId);
      else await users.setRole(username, role, customerId);
      // Whether the password changed, never the password.
      await audit?.add(
        admin.username,
        existing === undefined ? 'user.create' : 'user.update',
        `user:${username}`,
        {
          role,
          ...(customerId !== null ? { customerId } : {}),
          ...(existing !== undefined && existing.role !== role
            ? { previousRole: existing.role }
            : {}),
          ...(existing?.customerId != null && existing.customerId !== customerId
            ? { previousCustomerId: existing.customerId }
            : {}),
          passwordChanged: password !== undefined,
        },
      );
      request.log.info({ by: admin.username, user: username, role }, 'user saved');
      const saved = await users.user(username);
      if (saved === undefined) throw new VigilError('VIGIL_INTERNAL');
      return saved;
    },
  );

  app.delete(
    userRoutes.user,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a user and ends its sessions (admin; not oneself)',
        tags: ['users'],
        params: UserParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          400: ApiError,
          401: ApiError,
          403: ApiError,
          404: ApiError,
        },
      },
    },
    async (request, reply) => {
      const admin = requireAdmin(request);
      const { username } = request.params;
      if (username === admin.username) {
        throw new VigilError('VIGIL_BAD_REQUEST', 'You cannot delete yourself.', [
          'username: ask another admin',
        ]);
      }
      const existing = await users.user(username);
      if (!(await users.remove(username)))
        throw new VigilError('VIGIL_NOT_FOUND', `No user "${username}".`);
      await audit?.add(admin.username, 'user.delete', `user:${username}`, { role: existing?.role });
      request.log.info({ by: admin.username, user: username }, 'user deleted');
      return reply.status(204).send(null);
    },
  );

  app.get(
    loginLockRoutes.list,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'The login locks in force, newest first (admin)',
        tags: ['users'],
        response: { 200: LoginLockList, 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      requireAdmin(request);
      return await limits.active();
    },
  );

  app.delete(
    loginLockRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Lifts a login lock before it ends by itself (admin)',
        tags: ['users'],
        params: LoginLockParams,
        response: {
          204: Type.Null({ description: 'Lifted' }),
          400: ApiError,
          401: ApiError,
          403: ApiError,
          404: ApiError,
        },
      },
    },
    async (request, reply) => {
      const admin = requireAdmin(request);
      const lock = await limits.lift(request.params.id, admin.username);
      if (lock === undefined) {
        throw new VigilError(
          'VIGIL_NOT_FOUND',
          `No login lock ${request.params.id} in force: it ended or was lifted already (GET ${loginLockRoutes.list} lists those in force).`,
        );
      }
      await audit?.add(admin.username, 'auth.unlock', lockTarget(lock), {
        lockId: lock.id,
        scope: lock.scope,
        address: lock.address,
        until: lock.until,
        refused: lock.refused,
      });
      request.log.info({ by: admin.username, lock: lock.id }, 'login lock lifted');
      return reply.status(204).send(null);
    },
  );
};
