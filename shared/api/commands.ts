import { Type, type Static } from 'typebox';
import { Id } from '../ids.js';
import { AgentCommandResponse, CommandName } from '../messages/agent-command.js';
import { Fingerprint } from '../messages/device-state.js';

/**
 * POST /api/sites/:site/agents/:agent/commands: the NOC asks one agent to act now (poll
 * a device or all, rediscover, report its configuration) and gets the agent's answer
 * (shared/messages/agent-command.ts). Operators and admins; 504 when the agent does not
 * answer in time (offline: the command waits in its MQTT session and runs when it is back).
 */
export { commandPath, commandRoute } from './routes.js';

export const CommandParams = Type.Object({ site: Id, agent: Id });

export const CommandRequest = Type.Object(
  {
    command: CommandName,
    deviceId: Type.Optional(Id),
    /** trust-certificate: the presented fingerprint the operator accepts. */
    fingerprint: Type.Optional(Fingerprint),
    /** How long to wait for the answer, in seconds (default 15). */
    waitS: Type.Optional(Type.Number({ minimum: 1, maximum: 120 })),
  },
  { additionalProperties: false },
);

export const CommandResult = AgentCommandResponse;

export type CommandParams = Static<typeof CommandParams>;
export type CommandRequest = Static<typeof CommandRequest>;

export const commandRequestExample: CommandRequest = { command: 'poll-now', deviceId: 'cam-01' };
