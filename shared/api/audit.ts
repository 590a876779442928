import { Type, type Static } from 'typebox';
import { Timestamp } from '../ids.js';

/** One thing a user did through the API: who, when, what, to which object. */
export const AuditEntry = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  at: Timestamp,
  actor: Type.String(),
  /** ticket.acknowledge, ticket.resolve, maintenance.create, site.put, site.import ... */
  action: Type.String(),
  /** ticket:17, maintenance:3, site:demo-site */
  target: Type.String(),
  /** The request's fields, secrets left out. */
  detail: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;
export const AuditList = Type.Array(AuditEntry);

/** GET /api/audit (admin): newest first. */
export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const auditApiRoutes = { list: '/api/audit' } as const;
