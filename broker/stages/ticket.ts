/**
 * Pipeline stage "ticket": turns what the detector found into tickets. It only hands the
 * detections to the ticket service; the rules, deadlines and storage live there.
 */
import type { Stage } from '../pipeline/types.js';
import type { TicketService } from '../tickets/types.js';

export function ticketStage(tickets: TicketService): Stage {
  return {
    name: 'ticket',
    run(ctx) {
      for (const detection of ctx.detections) tickets.apply(detection);
      return 'continue';
    },
  };
}
