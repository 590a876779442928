/**
 * The running broker: wires the parts in order and stops them in the reverse order.
 * `vigil broker` (broker/main.ts) calls it from the command line; tests and the demo can
 * call it in-process with port 0 and read the bound ports back.
 *
 *   SQLite vigil.db -> agent accounts, device registry, dead letters, tickets, users
 *   metrics store (InfluxDB or embedded) <- batching writer <- pipeline <- journal <- Aedes (MQTT)
 *
 * A message is appended to the journal (fsync) before its PUBACK and finished there once
 * the pipeline ran and its points are in the metrics store; at start the unfinished
 * ones are fed to the pipeline again before the MQTT listeners open.
 * With `database.url` the journal is in PostgreSQL (journal.store: postgres) and the node
 * is one of an active/standby pair: it acknowledges only while it holds the leader lease,
 * and starts (and replays) the journal each time it is elected (docs/HA.md).
 *   HTTP API + console (broker/api/)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Health } from '../shared/api/health.js';
import { AgentStore } from './agents/store.js';
import { openStoreDatabase } from './sql/open.js';
import { NotLeaderWriteError, type SqlDatabase } from './sql/types.js';
import { startApi } from './api/server.js';
import { ensureAdmin } from './api/users.js';
import type { BrokerConfig } from './config.js';
import { openDatabase, type Db } from './db.js';
import type { DeviceRegistry } from './devices/registry.js';
import { DeviceStore } from './devices/store.js';
import { retainedMessages } from './devices/retained.js';
import { WriteBehindRegistry } from './devices/write-behind.js';
import { BrokerEvents } from './events.js';
import { ReportCache } from './inspection/cache.js';
import { child, consoleLog, type Log } from './log.js';
import { EmbeddedMetricsStore } from './metrics/embedded.js';
import { FileJournal } from './journal/journal.js';
import { PgJournal } from './journal/pg-journal.js';
import { Leadership } from './ha/leadership.js';
import { openDatabase as openPostgres } from './ha/pg.js';
import type { IngestJournal } from './journal/types.js';
import { InfluxMetricsStore } from './metrics/influx.js';
import type { MetricsStore } from './metrics/store.js';
import { MetricsWriter, type MetricsWriterOptions } from './metrics/writer.js';
import { AuditLog } from './mqtt/refusal-audit.js';
import { MqttServer } from './mqtt/server.js';
import { BrokerFigures } from './mqtt/sys.js';
import { CommandSender } from './commands/sender.js';
import { DeadLetterStore, type Pipeline } from './pipeline/index.js';
import { OnCallStore } from './oncall/index.js';
import { ChannelStore } from './notify/channels/index.js';
import { Escalations } from './notify/escalation.js';
import type { Envelope } from './pipeline/types.js';
import { unbatch } from './stages/decode.js';
import { startDesk, type Desk } from './wiring/desk.js';
import type { TicketService } from './tickets/types.js';
import { ChromiumPdfPrinter } from './inspection/issued/pdf.js';

export interface BrokerOptions {
  /** Where the broker's lines go; "broker: ..." on the console by default. */
  log?: Log;
  /** VIGIL_ADMIN_PASSWORD sets the console's admin password. */
  env?: NodeJS.ProcessEnv;
  /** How often MQTT sessions are checked against revocations made by another process. */
  sweepIntervalMs?: number;
  /** Lines that can repeat per message: one per client and cause this often; default 60 s. */
  logIntervalMs?: number;
  metricsWriter?: MetricsWriterOptions;
  /** The leader lease's ttl with a PostgreSQL journal; 10 s by default (tests shorten it). */
  leaseTtlMs?: number;
}

export interface RunningBroker {
  config: BrokerConfig;
  /** mqtt://HOST:PORT with the bound port. */
  mqttUrl: string;
  mqttPort: number;
  /** Where the API and console answer. */
  httpUrl: string;
  /** Set when the admin account was created with a generated password: print it once. */
  generatedAdminPassword: string | null;
  db: Db;
  /** The stores' engine (broker/sql): vigil.db through it, or PostgreSQL with database.url. */
  store: SqlDatabase;
  agents: AgentStore;
  devices: DeviceRegistry;
  tickets: TicketService;
  /** Detector, maintenance, sites, history, audit, webhooks around the tickets. */
  desk: Desk;
  /** People, teams, rotas and coverage: who is on call for a site (OnCallDirectory). */
  oncall: OnCallStore;
  /** Pages the on-call through the channels until acknowledged (broker/notify/escalation.ts). */
  escalations: Escalations;
  /** Notification channels (broker/notify/channels/): the registry the escalations send through. */
  channels: ChannelStore;
  events: BrokerEvents;
  metrics: MetricsStore;
  metricsWriter: MetricsWriter;
  pipeline: Pipeline;
  deadLetters: DeadLetterStore;
  mqtt: MqttServer;
  journal: IngestJournal;
  /** The leader lease with a PostgreSQL journal (docs/HA.md); null: a single node. */
  leadership: Leadership | null;
  audit: AuditLog;
  health(): Promise<Health>;
  /** The figures of GET /api/broker and $SYS/vigil/broker/... */
  figures: BrokerFigures;
  /** Stops accepting, flushes the readings, closes everything. Safe to call twice. */
  stop(): Promise<void>;
}

