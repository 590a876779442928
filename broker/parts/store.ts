/**
 * Spare parts in SQLite (component "parts", issue 16 part 7): the depots, their stock per
 * part model, the replacements recorded on tickets, and the serial number last seen of
 * every device (to notice a replaced device: agent/checks/identity.ts says so for an
 * hour, the broker must remember it for good). Synchronous better-sqlite3 like the
 * other stores; the SQL stays here (issue 17 makes the stores async).
 */
import type { Depot, DepotCreate, Replacement, StockRow } from '../../shared/api/parts.js';
import { migrate, type Db, type Migration } from '../db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE part_depots (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT
      );
      CREATE TABLE part_stock (
        depot_id TEXT NOT NULL REFERENCES part_depots (id) ON DELETE CASCADE,
        part_model TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count >= 0),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (depot_id, part_model)
      );
      CREATE INDEX part_stock_model ON part_stock (part_model) WHERE count > 0;
      CREATE TABLE part_replacements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        device_id TEXT,
        part_model TEXT NOT NULL,
        old_serial TEXT,
        new_serial TEXT,
        depot_id TEXT,
        warranty_repair INTEGER NOT NULL DEFAULT 0,
        note TEXT,
        source TEXT NOT NULL CHECK (source IN ('recorded', 'detected')),
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        warranty_starts_on TEXT,
        warranty_ends_on TEXT
      );
      CREATE INDEX part_replacements_ticket ON part_replacements (ticket_id, id);
      CREATE TABLE device_serials (
        site_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        serial TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (site_id, device_id)
      );
    `,
  },
];

interface ReplacementRow {
  id: number;
  ticket_id: number;
  site_id: string;
  device_id: string | null;
  part_model: string;
  old_serial: string | null;
  new_serial: string | null;
  depot_id: string | null;
  warranty_repair: number;
  note: string | null;
  source: Replacement['source'];
  at: string;
  by: string;
  warranty_starts_on: string | null;
  warranty_ends_on: string | null;
}

const replacementView = (row: ReplacementRow): Replacement => ({
  id: row.id,
  ticketId: row.ticket_id,
  siteId: row.site_id,
  deviceId: row.device_id,
  partModel: row.part_model,
  oldSerial: row.old_serial,
  newSerial: row.new_serial,
  depotId: row.depot_id,
  warrantyRepair: row.warranty_repair === 1,
  note: row.note,
  source: row.source,
  at: row.at,
  by: row.by,
  warrantyStartsOn: row.warranty_starts_on,
  warrantyEndsOn: row.warranty_ends_on,
});

export type NewReplacement = Omit<Replacement, 'id' | 'warrantyStartsOn' | 'warrantyEndsOn'>;

export class PartStore {
  constructor(private readonly db: Db) {}

  start(): void {
    migrate(this.db, 'parts', migrations);
  }

  depots(): Depot[] {
    return this.db.prepare('SELECT id, name, region FROM part_depots ORDER BY id').all() as Depot[];
  }

  depot(id: string): Depot | undefined {
    return this.db.prepare('SELECT id, name, region FROM part_depots WHERE id = ?').get(id) as
      Depot | undefined;
  }

  /** Creates the depot, or renames it (and moves its region when sent). */
  putDepot(input: DepotCreate): Depot {
    this.db
      .prepare(
        `INSERT INTO part_depots (id, name, region) VALUES (@id, @name, @region)
         ON CONFLICT (id) DO UPDATE SET name = @name,
           region = CASE WHEN @keepRegion THEN region ELSE @region END`,
      )
      .run({
        id: input.id,
        name: input.name,
        region: input.region ?? null,
        keepRegion: input.region === undefined ? 1 : 0,
      });
    return this.depot(input.id)!;
  }

  stock(depotId: string): StockRow[] {
    const rows = this.db
      .prepare(
        `SELECT depot_id, part_model, count, updated_at FROM part_stock
         WHERE depot_id = ? ORDER BY part_model`,
      )
      .all(depotId) as {
      depot_id: string;
      part_model: string;
      count: number;
      updated_at: string;
    }[];
    return rows.map((r) => ({
      depotId: r.depot_id,
      partModel: r.part_model,
      count: r.count,
      updatedAt: r.updated_at,
    }));
  }

  setStock(depotId: string, partModel: string, count: number, at: string): StockRow {
    this.db
      .prepare(
        `INSERT INTO part_stock (depot_id, part_model, count, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (depot_id, part_model) DO UPDATE SET count = excluded.count,
           updated_at = excluded.updated_at`,
      )
      .run(depotId, partModel, count, at);
    return { depotId, partModel, count, updatedAt: at };
  }

  /** The depots that have `partModel` on the shelf, the fullest first. */
  depotsWith(partModel: string): { depotId: string; count: number }[] {
    return this.db
      .prepare(
        `SELECT depot_id AS depotId, count FROM part_stock
         WHERE part_model = ? AND count > 0 ORDER BY count DESC, depot_id`,
      )
      .all(partModel) as { depotId: string; count: number }[];
  }

  /**
   * Takes one `partModel` from the depot and records the replacement, in one
   * transaction: both or neither. Undefined when the depot has none left (two engineers
   * taking the last one: the second is refused, the count never goes below 0).
   */
  takeAndRecord(replacement: NewReplacement): Replacement | undefined {
    return this.db.transaction(() => {
      if (replacement.depotId !== null) {
        const taken = this.db
          .prepare(
            `UPDATE part_stock SET count = count - 1, updated_at = ?
             WHERE depot_id = ? AND part_model = ? AND count > 0`,
          )
          .run(replacement.at, replacement.depotId, replacement.partModel).changes;
        if (taken === 0) return undefined;
      }
      return this.insert(replacement);
    })();
  }

  private insert(r: NewReplacement): Replacement {
    const result = this.db
      .prepare(
        `INSERT INTO part_replacements (ticket_id, site_id, device_id, part_model, old_serial,
           new_serial, depot_id, warranty_repair, note, source, at, by)
         VALUES (@ticketId, @siteId, @deviceId, @partModel, @oldSerial, @newSerial, @depotId,
           @warranty, @note, @source, @at, @by)`,
      )
      .run({
        ticketId: r.ticketId,
        siteId: r.siteId,
        deviceId: r.deviceId,
        partModel: r.partModel,
        oldSerial: r.oldSerial,
        newSerial: r.newSerial,
        depotId: r.depotId,
        warranty: r.warrantyRepair ? 1 : 0,
        note: r.note,
        source: r.source,
        at: r.at,
        by: r.by,
      });
    return this.replacement(r.ticketId, Number(result.lastInsertRowid))!;
  }

  replacements(ticketId: number): Replacement[] {
    const rows = this.db
      .prepare('SELECT * FROM part_replacements WHERE ticket_id = ? ORDER BY id')
      .all(ticketId) as ReplacementRow[];
    return rows.map(replacementView);
  }

  replacement(ticketId: number, id: number): Replacement | undefined {
    const row = this.db
      .prepare('SELECT * FROM part_replacements WHERE ticket_id = ? AND id = ?')
      .get(ticketId, id) as ReplacementRow | undefined;
    return row === undefined ? undefined : replacementView(row);
  }

  /** Changes what a person may correct: the part model, the note, the warranty repair flag. */
  update(
    ticketId: number,
    id: number,
    fields: { partModel?: string; note?: string; warrantyRepair?: boolean },
  ): Replacement | undefined {
    this.db
      .prepare(
        `UPDATE part_replacements SET part_model = coalesce(@partModel, part_model),
           note = coalesce(@note, note),
           warranty_repair = coalesce(@warranty, warranty_repair)
         WHERE ticket_id = @ticketId AND id = @id`,
      )
      .run({
        ticketId,
        id,
        partModel: fields.partModel ?? null,
        note: fields.note ?? null,
        warranty: fields.warrantyRepair === undefined ? null : fields.warrantyRepair ? 1 : 0,
      });
    return this.replacement(ticketId, id);
  }

  /** The warranty the replacement restarted. */
  setWarranty(id: number, startsOn: string, endsOn: string): void {
    this.db
      .prepare(
        'UPDATE part_replacements SET warranty_starts_on = ?, warranty_ends_on = ? WHERE id = ?',
      )
      .run(startsOn, endsOn, id);
  }

  /** The serial number last seen of a device; undefined when never seen. */
  serialOf(siteId: string, deviceId: string): string | undefined {
    const row = this.db
      .prepare('SELECT serial FROM device_serials WHERE site_id = ? AND device_id = ?')
      .get(siteId, deviceId) as { serial: string } | undefined;
    return row?.serial;
  }

  setSerial(siteId: string, deviceId: string, serial: string, at: string): void {
    this.db
      .prepare(
        `INSERT INTO device_serials (site_id, device_id, serial, seen_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (site_id, device_id) DO UPDATE SET serial = excluded.serial,
           seen_at = excluded.seen_at`,
      )
      .run(siteId, deviceId, serial, at);
  }
}
