/**
 * The broker's configuration: a YAML file checked against one TypeBox schema, every
 * error reported with its path (STYLE habit 4). Every setting has a default, so
 * `vigil broker` without --config runs a complete broker on this machine.
 *
 *   dataDir: ./data                 # VIGIL_DATA_DIR; holds vigil.db and metrics.db
 *   mqtt:
 *     host: 0.0.0.0
 *     port: 1883                    # MQTT_PORT
 *     tls:                          # optional: MQTT over TLS
 *       port: 8883
 *       cert: /etc/vigil/broker.crt  # PEM files
 *       key: /etc/vigil/broker.key
 *       ca: /etc/vigil/agents-ca.crt # optional: accept client certificates it signed
 *       requireClientCert: false
 *     ws: { port: 8083 }            # optional: MQTT over WebSocket
 *     limits: { maxPayloadBytes: 262144, maxTopicLevels: 16, connectionsPerSecond: 200 }
 *   journal: { maxBytes: 1073741824, groupCommitMs: 2 } # the ingest journal in <dataDir>/journal
 *   journal: { store: postgres }    # file (<dataDir>/journal) or postgres (database/url);
 *                                   # default postgres when database/url is set (docs/HA.md)
 *   journal: { commitsInFlight: 3 } # postgres: INSERTs in flight at once, 1 to 3
 *   http: { host: 0.0.0.0, port: 8080 }      # port: HTTP_PORT
 *   http:                           # the console from outside (docs/PORTAL-SECURITY.md)
 *     port: 443                     # with tls: HTTPS on this port
 *     tls: { cert: /etc/vigil/console.crt, key: /etc/vigil/console.key,
 *            redirectPort: 80, hstsMaxAgeS: 31536000 }  # redirectPort: plain HTTP, redirected
 *     trustProxy: [127.0.0.1]       # the reverse proxies whose X-Forwarded-For is believed
 *     loginLimits: { failuresPerAccount: 20, failuresPerAddress: 100, windowMin: 15, lockMin: 15 }
 *   metrics: { rawDays: 30, rollupDays: 730 } # how long readings, and their 5-minute and
 *                                   # daily rollups, are kept (either store)
 *   influx:                         # absent: the embedded metrics store (SQLite)
 *     url: http://127.0.0.1:8086
 *     database: vigil
 *     username: vigil               # optional; InfluxDB with auth-enabled
 *     password: ...
 *   sla:                            # optional, per priority, over the contract's table
 *     serious: { respondMin: 5, onSiteMetBy: dispatch }
 *   detect: { holdS: 2, heartbeatTimeoutS: 90, massShare: 0.3, flapFailures: 3 }
 *   tickets: { warnShare: 0.8, relapseWindowMin: 60, priorities: { degraded:clock-drift: none } }
 *   notify: { webhooks: [{ url: https://..., secret: ... }], attempts: 5, retryMs: 1000,
 *             publicUrl: https://vigil.example.com, policies: ..., outbox: ... }
 *                                   # broker/notify/config.ts, docs/NOTIFY.md
 *   consoleDir: /srv/vigil/console  # default: dist/console of this build; null: no console
 *   database:                       # PostgreSQL (docs/HA.md): the journal and the leader lease
 *     url: postgres://vigil@db.example.com:5432/vigil  # VIGIL_DATABASE_URL
 *     passwordFile: /etc/vigil/db-password              # or the password in the URL
 *   reports:                        # issued inspection reports' PDF (docs/CUSTOMERS.md)
 *     chromiumPath: /usr/bin/chromium  # the headless browser that prints them (Debian's chromium)
 *     printTimeoutS: 60
 *
 * Relative paths in a file are taken from the file's folder, so a config works from any
 * working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from 'typebox';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { VigilError } from '../shared/errors.js';
import { validator } from '../shared/validate.js';
import {
  NotifyConfigFile,
  resolveEscalationConfig,
  type EscalationConfig,
} from './notify/config.js';
import {
  DetectConfigFile,
  resolveDeskConfig,
  TicketsConfigFile,
  type DeskConfig,
} from './wiring/desk-config.js';
import { defaultSla, type SlaTable, type SlaTerms } from './tickets/types.js';
import { maskDatabaseUrl, type DatabaseConfig } from './ha/pg.js';
import { DEFAULT_CHROMIUM, DEFAULT_PRINT_TIMEOUT_MS } from './inspection/issued/pdf.js';

/**
 * How long the first message of a journal commit waits for others to share its fsync.
 * Every commit costs two thread-pool round trips (write, fdatasync), about 40 µs of main
 * thread each on this kind of VM; at 2,000 msg/s without a wait nearly every message paid
 * its own. 2 ms adds at most 2 ms to a PUBACK (bench:broker measures both).
 */
