/**
 * ticket: turns what the detector decided into tickets (open, reopen, resolve), and on
 * each clock beat runs the contract's SLA clocks (warning, breach, maintenance pauses).
 * The rules, deadlines and storage live in the ticket service (broker/tickets/).
 *
 * A message's detections are written before the message counts as finished, so the
 * journal replays it if the broker dies first; a message without detections (nearly
 * all of them) passes without waiting for anything. A detection the service cannot
 * apply (the database refused it) is logged and the others still go through: one bad
 * ticket write must not keep the rest of a site's faults from the NOC.
 */
import type { Log } from '../log.js';
import type { Detection, Stage } from '../pipeline/types.js';
import type { TicketService } from '../tickets/types.js';

export function ticketStage(tickets: TicketService, log: Log): Stage {
  const failed = (what: string, error: unknown) =>
    log.error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  const apply = (detections: readonly Detection[]): Promise<unknown> =>
    Promise.all(
      // Handed over in the detector's order now; the service runs them in that order.
      detections.map((detection) =>
        tickets
          .apply(detection)
          .catch((error: unknown) =>
            failed(
              `cannot apply a ${detection.kind} detection of ${detection.siteId}/${detection.deviceId ?? '(site)'} ${detection.fault}`,
              error,
            ),
          ),
      ),
    );
  return {
    name: 'ticket',
    run(ctx) {
      if (ctx.detections.length === 0) return 'continue';
      return apply(ctx.detections).then(() => 'continue' as const);
    },
    tick(ctx) {
      // The beat's work runs after the detections of this beat, in the service's order;
      // Desk.tick() resolves when it is done (tickets.idle()).
      void apply(ctx.detections);
      void tickets
        .tick()
        .catch((error: unknown) =>
          failed('the SLA clocks were not checked on this beat (tried again on the next)', error),
        );
    },
  };
}
