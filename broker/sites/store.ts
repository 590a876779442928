/**
 * Site metadata the agents cannot discover: customer, acceptance date, retention goal,
 * and per device its criticality, the NVR that records it, and warranty dates. Edited
 * through the API, imported from CSV (./csv.ts).
 *
 * A site belongs to a customer (customer_id, broker/customers/store.ts). The free-text
 * `customer` column of older versions stays as the customer's name at the time of the
 * last write (an older broker on the same file still reads it); with the customers
 * wired in, a text without a customer becomes one (at start for the rows of an older
 * version, and on each write: a CSV import, an older console).
 */
import type {
  Criticality,
  Site,
  SiteDevice,
  SiteDevicePut,
  SitePut,
} from '../../shared/api/sites.js';
import { VigilError } from '../../shared/errors.js';
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
  {
    version: 2,
    sql: `
      ALTER TABLE sites ADD COLUMN customer_id TEXT;
      CREATE INDEX sites_customer ON sites (customer_id);
    `,
  },
];

/** What the site store asks of the customers (broker/customers/store.ts), wired by the desk. */
export interface CustomerNames {
  /** The customer's name; null for an unknown id. */
  nameOf(customerId: string): string | null;
  /** The id of the customer of this name, created when there is none. */
  named(name: string): string;
}

/** Days of recordings an NVR must keep when the site sets no goal. */
export const DEFAULT_RETENTION_GOAL_DAYS = 30;

interface SiteRow {
  id: string;
  name: string;
  customer: string;
  customer_id: string | null;
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
  constructor(
    private readonly db: Db,
    private readonly customers?: CustomerNames,
  ) {}

  /** Start the customers' store first: the free text of older versions becomes customers here. */
  start(): void {
    migrate(this.db, 'sites', migrations);
    if (this.customers === undefined) return;
    const customers = this.customers;
    const loose = this.db
      .prepare("SELECT id, customer FROM sites WHERE customer_id IS NULL AND customer <> ''")
      .all() as { id: string; customer: string }[];
    if (loose.length === 0) return;
    const link = this.db.prepare('UPDATE sites SET customer_id = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const site of loose) link.run(customers.named(site.customer), site.id);
    })();
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
        customer_id: null,
        accepted_on: null,
        retention_goal_days: DEFAULT_RETENTION_GOAL_DAYS,
      },
    );
  }

  /** The name of the site's customer; null when unset (on-call coverage keys teams by it). */
  customerOf(siteId: string): string | null {
    const row = this.db
      .prepare('SELECT customer, customer_id FROM sites WHERE id = ?')
      .get(siteId) as Pick<SiteRow, 'customer' | 'customer_id'> | undefined;
    if (row === undefined) return null;
    const name = this.customerName(row);
    return name ? name : null;
  }

  /** The id of the site's customer; null when it belongs to none. */
  customerIdOf(siteId: string): string | null {
    const row = this.db.prepare('SELECT customer_id FROM sites WHERE id = ?').get(siteId) as
      { customer_id: string | null } | undefined;
    return row?.customer_id ?? null;
  }

  /** The ids of the sites of a customer. */
  sitesOf(customerId: string): string[] {
    return (
      this.db.prepare('SELECT id FROM sites WHERE customer_id = ? ORDER BY id').all(customerId) as {
        id: string;
      }[]
    ).map((row) => row.id);
  }

  /** The customer's current name (renamed since the last write), else the stored text. */
  private customerName(row: Pick<SiteRow, 'customer' | 'customer_id'>): string {
    if (row.customer_id === null || this.customers === undefined) return row.customer;
    return this.customers.nameOf(row.customer_id) ?? row.customer;
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
      customer: this.customerName(row),
      customerId: row.customer_id,
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

  /**
   * `customerId` names the customer (VIGIL_BAD_REQUEST when there is none; null: no
   * customer); a `customer` text without it is the customer of that name, created when
   * needed (the older field, kept for CSV files and older consoles).
   */
  put(siteId: string, put: SitePut): Site {
    const current = this.get(siteId);
    const customer = this.customerFor(put, current);
    this.db
      .prepare(
        `INSERT INTO sites (id, name, customer, customer_id, accepted_on, retention_goal_days)
         VALUES (@id, @name, @customer, @customerId, @accepted, @goal)
         ON CONFLICT (id) DO UPDATE SET name = @name, customer = @customer,
           customer_id = @customerId, accepted_on = @accepted, retention_goal_days = @goal`,
      )
      .run({
        id: siteId,
        name: put.name ?? current.name,
        customer: customer.name,
        customerId: customer.id,
        accepted: put.acceptedOn === undefined ? current.acceptedOn : put.acceptedOn,
        goal: put.retentionGoalDays ?? current.retentionGoalDays,
      });
    return this.get(siteId);
  }

  private customerFor(put: SitePut, current: Site): { id: string | null; name: string } {
    const customers = this.customers;
    if (put.customerId === null) return { id: null, name: '' };
    if (put.customerId !== undefined) {
      const name = customers?.nameOf(put.customerId) ?? null;
      if (name === null) {
        throw new VigilError('VIGIL_BAD_REQUEST', `No customer ${put.customerId}.`, [
          `customerId: no customer "${put.customerId}"; send one of GET /api/customers, or create it first with POST /api/customers`,
        ]);
      }
      return { id: put.customerId, name };
    }
    if (put.customer === undefined)
      return { id: current.customerId ?? null, name: current.customer };
    const text = put.customer.trim();
    if (text === '') return { id: null, name: '' };
    if (customers === undefined) return { id: null, name: put.customer };
    const id = customers.named(text);
    return { id, name: customers.nameOf(id) ?? text };
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
