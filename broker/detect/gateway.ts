/**
 * Rule: the site gateway running out of resources (memory, disk, CPU load) from the
 * agent's own health message: a general ticket before the agent itself stops working.
 */
import type { AgentHealth } from '../../shared/messages/agent-health.js';
import type { DetectConfig } from './config.js';

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
): string[] {
  const problems: string[] = [];
  const { memUsedPct, diskUsedPct, cpuLoadPct } = health.gateway;
  if (memUsedPct >= config.gatewayMemPct) problems.push(`memory ${memUsedPct.toFixed(0)} % used`);
  if (diskUsedPct >= config.gatewayDiskPct) problems.push(`disk ${diskUsedPct.toFixed(0)} % used`);
  if (cpuLoadPct >= config.gatewayCpuPct && cpuHighReports >= config.gatewayCpuReports) {
    problems.push(`CPU load ${cpuLoadPct.toFixed(0)} %`);
  }
  return problems;
}
