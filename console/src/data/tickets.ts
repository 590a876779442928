/**
 * Reading tickets as the API sends them (shared/api/tickets.ts). Nothing here decides a
 * priority, a deadline or when a clock warns: those come from the broker, and the
 * workflow's rules from shared/ticket-workflow.ts. This reads the broker's clocks of a
 * ticket (for a ticket without them, which recorded step ended which deadline), orders
 * the desk and filters it.
 */
import { isFinishedStatus } from '../../../shared/ticket-workflow.js';
import type { CountdownClock } from '../countdown.js';
import type { DeadlineKind, Ticket } from './types.js';

/** The work is done: a finished status (the API's `?status=open` leaves it out). */
export function isFinished(ticket: Ticket): boolean {
  return isFinishedStatus(ticket.status) || ticket.resolvedAt !== null;
}

/** One deadline of a ticket, as vigil-countdown shows it (countdown.ts). */
export interface TicketDeadline extends CountdownClock {
  kind: DeadlineKind;
}

const slaName: Record<DeadlineKind, string> = {
  respond: 'respond',
  onSite: 'on-site',
  resolve: 'resolve',
  partReplaced: 'part-replaced',
  partShipped: 'part-shipped',
};

/** The spare-part clocks: shown only when the broker started one (POST .../part-needed). */
const partKinds = ['partReplaced', 'partShipped'] as const;

/** The broker's clock of a deadline, when it sends them (shared/api/tickets.ts SlaClock). */
function clockOf(ticket: Ticket, kind: DeadlineKind) {
  const clocks = (ticket as Partial<Ticket>).sla ?? [];
  return clocks.find((clock) => clock.deadline === slaName[kind]);
}

/**
 * The timeline entry kind that meets each deadline: the first response is the
 * acknowledgement, the on-site deadline is met by arriving (service-commitments.md,
 * "Priorities and time limits"). Resolving the fault ends every clock still running.
 */
const stepOf: Record<'respond' | 'onSite', string> = {
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

/**
 * The ticket's deadlines with the broker's clocks: due and warning instants, state and
 * allowed time as the broker computed them. A ticket without clocks (an older broker)
 * falls back to its deadline fields and timeline, and then never shows a warning: only
 * the broker knows its warning share.
 */
export function deadlinesOf(ticket: Ticket): TicketDeadline[] {
  const resolvedAt = ticket.resolvedAt;
  const parts: TicketDeadline[] = [];
  for (const kind of partKinds) {
    const clock = clockOf(ticket, kind);
    if (clock === undefined) continue;
    parts.push({
      kind,
      due: clock.due,
      warnAt: clock.warnAt,
      doneAt: clock.doneAt,
      state: clock.state,
      allowedMs: clock.allowedMin * 60_000,
    });
  }
  return [...contractDeadlines(ticket, resolvedAt), ...parts];
}

function contractDeadlines(ticket: Ticket, resolvedAt: string | null): TicketDeadline[] {
  return rawDeadlines(ticket, resolvedAt).map((deadline) => {
    const clock = clockOf(ticket, deadline.kind);
    if (clock === undefined) return deadline;
    return {
      kind: deadline.kind,
      due: clock.due,
      warnAt: clock.warnAt,
      doneAt: clock.doneAt ?? deadline.doneAt,
      state: clock.state,
      allowedMs: clock.allowedMin * 60_000,
    };
  });
}

function rawDeadlines(ticket: Ticket, resolvedAt: string | null): TicketDeadline[] {
  const clock = (kind: DeadlineKind, due: string | null, doneAt: string | null) => ({
    kind,
    due,
    warnAt: null,
    doneAt,
    state: null,
    allowedMs: due === null ? null : Date.parse(due) - Date.parse(ticket.openedAt),
  });
  return [
    clock('respond', ticket.respondBy, earliest(firstStep(ticket, stepOf.respond), resolvedAt)),
    clock('onSite', ticket.onSiteBy, earliest(firstStep(ticket, stepOf.onSite), resolvedAt)),
    clock('resolve', ticket.resolveBy, resolvedAt),
  ];
}

/** The running deadline that comes first, for ordering the desk; null when none runs. */
export function nextDue(ticket: Ticket): number | null {
  let next: number | null = null;
  for (const deadline of deadlinesOf(ticket)) {
    if (deadline.due === null || deadline.doneAt !== null || deadline.state === 'paused') {
      continue;
    }
    const at = Date.parse(deadline.due);
    if (next === null || at < next) next = at;
  }
  return next;
}

const priorityRank: Record<Ticket['priority'], number> = { emergency: 0, serious: 1, general: 2 };

/** The desk's order: the running deadline that comes first on top, then priority, then id. */
export function byUrgency(a: Ticket, b: Ticket): number {
  const da = nextDue(a) ?? Number.POSITIVE_INFINITY;
  const db = nextDue(b) ?? Number.POSITIVE_INFINITY;
  if (da !== db) return da < db ? -1 : 1;
  return priorityRank[a.priority] - priorityRank[b.priority] || a.id - b.id;
}

export interface TicketFilter {
  priority: Ticket['priority'] | null;
  siteId: string | null;
  status: Ticket['status'] | null;
}

export const noTicketFilter: TicketFilter = { priority: null, siteId: null, status: null };

export function filterTickets(tickets: readonly Ticket[], filter: TicketFilter): Ticket[] {
  return tickets.filter(
    (t) =>
      (filter.priority === null || t.priority === filter.priority) &&
      (filter.siteId === null || t.siteId === filter.siteId) &&
      (filter.status === null || t.status === filter.status),
  );
}
