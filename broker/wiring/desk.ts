/**
 * The processing side of the broker wired together: site metadata, maintenance windows,
 * status history, the audit trail, the ticket service with its SLA clocks, the detector,
 * and the pipeline that carries every message and every beat of the
 * broker's clock through them (broker/stages/index.ts lists the stages).
 *
 * This is composition only: no folder below broker/ imports it, so detect, tickets,
 * notify, sites and maintenance stay free of each other. broker/app.ts starts one; tests
 * start one on a temporary database with a controllable clock and feed it messages.
 */
import { AuditStore } from '../audit-trail.js';
import { CustomerStore } from '../customers/store.js';
import type { SqlDatabase } from '../sql/types.js';
import { Detector } from '../detect/detector.js';
import { DetectStateStore } from '../detect/state-store.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { BrokerEvents } from '../events.js';
import { StatusHistory } from '../inspection/history.js';
import { child, type Log } from '../log.js';
import { MaintenanceStore } from '../maintenance/store.js';
import { Pipeline, type DeadLetterSink } from '../pipeline/index.js';
import { brokerStages } from '../stages/index.js';
import { SiteStore } from '../sites/store.js';
import { PartsService } from '../parts/service.js';
import { PartStore } from '../parts/store.js';
import type { Device } from '../../shared/api/devices.js';
import type { PointSink } from '../stages/store-metrics.js';
import { createTicketService } from '../tickets/service.js';
import type { SlaTable, TicketService } from '../tickets/types.js';
import { defaultDeskConfig, type DeskConfig } from './desk-config.js';

export interface DeskOptions {
  /** The stores' engine (broker/sql/): SQLite's vigil.db or PostgreSQL. */
  store: SqlDatabase;
  events: BrokerEvents;
  /** The devices; its store writes the status history with each state (`registry.history`). */
  registry: DeviceRegistry;
  /** Where the pipeline's store-metrics stage puts readings (the batching writer). */
  metrics: PointSink;
  /** Where refused messages are kept. */
  deadLetters: DeadLetterSink;
  sla: SlaTable;
  config?: DeskConfig;
  /** The broker's log: the desk's lines say "tickets:" or "pipeline:". */
  log: Log;
  now?: () => Date;
  /** Told of each duplicate the dedupe stage drops (agent "site/agent"). */
  onDuplicate?: (agent: string) => void;
  /** The pipeline repeats a line of one client and cause at most this often; default 60 s. */
  logIntervalMs?: number;
  /**
   * False while this node stands by (an active/standby pair): the clock does not beat,
   * so a standby opens no ticket and runs no SLA clock it could not write (its writes are
   * refused by the lease's fence anyway). Unset: always (a single node).
   */
  active?: () => boolean;
}

export interface Desk {
  tickets: TicketService;
  detector: Detector;
  maintenance: MaintenanceStore;
  sites: SiteStore;
  /** Customers and their contracts: deadlines, time zone and language per site. */
  customers: CustomerStore;
  history: StatusHistory;
  audit: AuditStore;
  /** Spare parts, replacements and warranty restarts (broker/parts/, issue 16 part 7). */
  parts: PartsService;
  pipeline: Pipeline;
  /**
   * One beat of the broker's clock now, through the pipeline (detect, then tickets);
   * resolves once the ticket desk has written what the beat decided.
   */
  tick(): Promise<void>;
  /**
   * The same beat for a caller that does not wait for it (the clock, the end of a hold, a
   * changed maintenance window). It cannot fail: what fails in a beat is logged by the
   * stage it failed in (the ticket stage: tried again on the next beat).
   */
  beat(): void;
  /**
   * Reads again the copies in memory of the customers, site records, maintenance windows
   * and devices' serial numbers (the detector, the SLA clocks and the replacement check
   * read those on every message): the node that
   * becomes the leader of a pair calls it before it serves, to see what the old one wrote.
   */
  reload(): Promise<void>;
  /** Stops the clock and lets the accepted messages finish. */
  stop(): Promise<void>;
}

/**
 * Creates the tables and starts the clock. The config file's webhooks go through the
 * notification outbox (broker/notify/webhook.ts, started with the escalations).
 */
