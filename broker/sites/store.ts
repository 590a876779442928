/**
 * Site metadata the agents cannot discover: customer, acceptance date, retention goal,
 * and per device its criticality, the NVR that records it, and warranty dates. Edited
 * through the API, imported from CSV (./csv.ts).
 */
import type {
  Criticality,
  Site,
  SiteDevice,
  SiteDevicePut,
  SitePut,
} from '../../shared/api/sites.js';
import { migrate, type Db, type Migration } from '../db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        customer TEXT NOT NULL DEFAULT '',
        accepted_on TEXT,
        retention_goal_days REAL NOT NULL DEFAULT 30
      );
      CREATE TABLE site_devices (
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        criticality TEXT NOT NULL DEFAULT 'normal' CHECK (criticality IN ('high', 'normal', 'low')),
        recorder_id TEXT,
        accepted_on TEXT,
        warranty_ends_on TEXT,
        replaced_on TEXT,
        PRIMARY KEY (site_id, device_id)
      );
    `,
  },
];

/** Days of recordings an NVR must keep when the site sets no goal. */
export const DEFAULT_RETENTION_GOAL_DAYS = 30;

interface SiteRow {
  id: string;
  name: string;
  customer: string;
  accepted_on: string | null;
  retention_goal_days: number;
}
interface DeviceRow {
  site_id: string;
  device_id: string;
  criticality: Criticality;
  recorder_id: string | null;
  accepted_on: string | null;
  warranty_ends_on: string | null;
  replaced_on: string | null;
}

const deviceView = (row: DeviceRow): SiteDevice => ({
  deviceId: row.device_id,
  criticality: row.criticality,
  recorderId: row.recorder_id,
  acceptedOn: row.accepted_on,
  warrantyEndsOn: row.warranty_ends_on,
  replacedOn: row.replaced_on,
});

export class SiteStore {
  constructor(private readonly db: Db) {}

  start(): void {
    migrate(this.db, 'sites', migrations);
  }

  list(): Site[] {
    const rows = this.db.prepare('SELECT * FROM sites ORDER BY id').all() as SiteRow[];
    return rows.map((row) => this.view(row));
  }

  /** The site's metadata; a site nobody described yet has the defaults. */
  get(siteId: string): Site {
    const row = this.db.prepare('SELECT * FROM sites WHERE id = ?').get(siteId) as
      SiteRow | undefined;
    return this.view(
      row ?? {
        id: siteId,
        name: siteId,
        customer: '',
        accepted_on: null,
        retention_goal_days: DEFAULT_RETENTION_GOAL_DAYS,
      },
    );
  }

  /** The site's customer as its free-text field names it; null when unset (on-call coverage). */
  customerOf(siteId: string): string | null {
    const row = this.db.prepare('SELECT customer FROM sites WHERE id = ?').get(siteId) as
      { customer: string } | undefined;
    return row?.customer ? row.customer : null;
  }

  exists(siteId: string): boolean {
    return this.db.prepare('SELECT 1 FROM sites WHERE id = ?').get(siteId) !== undefined;
  }

  private view(row: SiteRow): Site {
    const devices = this.db
      .prepare('SELECT * FROM site_devices WHERE site_id = ? ORDER BY device_id')
      .all(row.id) as DeviceRow[];
    return {
      id: row.id,
      name: row.name || row.id,
      customer: row.customer,
      acceptedOn: row.accepted_on,
      retentionGoalDays: row.retention_goal_days,
      devices: devices.map(deviceView),
    };
  }

  device(siteId: string, deviceId: string): SiteDevice | undefined {
    const row = this.db
      .prepare('SELECT * FROM site_devices WHERE site_id = ? AND device_id = ?')
      .get(siteId, deviceId) as DeviceRow | undefined;
    return row === undefined ? undefined : deviceView(row);
  }

  criticality(siteId: string, deviceId: string): Criticality {
    return this.device(siteId, deviceId)?.criticality ?? 'normal';
  }

  /** The cameras an NVR records (recorderId = the NVR). */
  recordedBy(siteId: string, recorderId: string): string[] {
    return (
      this.db
        .prepare(
          'SELECT device_id FROM site_devices WHERE site_id = ? AND recorder_id = ? ORDER BY device_id',
        )
        .all(siteId, recorderId) as { device_id: string }[]
    ).map((row) => row.device_id);
  }

  put(siteId: string, put: SitePut): Site {
    const current = this.get(siteId);
    this.db
      .prepare(
        `INSERT INTO sites (id, name, customer, accepted_on, retention_goal_days)
         VALUES (@id, @name, @customer, @accepted, @goal)
         ON CONFLICT (id) DO UPDATE SET name = @name, customer = @customer,
           accepted_on = @accepted, retention_goal_days = @goal`,
      )
      .run({
        id: siteId,
        name: put.name ?? current.name,
        customer: put.customer ?? current.customer,
        accepted: put.acceptedOn === undefined ? current.acceptedOn : put.acceptedOn,
        goal: put.retentionGoalDays ?? current.retentionGoalDays,
      });
    return this.get(siteId);
  }

  putDevice(siteId: string, deviceId: string, put: SiteDevicePut): SiteDevice {
    if (!this.exists(siteId)) this.put(siteId, {});
    const current = this.device(siteId, deviceId);
    const pick = <K extends keyof SiteDevicePut>(key: K, fallback: SiteDevice[K]) =>
      put[key] === undefined ? fallback : put[key];
    this.db
      .prepare(
        `INSERT INTO site_devices (site_id, device_id, criticality, recorder_id, accepted_on, warranty_ends_on, replaced_on)
         VALUES (@site, @device, @criticality, @recorder, @accepted, @warranty, @replaced)
         ON CONFLICT (site_id, device_id) DO UPDATE SET criticality = @criticality,
           recorder_id = @recorder, accepted_on = @accepted, warranty_ends_on = @warranty,
           replaced_on = @replaced`,
      )
      .run({
        site: siteId,
        device: deviceId,
        criticality: pick('criticality', current?.criticality ?? 'normal'),
        recorder: pick('recorderId', current?.recorderId ?? null),
        accepted: pick('acceptedOn', current?.acceptedOn ?? null),
        warranty: pick('warrantyEndsOn', current?.warrantyEndsOn ?? null),
        replaced: pick('replacedOn', current?.replacedOn ?? null),
      });
    return this.device(siteId, deviceId)!;
  }
}
