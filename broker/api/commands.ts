/**
 * POST /api/sites/:site/agents/:agent/commands (shared/api/commands.ts): an operator asks
 * an agent to poll now, rediscover or report its configuration, and gets its answer.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  CommandParams,
  CommandRequest,
  CommandResult,
  commandRoute,
} from '../../shared/api/commands.js';
import { AgentNoAnswer, type CommandSender } from '../commands/sender.js';
import { requireRole } from './tickets.js';

export const commandRoutes: FastifyPluginAsyncTypebox<{ commands: CommandSender }> = async (
  app,
  { commands },
) => {
  app.post(
    commandRoute,
    {
      schema: {
        summary: 'Send a command to an agent and wait for its answer',
        tags: ['agents'],
        params: CommandParams,
        body: CommandRequest,
        response: { 200: CommandResult, 504: ApiError },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator', 'Sending a command to an agent');
      const { site, agent } = request.params;
      const { command, deviceId, waitS } = request.body;
      try {
        return await commands.send(
          site,
          agent,
          { command, ...(deviceId ? { deviceId } : {}), by: user.username },
          waitS ?? 15,
        );
      } catch (error) {
        if (!(error instanceof AgentNoAnswer)) throw error;
        return reply.code(504).send({ code: 'VIGIL_AGENT_NO_ANSWER', message: error.message });
      }
    },
  );
};
