import type { Priority, Ticket, TicketQuery } from '../../shared/api/tickets.js';
import type { Detection } from '../pipeline/types.js';

/**
 * The ticket desk: opens and resolves tickets from detections, with the contract's
 * deadlines, and keeps them in SQLite (one open ticket per device and fault, held by a
 * unique index). Emits every change on BrokerEvents 'ticket'.
 */
export interface TicketService {
  /** Opens, resolves or leaves alone; returns the tickets it changed. */
  apply(detection: Detection): Ticket[];
  list(query: TicketQuery): Ticket[];
  get(id: number): Ticket | undefined;
}

/**
 * Deadlines per priority, in minutes after the ticket opened; null where the contract
 * sets none. Defaults are the contract table (../shared/mission/service-commitments.md):
 * emergency respond 10 / on site 120 / resolve 240 (software default); serious respond
 * 15 (software default for "immediately") / engineer departs 60 / resolve 240; general
 * respond 120 / on site at an agreed time (null) / resolve 480. Service is 7x24: the
 * clock never pauses for nights or holidays.
 */
export interface SlaTerms {
  respondMin: number;
  onSiteMin: number | null;
  resolveMin: number | null;
}

export type SlaTable = Record<Priority, SlaTerms>;

export const defaultSla: SlaTable = {
  emergency: { respondMin: 10, onSiteMin: 120, resolveMin: 240 },
  serious: { respondMin: 15, onSiteMin: 60, resolveMin: 240 },
  general: { respondMin: 120, onSiteMin: null, resolveMin: 480 },
};
