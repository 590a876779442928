/**
 * Maintenance windows in SQLite: per site (device_id NULL) or per device, planned ahead
 * or started now. While one covers a device: no tickets open for it, the SLA clocks of
 * its tickets pause, and the time is left out of its availability.
 */
import type {
  MaintenancePatch,
  MaintenanceQuery,
  MaintenanceWindow,
  NewMaintenance,
} from '../../shared/api/maintenance.js';
import { VigilError } from '../../shared/errors.js';
import { migrate, type Db, type Migration } from '../db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE maintenance_windows (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        device_id TEXT,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX maintenance_site_time ON maintenance_windows (site_id, ends_at, starts_at);
    `,
  },
];

interface Row {
  id: number;
  site_id: string;
  device_id: string | null;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  created_at: string;
}

/** A window's [start, end) as milliseconds, for availability arithmetic. */
export interface Span {
  deviceId: string | null;
  from: number;
  to: number;
}

export class MaintenanceStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    migrate(this.db, 'maintenance', migrations);
  }

  private view(row: Row): MaintenanceWindow {
    const at = this.now().toISOString();
    const state = at < row.starts_at ? 'planned' : at < row.ends_at ? 'active' : 'over';
    return {
      id: row.id,
      siteId: row.site_id,
      deviceId: row.device_id,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      reason: row.reason,
      createdBy: row.created_by,
      createdAt: row.created_at,
      state,
    };
  }

  get(id: number): MaintenanceWindow | undefined {
    const row = this.db.prepare('SELECT * FROM maintenance_windows WHERE id = ?').get(id) as
      Row | undefined;
    return row === undefined ? undefined : this.view(row);
  }

  list(query: MaintenanceQuery = {}): MaintenanceWindow[] {
    const where: string[] = [];
    const params: Record<string, string> = {};
    if (query.siteId !== undefined) {
      where.push('site_id = @site');
      params.site = query.siteId;
    }
    if ((query.include ?? 'current') === 'current') {
      where.push('ends_at > @now');
      params.now = this.now().toISOString();
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM maintenance_windows ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY starts_at, id`,
      )
      .all(params) as Row[];
    return rows.map((row) => this.view(row));
  }

  create(input: NewMaintenance, actor: string): MaintenanceWindow {
    const now = this.now();
    const startsAt = input.startsAt === undefined ? now : new Date(input.startsAt);
    let endsAt: Date;
    if (input.endsAt !== undefined) endsAt = new Date(input.endsAt);
    else if (input.durationMin !== undefined) {
      endsAt = new Date(startsAt.getTime() + input.durationMin * 60_000);
    } else {
      throw new VigilError('VIGIL_BAD_REQUEST', 'A maintenance window needs an end.', [
        'endsAt or durationMin: give one',
      ]);
    }
    if (endsAt <= startsAt) {
      throw new VigilError('VIGIL_BAD_REQUEST', 'A maintenance window must end after it starts.', [
        `endsAt: ${endsAt.toISOString()} is not after startsAt ${startsAt.toISOString()}`,
      ]);
    }
    const result = this.db
      .prepare(
        `INSERT INTO maintenance_windows (site_id, device_id, starts_at, ends_at, reason, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        input.siteId,
        input.deviceId ?? null,
        startsAt.toISOString(),
        endsAt.toISOString(),
        input.reason,
        actor,
        now.toISOString(),
      );
    return this.get(Number(result.lastInsertRowid))!;
  }

  update(id: number, patch: MaintenancePatch): MaintenanceWindow {
    const current = this.get(id);
    if (current === undefined) {
      throw new VigilError('VIGIL_NOT_FOUND', `No maintenance window ${id}: check the id.`);
    }
    if (current.state === 'over') {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `Maintenance window ${id} is over; its time is history. Create a new window instead.`,
      );
    }
    const startsAt =
      patch.startsAt === undefined ? current.startsAt : new Date(patch.startsAt).toISOString();
    const endsAt =
      patch.endsAt === undefined ? current.endsAt : new Date(patch.endsAt).toISOString();
    if (endsAt <= startsAt) {
      throw new VigilError('VIGIL_BAD_REQUEST', 'A maintenance window must end after it starts.', [
        `endsAt: ${endsAt} is not after startsAt ${startsAt}`,
      ]);
    }
    this.db
      .prepare('UPDATE maintenance_windows SET starts_at = ?, ends_at = ?, reason = ? WHERE id = ?')
      .run(startsAt, endsAt, patch.reason ?? current.reason, id);
    return this.get(id)!;
  }

  remove(id: number): MaintenanceWindow {
    const current = this.get(id);
    if (current === undefined) {
      throw new VigilError('VIGIL_NOT_FOUND', `No maintenance window ${id}: check the id.`);
    }
    this.db.prepare('DELETE FROM maintenance_windows WHERE id = ?').run(id);
    return current;
  }

  /**
   * True while a window covers the device: one of the site's whole-site windows or one
   * of the device's own. With deviceId null only whole-site windows count.
   */
  covers(siteId: string, deviceId: string | null, at: Date): boolean {
    const iso = at.toISOString();
    return (
      this.db
        .prepare(
          `SELECT 1 FROM maintenance_windows
           WHERE site_id = ? AND starts_at <= ? AND ends_at > ?
             AND (device_id IS NULL OR device_id = ?) LIMIT 1`,
        )
        .get(siteId, iso, iso, deviceId) !== undefined
    );
  }

  /** Windows of a site that overlap [from, to), for availability figures. */
  spans(siteId: string, from: Date, to: Date): Span[] {
    const rows = this.db
      .prepare(
        `SELECT device_id, starts_at, ends_at FROM maintenance_windows
         WHERE site_id = ? AND ends_at > ? AND starts_at < ?`,
      )
      .all(siteId, from.toISOString(), to.toISOString()) as Row[];
    return rows.map((row) => ({
      deviceId: row.device_id,
      from: Math.max(Date.parse(row.starts_at), from.getTime()),
      to: Math.min(Date.parse(row.ends_at), to.getTime()),
    }));
  }
}
