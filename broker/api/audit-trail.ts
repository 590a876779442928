/** GET /api/audit: who did what when through the API (admin only). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditApiRoutes, AuditList, AuditQuery } from '../../shared/api/audit.js';
import { ApiError } from '../../shared/api/common.js';
import type { AuditStore } from '../audit-trail.js';
import { requireRole } from './tickets.js';

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditStore }> = async (
  app,
  { audit },
) => {
  app.get(
    auditApiRoutes.list,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'The audit trail, newest first (admin)',
        tags: ['audit'],
        querystring: AuditQuery,
        response: { 200: AuditList, 400: ApiError, 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      requireRole(request, 'admin', 'Reading the audit trail');
      return await audit.list(request.query);
    },
  );
};
