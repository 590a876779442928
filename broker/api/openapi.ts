/**
 * GET /api/openapi.json: the OpenAPI 3 document @fastify/swagger builds from the route
 * schemas (shared/api/*), so it cannot drift from what the routes accept and answer.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { apiRoutes } from '../../shared/api/routes.js';

export const openapiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(apiRoutes.openapi, { config: { scope: 'signed-in' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
};
