/**
 * The signed-in user's own session (who, which role, which language) and the console
 * users an admin manages. Roles: a viewer reads, an operator also works tickets and
 * maintenance, an admin also manages users; a customer account (bound to one customer by
 * `customerId`) sees only that customer's sites, devices, tickets and reports.
 *
 *   GET    /api/auth/session           -> SessionInfo
 *   PATCH  /api/auth/session           SessionPatch -> SessionInfo   (own language)
 *   GET    /api/users                  -> UserSummary[]              (admin)
 *   PUT    /api/users/:username        UserWrite -> UserSummary      (admin; creates or updates)
 *   DELETE /api/users/:username        -> 204                        (admin; not oneself)
 */
import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { UserRole } from './auth.js';
import { Nullable } from './common.js';

/** The routes live in routes.ts (the console imports them without TypeBox). */
export { userPath, userRoutes } from './routes.js';

/** The console's languages, as BCP 47 tags. */
export const Locale = Type.Union([Type.Literal('en'), Type.Literal('zh-CN')]);
export type Locale = Static<typeof Locale>;
export const LOCALES: readonly Locale[] = ['en', 'zh-CN'];

export const SessionInfo = Type.Object({
  username: Type.String(),
  role: UserRole,
  /** The customer of a `customer` account; null for the NOC's staff. */
  customerId: Nullable(Type.String()),
  /** The user's chosen language; null until chosen (the console then keeps the browser's). */
  locale: Nullable(Locale),
  /** The zone the console shows times in (IANA name); null: the browser's. */
  timeZone: Nullable(Type.String()),
  expiresAt: Timestamp,
});
export type SessionInfo = Static<typeof SessionInfo>;

/** Either or both; `timeZone: null` goes back to the browser's zone. */
export const SessionPatch = Type.Object(
  {
    locale: Type.Optional(Locale),
    timeZone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SessionPatch = Static<typeof SessionPatch>;

/** Usernames: letters, digits and . _ - (they appear in ticket timelines). */
export const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });

export const UserSummary = Type.Object({
  username: Type.String(),
  role: UserRole,
  customerId: Nullable(Type.String()),
  locale: Nullable(Locale),
  timeZone: Nullable(Type.String()),
  createdAt: Timestamp,
  lastLoginAt: Nullable(Timestamp),
});
export type UserSummary = Static<typeof UserSummary>;
export const UserSummaryList = Type.Array(UserSummary);

/** A new user needs a password; an existing one keeps it when none is sent. */
export const UserWrite = Type.Object(
  {
    role: UserRole,
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
    /** Required with role `customer` (an existing customer's id); refused with any other. */
    customerId: Type.Optional(Id),
  },
  { additionalProperties: false },
);
export type UserWrite = Static<typeof UserWrite>;

export const UserParams = Type.Object({ username: Username }, { additionalProperties: false });
export type UserParams = Static<typeof UserParams>;

export const sessionInfoExample: SessionInfo = {
  username: 'operator1',
  role: 'operator',
  customerId: null,
  locale: 'zh-CN',
  timeZone: null,
  expiresAt: '2026-11-27T08:00:00.000Z',
};
