/**
 * The MQTT topic tree of Vigil, version 1. No other file writes a topic string by hand
 * (STYLE habit 1): agent, broker and console build and parse topics here.
 *
 *   vigil/v1/{site}/agents/{agent}/status    retained: birth (online) or last will (offline)
 *   vigil/v1/{site}/agents/{agent}/health    the agent's own health, every health interval
 *   vigil/v1/{site}/agents/{agent}/commands  commands from the NOC to one agent
 *   vigil/v1/{site}/agents/{agent}/responses the agent's answers to those commands
 *   vigil/v1/{site}/agents/{agent}/batch     many agent messages in one (spool replay)
 *   vigil/v1/{site}/devices/{device}/state   retained: up / degraded / down / unknown
 *   vigil/v1/{site}/devices/{device}/metrics one reading per poll
 */
import { isId } from './ids.js';

export const TOPIC_ROOT = 'vigil/v1';

export type TopicKind =
  | 'agentStatus'
  | 'agentHealth'
  | 'agentCommands'
  | 'agentResponses'
  | 'agentBatch'
  | 'deviceState'
  | 'deviceMetrics';

export type ParsedTopic =
  | {
      kind: 'agentStatus' | 'agentHealth' | 'agentCommands' | 'agentResponses' | 'agentBatch';
      siteId: string;
      agentId: string;
    }
  | { kind: 'deviceState' | 'deviceMetrics'; siteId: string; deviceId: string };

function checked(...ids: string[]): void {
  for (const id of ids) {
    if (!isId(id)) {
      throw new Error(
        `"${id}" cannot be used in an MQTT topic: use letters, digits, "_", "." or "-" (at most 64)`,
      );
    }
  }
}

export const topics = {
  agentStatus(siteId: string, agentId: string): string {
    checked(siteId, agentId);
    return `${TOPIC_ROOT}/${siteId}/agents/${agentId}/status`;
  },
  agentHealth(siteId: string, agentId: string): string {
    checked(siteId, agentId);
    return `${TOPIC_ROOT}/${siteId}/agents/${agentId}/health`;
  },
  agentCommands(siteId: string, agentId: string): string {
    checked(siteId, agentId);
    return `${TOPIC_ROOT}/${siteId}/agents/${agentId}/commands`;
  },
  agentResponses(siteId: string, agentId: string): string {
    checked(siteId, agentId);
    return `${TOPIC_ROOT}/${siteId}/agents/${agentId}/responses`;
  },
  /** Many agent messages in one PUBLISH: how the agent replays its spool (agent-batch.ts). */
  agentBatch(siteId: string, agentId: string): string {
    checked(siteId, agentId);
    return `${TOPIC_ROOT}/${siteId}/agents/${agentId}/batch`;
  },
  deviceState(siteId: string, deviceId: string): string {
    checked(siteId, deviceId);
    return `${TOPIC_ROOT}/${siteId}/devices/${deviceId}/state`;
  },
  deviceMetrics(siteId: string, deviceId: string): string {
    checked(siteId, deviceId);
    return `${TOPIC_ROOT}/${siteId}/devices/${deviceId}/metrics`;
  },
} as const;

/** Subscription filters (MQTT 3.1.1 section 4.7.1 wildcards). */
export const filters = {
  everything: `${TOPIC_ROOT}/#`,
  site: (siteId: string): string => {
    checked(siteId);
    return `${TOPIC_ROOT}/${siteId}/#`;
  },
} as const;

const agentLeaves = {
  status: 'agentStatus',
  health: 'agentHealth',
  commands: 'agentCommands',
  responses: 'agentResponses',
  batch: 'agentBatch',
} as const;
const deviceLeaves = { state: 'deviceState', metrics: 'deviceMetrics' } as const;

/**
 * Parsed topics, remembered: the broker parses the topic of every message several times
 * (authorization, batch split, command answers, decode) and a fleet publishes on a
 * bounded set of topics (one per device and agent leaf). Dropped whole when it reaches
 * MEMO_LIMIT, so a client inventing topics cannot grow it.
 */
const memo = new Map<string, Readonly<ParsedTopic> | null>();
const MEMO_LIMIT = 50_000;

/**
 * Parses a topic of the tree; anything else (another version, a stray level) gives null.
 * The result is shared between callers and frozen: copy it to change it.
 */
export function parseTopic(topic: string): Readonly<ParsedTopic> | null {
  let parsed = memo.get(topic);
  if (parsed !== undefined) return parsed;
  parsed = parseTopicOnce(topic);
  if (parsed) Object.freeze(parsed);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(topic, parsed);
  return parsed;
}

function parseTopicOnce(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 6 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return null;
  const [, , siteId, branch, id, leaf] = parts as [string, string, string, string, string, string];
  if (!isId(siteId) || !isId(id)) return null;
  if (branch === 'agents' && Object.hasOwn(agentLeaves, leaf)) {
    return { kind: agentLeaves[leaf as keyof typeof agentLeaves], siteId, agentId: id };
  }
  if (branch === 'devices' && Object.hasOwn(deviceLeaves, leaf)) {
    return { kind: deviceLeaves[leaf as keyof typeof deviceLeaves], siteId, deviceId: id };
  }
  return null;
}
