/**
 * The device registry's store (broker/sql/: vigil.db, or PostgreSQL on a pair), so the
 * board is complete again right after a broker restart, before every agent has reported,
 * and a standby taking over starts from what the leader wrote. One row per device; the
 * device is kept as the JSON of the API's `Device`, with its ids and status as columns to
 * filter on. The registry the pipeline and the API read is in memory
 * (./write-behind.ts); this is where it writes, in batches.
 */
import type { Device } from '../../shared/api/devices.js';
import { StatusHistory } from '../inspection/history.js';
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';
import { SqlOutageHistory, type OutageHistoryOptions } from './outages.js';

const migrations: StoreMigration[] = [
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

/** Rows per INSERT of readings: 5 parameters each, far below both engines' limits. */
const ROWS_PER_INSERT = 500;

/** A device's state message: the device as it became, and as it was (for its outage spans). */
export interface StateWrite {
  previous: Device | undefined;
  device: Device;
  /**
   * When its reasons changed (track-state's changedAt): the spans are dated by it. None:
   * a device first heard of by a reading, no spans yet.
   */
  at?: string;
}

/** What one transaction writes: states in the order they came, then readings. */
export interface DeviceWrites {
  states: readonly StateWrite[];
  /** Devices whose readings (lastSeen, responseMs, channels) changed, no state change. */
  readings: readonly Device[];
}

export class DeviceStore {
  /** The devices' reasons over time, written in the same transaction as the device. */
  readonly outages: SqlOutageHistory;
  /**
   * The status and inventory changes the inspection report reads
   * (broker/inspection/history.ts), written in the same transaction as the device.
   */
  readonly history: StatusHistory;

  constructor(
    private readonly db: SqlDatabase,
    options: { outages?: OutageHistoryOptions } = {},
  ) {
    this.outages = new SqlOutageHistory(db, options.outages);
    this.history = new StatusHistory(db);
  }

  async start(): Promise<void> {
    await this.db.migrate('devices', migrations);
    await this.outages.start();
    await this.history.start();
  }

  async get(siteId: string, deviceId: string): Promise<Device | undefined> {
    const row = await this.db.get<{ data: string }>(
      'SELECT data FROM devices WHERE site_id = ? AND device_id = ?',
      [siteId, deviceId],
    );
    return row ? (JSON.parse(row.data) as Device) : undefined;
  }

  /** Every device, by site then id (the order of the memory's list, ./write-behind.ts). */
  async list(filter: { siteId?: string } = {}): Promise<Device[]> {
    const rows =
      filter.siteId === undefined
        ? await this.db.all<{ data: string }>(
            'SELECT data FROM devices ORDER BY site_id, device_id',
          )
        : await this.db.all<{ data: string }>(
            'SELECT data FROM devices WHERE site_id = ? ORDER BY device_id',
            [filter.siteId],
          );
    return rows.map((row) => JSON.parse(row.data) as Device);
  }

  /**
   * One transaction: each state with the outage spans it opens or closes and the status
   * or inventory change it is, in order, then the readings. All of it is written, or none
   * (a failure rolls every row back).
   */
  async write(writes: DeviceWrites): Promise<void> {
    if (writes.states.length === 0 && writes.readings.length === 0) return;
    const now = new Date().toISOString();
    await this.db.transaction(async (tx) => {
      for (const { previous, device, at } of writes.states) {
        await upsert(tx, [device], now);
        if (at === undefined) continue;
        await this.outages.record(previous, device, at, tx);
        await this.history.recordState(previous, device, at, tx);
      }
      for (let i = 0; i < writes.readings.length; i += ROWS_PER_INSERT) {
        await upsert(tx, writes.readings.slice(i, i + ROWS_PER_INSERT), now);
      }
    });
  }

  /**
   * A state written on its own (tools, tests): the previous value is read in the same
   * transaction. Returns it.
   */
  async put(device: Device, at: string): Promise<Device | undefined> {
    const now = new Date().toISOString();
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ data: string }>(
        'SELECT data FROM devices WHERE site_id = ? AND device_id = ?',
        [device.siteId, device.id],
      );
      const previous = row ? (JSON.parse(row.data) as Device) : undefined;
      await upsert(tx, [device], now);
      await this.outages.record(previous, device, at, tx);
      await this.history.recordState(previous, device, at, tx);
      return previous;
    });
  }
}

/**
 * Many devices in one statement; each device at most once (PostgreSQL refuses a row
 * changed twice by one INSERT ... ON CONFLICT).
 */
async function upsert(
  tx: SqlSession,
  devices: readonly Device[],
  updatedAt: string,
): Promise<void> {
  await tx.run(
    `INSERT INTO devices (site_id, device_id, status, data, updated_at)
     VALUES ${devices.map(() => '(?, ?, ?, ?, ?)').join(', ')}
     ON CONFLICT (site_id, device_id) DO UPDATE SET
       status = excluded.status, data = excluded.data, updated_at = excluded.updated_at`,
    devices.flatMap((device) => [
      device.siteId,
      device.id,
      device.status,
      JSON.stringify(device),
      updatedAt,
    ]),
  );
}
