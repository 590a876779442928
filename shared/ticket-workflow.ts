/**
 * The work order's rules, in one place for the broker and the console: which action
 * takes a ticket from which statuses to which, which statuses are finished, and what the
 * states of an SLA clock mean (docs/SERVICE-COMMITMENTS.md, "Priorities and time
 * limits"; the table in docs/API.md, "Tickets").
 *
 * Schema-free on purpose: only type imports (erased), no TypeBox, so the console's
 * bundle imports this module at runtime without carrying the API schemas
 * (test/unit/console/bundle-imports.test.ts holds that).
 */
import type { SlaClockState, TicketActionName, TicketStatus } from './api/tickets.js';

export interface Transition {
  /** The statuses the action may start from. */
  readonly from: readonly TicketStatus[];
  /** Where it takes the ticket; null keeps the status (a note). */
  readonly to: TicketStatus | null;
}

/**
 * What each action needs the ticket to be in, and where it takes it. The order is the
 * order of the work order's steps, and the order in which the console shows the buttons.
 */
export const transitions: Readonly<Record<TicketActionName, Transition>> = {
  acknowledge: { from: ['open'], to: 'acknowledged' },
  dispatch: { from: ['open', 'acknowledged'], to: 'dispatched' },
  'on-site': { from: ['open', 'acknowledged', 'dispatched'], to: 'on-site' },
  note: {
    from: ['open', 'acknowledged', 'dispatched', 'on-site', 'resolved', 'closed'],
    to: null,
  },
  resolve: { from: ['open', 'acknowledged', 'dispatched', 'on-site'], to: 'resolved' },
  close: { from: ['resolved'], to: 'closed' },
};

const actionOrder = Object.keys(transitions) as TicketActionName[];

/** The actions a ticket in `status` allows, in the work order's order. */
export function actionsAllowedIn(status: TicketStatus): TicketActionName[] {
  return actionOrder.filter((action) => transitions[action].from.includes(status));
}

/** Whether `action` may be taken on a ticket in `status`. */
export function isAllowed(action: TicketActionName, status: TicketStatus): boolean {
  return transitions[action].from.includes(status);
}

/**
 * Statuses after which the work is done: the ticket no longer holds the "one open
 * ticket per site, device and fault" slot and the API's `?status=open` leaves it out.
 */
export const FINISHED_STATUSES: readonly TicketStatus[] = ['resolved', 'closed'];

export function isFinishedStatus(status: TicketStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/**
 * Clock states that never change again: `met`, and `breached`, which stays breached
 * even when the step is done late.
 */
export const FINAL_CLOCK_STATES: readonly SlaClockState[] = ['met', 'breached'];

/**
 * Clock states that call for attention (each raises one `sla` alert when it begins):
 * the warning share of the allowed time is used, or the deadline has passed.
 */
export const ALERTING_CLOCK_STATES: readonly SlaClockState[] = ['warning', 'breached'];

export function isFinalClockState(state: SlaClockState): boolean {
  return FINAL_CLOCK_STATES.includes(state);
}

export function isAlertingClockState(state: SlaClockState): boolean {
  return ALERTING_CLOCK_STATES.includes(state);
}

/**
 * Statuses in which nobody has answered the ticket yet: the ones the `acknowledge`
 * action starts from. Any later step (acknowledged, dispatched, on-site, resolved) is an
 * answer, so the wall's alarm and an escalation's "not acknowledged" step stop there.
 */
export const AWAITING_ACKNOWLEDGEMENT: readonly TicketStatus[] = transitions.acknowledge.from;

export function isAwaitingAcknowledgement(status: TicketStatus): boolean {
  return AWAITING_ACKNOWLEDGEMENT.includes(status);
}
