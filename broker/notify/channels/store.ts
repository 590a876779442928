/**
 * The notification channels, in the stores' database (broker/sql: SQLite, or PostgreSQL
 * on a pair, component "channels"): the ChannelRegistry the escalation engine reads, and
 * create / update / delete for the API. Nothing is kept in memory: a channel changed
 * through one node of a pair is what the other sends through. Secrets (a robot
 * URL with its token, signing secrets, the SMS AccessKey secret, the SMTP password
 * file's path) are kept in their own column, encrypted (AES-256-GCM) when the broker has
 * a secrets key, and never leave through `view`: masked there ("abcd…wxyz").
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Channel, ChannelPatch, NewChannel } from '../../../shared/api/notify.js';
import { VigilError } from '../../../shared/errors.js';
import type { SqlDatabase, StoreMigration } from '../../sql/types.js';
import {
  createDriver,
  missingSettings,
  PER_MINUTE,
  SECRET_SETTINGS,
  type ChannelSettings,
  type DriverOptions,
} from './drivers.js';
import { mask, maskUrl } from './http.js';
import type { ChannelDriver, ChannelInfo, ChannelRegistry, ChannelType } from './types.js';

// The same text on both engines (INTEGER 0/1 booleans, TEXT JSON and times).
const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE notify_channels (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('dingtalk', 'wecom', 'feishu', 'sms', 'email', 'webhook')),
        is_default INTEGER NOT NULL DEFAULT 0,
        enabled INTEGER NOT NULL DEFAULT 1,
        settings TEXT NOT NULL,
        secrets TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
];

interface Row {
  id: string;
  name: string;
  type: ChannelType;
  is_default: number;
  enabled: number;
  settings: string;
  secrets: string;
  created_at: string;
  updated_at: string;
}

export interface ChannelStoreOptions extends DriverOptions {
  /** Encrypts the secrets column; without it they are stored as JSON (the file is 0600). */
  secretsKey?: Buffer | string;
  now?: () => Date;
}

type SecretName = (typeof SECRET_SETTINGS)[number];
const isSecret = (key: string): key is SecretName =>
  (SECRET_SETTINGS as readonly string[]).includes(key);

/** Settings a PATCH may send back as the API showed them: masked ones keep their value. */
const looksMasked = (value: unknown): boolean => typeof value === 'string' && value.includes('…');

