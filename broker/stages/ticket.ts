/**
 * ticket: turns what the detector decided into tickets (open, reopen, resolve), and on
 * each clock beat runs the contract's SLA clocks (warning, breach, maintenance pauses).
 * The rules, deadlines and storage live in the ticket service (broker/tickets/).
 *
 * A detection the service cannot apply (the database refused it) is logged and the
 * others still go through: one bad ticket write must not keep the rest of a site's
 * faults from the NOC.
 */
import type { Log } from '../log.js';
import type { Detection, Stage } from '../pipeline/types.js';
import type { TicketService } from '../tickets/types.js';

export function ticketStage(tickets: TicketService, log: Log): Stage {
  const apply = (detections: readonly Detection[]) => {
    for (const detection of detections) {
      try {
        tickets.apply(detection);
      } catch (error) {
        log.error(
          `cannot apply a ${detection.kind} detection of ${detection.siteId}/${detection.deviceId ?? '(site)'} ${detection.fault}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  };
  return {
    name: 'ticket',
    run(ctx) {
      apply(ctx.detections);
      return 'continue';
    },
    tick(ctx) {
      apply(ctx.detections);
      tickets.tick();
    },
  };
}
