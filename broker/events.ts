/**
 * What the broker tells its live listeners (the API's server-sent events, later the
 * notifications): a device changed, a ticket changed. Typed so a listener cannot
 * subscribe to a name nobody emits.
 */
import { EventEmitter } from 'node:events';
import type { Device } from '../shared/api/devices.js';
import type { SlaAlert } from '../shared/api/live.js';
import type { MaintenanceWindow } from '../shared/api/maintenance.js';
import type { Ticket } from '../shared/api/tickets.js';

export interface BrokerEventMap {
  device: [Device];
  ticket: [Ticket];
  /** An SLA clock warned or breached (the escalation). */
  sla: [SlaAlert];
  /** A maintenance window was created, changed, started, ended or deleted. */
  maintenance: [MaintenanceWindow];
}

export class BrokerEvents extends EventEmitter<BrokerEventMap> {
  constructor() {
    super();
    // One listener per open console tab; hundreds are normal in a NOC.
    this.setMaxListeners(0);
  }
}
