/**
 * Spare parts (component "parts", issue 16 part 7) on broker/sql, SQLite or PostgreSQL
 * (issue 17 part 1): the depots, their stock per part model, the replacements recorded on
 * tickets, and the serial number last seen of every device (to notice a replaced device:
 * agent/checks/identity.ts says so for an hour, the broker must remember it for good).
 *
 * Stock is read from the database on every request: two engineers (or two nodes) taking
 * the last part must not both get it, so a take is one conditional UPDATE (count > 0)
 * whose row count decides, never a read and then a write. The serial numbers are asked
 * for on every device state, so they answer from a copy in memory loaded at start and by
 * reload() (the node that takes over a pair), changed before the write goes out.
 */
import type { Depot, DepotCreate, Replacement, StockRow } from '../../shared/api/parts.js';
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';

// PostgreSQL numbers the replacements with an identity column, SQLite with AUTOINCREMENT;
// the rest is the same text (broker/sql/types.ts).
const partsV1 = (id: string): string => `
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
        id ${id},
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
    `;
const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: partsV1('INTEGER PRIMARY KEY AUTOINCREMENT'),
    postgres: partsV1('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY'),
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

const serialKey = (siteId: string, deviceId: string) => `${siteId}/${deviceId}`;

export class PartStore {
  /** The serial number last seen per "site/device". */
  private serials = new Map<string, string>();

  constructor(private readonly db: SqlDatabase) {}

  async start(): Promise<void> {
    await this.db.migrate('parts', migrations);
    await this.reload();
  }

  /** Reads the serial numbers again: at start, and on the node that takes over a pair. */
  async reload(): Promise<void> {
    const rows = await this.db.all<{ site_id: string; device_id: string; serial: string }>(
      'SELECT site_id, device_id, serial FROM device_serials',
    );
    this.serials = new Map(rows.map((r) => [serialKey(r.site_id, r.device_id), r.serial]));
  }

  depots(): Promise<Depot[]> {
    return this.db.all<Depot>('SELECT id, name, region FROM part_depots ORDER BY id');
  }

  depot(id: string): Promise<Depot | undefined> {
    return this.db.get<Depot>('SELECT id, name, region FROM part_depots WHERE id = ?', [id]);
  }

  /** Creates the depot, or renames it (and moves its region when sent). */
  async putDepot(input: DepotCreate): Promise<Depot> {
    await this.db.run(
      `INSERT INTO part_depots (id, name, region) VALUES (@id, @name, @region)
       ON CONFLICT (id) DO UPDATE SET name = @name,
         region = CASE WHEN @keepRegion = 1 THEN part_depots.region ELSE @region END`,
      {
        id: input.id,
        name: input.name,
        region: input.region ?? null,
        keepRegion: input.region === undefined ? 1 : 0,
      },
    );
    return (await this.depot(input.id))!;
  }

  async stock(depotId: string): Promise<StockRow[]> {
    const rows = await this.db.all<{
      depot_id: string;
      part_model: string;
      count: number;
      updated_at: string;
    }>(
      `SELECT depot_id, part_model, count, updated_at FROM part_stock
       WHERE depot_id = ? ORDER BY part_model`,
      [depotId],
    );
    return rows.map((r) => ({
      depotId: r.depot_id,
      partModel: r.part_model,
      count: r.count,
      updatedAt: r.updated_at,
    }));
  }

  async setStock(depotId: string, partModel: string, count: number, at: string): Promise<StockRow> {
    await this.db.run(
      `INSERT INTO part_stock (depot_id, part_model, count, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (depot_id, part_model) DO UPDATE SET count = excluded.count,
         updated_at = excluded.updated_at`,
      [depotId, partModel, count, at],
    );
    return { depotId, partModel, count, updatedAt: at };
  }

  /** The depots that have `partModel` on the shelf, the fullest first. */
  async depotsWith(partModel: string): Promise<{ depotId: string; count: number }[]> {
    const rows = await this.db.all<{ depot_id: string; count: number }>(
      `SELECT depot_id, count FROM part_stock
       WHERE part_model = ? AND count > 0 ORDER BY count DESC, depot_id`,
      [partModel],
    );
    return rows.map((r) => ({ depotId: r.depot_id, count: r.count }));
  }

