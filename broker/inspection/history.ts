/**
 * The history the inspection report is computed from: every status change of every
 * device (one row per change, so a month of a site is a few hundred rows) and every
 * inventory change (a replaced device: new serial number at the same place; new
 * firmware), in the stores' database (broker/sql/: vigil.db, or PostgreSQL on a pair, so
 * the report of a month holds what either node saw; component "history").
 *
 * Written with the device's state, in the transaction that stores it
 * (broker/devices/store.ts calls recordState): the registry and the history never
 * disagree, and a state message replayed after a crash finds the change either written
 * with its state or not at all (had the row been written on its own after the state
 * committed, the replay would see no change and the row would be lost for good).
 */
import type { Device } from '../../shared/api/devices.js';
import {
  postgresTypes,
  type SqlDatabase,
  type SqlSession,
  type StoreMigration,
} from '../sql/types.js';

type DeviceStatus = Device['status'];

/** Version 1 as SQLite databases have held it since the report came (kept as it was). */
const tables = `
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
    `;

const migrations: readonly StoreMigration[] = [
  { version: 1, sqlite: tables, postgres: postgresTypes(tables) },
];

/**
 * What StatusHistory.changes() asks, exported for the tests of its query plan. The site's
 * devices are found by hopping from one device id to the next on the index (site_id,
 * device_id, at): a seek each, where `SELECT DISTINCT` or `GROUP BY device_id` would read
 * every row of the site's history (SQLite's "skip-scan" done by hand: its own needs
 * ANALYZE statistics; PostgreSQL has none before version 18). Per device, its last change
 * before the period is one more seek (ORDER BY at DESC LIMIT 1) and its changes in the
 * period one range of the index.
 *
 * The engines need the joins written two ways (everything else is the same text):
 * - SQLite: CROSS JOIN keeps the devices the outer loop (its planner never reorders it),
 *   and INDEXED BY pins the period's range to the key index;
 * - PostgreSQL has neither INDEXED BY nor a CROSS JOIN with ON. Written as SQLite's text
 *   with plain joins, PostgreSQL 15 read the period's range as one seek per device only
 *   once the table had statistics: on a table just filled (200,000 rows of a site, before
 *   autovacuum's ANALYZE) it hashed the devices and read the period of the whole site
 *   from the index (Index Cond: site_id and at, no device_id), every row of the site's
 *   part of the index for a day of it. So each device's reads are a LATERAL subquery of
 *   their own (SQLite has no LATERAL), and the period's carries OFFSET 0: a subquery with
 *   LIMIT or OFFSET is never pulled up into the outer query, so it stays a seek per
 *   device whatever the statistics. EXPLAIN ANALYZE, before and after ANALYZE (checked
 *   by the conformance suite, test/suites/stores/history.ts): the hops Index Only Scans
 *   on device_status_history_key; per device an Index Scan Backward (site_id, device_id,
 *   at < from) under Incremental Sort and Limit for the state at the start, and an Index
 *   Scan (site_id, device_id, at range) for the period; no Seq Scan, no hash.
 */
const devicesCte = `
  WITH RECURSIVE device(id) AS (
    SELECT (SELECT min(device_id) FROM device_status_history WHERE site_id = @site)
    UNION ALL
    SELECT (SELECT min(device_id) FROM device_status_history
            WHERE site_id = @site AND device_id > device.id)
    FROM device WHERE device.id IS NOT NULL
  )`;

export const CHANGES_SQL = `${devicesCte}
  SELECT device_id AS "deviceId", status, at FROM (
    SELECT h.id, h.device_id, h.status, h.at FROM device
    JOIN device_status_history h ON h.id = (
      SELECT id FROM device_status_history
      WHERE site_id = @site AND device_id = device.id AND at < @from
      ORDER BY at DESC, id DESC LIMIT 1)
    UNION ALL
    SELECT h.id, h.device_id, h.status, h.at FROM device
    CROSS JOIN device_status_history h INDEXED BY device_status_history_key
      ON h.site_id = @site AND h.device_id = device.id AND h.at >= @from AND h.at < @to
  ) AS found ORDER BY at, id`;

