/** Escalation policies: read (anyone logged in), replace (admin), audited. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import { notifyPolicyRoutes, NotifyPolicies } from '../../shared/api/notify-policy.js';
import type { AuditStore } from '../audit-trail.js';
import type { Escalations } from '../notify/escalation.js';
import { requireRole } from './tickets.js';

export const notifyPolicyRoutesPlugin: FastifyPluginAsyncTypebox<{
  escalations: Escalations;
  audit?: AuditStore;
}> = async (app, { escalations, audit }) => {
  app.get(
    notifyPolicyRoutes.policies,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'The escalation policies in force, per priority',
        tags: ['notify'],
        response: { 200: NotifyPolicies, 401: ApiError },
      },
    },
    async () => escalations.policies.current(),
  );

  app.put(
    notifyPolicyRoutes.policies,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Replaces the escalation policies (admin); they apply to the next step',
        tags: ['notify'],
        body: NotifyPolicies,
        response: { 200: NotifyPolicies, 400: ApiError, 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Changing the escalation policies');
      const saved = await escalations.policies.save(request.body, user.username);
      await audit?.add(user.username, 'notify.policies', 'notify:policies', request.body);
      return saved;
    },
  );
};
