/**
 * The history the inspection report is computed from: every status change of every
 * device (one row per change, so a month of a site is a few hundred rows) and every
 * inventory change (a replaced device: new serial number at the same place; new
 * firmware). Written by the detector as changes arrive.
 */
import type { Device } from '../../shared/api/devices.js';

type DeviceStatus = Device['status'];
import { migrate, type Db, type Migration } from '../db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE device_status_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        status TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE INDEX device_status_history_key ON device_status_history (site_id, device_id, at);
      CREATE TABLE inventory_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('replaced', 'firmware')),
        from_value TEXT NOT NULL,
        to_value TEXT NOT NULL
      );
      CREATE INDEX inventory_changes_key ON inventory_changes (site_id, at);
    `,
  },
];

/**
 * What StatusHistory.changes() asks, exported for the test of its query plan. The site's
 * devices are found by hopping from one device id to the next on the index (site_id,
 * device_id, at): a seek each, where `SELECT DISTINCT` or `GROUP BY device_id` would read
 * every row of the site's history (SQLite's "skip-scan" done by hand: its own needs
 * ANALYZE statistics). Per device, its last change before the period is one more seek
 * (ORDER BY at DESC LIMIT 1) and its changes in the period one range of the index (CROSS
 * JOIN keeps the devices outside: SQLite's planner does not reorder it).
 */
export const CHANGES_SQL = `
  WITH RECURSIVE device(id) AS (
    SELECT (SELECT min(device_id) FROM device_status_history WHERE site_id = @site)
    UNION ALL
    SELECT (SELECT min(device_id) FROM device_status_history
            WHERE site_id = @site AND device_id > device.id)
    FROM device WHERE device.id IS NOT NULL
  )
  SELECT device_id AS deviceId, status, at FROM (
    SELECT h.id, h.device_id, h.status, h.at FROM device
    JOIN device_status_history h ON h.id = (
      SELECT id FROM device_status_history
      WHERE site_id = @site AND device_id = device.id AND at < @from
      ORDER BY at DESC, id DESC LIMIT 1)
    UNION ALL
    SELECT h.id, h.device_id, h.status, h.at FROM device
    CROSS JOIN device_status_history h INDEXED BY device_status_history_key
      ON h.site_id = @site AND h.device_id = device.id AND h.at >= @from AND h.at < @to
  ) ORDER BY at, id`;

export interface StatusChange {
  deviceId: string;
  status: DeviceStatus;
  at: string;
}

export interface InventoryRow {
  deviceId: string;
  at: string;
  kind: 'replaced' | 'firmware';
  from: string;
  to: string;
}

export class StatusHistory {
  constructor(private readonly db: Db) {}

  start(): void {
    migrate(this.db, 'history', migrations);
  }

  record(siteId: string, deviceId: string, status: DeviceStatus, at: Date): void {
    this.db
      .prepare(
        'INSERT INTO device_status_history (site_id, device_id, status, at) VALUES (?, ?, ?, ?)',
      )
      .run(siteId, deviceId, status, at.toISOString());
  }

  recordInventory(siteId: string, change: InventoryRow): void {
    this.db
      .prepare(
        'INSERT INTO inventory_changes (site_id, device_id, at, kind, from_value, to_value) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(siteId, change.deviceId, change.at, change.kind, change.from, change.to);
  }

  /**
   * The changes of a site's devices in [from, to), plus each device's last change
   * before `from` (its state when the period began), oldest first. Index seeks only
   * (CHANGES_SQL), so the cost follows the site's devices and the period's changes, not
   * the years of history before it.
   */
  changes(siteId: string, from: Date, to: Date): StatusChange[] {
    return this.db
      .prepare(CHANGES_SQL)
      .all({ site: siteId, from: from.toISOString(), to: to.toISOString() }) as StatusChange[];
  }

  inventory(siteId: string, from: Date, to: Date): InventoryRow[] {
    return this.db
      .prepare(
        `SELECT device_id AS deviceId, at, kind, from_value AS "from", to_value AS "to"
         FROM inventory_changes WHERE site_id = ? AND at >= ? AND at < ? ORDER BY at`,
      )
      .all(siteId, from.toISOString(), to.toISOString()) as InventoryRow[];
  }
}
