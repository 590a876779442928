import type { Ticket, TicketQuery } from '../../shared/api/tickets.js';
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
