/**
 * store-metrics: device readings and agent health become metric points (docs/METRICS.md)
 * and go to the batching writer; the message goes on without waiting for the store.
 *
 *   device  tags site, agent, device, kind   fields up, responseMs, clockOffsetS, profiles
 *   agent   tags site, agent                 fields uptimeS, queueDepth, checkErrors,
 *                                            devicesTotal/Up/Degraded/Down/Unknown,
 *                                            cpuLoadPct, memUsedPct, diskUsedPct, temperatureC
 */
import type { AgentHealth } from '../../shared/messages/agent-health.js';
import type { DeviceMetrics } from '../../shared/messages/device-metrics.js';
import type { MetricPoint } from '../metrics/store.js';
import type { Stage } from '../pipeline/types.js';

/**
 * Where points go: the MetricsWriter in the broker, a list in tests. A promise returned
 * resolves once the points are stored; the message is finished in the journal then.
 */
export interface PointSink {
  add(points: MetricPoint[]): void | Promise<void>;
}

/** Copies the defined values only: a field missing from a reading stays absent. */
function defined(
  values: Record<string, number | boolean | undefined>,
): Record<string, number | boolean> {
  const fields: Record<string, number | boolean> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) fields[name] = value;
  return fields;
}

export function devicePoint(metrics: DeviceMetrics): MetricPoint {
  return {
    measurement: 'device',
    tags: {
      site: metrics.siteId,
      agent: metrics.agentId,
      device: metrics.deviceId,
      kind: metrics.kind,
    },
    fields: defined({ ...metrics.values }),
    time: new Date(metrics.ts),
  };
}

export function agentPoint(health: AgentHealth): MetricPoint {
  return {
    measurement: 'agent',
    tags: { site: health.siteId, agent: health.agentId },
    fields: defined({
      uptimeS: health.uptimeS,
      queueDepth: health.queueDepth,
      checkErrors: health.checkErrors,
      devicesTotal: health.devices.total,
      devicesUp: health.devices.up,
      devicesDegraded: health.devices.degraded,
      devicesDown: health.devices.down,
      devicesUnknown: health.devices.unknown,
      cpuLoadPct: health.gateway.cpuLoadPct,
      memUsedPct: health.gateway.memUsedPct,
      diskUsedPct: health.gateway.diskUsedPct,
      temperatureC: health.gateway.temperatureC,
    }),
    time: new Date(health.ts),
  };
}

export function storeMetricsStage(sink: PointSink): Stage {
  return {
    name: 'store-metrics',
    run(ctx) {
      let point: MetricPoint | null = null;
      if (ctx.message?.kind === 'deviceMetrics') point = devicePoint(ctx.message.payload);
      else if (ctx.message?.kind === 'agentHealth') point = agentPoint(ctx.message.payload);
      if (point) {
        const stored = sink.add([point]);
        if (stored) (ctx.pending ??= []).push(stored);
      }
      return 'continue';
    },
  };
}