export const DEFAULT_GROUP_COMMIT_MS = 2;

const Host = Type.String({ minLength: 1, maxLength: 255 });
// Port 0 asks the system for a free port (tests, several brokers on one machine).
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Minutes = Type.Number({ exclusiveMinimum: 0 });

/**
 * The API's listener. With `tls` it serves HTTPS (RFC 9110 section 4.2.2) on `port`, and
 * `tls.redirectPort` answers plain HTTP there with a redirect to it.
 */
const HttpListener = Type.Object(
  {
    host: Type.Optional(Host),
    port: Type.Optional(Port),
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ minLength: 1 }),
          key: Type.String({ minLength: 1 }),
          redirectPort: Type.Optional(Port),
          // RFC 6797: how long browsers go straight to HTTPS; 0 sends no header.
          hstsMaxAgeS: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 * 365 * 86400 })),
        },
        { additionalProperties: false },
      ),
    ),
    // Addresses or CIDR ranges of reverse proxies (or loopback, linklocal, uniquelocal):
    // only their X-Forwarded-For and X-Forwarded-Proto are believed.
    trustProxy: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1 }),
    ),
    loginLimits: Type.Optional(
      Type.Object(
        {
          failuresPerAccount: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
          failuresPerAddress: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          windowMin: Type.Optional(Minutes),
          lockMin: Type.Optional(Minutes),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const MqttListener = Type.Object(
  {
    host: Type.Optional(Host),
    port: Type.Optional(Port),
    tls: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Host),
          port: Type.Optional(Port),
          cert: Type.String({ minLength: 1 }),
          key: Type.String({ minLength: 1 }),
          ca: Type.Optional(Type.String({ minLength: 1 })),
          requireClientCert: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    ws: Type.Optional(
      Type.Object(
        { host: Type.Optional(Host), port: Type.Optional(Port) },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          maxPayloadBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          maxTopicLevels: Type.Optional(Type.Integer({ minimum: 6, maximum: 128 })),
          connectionsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const SlaTermsOverride = Type.Object(
  {
    respondMin: Type.Optional(Minutes),
    onSiteMin: Type.Optional(Type.Union([Minutes, Type.Null()])),
    resolveMin: Type.Optional(Type.Union([Minutes, Type.Null()])),
    onSiteMetBy: Type.Optional(Type.Union([Type.Literal('dispatch'), Type.Literal('on-site')])),
  },
  { additionalProperties: false },
);

export const BrokerConfigFile = Type.Object(
  {
    dataDir: Type.Optional(Type.String({ minLength: 1 })),
    mqtt: Type.Optional(MqttListener),
    journal: Type.Optional(
      Type.Object(
        {
          maxBytes: Type.Optional(Type.Integer({ minimum: 1024 * 1024 })),
          // How long a commit waits for more messages to share its fsync (PUBACK latency
          // against CPU per message: broker/journal/journal.ts).
          groupCommitMs: Type.Optional(Type.Number({ minimum: 0, maximum: 50 })),
          // Where a PUBACK waits: the local segment files, or PostgreSQL (the journal then
          // outlives the node; broker/journal/pg-journal.ts, docs/HA.md).
          store: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('postgres')])),
          // PostgreSQL only: INSERTs in flight at once (default 3), each on its own
          // connection of the journal's pool of 4, one of which stays for the checkpoint
          // (broker/journal/pg-journal.ts); 1 commits one group at a time.
          commitsInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 })),
        },
        { additionalProperties: false },
      ),
    ),
    http: Type.Optional(HttpListener),
    // How long the metrics store keeps readings and their rollups (docs/METRICS.md).
    metrics: Type.Optional(
      Type.Object(
        {
          rawDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          rollupDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })),
        },
        { additionalProperties: false },
      ),
    ),
    influx: Type.Optional(
      Type.Object(
        {
          url: Type.String({ format: 'uri', pattern: '^https?://' }),
          database: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          username: Type.Optional(Type.String({ minLength: 1 })),
          password: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    sla: Type.Optional(
      Type.Object(
        {
          emergency: Type.Optional(SlaTermsOverride),
          serious: Type.Optional(SlaTermsOverride),
          general: Type.Optional(SlaTermsOverride),
        },
        { additionalProperties: false },
      ),
    ),
    consoleDir: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    // The ticket desk (broker/wiring/desk-config.ts): detection, priorities, webhooks.
    detect: Type.Optional(DetectConfigFile),
    tickets: Type.Optional(TicketsConfigFile),
    notify: Type.Optional(NotifyConfigFile),
    // PostgreSQL for the HA pair (issue 17, docs/HA.md). The URL is checked by
    // databaseErrors, which never repeats a password in its message.
    database: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
          passwordFile: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    // Issuing an inspection report prints it to PDF (broker/inspection/issued/pdf.ts).
    reports: Type.Optional(
      Type.Object(
        {
          chromiumPath: Type.Optional(Type.String({ minLength: 1 })),
          printTimeoutS: Type.Optional(Type.Integer({ minimum: 5, maximum: 600 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type BrokerConfigFile = Static<typeof BrokerConfigFile>;

export interface InfluxConfig {
  url: string;
  database: string;
  username?: string;
  password?: string;
}

export interface MqttTlsConfig {
  host: string;
  port: number;
  /** Paths of the PEM files, resolved; read at start. */
  certFile: string;
  keyFile: string;
  caFile: string | null;
  requireClientCert: boolean;
}

/** HTTPS on the API's own listener (http.tls). */
export interface HttpTlsConfig {
  /** Paths of the PEM files, resolved; read and checked at start. */
  certFile: string;
  keyFile: string;
  /** A plain HTTP port that redirects to HTTPS; null: none. */
  redirectPort: number | null;
  /** Strict-Transport-Security max-age; 0: no header. */
  hstsMaxAgeS: number;
}

/** How many wrong passwords lock what, for how long (broker/api/login-limits.ts). */
export interface LoginLimitsConfig {
  /** Wrong passwords for one user name from one address that lock that name from there. */
  failuresPerAccount: number;
  /** Wrong passwords from one address across all names that lock the address. */
  failuresPerAddress: number;
  /** The failures counted are those within this many minutes of the first. */
  windowMin: number;
  lockMin: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimitsConfig = {
  failuresPerAccount: 20,
  failuresPerAddress: 100,
  windowMin: 15,
  lockMin: 15,
};

export interface HttpConfig {
  host: string;
  port: number;
  tls: HttpTlsConfig | null;
  /** The reverse proxies to believe (fastify's trustProxy); null: none, the peer is the client. */
  trustProxy: string[] | null;
  loginLimits: LoginLimitsConfig;
}

export interface BrokerConfig {
  dataDir: string;
  mqtt: {
    host: string;
    port: number;
    tls: MqttTlsConfig | null;
    ws: { host: string; port: number } | null;
    limits: { maxPayloadBytes: number; maxTopicLevels: number; connectionsPerSecond: number };
  };
  /**
   * store: 'postgres' (the default with `database`) commits each message in PostgreSQL
   * before its PUBACK and makes the node one of an active/standby pair (docs/HA.md).
   */
  journal: {
    maxBytes: number;
    groupCommitMs: number;
    store: 'file' | 'postgres';
    /** Absent: the PostgreSQL journal's default (3). */
    commitsInFlight?: number;
  };
  http: HttpConfig;
  /**
   * Days the metrics store keeps raw readings (30, InfluxDB's `raw` policy) and their
   * 5-minute and daily rollups (730: two years of monthly and quarterly reports).
   */
  metrics: { rawDays: number; rollupDays: number };
  /** null: the embedded metrics store in `dataDir`. */
  influx: InfluxConfig | null;
  sla: SlaTable;
  /** Detection, priority rules, SLA warning share, relapse window, webhooks. */
  desk: DeskConfig;
  /** Folder of the built console; null when there is none to serve. */
  consoleDir: string | null;
  /** Escalation policies, the outbox, acknowledge links (broker/notify/config.ts). */
  escalation: EscalationConfig;
  /**
   * PostgreSQL (database.url or VIGIL_DATABASE_URL); null: none. Used by the HA lease
   * (broker/ha/lease.ts) only; the stores still use SQLite in `dataDir` (docs/HA.md).
   */
  database: DatabaseConfig | null;
  /** The PDF of an issued inspection report: which chromium prints it, and how long it may take. */
  reports: { chromiumPath: string; printTimeoutMs: number };
}

const checkFile = validator(BrokerConfigFile);

/** The folder `npm run build:console` writes: dist/console beside dist/broker. */
function builtConsoleDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  // Compiled: dist/broker/config.js -> dist/console. From source (tests): broker/config.ts
  // -> dist/console of the checkout, which exists once the project was built.
  const compiled = import.meta.url.endsWith('.js');
  const dir = compiled ? resolve(here, '..', 'console') : resolve(here, '..', 'dist', 'console');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

function portFromEnv(env: NodeJS.ProcessEnv, name: string, errors: string[]): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    errors.push(`${name} (environment): "${raw}" is not a TCP port; use a number from 0 to 65535`);
    return undefined;
  }
  return port;
}

function mergeSla(overrides: BrokerConfigFile['sla']): SlaTable {
  const merged = { ...defaultSla };
  for (const priority of Object.keys(defaultSla) as (keyof SlaTable)[]) {
    const override = overrides?.[priority];
    if (override) merged[priority] = { ...defaultSla[priority], ...override } as SlaTerms;
  }
  return merged;
}

/**
 * `database`: a postgres:// URL (file or VIGIL_DATABASE_URL), and the password in at most
 * one place. Messages show the URL with its password masked.
 */
function databaseErrors(database: BrokerConfigFile['database'], env: NodeJS.ProcessEnv): string[] {
  const errors: string[] = [];
  const fromFile = database?.url;
  const url = fromFile ?? (env.VIGIL_DATABASE_URL || undefined);
  const where = fromFile !== undefined ? 'database/url' : 'VIGIL_DATABASE_URL (environment)';
  if (url === undefined) {
    if (database?.passwordFile !== undefined)
      errors.push(
        'database/passwordFile: needs database/url (or VIGIL_DATABASE_URL), the server to log in to',
      );
    return errors;
  }
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // The text may hold a password: say what is wrong without repeating it.
  }
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname) {
    errors.push(
      `${where}: ${parsed ? maskDatabaseUrl(url) : 'the value'} is not a PostgreSQL URL; write postgres://USER@HOST:5432/DATABASE`,
    );
  } else if (parsed.password && database?.passwordFile !== undefined) {
    errors.push(
      `${where}: holds a password and database/passwordFile gives one too; keep the password only in the file`,
    );
  }
  return errors;
}

/** The proxy-addr names fastify's trustProxy takes besides addresses and CIDR ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

function httpErrors(http: BrokerConfigFile['http']): string[] {
  const errors: string[] = [];
  const redirect = http?.tls?.redirectPort;
  if (redirect !== undefined && redirect !== 0 && redirect === (http?.port ?? 8080))
    errors.push(
      `http/tls/redirectPort: ${redirect} is the HTTPS port itself; give the plain HTTP port to redirect from (80), or leave it out`,
    );
  (http?.trustProxy ?? []).forEach((entry, i) => {
    if (!isProxyAddress(entry))
      errors.push(
        `http/trustProxy/${i}: "${entry}" is not an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal`,
      );
  });
  return errors;
}

function resolveHttp(
  http: BrokerConfigFile['http'],
  envPort: number | undefined,
  baseDir: string,
): HttpConfig {
  const tls = http?.tls;
  return {
    host: http?.host ?? '0.0.0.0',
    port: http?.port ?? envPort ?? 8080,
    tls: tls
      ? {
          certFile: resolve(baseDir, tls.cert),
          keyFile: resolve(baseDir, tls.key),
          redirectPort: tls.redirectPort ?? null,
          // A year: what the HSTS preload list asks for; the header counts only over HTTPS.
          hstsMaxAgeS: tls.hstsMaxAgeS ?? 365 * 86400,
        }
      : null,
    trustProxy: http?.trustProxy ?? null,
    loginLimits: { ...DEFAULT_LOGIN_LIMITS, ...http?.loginLimits },
  };
}

/**
 * Checks an already parsed config document and fills in the defaults. `baseDir` is the
 * folder relative paths start from; `env` supplies VIGIL_DATA_DIR, MQTT_PORT, HTTP_PORT.
 */
export function resolveConfig(
  document: unknown,
  options: { baseDir?: string; env?: NodeJS.ProcessEnv; source?: string } = {},
): BrokerConfig {
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const source = options.source ?? 'the broker configuration';
  // An empty YAML file parses as null: the same as no settings at all.
  const checked = checkFile(document ?? {});
  const errors = checked.ok ? [] : [...checked.errors];
  const envErrors: string[] = [];
  const mqttPort = portFromEnv(env, 'MQTT_PORT', envErrors);
  const httpPort = portFromEnv(env, 'HTTP_PORT', envErrors);
  errors.push(...envErrors);
  // Without the agents' CA, Node would accept a client certificate any public CA signed.
  if (checked.ok && checked.value.mqtt?.tls?.requireClientCert && !checked.value.mqtt.tls.ca)
    errors.push(
      "mqtt/tls/requireClientCert: needs mqtt/tls/ca, the CA that signs the agents' client certificates",
    );
  // Reads take whole 5-minute intervals and days from the rollups: rollups kept shorter
  // than the raw readings would leave charts empty where the readings still are.
  const keep = checked.ok ? checked.value.metrics : undefined;
  if ((keep?.rollupDays ?? 730) < (keep?.rawDays ?? 30))
    errors.push(
      `metrics/rollupDays: ${keep?.rollupDays ?? 730} is shorter than metrics/rawDays (${keep?.rawDays ?? 30}); keep the rollups at least as long as the raw readings`,
    );
  if (checked.ok) errors.push(...httpErrors(checked.value.http));
  if (checked.ok) errors.push(...databaseErrors(checked.value.database, env));
  if (
    checked.ok &&
    checked.value.journal?.store === 'postgres' &&
    !checked.value.database?.url &&
    !env.VIGIL_DATABASE_URL
  )
    errors.push(
      'journal/store: postgres needs database/url (or VIGIL_DATABASE_URL), the PostgreSQL the journal commits to; or write store: file',
    );
  const escalation = resolveEscalationConfig(checked.ok ? checked.value.notify : undefined, errors);
  if (!checked.ok || errors.length > 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${source} has ${errors.length} error(s)`, errors);
  }
  const file = checked.value;

  const dataDir = file.dataDir
    ? resolve(baseDir, file.dataDir)
    : resolve(env.VIGIL_DATA_DIR || 'data');
  const influx: InfluxConfig | null = file.influx
    ? {
        url: file.influx.url,
        database: file.influx.database ?? 'vigil',
        ...(file.influx.username !== undefined ? { username: file.influx.username } : {}),
        ...(file.influx.password !== undefined ? { password: file.influx.password } : {}),
      }
    : null;
  const databaseUrl = file.database?.url ?? (env.VIGIL_DATABASE_URL || undefined);
  const database: DatabaseConfig | null = databaseUrl
    ? {
        url: databaseUrl,
        passwordFile: file.database?.passwordFile
          ? resolve(baseDir, file.database.passwordFile)
          : null,
      }
    : null;
  const mqttHost = file.mqtt?.host ?? '0.0.0.0';
  const mqttTls = file.mqtt?.tls;
  let consoleDir: string | null;
  if (file.consoleDir === undefined) consoleDir = builtConsoleDir();
  else consoleDir = file.consoleDir === null ? null : resolve(baseDir, file.consoleDir);

  return {
    dataDir,
    mqtt: {
      host: mqttHost,
      port: file.mqtt?.port ?? mqttPort ?? 1883,
      tls: mqttTls
        ? {
            host: mqttTls.host ?? mqttHost,
            port: mqttTls.port ?? 8883,
            certFile: resolve(baseDir, mqttTls.cert),
            keyFile: resolve(baseDir, mqttTls.key),
            caFile: mqttTls.ca ? resolve(baseDir, mqttTls.ca) : null,
            requireClientCert: mqttTls.requireClientCert ?? false,
          }
        : null,
      ws: file.mqtt?.ws
        ? { host: file.mqtt.ws.host ?? mqttHost, port: file.mqtt.ws.port ?? 8083 }
        : null,
      limits: {
        maxPayloadBytes: file.mqtt?.limits?.maxPayloadBytes ?? 256 * 1024,
        maxTopicLevels: file.mqtt?.limits?.maxTopicLevels ?? 16,
        connectionsPerSecond: file.mqtt?.limits?.connectionsPerSecond ?? 200,
      },
    },
    journal: {
      maxBytes: file.journal?.maxBytes ?? 1024 ** 3,
      groupCommitMs: file.journal?.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS,
      store: file.journal?.store ?? (database ? 'postgres' : 'file'),
      ...(file.journal?.commitsInFlight !== undefined
        ? { commitsInFlight: file.journal.commitsInFlight }
        : {}),
    },
    http: resolveHttp(file.http, httpPort, baseDir),
    metrics: {
      rawDays: file.metrics?.rawDays ?? 30,
      rollupDays: file.metrics?.rollupDays ?? 730,
    },
    influx,
    sla: mergeSla(file.sla),
    desk: resolveDeskConfig(file),
    consoleDir,
    escalation,
    database,
    reports: {
      chromiumPath: file.reports?.chromiumPath
        ? resolve(baseDir, file.reports.chromiumPath)
        : DEFAULT_CHROMIUM,
      printTimeoutMs: (file.reports?.printTimeoutS ?? DEFAULT_PRINT_TIMEOUT_MS / 1000) * 1000,
    },
  };
}

/** Parses YAML text; a syntax error is reported with its line and column. */
export function parseConfig(
  text: string,
  options: { baseDir?: string; env?: NodeJS.ProcessEnv; source?: string } = {},
): BrokerConfig {
  const source = options.source ?? 'the broker configuration';
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      const where = at ? `line ${at.line}, column ${at.col}` : '(root)';
      throw new VigilError('VIGIL_CONFIG_INVALID', `${source} is not valid YAML`, [
        `${where}: ${error.message.split('\n')[0] ?? error.message}`,
      ]);
    }
    throw error;
  }
  return resolveConfig(document, options);
}

/**
 * Loads `file`, or the defaults when no file is given. Relative paths inside the file
 * are taken from the file's folder.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  if (file === undefined) return resolveConfig({}, { env });
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new VigilError('VIGIL_CONFIG_UNREADABLE', `cannot read ${path}`, [reason]);
  }
  return parseConfig(text, { baseDir: dirname(path), env, source: path });
}
