import type { Health } from '../../shared/api/health.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { BrokerEvents } from '../events.js';
import type { TicketService } from '../tickets/types.js';
import type { Db } from '../db.js';

/** What the HTTP API needs from the rest of the broker; wired in broker/main.ts. */
export interface ApiDeps {
  db: Db;
  devices: DeviceRegistry;
  tickets: TicketService;
  events: BrokerEvents;
  health: () => Promise<Health>;
  /** Folder of the built console (dist/console), served at /. */
  consoleDir: string | null;
}
