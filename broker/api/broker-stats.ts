/**
 * GET /api/broker: the broker's own figures (connected agents, messages per second,
 * journal depth, the metrics writer's backlog, refused attempts). Public like
 * /api/health, for the same probes and dashboards: counts only, no names or topics.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BrokerStats } from '../../shared/api/broker.js';
import { apiRoutes } from '../../shared/api/routes.js';

export const brokerStatsRoutes: FastifyPluginAsyncTypebox<{ stats: () => BrokerStats }> = async (
  app,
  { stats },
) => {
  app.get(
    apiRoutes.broker,
    {
      config: { scope: 'public' },
      schema: {
        summary: 'Broker figures: MQTT clients and rates, ingest journal, metrics writer',
        tags: ['health'],
        security: [],
        response: { 200: BrokerStats },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      return stats();
    },
  );
};
