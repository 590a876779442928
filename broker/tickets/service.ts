/**
 * The ticket desk of issue 1: a device that goes down opens a ticket with the
 * contract's deadlines, the same device coming up resolves it. Every change is emitted
 * on BrokerEvents 'ticket' after it is committed, so a listener never sees a ticket the
 * database does not hold.
 */
import type { Ticket, TimelineEntry } from '../../shared/api/tickets.js';
import type { Db } from '../db.js';
import type { BrokerEvents } from '../events.js';
import type { Detection } from '../pipeline/types.js';
import { deadlinesFor } from './deadlines.js';
import { decide, defaultRules, type TicketRules } from './rules.js';
import { openTicketStore } from './store.js';
import type { SlaTable, TicketService } from './types.js';
import { RESOLVED_DEVICE_UP, deviceDownText, deviceDownTitle, downReason } from './wording.js';

export interface TicketServiceOptions {
  db: Db;
  events: BrokerEvents;
  sla: SlaTable;
  /** Which detection opens which priority; the contract's mapping by default. */
  rules?: TicketRules;
  /** The broker's clock; tests pass a fixed one. */
  now?: () => Date;
}

const SYSTEM = 'system';

export function createTicketService(opts: TicketServiceOptions): TicketService {
  const store = openTicketStore(opts.db);
  const rules = opts.rules ?? defaultRules;
  const now = opts.now ?? (() => new Date());

  function emit(ticket: Ticket | undefined): Ticket[] {
    if (ticket === undefined) return [];
    opts.events.emit('ticket', ticket);
    return [ticket];
  }

  return {
    apply(detection: Detection): Ticket[] {
      const decision = decide(detection, rules);
      const { device } = detection;
      switch (decision.action) {
        case 'none':
          return [];
        case 'open': {
          if (detection.kind !== 'device-down') return [];
          // The contract's clock runs on the broker, not on the agent: agent clocks drift
          // (that is one of the faults Vigil watches), and the NOC can only respond once
          // the broker knows. detection.at stays in the device's own history.
          const openedAt = now();
          const detected: TimelineEntry = {
            at: openedAt.toISOString(),
            kind: 'detected',
            actor: SYSTEM,
            text: deviceDownText(device, detection.reason),
          };
          // No "is one open?" check first: the unique index answers that, also for a
          // writer that raced us. A refused insert means the ticket is already open.
          const ticket = store.insertOpen(
            {
              siteId: device.siteId,
              deviceId: device.id,
              fault: decision.fault,
              priority: decision.priority,
              title: deviceDownTitle(device, downReason(device, detection.reason)),
              openedAt,
              ...deadlinesFor(decision.priority, openedAt, opts.sla),
            },
            detected,
          );
          return emit(ticket);
        }
        case 'resolve': {
          const open = store.findOpen(device.siteId, device.id, decision.fault);
          if (open === undefined) return [];
          return emit(
            store.changeStatus(open.id, 'resolved', {
              at: now().toISOString(),
              kind: 'resolved',
              actor: SYSTEM,
              text: RESOLVED_DEVICE_UP,
            }),
          );
        }
      }
    },
    list(query) {
      return store.list(query);
    },
    get(id) {
      return store.get(id);
    },
  };
}
