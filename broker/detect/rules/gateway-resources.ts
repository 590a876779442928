/**
 * Rule: the site gateway running out of resources (memory, disk, CPU load) or too hot, from
 * the agent's own health message: a general site ticket before the agent itself stops
 * working (a full disk, a gateway that throttles and then shuts down); resolved when the
 * gateway has resources again and has cooled down.
 */
import type { AgentHealth } from '../../../shared/messages/agent-health.js';
import { bare, message, type GatewayProblem } from '../../../shared/wording/messages.js';
import type { Condition } from '../conditions.js';
import type { DetectConfig } from '../config.js';
import { GATEWAY_RESOURCES, type DetectRule } from './types.js';

/**
 * Health messages in a row without a temperature after which a hot gateway is no longer
 * taken for hot: 10, five minutes at the agent's 30 s health interval. One message without
 * a reading (a thermal zone answering EAGAIN while the SoC throttles, a sensor driver
 * reloading) says nothing of the heat; closing the ticket on it would reopen it at the
 * next reading, flapping on exactly the boxes that fail. A sensor gone for good (or a
 * configuration without one) ends the alert after these.
 */
export const HEAT_UNREAD_REPORTS = 10;

/**
 * Whether the gateway counts as too hot. At or above `gatewayTempC` it is; once it was,
 * it stays so until the temperature is `gatewayTempHysteresisC` below the limit, so a
 * gateway hovering at the limit does not open and resolve a ticket at every reading. A
 * message without a temperature is unknown, not cold: it keeps what the last reading said
 * (`wasHot`; the rule forgets it after HEAT_UNREAD_REPORTS such messages). A gateway that
 * never reported one is never hot (many x86 boxes have no sensor the agent finds: no
 * reading is no alert).
 */
export function gatewayHot(health: AgentHealth, config: DetectConfig, wasHot: boolean): boolean {
  const celsius = health.gateway.temperatureC;
  if (celsius === undefined) return wasHot;
  if (celsius >= config.gatewayTempC) return true;
  return wasHot && celsius > config.gatewayTempC - config.gatewayTempHysteresisC;
}

/**
 * `cpuHighReports`: how many health messages in a row (this one included) had the CPU
 * load at or above the threshold. The agent's figure (agent/gateway.ts, from /proc/stat) is
 * the whole machine's load since the previous sample (0-100 %): one busy moment is not a
 * gateway short of CPU, so it counts after `gatewayCpuReports` reports in a row.
 * `hot`: the temperature counts (gatewayHot, with the rule's memory of the last reading).
 * `temperatureC`: the reading said, this message's or, when it has none, the last one.
 */
export function gatewayProblems(
  health: AgentHealth,
  config: DetectConfig,
  cpuHighReports = config.gatewayCpuReports,
  hot = gatewayHot(health, config, false),
  temperatureC = health.gateway.temperatureC,
): GatewayProblem[] {
  const problems: GatewayProblem[] = [];
  const { memUsedPct, diskUsedPct, cpuLoadPct } = health.gateway;
  if (memUsedPct >= config.gatewayMemPct) problems.push({ what: 'memory', pct: memUsedPct });
  if (diskUsedPct >= config.gatewayDiskPct) problems.push({ what: 'disk', pct: diskUsedPct });
  if (cpuLoadPct >= config.gatewayCpuPct && cpuHighReports >= config.gatewayCpuReports) {
    problems.push({ what: 'cpu', pct: cpuLoadPct });
  }
  if (hot && temperatureC !== undefined) {
    problems.push({ what: 'temperature', celsius: temperatureC, limitC: config.gatewayTempC });
  }
  return problems;
}

/** The open condition was raised with the heat among its problems (kept across restarts). */
function raisedHot(condition: Condition | undefined): boolean {
  const text = condition?.text;
  return (
    text?.code === 'detected.gateway-resources' &&
    text.params.problems.some((p) => p.what === 'temperature')
  );
}

/** What the rule remembers of an agent's heat: hot or not, the last reading, messages since. */
interface Heat {
  hot: boolean;
  celsius: number | undefined;
  unread: number;
}

/**
 * A rule with memory of its own, per agent: health messages in a row with the CPU busy,
 * and whether the gateway was too hot at the last reading.
 */
export function gatewayResources(): DetectRule {
  const cpuHighReports = new Map<string, number>();
  const heats = new Map<string, Heat>();
  return {
    name: 'gateway-resources',
    agentHealth(d, health) {
      const agentKey = `${health.siteId}|${health.agentId}`;
      const cpuHigh =
        health.gateway.cpuLoadPct >= d.config.gatewayCpuPct
          ? (cpuHighReports.get(agentKey) ?? 0) + 1
          : 0;
      cpuHighReports.set(agentKey, cpuHigh);
      const open = d.conditions.get(health.siteId, null, GATEWAY_RESOURCES);
      // One condition per site, owned by the gateway that raised it: another gateway of
      // the site in good health neither clears nor feeds it (review-a #9: two gateways
      // would open and resolve it on every health message). While it is open, a second
      // gateway's own problems wait for it to close (one gateway ticket per site).
      if (open && open.agentId !== null && open.agentId !== health.agentId) return;
      const existing = open;
      // The hysteresis only keeps an open alert open. After a broker restart the memory is
      // empty; the open condition still says whether it was raised for the heat.
      const before = heats.get(agentKey);
      const reading = health.gateway.temperatureC;
      const unread = reading === undefined ? (before?.unread ?? 0) + 1 : 0;
      const wasHot =
        existing && unread <= HEAT_UNREAD_REPORTS ? (before?.hot ?? raisedHot(existing)) : false;
      const hot = gatewayHot(health, d.config, wasHot);
      const celsius = reading ?? before?.celsius;
      heats.set(agentKey, { hot, celsius, unread });
      const problems = gatewayProblems(health, d.config, cpuHigh, hot, celsius);
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
