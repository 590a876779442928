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
   * before `from` (its state when the period began), oldest first.
   */
  changes(siteId: string, from: Date, to: Date): StatusChange[] {
    const f = from.toISOString();
    const rows = this.db
      .prepare(
        `SELECT device_id AS deviceId, status, at FROM (
           SELECT device_id, status, max(at) AS at FROM device_status_history
           WHERE site_id = @site AND at < @from GROUP BY device_id
           UNION ALL
           SELECT device_id, status, at FROM device_status_history
           WHERE site_id = @site AND at >= @from AND at < @to
         ) ORDER BY at`,
      )
      .all({ site: siteId, from: f, to: to.toISOString() }) as StatusChange[];
    return rows;
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
