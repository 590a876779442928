/**
 * Sends NOC commands to agents and matches their answers. A command is published at QoS
 * 1 on the agent's commands topic (not retained: a retained command would run again on
 * every reconnect); the agent answers on its responses topic with the command's id, and
 * `observe` (fed every message the broker accepts) resolves the waiting request.
 */
import { randomUUID } from 'node:crypto';
import { carriers } from '../../shared/contract.js';
import type {
  AgentCommand,
  AgentCommandResponse,
  CommandName,
} from '../../shared/messages/agent-command.js';
import { parseTopic, topics } from '../../shared/topics.js';
import { validator } from '../../shared/validate.js';
import type { Envelope } from '../pipeline/types.js';

const checkResponse = validator(carriers.agentResponses.schema);

export interface CommandSenderOptions {
  /** Publishes at QoS 1 through the broker (the MQTT server). */
  publish: (topic: string, payload: string) => Promise<void>;
}

interface Waiting {
  siteId: string;
  agentId: string;
  resolve: (response: AgentCommandResponse) => void;
  timer: NodeJS.Timeout;
}

export class AgentNoAnswer extends Error {
  constructor(siteId: string, agentId: string, waitS: number) {
    super(
      `agent ${agentId} of site ${siteId} did not answer within ${waitS} s; if it is offline, the command waits in its session and runs when it reconnects`,
    );
    this.name = 'AgentNoAnswer';
  }
}

export class CommandSender {
  readonly #options: CommandSenderOptions;
  readonly #waiting = new Map<string, Waiting>();

  constructor(options: CommandSenderOptions) {
    this.#options = options;
  }

  /** Commands sent and not answered yet. */
  get pending(): number {
    return this.#waiting.size;
  }

  async send(
    siteId: string,
    agentId: string,
    request: { command: CommandName; deviceId?: string; fingerprint?: string; by?: string },
    waitS = 15,
  ): Promise<AgentCommandResponse> {
    const command: AgentCommand = {
      v: 1,
      id: `c-${randomUUID()}`,
      ts: new Date().toISOString(),
      command: request.command,
      ...(request.deviceId ? { deviceId: request.deviceId } : {}),
      ...(request.fingerprint ? { fingerprint: request.fingerprint } : {}),
      ...(request.by ? { by: request.by } : {}),
    };
    const answered = new Promise<AgentCommandResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(command.id);
        reject(new AgentNoAnswer(siteId, agentId, waitS));
      }, waitS * 1000);
      this.#waiting.set(command.id, { siteId, agentId, resolve, timer });
    });
    try {
      await this.#options.publish(topics.agentCommands(siteId, agentId), JSON.stringify(command));
    } catch (error) {
      const waiting = this.#waiting.get(command.id);
      if (waiting) clearTimeout(waiting.timer);
      this.#waiting.delete(command.id);
      answered.catch(() => undefined);
      throw error;
    }
    return answered;
  }

  /** Looks at a message the broker accepted: an agent's answer ends a wait. */
  observe(envelope: Envelope): void {
    const topic = parseTopic(envelope.topic);
    if (topic?.kind !== 'agentResponses') return;
    let raw: unknown;
    try {
      raw = JSON.parse(envelope.payload.toString('utf8'));
    } catch {
      return;
    }
    const checked = checkResponse(raw);
    if (!checked.ok) return;
    const response = checked.value as AgentCommandResponse;
    const waiting = this.#waiting.get(response.commandId);
    // Only the agent the command went to may answer it.
    if (!waiting || waiting.siteId !== topic.siteId || waiting.agentId !== topic.agentId) return;
    if (envelope.agent && envelope.agent.agentId !== waiting.agentId) return;
    clearTimeout(waiting.timer);
    this.#waiting.delete(response.commandId);
    waiting.resolve(response);
  }

  /** Ends every wait (broker stopping). */
  stop(): void {
    for (const waiting of this.#waiting.values()) clearTimeout(waiting.timer);
    this.#waiting.clear();
  }
}
