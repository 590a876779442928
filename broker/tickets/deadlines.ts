/**
 * The contract's deadlines of a ticket. Service is 7x24x365 (service-commitments.md):
 * the clock never pauses, so a deadline is plain elapsed time on the UTC timeline;
 * month and year ends, leap days and daylight saving change nothing.
 */
import type { Priority } from '../../shared/api/tickets.js';
import type { SlaTable } from './types.js';

export interface Deadlines {
  respondBy: Date | null;
  onSiteBy: Date | null;
  resolveBy: Date | null;
}

const MINUTE_MS = 60_000;

export function addMinutes(at: Date, minutes: number): Date {
  return new Date(at.getTime() + minutes * MINUTE_MS);
}

export function deadlinesFor(priority: Priority, openedAt: Date, sla: SlaTable): Deadlines {
  const terms = sla[priority];
  const after = (minutes: number | null) =>
    minutes === null ? null : addMinutes(openedAt, minutes);
  return {
    respondBy: after(terms.respondMin),
    onSiteBy: after(terms.onSiteMin),
    resolveBy: after(terms.resolveMin),
  };
}