export class ChannelStore implements ChannelRegistry {
  private readonly key: Buffer | null;
  private readonly now: () => Date;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: ChannelStoreOptions = {},
  ) {
    this.key =
      options.secretsKey === undefined
        ? null
        : createHash('sha256').update(options.secretsKey).digest();
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.db.migrate('channels', migrations);
  }

  /**
   * What stops channels from sending, said once at start (broker/app.ts logs it): secrets
   * sealed with another key than this broker's, or kept readable because no key is set.
   * Never a secret. The broker runs on: the other channels page.
   */
  async problems(): Promise<string[]> {
    const out: string[] = [];
    let plain = 0;
    for (const row of await this.rows()) {
      const problem = this.problemOf(row);
      if (problem) out.push(`channel ${row.id} (${row.name}): ${problem}`);
      if (!row.secrets.startsWith('v1:') && row.secrets !== '{}') plain += 1;
    }
    if (!this.key && plain > 0) {
      out.push(
        `${plain} channel(s) keep their tokens and secrets unencrypted in vigil.db (readable by its owner only); set VIGIL_SECRETS_KEY to encrypt them (docs/CHANNELS.md)`,
      );
    }
    return out;
  }

  /** Why the row's secrets cannot be read, or null when they can. */
  private problemOf(row: Row): string | null {
    try {
      this.open(row.secrets);
      return null;
    } catch (error) {
      return error instanceof VigilError ? error.message : String(error);
    }
  }

  // --- ChannelRegistry -------------------------------------------------------------------

  async list(): Promise<ChannelInfo[]> {
    return (await this.rows()).map(info);
  }

  async get(id: string): Promise<ChannelInfo | undefined> {
    const row = await this.row(id);
    return row && info(row);
  }

  async driver(id: string): Promise<ChannelDriver | undefined> {
    const row = await this.row(id);
    if (!row || !row.enabled) return undefined;
    return createDriver(row.type, this.settings(row), this.driverOptions());
  }

  /** The driver and name of a channel, enabled or not: the console's test-send button. */
  async testDriver(id: string): Promise<{ driver: ChannelDriver; name: string }> {
    const row = await this.mustRow(id);
    return {
      driver: createDriver(row.type, this.settings(row), this.driverOptions()),
      name: row.name,
    };
  }

  async defaults(): Promise<ChannelInfo[]> {
    return (await this.list()).filter((c) => c.default && c.enabled);
  }

  // --- the API's views and writes --------------------------------------------------------

  async views(): Promise<Channel[]> {
    return (await this.rows()).map((row) => this.view(row));
  }

  async one(id: string): Promise<Channel> {
    return this.view(await this.mustRow(id));
  }

  async create(input: NewChannel): Promise<Channel> {
    const { name, type, default: isDefault, enabled, ...rest } = input;
    const settings = rest as ChannelSettings;
    const missing = missingSettings(type, settings);
    if (missing.length > 0) {
      throw new VigilError(
        'VIGIL_BAD_REQUEST',
        `The ${type} channel lacks settings: give every listed one.`,
        missing,
      );
    }
    const id = `${type}-${randomBytes(4).toString('hex')}`;
    const at = this.now().toISOString();
    const { plain, secret } = split(settings);
    await this.db.run(
      `INSERT INTO notify_channels (id, name, type, is_default, enabled, settings, secrets, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        name,
        type,
        isDefault ? 1 : 0,
        enabled === false ? 0 : 1,
        JSON.stringify(plain),
        this.seal(secret),
        at,
        at,
      ],
    );
    return this.one(id);
  }

  async update(id: string, patch: ChannelPatch): Promise<Channel> {
    const row = await this.mustRow(id);
    const { name, default: isDefault, enabled, ...rest } = patch;
    const settings: ChannelSettings = this.settings(row);
    for (const [key, value] of Object.entries(rest)) {
      if (value === undefined) continue;
      if (isSecret(key) && looksMasked(value)) continue;
      (settings as Record<string, unknown>)[key] = value;
    }
    if (settings.url !== undefined) {
      try {
        const url = new URL(settings.url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
      } catch {
        throw new VigilError('VIGIL_BAD_REQUEST', 'url: must be an http:// or https:// address.', [
          'url: must be a URL',
        ]);
      }
    }
    const missing = missingSettings(row.type, settings);
    if (missing.length > 0) {
      throw new VigilError(
        'VIGIL_BAD_REQUEST',
        `The ${row.type} channel would lack settings.`,
        missing,
      );
    }
    const { plain, secret } = split(settings);
    await this.db.run(
      `UPDATE notify_channels SET name = ?, is_default = ?, enabled = ?, settings = ?, secrets = ?, updated_at = ?
       WHERE id = ?`,
      [
        name ?? row.name,
        isDefault === undefined ? row.is_default : isDefault ? 1 : 0,
        enabled === undefined ? row.enabled : enabled ? 1 : 0,
        JSON.stringify(plain),
        this.seal(secret),
        this.now().toISOString(),
        id,
      ],
    );
    return this.one(id);
  }

  async remove(id: string): Promise<Channel> {
    const channel = await this.one(id);
    await this.db.run('DELETE FROM notify_channels WHERE id = ?', [id]);
    return channel;
  }

  // --- inside ----------------------------------------------------------------------------

  private driverOptions(): DriverOptions {
    return {
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
    };
  }

  private rows(): Promise<Row[]> {
    return this.db.all<Row>('SELECT * FROM notify_channels ORDER BY created_at, id');
  }

  private row(id: string): Promise<Row | undefined> {
    return this.db.get<Row>('SELECT * FROM notify_channels WHERE id = ?', [id]);
  }

  private async mustRow(id: string): Promise<Row> {
    const row = await this.row(id);
    if (!row) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No notification channel ${id}: list them at GET /api/notify/channels.`,
      );
    }
    return row;
  }

  /** Every setting of the row, secrets included: for the driver only. */
  private settings(row: Row): ChannelSettings {
    return { ...(JSON.parse(row.settings) as ChannelSettings), ...this.open(row.secrets) };
  }

  private view(row: Row): Channel {
    // A channel whose secrets cannot be read is still listed (so an admin can see it and
    // enter its secrets again), with its plain settings and what is wrong.
    const problem = this.problemOf(row);
    const s = problem ? (JSON.parse(row.settings) as ChannelSettings) : this.settings(row);
    const channel: Channel = {
      id: row.id,
      name: row.name,
      type: row.type,
      default: row.is_default === 1,
      enabled: row.enabled === 1,
      perMinute: PER_MINUTE[row.type],
      ...(problem ? { problem } : {}),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    for (const [key, value] of Object.entries(s)) {
      if (value === undefined) continue;
      if (key === 'url') channel.url = maskUrl(value as string);
      else if (key === 'secret') channel.secret = value === null ? null : mask(value as string);
      else if (key === 'accessKeySecret') channel.accessKeySecret = mask(value as string);
      else if (key === 'passwordFile') channel.passwordFileSet = Boolean(value);
      else (channel as Record<string, unknown>)[key] = value;
    }
    return channel;
  }

  /** JSON, or "v1:" + base64(iv | tag | AES-256-GCM ciphertext) with a secrets key. */
  private seal(secrets: Partial<Record<SecretName, unknown>>): string {
    const json = JSON.stringify(secrets);
    if (!this.key) return json;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64')}`;
  }

  private open(stored: string): Partial<ChannelSettings> {
    if (!stored.startsWith('v1:')) return JSON.parse(stored) as Partial<ChannelSettings>;
    if (!this.key) {
      throw new VigilError(
        'VIGIL_INTERNAL',
        'Channel secrets are encrypted but the broker has no secrets key; start it with the key it used.',
      );
    }
    try {
      const raw = Buffer.from(stored.slice(3), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const json = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
        'utf8',
      );
      return JSON.parse(json) as Partial<ChannelSettings>;
    } catch {
      // AES-GCM refuses a wrong key and damaged data alike (the tag does not match).
      throw new VigilError(
        'VIGIL_INTERNAL',
        "Channel secrets cannot be decrypted: VIGIL_SECRETS_KEY is not the key they were sealed with (or the row is damaged). Start the broker with that key, or enter the channel's token and secret again.",
      );
    }
  }
}

function info(row: Row): ChannelInfo {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    default: row.is_default === 1,
    enabled: row.enabled === 1,
  };
}

function split(settings: ChannelSettings): {
  plain: Partial<ChannelSettings>;
  secret: Partial<Record<SecretName, unknown>>;
} {
  const plain: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    (isSecret(key) ? secret : plain)[key] = value;
  }
  return { plain, secret };
}
