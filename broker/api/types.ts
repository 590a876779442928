import type { BrokerStats } from '../../shared/api/broker.js';
import type { Health } from '../../shared/api/health.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { CommandSender } from '../commands/sender.js';
import type { BrokerEvents } from '../events.js';
import type { Desk } from '../wiring/desk.js';
import type { TicketService } from '../tickets/types.js';
import type { Db } from '../db.js';
import type { SqlDatabase } from '../sql/types.js';
import type { Log } from '../log.js';
import type { ReportCache } from '../inspection/cache.js';
import type { MetricsStore } from '../metrics/store.js';
import type { ChannelStore } from '../notify/channels/store.js';
import type { OnCallStore } from '../oncall/store.js';
import type { Escalations } from '../notify/escalation.js';
import type { PdfPrinter } from '../inspection/issued/pdf.js';

/** What the HTTP API needs from the rest of the broker; wired in broker/main.ts. */
export interface ApiDeps {
  db: Db;
  /** The stores' engine (broker/sql): vigil.db, or PostgreSQL on a pair (users, sessions). */
  store: SqlDatabase;
  devices: DeviceRegistry;
  tickets: TicketService;
  events: BrokerEvents;
  health: () => Promise<Health>;
  /** Maintenance, sites, audit, inspection (broker/wiring/desk.ts); their routes need it. */
  desk?: Desk;
  /** GET /api/health/leader: this node's role in an active/standby pair; 'single' without it. */
  leaderRole?: () => 'leader' | 'standby' | 'single';
  /** GET /api/broker; without it the route is not registered. */
  brokerStats?: () => BrokerStats;
  /** NOC commands to agents; without it POST /api/sites/:site/agents/:agent/commands is absent. */
  commands?: CommandSender;
  /** Where the charts' series come from; without it /api/metrics answers 503. */
  metrics?: MetricsStore;
  /** Keeps the trends of past periods' inspection reports (broker/inspection/cache.ts). */
  reportCache?: ReportCache;
  /** People, teams, rotas, coverage (broker/oncall/); with `desk`, /api/oncall/* is served. */
  oncall?: OnCallStore;
  /** Escalation (broker/notify/escalation.ts); with `oncall`, /ack/<token> and /api/notify/policies. */
  escalations?: Escalations;
  /** Notification channels (broker/notify/channels/); /api/notify/channels* is served with it. */
  channels?: ChannelStore;
  /** Folder of the built console (dist/console), served at /. */
  consoleDir: string | null;
  /** Where the API writes what a person may need to read later; the console by default. */
  log?: Log;
  /** Wait before answering a failed login (slows password guessing); 500 ms by default. */
  loginFailureDelayMs?: number;
  /** Comment line sent on idle live streams so proxies keep them; 15 000 ms by default. */
  liveHeartbeatMs?: number;
  /** Prints issued inspection reports to PDF (chromium, reports.* of the config); the default chromium without it. */
  pdf?: PdfPrinter;
  /** The clock for session expiry; tests pass a fixed one. */
  now?: () => Date;
}
