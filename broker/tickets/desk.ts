/**
 * The ticket desk wired together: site metadata, maintenance windows, status history,
 * the ticket service with its SLA clocks, the detector that feeds it, the webhooks and
 * the audit trail. broker/app.ts starts one; tests start one on a temporary database
 * with a controllable clock.
 */
import type { Db } from '../db.js';
import { Detector } from '../detect/detector.js';
import { DetectStateStore } from '../detect/state-store.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { BrokerEvents } from '../events.js';
import { StatusHistory } from '../inspection/history.js';
import type { Log } from '../log.js';
import { MaintenanceStore } from '../maintenance/store.js';
import { WebhookNotifier } from '../notify/webhook.js';
import { SiteStore } from '../sites/store.js';
import { AuditStore } from './audit.js';
import { defaultDeskConfig, type DeskConfig } from './desk-config.js';
import { createTicketService } from './service.js';
import type { SlaTable, TicketService } from './types.js';

export interface DeskOptions {
  db: Db;
  events: BrokerEvents;
  registry: DeviceRegistry;
  sla: SlaTable;
  config?: DeskConfig;
  log: Log;
  now?: () => Date;
}

export interface Desk {
  tickets: TicketService;
  detector: Detector;
  maintenance: MaintenanceStore;
  sites: SiteStore;
  history: StatusHistory;
  audit: AuditStore;
  notifier: WebhookNotifier;
  /** One tick now: detector (held faults, heartbeats) then the SLA clocks. */
  tick(): void;
  stop(): Promise<void>;
}

/** Creates the tables and starts the clock tick and the webhooks. */
export function startDesk(opts: DeskOptions): Desk {
  const config = opts.config ?? defaultDeskConfig;
  const now = opts.now ?? (() => new Date());
  const sites = new SiteStore(opts.db);
  sites.start();
  const maintenance = new MaintenanceStore(opts.db, now);
  maintenance.start();
  const history = new StatusHistory(opts.db);
  history.start();
  const audit = new AuditStore(opts.db, now);
  audit.start();
  const underMaintenance = (siteId: string, deviceId: string | null, at: Date) =>
    maintenance.covers(siteId, deviceId, at);
  const tickets = createTicketService({
    db: opts.db,
    events: opts.events,
    sla: opts.sla,
    rules: config.rules,
    now,
    warnShare: config.warnShare,
    relapseWindowMin: config.relapseWindowMin,
    criticalityOf: (siteId, deviceId) => sites.criticality(siteId, deviceId),
    underMaintenance,
  });
  const detector = new Detector({
    registry: opts.registry,
    sink: (detection) => {
      try {
        tickets.apply(detection);
      } catch (error) {
        opts.log.error(
          `cannot apply a ${detection.kind} detection: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
    config: config.detect,
    underMaintenance,
    recordedBy: (siteId, nvrId) => sites.recordedBy(siteId, nvrId),
    history,
    now,
    onTick: () => tickets.tick(),
    // Flapping history, suppressed devices and agent liveness survive a restart.
    state: new DetectStateStore(opts.db),
    onStateError: (error) =>
      opts.log.error(
        `cannot save the detector state (detection goes on, but a restart would forget it; check the disk of the data dir): ${error instanceof Error ? error.message : String(error)}`,
      ),
  });
  detector.start();
  const notifier = new WebhookNotifier(opts.events, config.notify, opts.log);
  notifier.start();
  return {
    tickets,
    detector,
    maintenance,
    sites,
    history,
    audit,
    notifier,
    tick: () => detector.tick(),
    async stop() {
      detector.stop();
      await notifier.stop();
    },
  };
}
