/**
 * The MQTT contract: for every topic kind, the schema of its payload, whether it is
 * retained, and a validated example (the idea of zigbee2mqtt's lib/types/api.ts).
 * Agent and broker both read this map; a test validates every example against it.
 */
import type { Static, TSchema } from 'typebox';
import { AgentBatch, agentBatchExample } from './messages/agent-batch.js';
import {
  AgentCommand,
  AgentCommandResponse,
  agentCommandExample,
  agentCommandResponseExample,
} from './messages/agent-command.js';
import { AgentHealth, agentHealthExample } from './messages/agent-health.js';
import {
  AgentStatus,
  agentOfflineExample,
  agentOnlineDiscoveredExample,
  agentOnlineExample,
} from './messages/agent-status.js';
import { DeviceMetrics, deviceMetricsExample } from './messages/device-metrics.js';
import { DeviceState, deviceStateExample, deviceStateNvrExample } from './messages/device-state.js';
import type { TopicKind } from './topics.js';

interface Entry<S extends TSchema> {
  schema: S;
  retained: boolean;
  examples: Static<S>[];
}

function entry<S extends TSchema>(schema: S, retained: boolean, examples: Static<S>[]): Entry<S> {
  return { schema, retained, examples };
}

export const contract = {
  agentStatus: entry(AgentStatus, true, [
    agentOnlineExample,
    agentOnlineDiscoveredExample,
    agentOfflineExample,
  ]),
  agentHealth: entry(AgentHealth, false, [agentHealthExample]),
  deviceState: entry(DeviceState, true, [deviceStateExample, deviceStateNvrExample]),
  deviceMetrics: entry(DeviceMetrics, false, [deviceMetricsExample]),
} satisfies Partial<Record<TopicKind, Entry<TSchema>>>;

/**
 * Topics that are not one agent message each: the batch that carries many of them (the
 * broker splits it before its pipeline), and the command exchange with the NOC.
 */
export const carriers = {
  agentBatch: entry(AgentBatch, false, [agentBatchExample]),
  agentCommands: entry(AgentCommand, false, [agentCommandExample]),
  agentResponses: entry(AgentCommandResponse, false, [agentCommandResponseExample]),
} satisfies Partial<Record<TopicKind, Entry<TSchema>>>;

export type PublishedKind = keyof typeof contract;
export type PayloadOf<K extends PublishedKind> = Static<(typeof contract)[K]['schema']>;
