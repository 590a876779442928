/**
 * Which topics an agent may use: least privilege for every agent (the contract's security
 * section). Pure functions over shared/topics.ts, so the rules read in one place and a
 * unit test covers each of them.
 */
import { parseTopic, topics } from '../../shared/topics.js';
import type { AgentIdentity } from '../agents/store.js';

export type Decision = { allowed: true } | { allowed: false; reason: string };

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

/**
 * An agent publishes its own status and health under vigil/v1/{its site}/agents/{itself}/
 * and the state and metrics of the devices of its site under vigil/v1/{its site}/devices/.
 * Anything else is refused, including its own commands topic (the NOC writes commands,
 * an agent only reads them) and topics outside the tree.
 */
export function mayPublish(agent: AgentIdentity, topic: string): Decision {
  const parsed = parseTopic(topic);
  if (!parsed) return deny('not a topic of the vigil/v1 tree');
  if (parsed.siteId !== agent.siteId)
    return deny(`site "${parsed.siteId}" is not the agent's site "${agent.siteId}"`);
  switch (parsed.kind) {
    // Its status and health, its answers to NOC commands, and batches of its own messages
    // (spool replay; the records inside are checked one by one when the batch is split,
    // broker/stages/decode.ts).
    case 'agentStatus':
    case 'agentHealth':
    case 'agentResponses':
    case 'agentBatch':
      return parsed.agentId === agent.agentId
        ? allow
        : deny(`agent "${parsed.agentId}" is not the publishing agent "${agent.agentId}"`);
    case 'agentCommands':
      return deny('commands are published by the NOC, not by agents');
    case 'deviceState':
    case 'deviceMetrics':
      return allow;
  }
}

/**
 * An agent subscribes to its own commands topic and nothing else: no wildcard, no other
 * agent's commands, no $SYS (MQTT 3.1.1 section 4.7.2: $-topics are the server's).
 */
export function maySubscribe(agent: AgentIdentity, filter: string): Decision {
  const own = topics.agentCommands(agent.siteId, agent.agentId);
  return filter === own ? allow : deny(`an agent may subscribe only to ${own}`);
}
