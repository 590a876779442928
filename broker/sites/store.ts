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
 *
 * On broker/sql (issue 17 part 1), SQLite or PostgreSQL. The detector and the ticket
 * desk ask for a device's criticality and recorder on every message, so the answers come
 * from a copy of both tables in memory, loaded by start() and by reload(), and refreshed
 * row by row after each committed write (a CSV import of a thousand devices reads back a
 * thousand rows, not the table a thousand times). Writes go to the database first, one at
 * a time, and the copy changes only once the database took them. On a pair, the node that
 * becomes the leader calls reload() to see what the old leader wrote.
 */
import type {
  Criticality,
  Site,
  SiteDevice,
  SiteDevicePut,
  SitePut,
} from '../../shared/api/sites.js';
import { VigilError } from '../../shared/errors.js';
import { Turns } from '../turns.js';
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';

// One text for both engines but for the retention goal: REAL is a 4-byte float on
// PostgreSQL, a double on SQLite (broker/sql/types.ts).
const sitesV1 = (real: string): string => `
      CREATE TABLE sites (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        customer TEXT NOT NULL DEFAULT '',
        accepted_on TEXT,
        retention_goal_days ${real} NOT NULL DEFAULT 30
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
    `;
const migrations: readonly StoreMigration[] = [
  { version: 1, sqlite: sitesV1('REAL'), postgres: sitesV1('DOUBLE PRECISION') },
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
  named(name: string): Promise<string>;
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

const DEFAULT_SITE = (siteId: string): SiteRow => ({
  id: siteId,
  name: siteId,
  customer: '',
  customer_id: null,
  accepted_on: null,
  retention_goal_days: DEFAULT_RETENTION_GOAL_DAYS,
});

export class SiteStore {
  private sites = new Map<string, SiteRow>();
  /** Per site, its devices by id. */
  private devices = new Map<string, Map<string, DeviceRow>>();
  /** Writes take turns: each reads the row it changes, so two at once would lose one. */
  private readonly turns = new Turns();

  constructor(
    private readonly db: SqlDatabase,
    private readonly customers?: CustomerNames,
  ) {}

  /** Start the customers' store first: the free text of older versions becomes customers here. */
  async start(): Promise<void> {
    await this.db.migrate('sites', migrations);
    if (this.customers !== undefined) {
      const customers = this.customers;
      const loose = await this.db.all<{ id: string; customer: string }>(
        "SELECT id, customer FROM sites WHERE customer_id IS NULL AND customer <> ''",
      );
      // Named first (each may create a customer, in the customers' own table), then linked
      // in one transaction.
      const links: [string, string][] = [];
      for (const site of loose) links.push([await customers.named(site.customer), site.id]);
      if (links.length > 0) {
        await this.db.transaction(async (tx) => {
          for (const [customerId, siteId] of links)
            await tx.run('UPDATE sites SET customer_id = ? WHERE id = ?', [customerId, siteId]);
        });
      }
    }
    await this.reload();
  }

  /** Reads both tables again: at start, and on the node that becomes the leader of a pair. */
  async reload(): Promise<void> {
    const [siteRows, deviceRows] = await Promise.all([
      this.db.all<SiteRow>('SELECT * FROM sites'),
      this.db.all<DeviceRow>('SELECT * FROM site_devices'),
    ]);
    const sites = new Map<string, SiteRow>();
    for (const row of siteRows) sites.set(row.id, row);
    const devices = new Map<string, Map<string, DeviceRow>>();
    for (const row of deviceRows) {
      let ofSite = devices.get(row.site_id);
      if (ofSite === undefined) devices.set(row.site_id, (ofSite = new Map()));
      ofSite.set(row.device_id, row);
    }
    this.sites = sites;
    this.devices = devices;
  }

  list(): Site[] {
    return [...this.sites.values()]
      .sort((a, b) => compare(a.id, b.id))
      .map((row) => this.view(row));
  }

  /** The site's metadata; a site nobody described yet has the defaults. */
  get(siteId: string): Site {
    return this.view(this.sites.get(siteId) ?? DEFAULT_SITE(siteId));
  }

  /** The name of the site's customer; null when unset (on-call coverage keys teams by it). */
  customerOf(siteId: string): string | null {
    const row = this.sites.get(siteId);
    if (row === undefined) return null;
    const name = this.customerName(row);
    return name ? name : null;
  }

  /** The id of the site's customer; null when it belongs to none. */
  customerIdOf(siteId: string): string | null {
    return this.sites.get(siteId)?.customer_id ?? null;
  }

  /** The ids of the sites of a customer. */
  sitesOf(customerId: string): string[] {
    return [...this.sites.values()]
      .filter((row) => row.customer_id === customerId)
      .map((row) => row.id)
      .sort(compare);
  }

  /** The customer's current name (renamed since the last write), else the stored text. */
  private customerName(row: Pick<SiteRow, 'customer' | 'customer_id'>): string {
    if (row.customer_id === null || this.customers === undefined) return row.customer;
    return this.customers.nameOf(row.customer_id) ?? row.customer;
  }

  exists(siteId: string): boolean {
    return this.sites.has(siteId);
  }

  private view(row: SiteRow): Site {
    const devices = [...(this.devices.get(row.id)?.values() ?? [])].sort((a, b) =>
      compare(a.device_id, b.device_id),
    );
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
    const row = this.devices.get(siteId)?.get(deviceId);
    return row === undefined ? undefined : deviceView(row);
  }

  criticality(siteId: string, deviceId: string): Criticality {
    return this.devices.get(siteId)?.get(deviceId)?.criticality ?? 'normal';
  }

  /** The cameras an NVR records (recorderId = the NVR). */
  recordedBy(siteId: string, recorderId: string): string[] {
    return [...(this.devices.get(siteId)?.values() ?? [])]
      .filter((row) => row.recorder_id === recorderId)
      .map((row) => row.device_id)
      .sort(compare);
  }

  /**
   * `customerId` names the customer (VIGIL_BAD_REQUEST when there is none; null: no
   * customer); a `customer` text without it is the customer of that name, created when
   * needed (the older field, kept for CSV files and older consoles).
   */
  put(siteId: string, put: SitePut): Promise<Site> {
    return this.turns.run(async () => {
      await this.putNow(siteId, put);
      return this.get(siteId);
    });
  }

  private async putNow(siteId: string, put: SitePut): Promise<void> {
    const current = this.get(siteId);
    const customer = await this.customerFor(put, current);
    await this.db.run(
      `INSERT INTO sites (id, name, customer, customer_id, accepted_on, retention_goal_days)
       VALUES (@id, @name, @customer, @customerId, @accepted, @goal)
       ON CONFLICT (id) DO UPDATE SET name = @name, customer = @customer,
         customer_id = @customerId, accepted_on = @accepted, retention_goal_days = @goal`,
      {
        id: siteId,
        name: put.name ?? current.name,
        customer: customer.name,
        customerId: customer.id,
        accepted: put.acceptedOn === undefined ? current.acceptedOn : put.acceptedOn,
        goal: put.retentionGoalDays ?? current.retentionGoalDays,
      },
    );
    await this.refreshSite(this.db, siteId);
  }

  private async customerFor(
    put: SitePut,
    current: Site,
  ): Promise<{ id: string | null; name: string }> {
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
    const id = await customers.named(text);
    return { id, name: customers.nameOf(id) ?? text };
  }

  putDevice(siteId: string, deviceId: string, put: SiteDevicePut): Promise<SiteDevice> {
    return this.turns.run(async () => {
      if (!this.exists(siteId)) await this.putNow(siteId, {});
      const current = this.device(siteId, deviceId);
      const pick = <K extends keyof SiteDevicePut>(key: K, fallback: SiteDevice[K]) =>
        put[key] === undefined ? fallback : put[key];
      await this.db.run(
        `INSERT INTO site_devices (site_id, device_id, criticality, recorder_id, accepted_on, warranty_ends_on, replaced_on)
         VALUES (@site, @device, @criticality, @recorder, @accepted, @warranty, @replaced)
         ON CONFLICT (site_id, device_id) DO UPDATE SET criticality = @criticality,
           recorder_id = @recorder, accepted_on = @accepted, warranty_ends_on = @warranty,
           replaced_on = @replaced`,
        {
          site: siteId,
          device: deviceId,
          criticality: pick('criticality', current?.criticality ?? 'normal'),
          recorder: pick('recorderId', current?.recorderId ?? null),
          accepted: pick('acceptedOn', current?.acceptedOn ?? null),
          warranty: pick('warrantyEndsOn', current?.warrantyEndsOn ?? null),
          replaced: pick('replacedOn', current?.replacedOn ?? null),
        },
      );
      await this.refreshDevice(this.db, siteId, deviceId);
      return this.device(siteId, deviceId)!;
    });
  }

  /** The site's row as the database has it now, into the copy. */
  private async refreshSite(session: SqlSession, siteId: string): Promise<void> {
    const row = await session.get<SiteRow>('SELECT * FROM sites WHERE id = ?', [siteId]);
    if (row === undefined) this.sites.delete(siteId);
    else this.sites.set(siteId, row);
  }

  private async refreshDevice(
    session: SqlSession,
    siteId: string,
    deviceId: string,
  ): Promise<void> {
    const row = await session.get<DeviceRow>(
      'SELECT * FROM site_devices WHERE site_id = ? AND device_id = ?',
      [siteId, deviceId],
    );
    let ofSite = this.devices.get(siteId);
    if (row === undefined) {
      ofSite?.delete(deviceId);
      return;
    }
    if (ofSite === undefined) this.devices.set(siteId, (ofSite = new Map()));
    ofSite.set(deviceId, row);
  }
}

/** The order SQLite's ORDER BY gave by default (code points), not the locale's. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
