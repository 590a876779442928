/**
 * Rule: the site gateway running out of resources (memory, disk, CPU load) from the
 * agent's own health message: a general site ticket before the agent itself stops
 * working; resolved when the gateway has resources again.
 */
import type { AgentHealth } from '../../../shared/messages/agent-health.js';
import { bare, message, type GatewayProblem } from '../../../shared/wording/messages.js';
import type { DetectConfig } from '../config.js';
import { GATEWAY_RESOURCES, type DetectRule } from './types.js';

/**
 * `cpuHighReports`: how many health messages in a row (this one included) had the CPU
 * load at or above the threshold. The agent's figure is systeminformation's currentLoad,
 * the whole machine's load since the previous sample (0-100 %): one busy moment is not a
 * gateway short of CPU, so it counts after `gatewayCpuReports` reports in a row.
 */
export function gatewayProblems(
  health: AgentHealth,
  config: DetectConfig,
  cpuHighReports = config.gatewayCpuReports,
): GatewayProblem[] {
  const problems: GatewayProblem[] = [];
  const { memUsedPct, diskUsedPct, cpuLoadPct } = health.gateway;
  if (memUsedPct >= config.gatewayMemPct) problems.push({ what: 'memory', pct: memUsedPct });
  if (diskUsedPct >= config.gatewayDiskPct) problems.push({ what: 'disk', pct: diskUsedPct });
  if (cpuLoadPct >= config.gatewayCpuPct && cpuHighReports >= config.gatewayCpuReports) {
    problems.push({ what: 'cpu', pct: cpuLoadPct });
  }
  return problems;
}

/** A rule with memory of its own: per agent, health messages in a row with the CPU busy. */
export function gatewayResources(): DetectRule {
  const cpuHighReports = new Map<string, number>();
  return {
    name: 'gateway-resources',
    agentHealth(d, health) {
      const agentKey = `${health.siteId}|${health.agentId}`;
      const cpuHigh =
        health.gateway.cpuLoadPct >= d.config.gatewayCpuPct
          ? (cpuHighReports.get(agentKey) ?? 0) + 1
          : 0;
      cpuHighReports.set(agentKey, cpuHigh);
      const problems = gatewayProblems(health, d.config, cpuHigh);
      const existing = d.conditions.get(health.siteId, null, GATEWAY_RESOURCES);
      if (problems.length > 0 && !existing) {
        const now = d.now();
        d.conditions.raise({
          siteId: health.siteId,
          deviceId: null,
          agentId: health.agentId,
          kind: null,
          fault: GATEWAY_RESOURCES,
          condition: GATEWAY_RESOURCES,
          title: message('title.gateway-resources', { agent: health.agentId, problems }),
          text: message('detected.gateway-resources', { problems }),
          since: now,
          heldUntil: now,
          ticketed: false,
          covers: [],
        });
      } else if (problems.length === 0 && existing) {
        d.clear(existing, bare('resolved.gateway-ok'));
      }
    },
  };
}
