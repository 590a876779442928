/**
 * The detector's table of active conditions: one entry per site, device and fault that
 * is true now, whether or not it has a ticket yet (it may be held, suppressed by a
 * parent, or under maintenance). Rules fill and empty it, and their `decide` hooks
 * (./rules/index.ts) say which entries need a ticket.
 */
import type { Device } from '../../shared/api/devices.js';
import type { Message } from '../../shared/wording/messages.js';

export interface Condition {
  siteId: string;
  deviceId: string | null;
  /** The agent that watches the device (site-unreachable: the agent that went away). */
  agentId: string | null;
  kind: Device['kind'] | null;
  fault: string;
  /** Rule name for the priority table: device-down:camera, flapping, degraded:clock-drift ... */
  condition: string;
  /** The ticket's title and its "detected" entry, as codes (shared/wording/). */
  title: Message;
  text: Message;
  since: number;
  /** No ticket before this time (ms). */
  heldUntil: number;
  /** A ticket was asked for. */
  ticketed: boolean;
  covers: string[];
}

export function conditionKey(siteId: string, deviceId: string | null, fault: string): string {
  return `${siteId}|${deviceId ?? ''}|${fault}`;
}

export class ConditionTable {
  private readonly entries = new Map<string, Condition>();

  get(siteId: string, deviceId: string | null, fault: string): Condition | undefined {
    return this.entries.get(conditionKey(siteId, deviceId, fault));
  }

  has(siteId: string, deviceId: string | null, fault: string): boolean {
    return this.entries.has(conditionKey(siteId, deviceId, fault));
  }

  /** Adds the condition unless it is already there; returns the one in the table. */
  raise(condition: Condition): Condition {
    const key = conditionKey(condition.siteId, condition.deviceId, condition.fault);
    const existing = this.entries.get(key);
    if (existing) return existing;
    this.entries.set(key, condition);
    return condition;
  }

  clear(siteId: string, deviceId: string | null, fault: string): Condition | undefined {
    const key = conditionKey(siteId, deviceId, fault);
    const existing = this.entries.get(key);
    this.entries.delete(key);
    return existing;
  }

  /** The table of a previous run (the state store). */
  /** Replaces the table with what a store kept (start, or taking over as leader). */
  load(conditions: readonly Condition[]): void {
    this.entries.clear();
    for (const condition of conditions) this.raise({ ...condition, covers: [...condition.covers] });
  }

  all(): Condition[] {
    return [...this.entries.values()];
  }

  ofSite(siteId: string): Condition[] {
    return this.all().filter((c) => c.siteId === siteId);
  }
}