export async function startDesk(opts: DeskOptions): Promise<Desk> {
  const config = opts.config ?? defaultDeskConfig;
  const log = child(opts.log, 'tickets');
  const now = opts.now ?? (() => new Date());
  // Each asks the other through a function: the customers' deadlines and zone per site,
  // the sites' customer names. Customers start first: the sites' free text of an older
  // version becomes customers at the sites' start.
  const customers: CustomerStore = new CustomerStore(opts.store, {
    sla: opts.sla,
    sites: {
      customerIdOf: (siteId) => sites.customerIdOf(siteId),
      sitesOf: (customerId) => sites.sitesOf(customerId),
    },
    now,
  });
  await customers.start();
  const sites: SiteStore = new SiteStore(opts.store, {
    nameOf: (id) => customers.nameOf(id),
    named: (name) => customers.named(name),
  });
  await sites.start();
  const maintenance = new MaintenanceStore(opts.store, now);
  await maintenance.start();
  // Written by the device registry's store with each state (broker/devices/store.ts); a
  // registry that keeps no store (tests) leaves it to be written by hand on the same engine.
  const history = opts.registry.history ?? new StatusHistory(opts.store);
  await history.start();
  const audit = new AuditStore(opts.store, now);
  await audit.start();
  const underMaintenance = (siteId: string, deviceId: string | null, at: Date) =>
    maintenance.covers(siteId, deviceId, at);
  const tickets = createTicketService({
    db: opts.store,
    events: opts.events,
    sla: opts.sla,
    rules: config.rules,
    now,
    warnShare: config.warnShare,
    relapseWindowMin: config.relapseWindowMin,
    criticalityOf: (siteId, deviceId) => sites.criticality(siteId, deviceId),
    underMaintenance,
    slaFor: (siteId) => customers.slaOf(siteId),
    // A manual ticket names a site described in the site records or watched by an agent.
    siteExists: (siteId) => sites.exists(siteId) || opts.registry.list({ siteId }).length > 0,
    deviceOnSite: (siteId, deviceId) =>
      sites.device(siteId, deviceId) !== undefined ||
      opts.registry.get(siteId, deviceId) !== undefined,
  });
  await tickets.start();
  const partStore = new PartStore(opts.store);
  await partStore.start();
  const parts = new PartsService({
    store: partStore,
    tickets,
    contractOf: (siteId) => customers.forSite(siteId)?.contract ?? null,
    timeZoneOf: (siteId) => customers.timeZoneOf(siteId),
    site: (siteId) => sites.get(siteId),
    putDevice: (siteId, deviceId, put) => sites.putDevice(siteId, deviceId, put),
    customer: (id) => customers.require(id),
    devicesOf: (siteId) => opts.registry.list({ siteId }),
    now,
  });
  // Serial numbers known before this version (or before the parts store) are the
  // baseline: only a change seen from now on is a replacement.
  for (const device of opts.registry.list()) await parts.seen(device);
  const partsLog = child(opts.log, 'parts');
  // Called inside the pipeline's track-state stage: a failure here must not fail the
  // message, so it is said and the device's state goes on.
  const onDevice = (device: Device) => {
    parts.seen(device).catch((error: unknown) => {
      partsLog.error(
        `serial number of ${device.siteId}/${device.id} not checked for a replacement: ${(error as Error).message}`,
      );
    });
  };
  opts.events.on('device', onDevice);
  const tick = () => {
    pipeline.tick();
    return tickets.idle();
  };
  // Nothing to catch: Pipeline.tick() never throws and tickets.idle() never rejects (it
  // waits for the service's chain, whose failures the ticket stage has logged).
  const beat = (): void => void tick();
  const detector = new Detector({
    registry: opts.registry,
    config: config.detect,
    underMaintenance,
    recordedBy: (siteId, nvrId) => sites.recordedBy(siteId, nvrId),
    retentionGoalDays: (siteId) => sites.get(siteId).retentionGoalDays,
    now,
    wake: beat,
    // Flapping history, suppressed devices and agent liveness survive a restart.
    state: new DetectStateStore(opts.store),
    onStateError: (error) =>
      log.error(
        `cannot save the detector state in ${opts.store.label} (detection goes on from memory and the save is tried again; its messages wait in the journal): check the disk of the data dir, or that PostgreSQL answers: ${error instanceof Error ? error.message : String(error)}`,
      ),
  });
  await detector.start();
  const pipeline = new Pipeline(
    brokerStages({
      registry: opts.registry,
      events: opts.events,
      metrics: opts.metrics,
      tickets,
      detector,
      log,
      ...(opts.onDuplicate ? { onDuplicate: opts.onDuplicate } : {}),
    }),
    opts.deadLetters,
    child(opts.log, 'pipeline'),
    opts.logIntervalMs !== undefined ? { logIntervalMs: opts.logIntervalMs } : {},
  );
  // The broker's clock: held faults, heartbeats and flapping (detect), then the SLA
  // clocks (ticket), every `detect.tickMs`.
  const clock = setInterval(() => {
    if (opts.active?.() === false) return;
    beat();
  }, detector.config.tickMs);
  clock.unref();
  return {
    tickets,
    detector,
    maintenance,
    sites,
    customers,
    history,
    audit,
    parts,
    pipeline,
    tick,
    beat,
    async reload() {
      // Customers first: a site's customer name is looked up in them.
      await customers.reload();
      await sites.reload();
      await maintenance.reload();
      await partStore.reload();
    },
    async stop() {
      clearInterval(clock);
      opts.events.off('device', onDevice);
      await pipeline.idle();
      await tickets.idle();
      pipeline.flushLog();
      await detector.stop();
    },
  };
}
