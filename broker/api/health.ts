/**
 * GET /api/health. Public on purpose: container health checks (docker-compose, the
 * orchestrator) and uptime monitors probe it without a session, and it holds only
 * counters and the version, no site, device, ticket or user data.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health } from '../../shared/api/health.js';
import { apiRoutes } from '../../shared/api/routes.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ health: () => Promise<Health> }> = async (
  app,
  { health },
) => {
  app.get(
    apiRoutes.health,
    {
      config: { scope: 'public' },
      schema: {
        summary:
          'Broker health: MQTT clients, metrics store, pipeline counters, the notification outbox per channel type',
        tags: ['health'],
        security: [],
        response: { 200: Health },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      return health();
    },
  );
};
