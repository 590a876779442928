/**
 * The device registry over SQLite (vigil.db), so the board is complete again right after
 * a broker restart, before every agent has reported. One row per device; the device is
 * kept as the JSON of the API's `Device`, with its ids and status as columns to filter on.
 */
import type { Device } from '../../shared/api/devices.js';
import { migrate, type Db, type Statement } from '../db.js';
import { SqliteOutageHistory, type OutageHistoryOptions } from './outages.js';
import type { DeviceRegistry } from './registry.js';

const migrations = [
  {
    version: 1,
    sql: `CREATE TABLE devices (
      site_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      status TEXT NOT NULL,
      data TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (site_id, device_id)
    )`,
  },
];

export class SqliteDeviceRegistry implements DeviceRegistry {
  /** The devices' reasons over time, written in the same transaction as the device. */
  readonly outages: SqliteOutageHistory;

  constructor(
    private readonly db: Db,
    options: { outages?: OutageHistoryOptions } = {},
  ) {
    this.outages = new SqliteOutageHistory(db, options.outages);
  }

  start(): void {
    migrate(this.db, 'devices', migrations);
    this.outages.start();
  }

  // Prepared once, on first use (after start() created the table): preparing a statement
  // costs more than running it.
  private selectOne: Statement | null = null;
  private upsert: Statement | null = null;

  private statements(): { selectOne: Statement; upsert: Statement } {
    this.selectOne ??= this.db.prepare(
      'SELECT data FROM devices WHERE site_id = ? AND device_id = ?',
    );
    this.upsert ??= this.db.prepare(
      `INSERT INTO devices (site_id, device_id, status, data, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (site_id, device_id) DO UPDATE SET
         status = excluded.status, data = excluded.data, updated_at = excluded.updated_at`,
    );
    return { selectOne: this.selectOne, upsert: this.upsert };
  }

  get(siteId: string, deviceId: string): Device | undefined {
    const row = this.statements().selectOne.get(siteId, deviceId) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as Device) : undefined;
  }

  list(filter: { siteId?: string } = {}): Device[] {
    const rows = (
      filter.siteId === undefined
        ? this.db.prepare('SELECT data FROM devices ORDER BY site_id, device_id').all()
        : this.db
            .prepare('SELECT data FROM devices WHERE site_id = ? ORDER BY device_id')
            .all(filter.siteId)
    ) as { data: string }[];
    return rows.map((row) => JSON.parse(row.data) as Device);
  }

  put(device: Device, at?: string): Device | undefined {
    return this.db.transaction(() => {
      const previous = this.get(device.siteId, device.id);
      this.write(device, new Date().toISOString());
      if (at !== undefined) this.outages.record(previous, device, at);
      return previous;
    })();
  }

  /** Readings of many devices (no state change, so no outage history), in one transaction. */
  putMany(devices: Iterable<Device>): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const device of devices) this.write(device, now);
    })();
  }

  private write(device: Device, updatedAt: string): void {
    this.statements().upsert.run(
      device.siteId,
      device.id,
      device.status,
      JSON.stringify(device),
      updatedAt,
    );
  }
}
