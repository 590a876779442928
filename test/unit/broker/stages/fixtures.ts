/** Messages as an agent sends them, built from the contract's examples. */
import type { Envelope, PipelineContext } from '../../../../broker/pipeline/types.js';
import { agentHealthExample } from '../../../../shared/messages/agent-health.js';
import { deviceMetricsExample } from '../../../../shared/messages/device-metrics.js';
import { deviceStateExample, type DeviceState } from '../../../../shared/messages/device-state.js';
import { topics } from '../../../../shared/topics.js';

export const agent = { siteId: 'demo-site', agentId: 'gw-01' };

export function envelope(topic: string, payload: unknown, clientId = 'gw-01-client'): Envelope {
  return {
    topic,
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    clientId,
    agent,
    receivedAt: new Date('2026-11-26T08:05:00.000Z'),
  };
}

export function context(env: Envelope): PipelineContext {
  return { envelope: env, detections: [] };
}

export function stateMessage(overrides: Partial<DeviceState> = {}): Envelope {
  const state = { ...deviceStateExample, ...overrides };
  return envelope(topics.deviceState(state.siteId, state.deviceId), state);
}

export function metricsMessage(
  values = deviceMetricsExample.values,
  ts = deviceMetricsExample.ts,
): Envelope {
  const metrics = { ...deviceMetricsExample, values, ts };
  return envelope(topics.deviceMetrics(metrics.siteId, metrics.deviceId), metrics);
}

export function healthMessage(): Envelope {
  return envelope(
    topics.agentHealth(agentHealthExample.siteId, agentHealthExample.agentId),
    agentHealthExample,
  );
}
