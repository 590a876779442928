/**
 * The contract's deadlines of a ticket and the state of their clocks. Service is
 * 7x24x365 (service-commitments.md): the clock pauses only for a maintenance window,
 * so a deadline is plain elapsed time on the UTC timeline; month and year ends, leap
 * days and daylight saving change nothing.
 */
import type { Priority, SlaClock, SlaDeadline } from '../../shared/api/tickets.js';
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

/** Share of a deadline's time after which its clock warns, by default (80 %). */
export const DEFAULT_WARN_SHARE = 0.8;

/** The stored state of one clock; the API's SlaClock (slaClockAt below) adds the state derived from a time. */
export interface SlaRow {
  ticket_id: number;
  deadline: SlaDeadline;
  allowed_min: number;
  due: string;
  done_at: string | null;
  warned_at: string | null;
  breached_at: string | null;
  paused_ms: number;
  paused_since: string | null;
}

/**
 * The clock as the API shows it at `now`, with the instants it turns to warning
 * (`warnAt`) and to breached (`due`), so the console counts down to those and applies
 * no share of its own. A paused clock's due time runs on with the pause, so the
 * countdown the console shows stands still.
 */
export function slaClockAt(row: SlaRow, now: Date, warnShare = DEFAULT_WARN_SHARE): SlaClock {
  const pausedNow =
    row.paused_since === null ? 0 : Math.max(0, now.getTime() - Date.parse(row.paused_since));
  const due = Date.parse(row.due) + pausedNow;
  const allowedMs = row.allowed_min * MINUTE_MS;
  // From the start (due less the allowed time, pauses included) plus the share, rounded
  // to the millisecond the timestamp can carry: the broker warns at exactly the instant
  // the API sends, so console and broker turn at the same moment.
  const warnAt = Math.round(due - allowedMs + warnShare * allowedMs);
  const at = now.getTime();
  let state: SlaClock['state'];
  if (row.done_at !== null) {
    state = row.breached_at !== null || Date.parse(row.done_at) > due ? 'breached' : 'met';
  } else if (row.paused_since !== null) state = 'paused';
  else if (row.breached_at !== null || at >= due) state = 'breached';
  else if (row.warned_at !== null || at >= warnAt) state = 'warning';
  else state = 'running';
  return {
    deadline: row.deadline,
    state,
    allowedMin: row.allowed_min,
    due: new Date(due).toISOString(),
    warnAt: new Date(warnAt).toISOString(),
    doneAt: row.done_at,
    warnedAt: row.warned_at,
    breachedAt: row.breached_at,
    pausedMs: row.paused_ms + pausedNow,
  };
}
