/**
 * What a detection rule is and what it sees. A rule is a named step with hooks: inputs
 * (a device's new state, an agent gone or back, an agent's health, the clock) raise and
 * clear conditions in the detector's table; `decide` runs per site, in the order of
 * ./index.ts, and holds conditions back or opens them. The detector owns the state and
 * the order; rules hold only their logic and never import each other.
 */
import type { Device } from '../../../shared/api/devices.js';
import type { AgentHealth } from '../../../shared/messages/agent-health.js';
import type { DeviceMetrics } from '../../../shared/messages/device-metrics.js';
import type { Message } from '../../../shared/wording/messages.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import type { Detection } from '../../pipeline/types.js';
import type { AgentTable } from '../agent-table.js';
import type { Condition, ConditionTable } from '../conditions.js';
import type { DetectConfig } from '../config.js';
import type { FailureLog } from '../failure-log.js';

/** The detector as its rules see it: its state, its dependencies and its outputs. */
export interface DetectContext {
  readonly config: DetectConfig;
  readonly conditions: ConditionTable;
  readonly agents: AgentTable;
  readonly failures: FailureLog;
  readonly registry: DeviceRegistry;
  /** The broker's clock, ms. */
  now(): number;
  /** True while a maintenance window covers the device (deviceId null: the whole site). */
  underMaintenance(siteId: string, deviceId: string | null, at: number): boolean;
  /** The cameras an NVR records, from the site metadata. */
  recordedBy(siteId: string, nvrId: string): string[];
  /** Days of recordings the site's NVRs must keep (shared/api/sites.ts); 0: no goal. */
  retentionGoalDays(siteId: string): number;
  /** Asks for the condition's ticket now (again, when its covers or text changed). */
  open(condition: Condition): void;
  /** Removes the condition; its ticket, if it asked for one, resolves with `why`. */
  clear(condition: Condition, why: Message): void;
  /** A detection of the rule's own (a ticket of a previous run to resolve). */
  emit(detection: Detection): void;
  /** Decides again once a hold that starts now is over (instead of at the next tick). */
  wakeAfterHold(): void;
}

/** One site's decision in progress: its conditions and which ones a rule held back. */
export interface SiteDecision {
  readonly siteId: string;
  readonly now: number;
  /** The site's conditions when the decision started. */
  readonly conditions: readonly Condition[];
  /** Keeps the condition from getting a ticket in this decision; the first rule to hold it is kept. */
  hold(condition: Condition, rule: string): void;
  /** The rule that held the condition back, if any. */
  heldBy(condition: Condition): string | undefined;
}

export interface DetectRule {
  /** Names the rule in docs and logs: "site-unreachable", "mass-outage" ... */
  readonly name: string;
  /** A device's state message, after the registry stored it. */
  deviceChanged?(d: DetectContext, previous: Device | undefined, device: Device): void;
  /** The agent's will or shutdown (`reason`), or its silence past the heartbeat timeout. */
  agentOffline?(d: DetectContext, siteId: string, agentId: string): void;
  /** A message from an agent that was offline (or not known since the broker started). */
  agentBack?(d: DetectContext, siteId: string, agentId: string): void;
  agentHealth?(d: DetectContext, health: AgentHealth): void;
  /**
   * A device's reading (every poll of every device). True when the rule raised or cleared
   * a condition: only then is the site decided again, so a reading costs no decision.
   */
  deviceMetrics?(d: DetectContext, metrics: DeviceMetrics): boolean;
  /** The broker's clock. */
  tick?(d: DetectContext): void;
  /** The rule's part of a site's decision, in the order of ./index.ts. */
  decide?(d: DetectContext, site: SiteDecision): void;
}

/** Fault names the rules share (the ticket's `fault`). */
export const DEVICE_DOWN = 'device-down';
export const SITE_UNREACHABLE = 'site-unreachable';
export const SITE_OUTAGE = 'site-outage';
export const FLAPPING = 'flapping';
export const DEGRADED = 'degraded:';
export const GATEWAY_RESOURCES = 'degraded:gateway-resources';
/** Judged from a reading, not from a reason the agent reports (./retention-short.ts). */
export const RETENTION_SHORT = 'degraded:retention-short';

/** How a title names a device. */
export function named(device: Pick<Device, 'kind' | 'name' | 'id'>) {
  return { kind: device.kind, name: device.name, device: device.id };
}