export const CHANGES_SQL_POSTGRES = `${devicesCte}
  SELECT device_id AS "deviceId", status, at FROM (
    SELECT h.id, h.device_id, h.status, h.at FROM device
    CROSS JOIN LATERAL (
      SELECT id, device_id, status, at FROM device_status_history
      WHERE site_id = @site AND device_id = device.id AND at < @from
      ORDER BY at DESC, id DESC LIMIT 1) h
    UNION ALL
    SELECT h.id, h.device_id, h.status, h.at FROM device
    CROSS JOIN LATERAL (
      SELECT id, device_id, status, at FROM device_status_history
      WHERE site_id = @site AND device_id = device.id AND at >= @from AND at < @to
      OFFSET 0) h
  ) AS found ORDER BY at, id`;

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
  constructor(private readonly db: SqlDatabase) {}

  async start(): Promise<void> {
    await this.db.migrate('history', migrations);
  }

  /**
   * What a device's state adds to the history: its status when it changed (or when the
   * device is new), and a replacement (another serial number) or new firmware. `at` is
   * when the change happened (track-state's changedAt: a new status from the state's
   * `since`, anything else the message's time), as the outage spans are dated. Give it
   * the transaction that stores `device` (broker/devices/store.ts).
   */
  async recordState(
    previous: Device | undefined,
    device: Device,
    at: string,
    tx: SqlSession = this.db,
  ): Promise<void> {
    const when = new Date(at);
    if (previous?.status !== device.status) {
      await this.record(device.siteId, device.id, device.status, when, tx);
    }
    const before = previous?.identity;
    const now = device.identity;
    if (!before || !now) return;
    // Another serial number at the same place is a replaced device (its firmware with it).
    const change: Pick<InventoryRow, 'kind' | 'from' | 'to'> | null =
      before.serialNumber !== now.serialNumber
        ? { kind: 'replaced', from: before.serialNumber, to: now.serialNumber }
        : before.firmwareVersion !== now.firmwareVersion
          ? { kind: 'firmware', from: before.firmwareVersion, to: now.firmwareVersion }
          : null;
    if (change === null) return;
    await this.recordInventory(
      device.siteId,
      { deviceId: device.id, at: when.toISOString(), ...change },
      tx,
    );
  }

  async record(
    siteId: string,
    deviceId: string,
    status: DeviceStatus,
    at: Date,
    tx: SqlSession = this.db,
  ): Promise<void> {
    await tx.run(
      'INSERT INTO device_status_history (site_id, device_id, status, at) VALUES (?, ?, ?, ?)',
      [siteId, deviceId, status, at.toISOString()],
    );
  }

  async recordInventory(
    siteId: string,
    change: InventoryRow,
    tx: SqlSession = this.db,
  ): Promise<void> {
    await tx.run(
      'INSERT INTO inventory_changes (site_id, device_id, at, kind, from_value, to_value) VALUES (?, ?, ?, ?, ?, ?)',
      [siteId, change.deviceId, change.at, change.kind, change.from, change.to],
    );
  }

  /**
   * The changes of a site's devices in [from, to), plus each device's last change
   * before `from` (its state when the period began), oldest first (changes of one
   * instant in the order they were written). Index seeks only (CHANGES_SQL), so the cost
   * follows the site's devices and the period's changes, not the years of history before it.
   */
  changes(siteId: string, from: Date, to: Date): Promise<StatusChange[]> {
    return this.db.all<StatusChange>(
      this.db.dialect === 'postgres' ? CHANGES_SQL_POSTGRES : CHANGES_SQL,
      { site: siteId, from: from.toISOString(), to: to.toISOString() },
    );
  }

  /** The site's inventory changes in [from, to), oldest first (one instant: as written). */
  inventory(siteId: string, from: Date, to: Date): Promise<InventoryRow[]> {
    return this.db.all<InventoryRow>(
      `SELECT device_id AS "deviceId", at, kind, from_value AS "from", to_value AS "to"
       FROM inventory_changes WHERE site_id = ? AND at >= ? AND at < ? ORDER BY at, id`,
      [siteId, from.toISOString(), to.toISOString()],
    );
  }
}