  /**
   * Takes one `partModel` from the depot and records the replacement, in one
   * transaction: both or neither. Undefined when the depot has none left: two engineers
   * (on one node or two) taking the last one, the second is refused, because the take is
   * one UPDATE ... WHERE count > 0 and its row count decides (PostgreSQL's second UPDATE
   * waits for the first's row lock and then sees count 0); the count never goes below 0.
   */
  takeAndRecord(replacement: NewReplacement): Promise<Replacement | undefined> {
    return this.db.transaction(async (tx) => {
      if (replacement.depotId !== null) {
        const { changes } = await tx.run(
          `UPDATE part_stock SET count = count - 1, updated_at = ?
           WHERE depot_id = ? AND part_model = ? AND count > 0`,
          [replacement.at, replacement.depotId, replacement.partModel],
        );
        if (changes === 0) return undefined;
      }
      return this.insert(tx, replacement);
    });
  }

  private async insert(tx: SqlSession, r: NewReplacement): Promise<Replacement> {
    const { rows } = await tx.run<ReplacementRow>(
      `INSERT INTO part_replacements (ticket_id, site_id, device_id, part_model, old_serial,
         new_serial, depot_id, warranty_repair, note, source, at, by)
       VALUES (@ticketId, @siteId, @deviceId, @partModel, @oldSerial, @newSerial, @depotId,
         @warranty, @note, @source, @at, @by)
       RETURNING *`,
      {
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
      },
    );
    return replacementView(rows[0]!);
  }

  async replacements(ticketId: number): Promise<Replacement[]> {
    const rows = await this.db.all<ReplacementRow>(
      'SELECT * FROM part_replacements WHERE ticket_id = ? ORDER BY id',
      [ticketId],
    );
    return rows.map(replacementView);
  }

  async replacement(ticketId: number, id: number): Promise<Replacement | undefined> {
    const row = await this.db.get<ReplacementRow>(
      'SELECT * FROM part_replacements WHERE ticket_id = ? AND id = ?',
      [ticketId, id],
    );
    return row === undefined ? undefined : replacementView(row);
  }

  /** Changes what a person may correct: the part model, the note, the warranty repair flag. */
  async update(
    ticketId: number,
    id: number,
    fields: { partModel?: string; note?: string; warrantyRepair?: boolean },
  ): Promise<Replacement | undefined> {
    await this.db.run(
      `UPDATE part_replacements SET part_model = coalesce(@partModel, part_model),
         note = coalesce(@note, note),
         warranty_repair = coalesce(@warranty, warranty_repair)
       WHERE ticket_id = @ticketId AND id = @id`,
      {
        ticketId,
        id,
        partModel: fields.partModel ?? null,
        note: fields.note ?? null,
        warranty: fields.warrantyRepair === undefined ? null : fields.warrantyRepair ? 1 : 0,
      },
    );
    return this.replacement(ticketId, id);
  }

  /** The warranty the replacement restarted. */
  async setWarranty(id: number, startsOn: string, endsOn: string): Promise<void> {
    await this.db.run(
      'UPDATE part_replacements SET warranty_starts_on = ?, warranty_ends_on = ? WHERE id = ?',
      [startsOn, endsOn, id],
    );
  }

  /** The serial number last seen of a device; undefined when never seen. */
  serialOf(siteId: string, deviceId: string): string | undefined {
    return this.serials.get(serialKey(siteId, deviceId));
  }

  /**
   * Remembers the serial at once (the next state of the device compares with it, even
   * while this write is on its way), then writes it; a failed write puts the copy back.
   */
  async setSerial(siteId: string, deviceId: string, serial: string, at: string): Promise<void> {
    const key = serialKey(siteId, deviceId);
    const before = this.serials.get(key);
    this.serials.set(key, serial);
    try {
      await this.db.run(
        `INSERT INTO device_serials (site_id, device_id, serial, seen_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (site_id, device_id) DO UPDATE SET serial = excluded.serial,
           seen_at = excluded.seen_at`,
        [siteId, deviceId, serial, at],
      );
    } catch (error) {
      if (this.serials.get(key) === serial) {
        if (before === undefined) this.serials.delete(key);
        else this.serials.set(key, before);
      }
      throw error;
    }
  }
}
