/**
 * Reading tickets as the API sends them (shared/api/tickets.ts). Nothing here decides a
 * priority or computes a deadline: those come from the broker. This only tells which
 * recorded step ended which deadline's clock, so the console can stop a countdown.
 */
import type { DeadlineKind, Ticket } from './types.js';

/** Statuses the API's `?status=open` leaves out: the work is done. */
const finishedStatuses: ReadonlySet<Ticket['status']> = new Set(['resolved', 'closed']);

export function isFinished(ticket: Ticket): boolean {
  return finishedStatuses.has(ticket.status) || ticket.resolvedAt !== null;
}

export interface TicketDeadline {
  kind: DeadlineKind;
  /** The deadline; null where the contract sets none ("at an agreed time"). */
  due: string | null;
  /** When the step it limits was done, null while it is still to do. */
  doneAt: string | null;
}

/**
 * The timeline entry kind that meets each deadline: the first response is the
 * acknowledgement, the on-site deadline is met by arriving (service-commitments.md,
 * "Priorities and time limits"). Resolving the fault ends every clock still running.
 */
const stepOf: Record<Exclude<DeadlineKind, 'resolve'>, string> = {
  respond: 'acknowledged',
  onSite: 'on-site',
};

function firstStep(ticket: Ticket, kind: string): string | null {
  let first: string | null = null;
  for (const entry of ticket.timeline) {
    if (entry.kind !== kind) continue;
    if (first === null || Date.parse(entry.at) < Date.parse(first)) first = entry.at;
  }
  return first;
}

function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

export function deadlinesOf(ticket: Ticket): TicketDeadline[] {
  const resolvedAt = ticket.resolvedAt;
  return [
    {
      kind: 'respond',
      due: ticket.respondBy,
      doneAt: earliest(firstStep(ticket, stepOf.respond), resolvedAt),
    },
    {
      kind: 'onSite',
      due: ticket.onSiteBy,
      doneAt: earliest(firstStep(ticket, stepOf.onSite), resolvedAt),
    },
    { kind: 'resolve', due: ticket.resolveBy, doneAt: resolvedAt },
  ];
}

/** The running deadline that comes first, for ordering the desk; null when none runs. */
export function nextDue(ticket: Ticket): number | null {
  let next: number | null = null;
  for (const deadline of deadlinesOf(ticket)) {
    if (deadline.due === null || deadline.doneAt !== null) continue;
    const at = Date.parse(deadline.due);
    if (next === null || at < next) next = at;
  }
  return next;
}
