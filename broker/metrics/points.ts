/**
 * How agents' messages become metric points (docs/METRICS.md, "Measurements"): the one
 * home of the measurements' tags and fields. The store-metrics stage writes these points;
 * the InfluxDB store derives the fields it rolls up from them.
 *
 *   device  tags site, agent, device, kind   fields up and every value of the reading
 *   agent   tags site, agent                 fields uptimeS, queueDepth, checkErrors,
 *                                            devicesTotal/Up/Degraded/Down/Unknown,
 *                                            cpuLoadPct, memUsedPct, diskUsedPct, temperatureC,
 *                                            gatewayUptimeS, lastPollAgeS, spoolDepth/Bytes/
 *                                            OldestAgeS/Dropped, mqttConnected, mqttInFlight,
 *                                            lastOkPollMaxAgeS, devicesNeverOk
 */
import type { AgentHealth } from '../../shared/messages/agent-health.js';
import type { DeviceMetrics } from '../../shared/messages/device-metrics.js';
import type { MetricPoint } from './store.js';

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

/** Seconds from `at` (an ISO time) to the message's time; undefined without a time. */
function ageS(ts: number, at: string | null | undefined): number | undefined {
  if (!at) return undefined;
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? Math.max(0, (ts - ms) / 1000) : undefined;
}

/**
 * The per-device last good polls as two numbers for the `agent` measurement (its tags are
 * site and agent, so no per-device field): how stale the stalest answering device is,
 * and how many devices never answered a poll since the agent started.
 */
function lastOkPolls(health: AgentHealth, ts: number) {
  if (health.lastOkPollAt === undefined) return {};
  const entries = Object.values(health.lastOkPollAt);
  const ages = entries.map((at) => ageS(ts, at)).filter((a) => a !== undefined);
  return {
    lastOkPollMaxAgeS: ages.length > 0 ? Math.max(...ages) : undefined,
    devicesNeverOk: entries.filter((at) => at === null).length,
  };
}

export function agentPoint(health: AgentHealth): MetricPoint {
  const ts = Date.parse(health.ts);
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
      gatewayUptimeS: health.gateway.uptimeS,
      lastPollAgeS: ageS(ts, health.lastPollAt),
      spoolDepth: health.spool?.depth,
      spoolBytes: health.spool?.bytes,
      // null (empty spool) is left out, not written as 0: "no backlog" is spoolDepth 0.
      spoolOldestAgeS: health.spool?.oldestAgeS ?? undefined,
      spoolDropped: health.spool?.dropped,
      mqttConnected: health.mqtt === undefined ? undefined : health.mqtt.connected ? 1 : 0,
      mqttInFlight: health.mqtt?.inFlight,
      ...lastOkPolls(health, ts),
    }),
    time: new Date(health.ts),
  };
}
