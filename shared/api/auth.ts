import { Type, type Static } from 'typebox';
import { Timestamp } from '../ids.js';

export const UserRole = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('operator'),
  Type.Literal('admin'),
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
  expiresAt: Timestamp,
});
export type LoginResponse = Static<typeof LoginResponse>;

/** Name of the session cookie set by POST /api/auth/login (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'vigil_session';

export const loginResponseExample: LoginResponse = {
  token: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  username: 'admin',
  role: 'admin',
  expiresAt: '2026-11-27T08:00:00.000Z',
};
