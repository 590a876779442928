/**
 * The whole Vigil broker (broker/app.ts: MQTT, journal, pipeline, desk, API) for a test:
 * MQTT and HTTP on loopback and port 0 (a free port, so files run side by side), no
 * console build, the SQLite files and the journal in a temporary folder, and the lines
 * logged nowhere unless the test passes a log to read them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type MqttClient } from 'mqtt';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerOptions, type RunningBroker } from '../../broker/app.js';
import { resolveConfig, type BrokerConfigFile } from '../../broker/config.js';
import { silentLog } from '../../broker/log.js';

/** The console's admin password the test broker starts with (VIGIL_ADMIN_PASSWORD). */
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

/** What a test sets beyond the defaults, as in a broker.yaml; mqtt and http merge key by key. */
export type TestBrokerSettings = Omit<BrokerConfigFile, 'dataDir' | 'mqtt' | 'http'> & {
  mqtt?: Partial<NonNullable<BrokerConfigFile['mqtt']>>;
  http?: Partial<NonNullable<BrokerConfigFile['http']>>;
};

export interface TestBrokerOptions extends Omit<BrokerOptions, 'env'> {
  settings?: TestBrokerSettings;
  /**
   * The data folder of an earlier start (a restart keeps what is on disk); the test removes
   * it. Without it, a new temporary folder that stop() removes.
   */
  dataDir?: string;
  adminPassword?: string;
}

/** Starts the broker; its stop() also removes the temporary folder it made. */
export async function startTestBroker(options: TestBrokerOptions = {}): Promise<RunningBroker> {
  const {
    settings = {},
    dataDir,
    adminPassword = TEST_ADMIN_PASSWORD,
    log = silentLog,
    ...brokerOptions
  } = options;
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'vigil-broker-')));
  const ownsDir = dataDir === undefined;
  const config = resolveConfig(
    {
      consoleDir: null,
      ...settings,
      dataDir: dir,
      mqtt: { host: '127.0.0.1', port: 0, ...settings.mqtt },
      http: { host: '127.0.0.1', port: 0, ...settings.http },
    },
    // The test's own environment (VIGIL_MQTT_PORT, VIGIL_DATA_DIR) must not move the broker.
    { env: {} },
  );
  let broker: RunningBroker;
  try {
    broker = await startBroker(config, {
      ...brokerOptions,
      log,
      env: { VIGIL_ADMIN_PASSWORD: adminPassword },
    });
  } catch (error) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  if (!ownsDir) return broker;
  const stop = broker.stop.bind(broker);
  broker.stop = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  return broker;
}

/** Logs a user in over HTTP (the admin by default): the bearer token a console holds. */
export async function loginToken(
  broker: RunningBroker,
  password = TEST_ADMIN_PASSWORD,
  username = 'admin',
): Promise<string> {
  const login = await fetch(`${broker.httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (login.status !== 200) throw new Error(`login of ${username} failed: HTTP ${login.status}`);
  return ((await login.json()) as { token: string }).token;
}

/**
 * A real mqtt.js client logged in as an agent, connected (its client id is its user name,
 * as the broker requires; no reconnecting, so a test sees a refusal as it is).
 */
export async function connectAgent(
  broker: RunningBroker,
  credentials: { username: string; password: string },
): Promise<MqttClient> {
  const client = connect(broker.mqttUrl, {
    username: credentials.username,
    password: credentials.password,
    clientId: credentials.username,
    reconnectPeriod: 0,
  });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('connect', resolve));
  return client;
}
