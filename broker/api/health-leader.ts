/**
 * GET /api/health/leader, for the load balancer in front of an active/standby pair
 * (issue 17 part 3, docs/HA.md; deploy/'s haproxy checks it): 200 on the node that leads,
 * 503 on a standby, so only the leader gets agents and consoles. A broker without
 * `database.url` is a single node and always answers 200. Public, like /api/health: the
 * balancer has no session, and the answer names no site, device or person.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { apiRoutes } from '../../shared/api/routes.js';

export type LeaderRole = 'leader' | 'standby' | 'single';

const LeaderAnswer = Type.Object({
  role: Type.Union([Type.Literal('leader'), Type.Literal('standby'), Type.Literal('single')], {
    description:
      'leader: this node acknowledges messages; standby: another node (or none yet) does; single: no database.url, one node alone',
  }),
});

/**
 * Served without a session. Both spellings of "public" (the flag and the audience), so the
 * route stays public whichever way broker/api/auth.ts asks; kept out of the literal so the
 * type of the route's config does not need to know either.
 */
const openToAll = { public: true, scope: 'public' } as const;

export const leaderRoutes: FastifyPluginAsyncTypebox<{ role: () => LeaderRole }> = async (
  app,
  { role },
) => {
  app.get(
    apiRoutes.healthLeader,
    {
      config: openToAll,
      schema: {
        summary:
          'Whether this broker node leads its active/standby pair: 200 on the leader (or a single node), 503 on a standby',
        tags: ['health'],
        security: [],
        response: { 200: LeaderAnswer, 503: LeaderAnswer },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      const now = role();
      return reply.code(now === 'standby' ? 503 : 200).send({ role: now });
    },
  );
};
