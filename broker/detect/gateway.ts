/**
 * Rule: the site gateway running out of resources (memory, disk, CPU load) from the
 * agent's own health message: a general ticket before the agent itself stops working.
 */
import type { AgentHealth } from '../../shared/messages/agent-health.js';
import type { DetectConfig } from './config.js';

export function gatewayProblems(health: AgentHealth, config: DetectConfig): string[] {
  const problems: string[] = [];
  const { memUsedPct, diskUsedPct, cpuLoadPct } = health.gateway;
  if (memUsedPct >= config.gatewayMemPct) problems.push(`memory ${memUsedPct.toFixed(0)} % used`);
  if (diskUsedPct >= config.gatewayDiskPct) problems.push(`disk ${diskUsedPct.toFixed(0)} % used`);
  if (cpuLoadPct >= config.gatewayCpuPct) problems.push(`CPU load ${cpuLoadPct.toFixed(0)} %`);
  return problems;
}
