/**
 * POST /api/sites/:site/agents/:agent/commands (shared/api/commands.ts): an operator asks
 * an agent to poll now, rediscover or report its configuration, or to accept the new
 * HTTPS certificate of a device, and gets its answer. Accepting a certificate is audited
 * (who, when, which device, the previous and accepted fingerprints, and whether the agent
 * did it), since it decides which machine the agent trusts as that camera. No answer in
 * time is audited as an unknown outcome, not a refusal: the command waits in the agent's
 * MQTT session and may still be carried out (shared/api/commands.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  CommandParams,
  CommandRequest,
  CommandResult,
  commandRoute,
} from '../../shared/api/commands.js';
import type { AuditStore } from '../audit-trail.js';
import { AgentNoAnswer, type CommandSender } from '../commands/sender.js';
import { requireRole } from './tickets.js';

export const commandRoutes: FastifyPluginAsyncTypebox<{
  commands: CommandSender;
  /** The audit trail; absent in API-only tests. */
  audit?: AuditStore;
}> = async (app, { commands, audit }) => {
  app.post(
    commandRoute,
    {
      config: { scope: 'staff' },
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
      const { command, deviceId, fingerprint, waitS } = request.body;
      const trusting = command === 'trust-certificate';
      const record = async (detail: Record<string, unknown>): Promise<void> =>
        await audit?.add(
          user.username,
          'device.trust-certificate',
          `device:${site}/${deviceId ?? ''}`,
          {
            agent,
            fingerprint,
            ...detail,
          },
        );
      let answer;
      try {
        answer = await commands.send(
          site,
          agent,
          {
            command,
            ...(deviceId ? { deviceId } : {}),
            ...(fingerprint ? { fingerprint } : {}),
            by: user.username,
          },
          waitS ?? 15,
        );
      } catch (error) {
        if (!(error instanceof AgentNoAnswer)) throw error;
        if (trusting) await record({ outcome: 'unknown', error: error.message });
        return reply.code(504).send({ code: 'VIGIL_AGENT_NO_ANSWER', message: error.message });
      }
      if (trusting) {
        const trusted = answer.result?.trusted as { previous?: unknown } | undefined;
        await record(
          answer.ok
            ? { ok: true, previous: trusted?.previous ?? null }
            : { ok: false, error: answer.error },
        );
      }
      return answer;
    },
  );
};
