/**
 * Which detected condition opens a ticket at which priority: the contract's default
 * mapping (docs/SERVICE-COMMITMENTS.md, "Priorities and time limits"),
 * every entry replaceable in the broker config (`tickets.priorities`).
 *
 * - emergency: a device that fails (camera or NVR stops answering), a site gateway that
 *   went offline, a large share of a site's cameras failing at once ("system unusable,
 *   business interrupted");
 * - serious: a device that fails again and again ("frequent problem");
 * - emergency too: an NVR whose recording stopped or whose storage failed;
 * - general: degradation that does not stop use (clock drift, storage filling, slow
 *   responses, firmware changed, credentials rejected, picture problems, gateway low on
 *   resources): every `degraded:<reason code>` not listed falls back to `degraded:*`.
 * - general too: a fault a person reports (`manual`, POST /api/tickets) when they give no
 *   priority. The contract's general is "an occasional problem that does not affect actual
 *   use"; a blurred or misaimed picture, the typical call, is that. Vigil reads no meaning
 *   into the words: who knows it is worse picks the priority, and an outage is detected.
 *
 * A device's criticality (site metadata) moves the priority one step: high raises
 * general to serious and serious to emergency; low lowers the other way.
 */
import type { Criticality } from '../../shared/api/sites.js';
import type { Fault, Priority } from '../../shared/api/tickets.js';
import type { Detection } from '../pipeline/types.js';

/** Condition -> priority; null opens no ticket. `degraded:*` is the fallback of degradations. */
export type PriorityRules = Record<string, Priority | null>;

export interface TicketRules {
  priorities: PriorityRules;
  /** Whether device criticality moves priorities; true by default. */
  useCriticality: boolean;
}

export const defaultPriorities: PriorityRules = {
  'device-down:camera': 'emergency',
  'device-down:nvr': 'emergency',
  'site-unreachable': 'emergency',
  'site-outage': 'emergency',
  flapping: 'serious',
  // The contract lists these with device failures: no recordings is business interrupted.
  'degraded:recording-stopped': 'emergency',
  'degraded:storage-failure': 'emergency',
  // A refused password: the device answers and records, only our watching stopped
  // ("does not affect actual use"); never counted as outage time (devices/outages.ts).
  'degraded:auth-failed': 'general',
  // A replaced device is an inventory change (the inspection report lists it), not a fault.
  'degraded:device-replaced': null,
  'degraded:*': 'general',
  // A person's report without a priority (never "none": a reported fault always opens).
  manual: 'general',
};

export const defaultRules: TicketRules = { priorities: defaultPriorities, useCriticality: true };

const ladder: readonly Priority[] = ['general', 'serious', 'emergency'];

/** The priority one step up (high) or down (low); normal keeps it. */
export function adjustForCriticality(priority: Priority, criticality: Criticality): Priority {
  const index = ladder.indexOf(priority);
  if (criticality === 'high') return ladder[Math.min(index + 1, ladder.length - 1)] ?? priority;
  if (criticality === 'low') return ladder[Math.max(index - 1, 0)] ?? priority;
  return priority;
}

/** The priority of a condition under the rules, before criticality; null: no ticket. */
export function priorityOf(condition: string, rules: TicketRules = defaultRules): Priority | null {
  if (Object.hasOwn(rules.priorities, condition)) return rules.priorities[condition] ?? null;
  if (condition.startsWith('degraded:')) return rules.priorities['degraded:*'] ?? null;
  return null;
}

/**
 * The priority of a manual ticket: the one the reporter chose, else the rules' `manual`
 * entry (general when the config removed it), moved by the device's criticality like a
 * detected fault's.
 */
export function manualPriority(
  chosen: Priority | undefined,
  rules: TicketRules = defaultRules,
  criticality: Criticality = 'normal',
): Priority {
  if (chosen !== undefined) return chosen;
  const base = priorityOf('manual', rules) ?? 'general';
  return rules.useCriticality ? adjustForCriticality(base, criticality) : base;
}

export type TicketDecision =
  | { action: 'open'; fault: Fault; priority: Priority }
  | { action: 'resolve'; fault: Fault }
  | { action: 'none' };

export function decide(
  detection: Detection,
  rules: TicketRules = defaultRules,
  criticality: Criticality = 'normal',
): TicketDecision {
  switch (detection.kind) {
    case 'fault': {
      const base = priorityOf(detection.condition, rules);
      if (base === null) return { action: 'none' };
      const priority = rules.useCriticality ? adjustForCriticality(base, criticality) : base;
      return { action: 'open', fault: detection.fault, priority };
    }
    case 'fault-cleared':
      // Resolves whatever ticket of the fault is open, even one opened under other rules.
      return { action: 'resolve', fault: detection.fault };
  }
}