/** The version in package.json, found from here in the source tree and in dist/. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'vigil' && pkg.version) return pkg.version;
    } catch {
      // Not here; look one folder up.
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** A wildcard listen address is not one a client can dial; name the loopback instead. */
function dialable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startBroker(
  config: BrokerConfig,
  options: BrokerOptions = {},
): Promise<RunningBroker> {
  const log = options.log ?? consoleLog('broker');
  const env = options.env ?? process.env;
  const startedAt = Date.now();
  const version = packageVersion();
  // Undone in reverse order by stop(), also when a later step fails to start.
  const undo: { name: string; run: () => Promise<void> | void }[] = [];
  const stopAll = async (): Promise<void> => {
    while (undo.length > 0) {
      const step = undo.pop()!;
      try {
        await step.run();
      } catch (error) {
        log.error(
          `stopping ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  };

  try {
    mkdirSync(config.dataDir, { recursive: true });
    const db = openDatabase(join(config.dataDir, 'vigil.db'));
    undo.push({ name: 'the database', run: () => void db.close() });

    // With PostgreSQL the journal outlives this machine, and only the node holding the
    // leader lease acknowledges; its commits are fenced by the lease's token.
    let leadership: Leadership | null = null;
    let journal: IngestJournal;
    if (config.journal.store === 'postgres' && config.database) {
      const lease = new Leadership({
        database: config.database,
        log: child(log, 'ha'),
        ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
      });
      leadership = lease;
      // A commit hanging on a dead link must not hold a PUBACK for minutes; refused, the
      // agent sends the message again.
      const journalDb = openPostgres(config.database, {
        max: 4,
        applicationName: 'vigil journal',
        queryTimeoutMs: Math.max(1000, Math.floor(lease.ttlMs / 2)),
        connectTimeoutMs: Math.max(1000, Math.floor(lease.ttlMs / 2)),
        onIdleError: () => {
          // A dropped idle session: the pool opens another for the next commit.
        },
      });
      undo.push({ name: 'the journal database', run: () => journalDb.close() });
      undo.push({ name: 'the leader lease', run: () => lease.stop() });
      journal = new PgJournal({
        db: journalDb,
        fence: lease,
        maxBytes: config.journal.maxBytes,
        groupCommitMs: config.journal.groupCommitMs,
        commitsInFlight: config.journal.commitsInFlight,
        fenceIdleMs: lease.ttlMs,
      });
      await lease.start();
    } else {
      journal = new FileJournal({
        dir: join(config.dataDir, 'journal'),
        maxBytes: config.journal.maxBytes,
        groupCommitMs: config.journal.groupCommitMs,
      });
    }
    // PostgreSQL: started below, once this node leads.
    const unfinished = leadership ? [] : await journal.start();
    undo.push({ name: 'the journal', run: () => journal.stop() });

    // The stores' engine (broker/sql/): PostgreSQL with database/url, each write fenced by
    // the leader lease on a pair; else vigil.db. Stores move onto it one by one (issue 17).
    const store = openStoreDatabase({
      sqlite: db,
      sqliteLabel: join(config.dataDir, 'vigil.db'),
      database: config.database,
      fence: leadership,
      ...(leadership ? { fenceIdleMs: leadership.ttlMs } : {}),
      ...(leadership ? { queryTimeoutMs: Math.max(1000, Math.floor(leadership.ttlMs / 2)) } : {}),
    });
    undo.push({ name: 'the stores database', run: () => store.close() });
    const agents = new AgentStore(store);
    await agents.start();
    const deviceRows = new DeviceStore(store);
    await deviceRows.start();
    // In memory, states written through, readings behind (broker/devices/write-behind.ts).
    const devices = new WriteBehindRegistry(deviceRows, {
      onError: (error, retryInMs) =>
        log.error(
          `cannot write the device registry to ${store.label}: ${error instanceof Error ? error.message : String(error)}; ${retryInMs < 0 ? 'stopping: the messages of the states not written stay in the journal' : `trying again in ${Math.round(retryInMs / 1000)} s, the states wait in memory and their messages in the journal`}`,
        ),
    });
    await devices.start();
    undo.push({ name: 'the device registry', run: () => devices.stop() });
    const deadLetters = new DeadLetterStore(store);
    await deadLetters.start();
    const audit = new AuditLog(store, { onError: (message) => log.error(message) });
    await audit.start();
    undo.push({ name: 'the MQTT refusal audit', run: () => audit.stop() });
    const events = new BrokerEvents();

    const keep = {
      rawRetentionDays: config.metrics.rawDays,
      rollupRetentionDays: config.metrics.rollupDays,
    };
    const metrics: MetricsStore = config.influx
      ? new InfluxMetricsStore({ ...config.influx, ...keep })
      : new EmbeddedMetricsStore({
          file: join(config.dataDir, 'metrics.db'),
          retentionDays: keep.rawRetentionDays,
          rollupRetentionDays: keep.rollupRetentionDays,
        });
    try {
      await metrics.start();
    } catch (error) {
      if (!(metrics instanceof InfluxMetricsStore)) throw error;
      // InfluxDB may come up after the broker (docker-compose, a reboot): run, keep the
      // readings in memory, and set the database up on the first write that gets through.
      log.warn(
        `${error instanceof Error ? error.message : String(error)}; readings wait in memory and are retried`,
      );
    }
    undo.push({ name: 'the metrics store', run: () => metrics.stop() });
    // Past periods' report trends, dropped when a reading dated inside one is written.
    const reportCache = new ReportCache();
    const metricsWriter = new MetricsWriter(metrics, child(log, 'metrics'), {
      ...options.metricsWriter,
      onWritten: (points) => reportCache.written(points),
    });
    undo.push({ name: 'the metrics writer', run: () => metricsWriter.stop() });

    // The pipeline and what it feeds: detection without storms, the ticket desk with its
    // SLA clocks, maintenance, site metadata, webhooks, and the broker's clock
    // (broker/wiring/desk.ts). Stopped before the metrics writer: the messages already
    // accepted finish first, then the writer flushes.
    const desk = await startDesk({
      events,
      registry: devices,
      metrics: metricsWriter,
      store,
      deadLetters,
      sla: config.sla,
      config: config.desk,
      log,
      onDuplicate: () => journal.count('duplicates'),
      // A standby's clock stands still: the leader's detector and SLA clocks are the ones.
      active: () => leadership?.isLeader ?? true,
      ...(options.logIntervalMs !== undefined ? { logIntervalMs: options.logIntervalMs } : {}),
    });
    undo.push({ name: 'the ticket desk', run: () => desk.stop() });
    const { pipeline, tickets } = desk;
    // Who is on call for a site (broker/oncall/): the escalation engine pages from it.
    const oncall = new OnCallStore(store, desk.sites);
    await oncall.start();
    // Where notifications go (broker/notify/channels/), and the engine that pages through
    // them from the ticket and SLA events; stopped before the desk that emits those.
    // VIGIL_SECRETS_KEY, when set, encrypts the channels' secrets in vigil.db (docs/CHANNELS.md).
    const channels = new ChannelStore(store, { secretsKey: env.VIGIL_SECRETS_KEY || undefined });
    await channels.start();
    for (const problem of await channels.problems()) log.warn(`notify: ${problem}`);
    // On a pair, the node that takes over calls escalations.reload() (the steps and digests
    // that fell due while no node led run then, once).
    const escalations = new Escalations({
      db: store,
      events,
      tickets,
      directory: oncall,
      channels,
      sites: desk.sites,
      config: config.escalation,
      log,
    });
    await escalations.start();
    undo.push({ name: 'the escalations', run: () => escalations.stop() });

    // The NOC's commands to agents (poll now, rediscover, report config): published at
    // QoS 1 through the MQTT server below; an agent's answer arrives as one of its messages.
    const commands = new CommandSender({
      publish: (topic, payload) => mqtt.publish(topic, payload),
    });
    undo.push({ name: 'the command sender', run: () => commands.stop() });

    // An agent's batch (spool replay) becomes its records, in order (stages/decode.ts);
    // the journal record is finished once all of them are.
    // Which start of the journal a record was fed under. A record's pipeline work can
    // outlive the journal's term: a node cut off from PostgreSQL keeps writes hanging until
    // their connection fails, is deposed, and may be elected again meanwhile; finishing
    // that record in the new term's journal would mark it done while the replay of the
    // same record is still under way, and a crash then would lose it. Only the run that
    // fed a record finishes it; the others leave it to the replay.
    let journalRun = 0;
    const process = (id: number, envelope: Envelope): void => {
      const run = journalRun;
      const parts = unbatch(envelope);
      let left = parts.length;
      for (const one of parts) {
        commands.observe(one);
        pipeline.feed(one, () => {
          if (--left === 0 && run === journalRun) journal.finish(id);
        });
      }
    };
    // A commit acknowledges a whole group at once: its messages go into the pipeline on the
    // next turn of the event loop, in journal order, so that no PUBACK of the group waits
    // for the pipeline work of the messages committed with it (the journal keeps them all,
    // and a crash before they are processed replays them).
    let acknowledged: { id: number; envelope: Envelope }[] = [];
    const processAcknowledged = (): void => {
      const batch = acknowledged;
      acknowledged = [];
      for (const { id, envelope } of batch) process(id, envelope);
    };
    const afterPuback = (id: number, envelope: Envelope): void => {
      if (acknowledged.push({ id, envelope }) === 1) setImmediate(processAcknowledged);
    };
    const tls = config.mqtt.tls;
    // Made here, started below once the journal replayed: a takeover retains in it.
    const mqtt = new MqttServer({
      host: config.mqtt.host,
      port: config.mqtt.port,
      tls: tls
        ? {
            host: tls.host,
            port: tls.port,
            cert: readFileSync(tls.certFile, 'utf8'),
            key: readFileSync(tls.keyFile, 'utf8'),
            ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}),
            requireClientCert: tls.requireClientCert,
          }
        : null,
      ws: config.mqtt.ws,
      limits: config.mqtt.limits,
      agents,
      audit,
      log: child(log, 'mqtt'),
      // On disk first (the PUBACK waits for this), then into the pipeline.
      ingest: async (envelope) => {
        const id = await journal.append(envelope);
        afterPuback(id, envelope);
      },
      ...(options.sweepIntervalMs !== undefined
        ? { sweepIntervalMs: options.sweepIntervalMs }
        : {}),
      logIntervalMs: options.logIntervalMs,
      // A standby refuses CONNECT with CONNACK 3, so agents move to the leader (docs/HA.md).
      serving: () => leadership?.serving ?? true,
    });
    // What new subscribers are handed as retained, which Aedes keeps in memory only: the
    // devices' states from the registry, then the retained messages among the unfinished
    // ones (broker/devices/retained.ts); stored before any client is served.
    const retainFromStores = (unfinished: readonly Envelope[]): Promise<void> =>
      mqtt.retain(retainedMessages(devices.list(), unfinished));
    // What was acknowledged before the last stop or crash but not finished: again, in order.
    for (const { id, ...envelope } of unfinished) process(id, envelope);
    // A node of a pair retains when it takes over (below); a standby serves nobody.
    if (!leadership) await retainFromStores(unfinished);
    if (unfinished.length > 0)
      log.info(`replaying ${unfinished.length} messages the journal kept from before the restart`);
    // PostgreSQL: each election starts the journal again (a journal of an earlier term
    // refuses appends) and replays what the previous leader acknowledged and did not finish.
    let takeovers = Promise.resolve();
    const takeOver = (): Promise<void> =>
      (takeovers = takeovers
        .then(async () => {
          if (!leadership?.isLeader) return;
          const term = leadership.token;
          // What the other node wrote while this one stood by: the copies in memory the
          // pipeline and escalation answer from are read again before anything is served.
          await desk.reload();
          await oncall.reload();
          // The device states and the detector's conditions as the old leader saved them;
          // what it had not saved is replayed from the journal below.
          await devices.reload();
          await desk.detector.reload();
          // The escalation steps and digests that fell due while no node led: now, once.
          await escalations.reload();
          await journal.stop();
          journalRun++;
          const records = await journal.start();
          // The retained statuses this node's Aedes lacks, before it serves (ready below).
          await retainFromStores(records);
          for (const { id, ...envelope } of records) process(id, envelope);
          // Clients are taken from now on (MqttServer `serving`), in this term only.
          if (term !== null) leadership.ready(term);
          log.info(
            `leads: the journal in PostgreSQL replays ${records.length} messages acknowledged before`,
          );
        })
        .catch((error: unknown) => {
          log.error(
            `cannot start the journal in PostgreSQL after the election: ${error instanceof Error ? error.message : String(error)}; messages are refused meanwhile, trying again in 1 s`,
          );
          // Still leading (the lease has its own pool): try again rather than lead
          // without a journal until the next election.
          const again = setTimeout(() => void takeOver(), 1000);
          again.unref();
        }));
    if (leadership) {
      leadership.onChange((change) => {
        if (change.leading) void takeOver();
      });
      // Elected during start: the replay runs before MQTT opens, as with the file journal.
      if (leadership.isLeader) await takeOver();
    }

    await mqtt.start();
    undo.push({ name: 'the MQTT server', run: () => mqtt.stop() });
    // Deposed: its clients go and find the new leader rather than stay refused here.
    leadership?.onChange((change) => {
      if (!change.leading) mqtt.closeAll(`this node no longer leads (${change.reason})`);
    });

    const figures = new BrokerFigures({
      collect: () => {
        const { agents: agentClients, clients, messagesIn, messagesOut } = mqtt.stats;
        const { depth, bytes, maxBytes, full, appended, finished, refused, commits } =
          journal.stats;
        return {
          mqtt: {
            clients,
            agents: agentClients,
            messagesIn,
            messagesOut,
            refused: { ...audit.refused },
          },
          journal: {
            depth,
            bytes,
            maxBytes,
            full,
            appended,
            finished,
            refused,
            commits,
            lastCommitMs: Math.round(journal.stats.lastCommitMs * 1000) / 1000,
            duplicates: journal.counters.duplicates ?? 0,
          },
          pipeline: { ...pipeline.counters },
          metricsWriter: { kind: metrics.kind, ...metricsWriter.stats },
        };
      },
      publish: (topic, payload) => mqtt.publishSys(topic, payload),
    });
    figures.start();
    undo.push({ name: 'the broker figures', run: () => figures.stop() });

    const health = async (): Promise<Health> => {
      const storeOk = await metrics.ping().catch(() => false);
      return {
        status: storeOk && !journal.full && !journal.problem ? 'ok' : 'degraded',
        version,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
        mqtt: { clients: mqtt.clients },
        metricsStore: { kind: metrics.kind, ok: storeOk },
        pipeline: { ...pipeline.counters },
        // The outbox's counters per channel type and the failing channels (the stores'
        // database; left out when it cannot be read: the health answers all the same).
        ...(await escalations.outbox.stats().then(
          ({ byType, failing }) => ({ notify: { outbox: byType, failing } }),
          () => ({}),
        )),
      };
    };

    const admin = await ensureAdmin(store, env.VIGIL_ADMIN_PASSWORD, desk.audit).catch(
      (error: unknown) => {
        // A standby writes nothing: the leader has set the admin up from the same config.
        if (!(error instanceof NotLeaderWriteError)) throw error;
        log.info('admin account: left to the leader (this node is a standby)');
        return { created: false, generatedPassword: undefined };
      },
    );
    const api = await startApi(
      {
        db,
        store,
        devices,
        tickets,
        events,
        health,
        desk,
        brokerStats: () => figures.current(),
        metrics,
        reportCache,
        commands,
        oncall,
        escalations,
        channels,
        leaderRole: () => (leadership ? (leadership.isLeader ? 'leader' : 'standby') : 'single'),
        consoleDir: config.consoleDir,
        log: child(log, 'api'),
        // Issued inspection reports are printed to PDF by chromium (reports.* in broker.yaml).
        pdf: new ChromiumPdfPrinter({
          chromiumPath: config.reports.chromiumPath,
          timeoutMs: config.reports.printTimeoutMs,
        }),
      },
      // With http.tls: HTTPS, and a plain port that redirects (broker/api/https.ts).
      config.http,
    );
    undo.push({ name: 'the API', run: () => api.close() });

    let stopping: Promise<void> | null = null;
    return {
      config,
      mqttUrl: `mqtt://${dialable(config.mqtt.host)}:${mqtt.port}`,
      mqttPort: mqtt.port,
      httpUrl: api.url,
      generatedAdminPassword: admin.generatedPassword ?? null,
      db,
      store,
      agents,
      devices,
      tickets,
      desk,
      oncall,
      escalations,
      channels,
      events,
      metrics,
      metricsWriter,
      pipeline,
      deadLetters,
      mqtt,
      journal,
      leadership,
      audit,
      figures,
      health,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
