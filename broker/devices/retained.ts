/**
 * The retained messages a broker node hands to new subscribers (console and internal
 * accounts, broker/mqtt/roles.ts), rebuilt from the stores. MQTT 3.1.1 section 3.3.1.3:
 * the server keeps the last retained message of each topic and sends it to every client
 * that subscribes to it. Aedes keeps them in the process's memory, so a node that starts
 * again, or the standby of a pair that takes over (docs/HA.md), holds none of what the
 * agents published before: a subscriber would not learn a camera's state until its agent
 * reported again (a reconnecting agent does, agent/agent.ts reportAgain; a gateway that is
 * gone never does). Before the node serves anyone it retains:
 *
 * 1. every device's latest state from the registry (its store is written before a state
 *    goes on, broker/stages/track-state.ts), as a state message rebuilt from it;
 * 2. then the retained messages among the journal's unfinished ones (acknowledged, not yet
 *    in the registry), as their agents sent them: newer than the registry's, they win.
 */
import type { Device } from '../../shared/api/devices.js';
import { contract } from '../../shared/contract.js';
import type { DeviceState } from '../../shared/messages/device-state.js';
import { parseTopic, topics } from '../../shared/topics.js';
import type { RetainedMessage } from '../mqtt/server.js';
import type { Envelope } from '../pipeline/types.js';

/**
 * A device's state as a state message (the inverse of track-state's deviceFromState); null
 * for a device no state message described yet. It is the broker's, not an agent's
 * message: seq 0 (no agent's run counts it), dated by the last time the device was heard
 * of. Its agent's next state replaces it.
 */
export function stateMessageOf(device: Device): DeviceState | null {
  if (device.since === null) return null;
  return {
    v: 1,
    siteId: device.siteId,
    agentId: device.agentId,
    seq: 0,
    ts: device.lastSeen ?? device.since,
    deviceId: device.id,
    name: device.name,
    kind: device.kind,
    xaddr: device.xaddr,
    status: device.status,
    since: device.since,
    reasons: device.reasons,
    ...(device.identity ? { identity: device.identity } : {}),
    ...(device.recordings ? { recordings: device.recordings } : {}),
  };
}

/** Whether a message on `topic` is retained by the contract (shared/contract.ts). */
function retainedTopic(topic: string): boolean {
  const kind = parseTopic(topic)?.kind;
  return kind !== undefined && kind in contract && contract[kind as keyof typeof contract].retained;
}

/**
 * What a node retains before it serves: the registry's states, then the journal's
 * unfinished retained messages in journal order; one message per topic, the last one.
 */
export function retainedMessages(
  devices: readonly Device[],
  unfinished: readonly Envelope[],
): RetainedMessage[] {
  const byTopic = new Map<string, Buffer>();
  for (const device of devices) {
    const state = stateMessageOf(device);
    if (state)
      byTopic.set(topics.deviceState(device.siteId, device.id), Buffer.from(JSON.stringify(state)));
  }
  for (const envelope of unfinished) {
    if (!retainedTopic(envelope.topic)) continue;
    byTopic.delete(envelope.topic);
    byTopic.set(envelope.topic, envelope.payload);
  }
  return [...byTopic].map(([topic, payload]) => ({ topic, payload }));
}
