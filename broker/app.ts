/**
 * The running broker: wires the parts in order and stops them in the reverse order.
 * `vigil broker` (broker/main.ts) calls it from the command line; tests and the demo can
 * call it in-process with port 0 and read the bound ports back.
 *
 *   SQLite vigil.db -> agent accounts, device registry, dead letters, tickets, users
 *   metrics store (InfluxDB or embedded) <- batching writer <- pipeline <- Aedes (MQTT)
 *   HTTP API + console (broker/api/)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Health } from '../shared/api/health.js';
import { AgentStore } from './agents/store.js';
import { startApi } from './api/server.js';
import { ensureAdmin } from './api/users.js';
import type { BrokerConfig } from './config.js';
import { openDatabase, type Db } from './db.js';
import { SqliteDeviceRegistry } from './devices/sqlite-registry.js';
import { BrokerEvents } from './events.js';
import { child, consoleLog, type Log } from './log.js';
import { EmbeddedMetricsStore } from './metrics/embedded.js';
import { InfluxMetricsStore } from './metrics/influx.js';
import type { MetricsStore } from './metrics/store.js';
import { MetricsWriter, type MetricsWriterOptions } from './metrics/writer.js';
import { MqttServer } from './mqtt/server.js';
import { brokerStages, DeadLetterStore, Pipeline } from './pipeline/index.js';
import { createTicketService } from './tickets/service.js';
import type { TicketService } from './tickets/types.js';

export interface BrokerOptions {
  /** Where the broker's lines go; "broker: ..." on the console by default. */
  log?: Log;
  /** VIGIL_ADMIN_PASSWORD sets the console's admin password. */
  env?: NodeJS.ProcessEnv;
  /** How often MQTT sessions are checked against revocations made by another process. */
  sweepIntervalMs?: number;
  metricsWriter?: MetricsWriterOptions;
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
  agents: AgentStore;
  devices: SqliteDeviceRegistry;
  tickets: TicketService;
  events: BrokerEvents;
  metrics: MetricsStore;
  metricsWriter: MetricsWriter;
  pipeline: Pipeline;
  deadLetters: DeadLetterStore;
  mqtt: MqttServer;
  health(): Promise<Health>;
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

    const agents = new AgentStore(db);
    agents.start();
    const devices = new SqliteDeviceRegistry(db);
    devices.start();
    const deadLetters = new DeadLetterStore(db);
    deadLetters.start();
    const events = new BrokerEvents();
    const tickets = createTicketService({ db, events, sla: config.sla });

    const metrics: MetricsStore = config.influx
      ? new InfluxMetricsStore(config.influx)
      : new EmbeddedMetricsStore({ file: join(config.dataDir, 'metrics.db') });
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
    const metricsWriter = new MetricsWriter(metrics, child(log, 'metrics'), options.metricsWriter);
    undo.push({ name: 'the metrics writer', run: () => metricsWriter.stop() });

    const pipeline = new Pipeline(
      brokerStages({ registry: devices, events, metrics: metricsWriter, tickets }),
      deadLetters,
      child(log, 'pipeline'),
    );
    // Let the messages already accepted finish before the writer flushes.
    undo.push({ name: 'the pipeline', run: () => pipeline.idle() });

    const mqtt = new MqttServer({
      host: config.mqtt.host,
      port: config.mqtt.port,
      agents,
      log: child(log, 'mqtt'),
      onMessage: (envelope) => pipeline.feed(envelope),
      ...(options.sweepIntervalMs !== undefined
        ? { sweepIntervalMs: options.sweepIntervalMs }
        : {}),
    });
    await mqtt.start();
    undo.push({ name: 'the MQTT server', run: () => mqtt.stop() });

    const health = async (): Promise<Health> => {
      const storeOk = await metrics.ping().catch(() => false);
      return {
        status: storeOk ? 'ok' : 'degraded',
        version,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
        mqtt: { clients: mqtt.clients },
        metricsStore: { kind: metrics.kind, ok: storeOk },
        pipeline: { ...pipeline.counters },
      };
    };

    const admin = ensureAdmin(db, env.VIGIL_ADMIN_PASSWORD);
    const api = await startApi(
      {
        db,
        devices,
        tickets,
        events,
        health,
        consoleDir: config.consoleDir,
        log: child(log, 'api'),
      },
      { host: config.http.host, port: config.http.port },
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
      agents,
      devices,
      tickets,
      events,
      metrics,
      metricsWriter,
      pipeline,
      deadLetters,
      mqtt,
      health,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
