/**
 * The device registry over SQLite (vigil.db), so the board is complete again right after
 * a broker restart, before every agent has reported. One row per device; the device is
 * kept as the JSON of the API's `Device`, with its ids and status as columns to filter on.
 */
import type { Device } from '../../shared/api/devices.js';
import { migrate, type Db } from '../db.js';
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

  get(siteId: string, deviceId: string): Device | undefined {
    const row = this.db
      .prepare('SELECT data FROM devices WHERE site_id = ? AND device_id = ?')
      .get(siteId, deviceId) as { data: string } | undefined;
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
      this.db
        .prepare(
          `INSERT INTO devices (site_id, device_id, status, data, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (site_id, device_id) DO UPDATE SET
             status = excluded.status, data = excluded.data, updated_at = excluded.updated_at`,
        )
        .run(
          device.siteId,
          device.id,
          device.status,
          JSON.stringify(device),
          new Date().toISOString(),
        );
      if (at !== undefined) this.outages.record(previous, device, at);
      return previous;
    })();
  }
}
