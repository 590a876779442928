/**
 * Maintenance windows, on broker/sql (SQLite or PostgreSQL, issue 17 part 1): per site (device_id NULL) or per device, planned ahead
 * or started now. While one covers a device: no tickets open for it, the SLA clocks of
 * its tickets pause, and the time is left out of its availability.
 *
 * The detector and the SLA clocks ask covers() for every fault and every beat, so the
 * answers come from a copy of the table in memory, per site (windows are few: a handful
 * a site a month), loaded by start() and reload() and refreshed after each committed
 * write. On a pair, the node that becomes the leader calls reload() to see the windows
 * the old leader wrote.
 */
import type {
  MaintenancePatch,
  MaintenanceQuery,
  MaintenanceWindow,
  NewMaintenance,
} from '../../shared/api/maintenance.js';
import { VigilError } from '../../shared/errors.js';
import { Turns } from '../turns.js';
import type { SqlDatabase, StoreMigration } from '../sql/types.js';

// PostgreSQL numbers the rows with an identity column, SQLite with AUTOINCREMENT; the rest
// is the same text (broker/sql/types.ts).
const windowsV1 = (id: string): string => `
      CREATE TABLE maintenance_windows (
        id ${id},
        site_id TEXT NOT NULL,
        device_id TEXT,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX maintenance_site_time ON maintenance_windows (site_id, ends_at, starts_at);
    `;
const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: windowsV1('INTEGER PRIMARY KEY AUTOINCREMENT'),
    postgres: windowsV1('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY'),
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
  /** Every window by id, and per site in the order the API lists them. */
  private byId = new Map<number, Row>();
  private bySite = new Map<string, Row[]>();
  /** Writes take turns: update and remove check the window they change first. */
  private readonly turns = new Turns();

  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<void> {
    await this.db.migrate('maintenance', migrations);
    await this.reload();
  }

  /** Reads the table again: at start, and on the node that becomes the leader of a pair. */
  async reload(): Promise<void> {
    this.keep(await this.db.all<Row>('SELECT * FROM maintenance_windows'));
  }

  private keep(rows: Row[]): void {
    const byId = new Map<number, Row>();
    const bySite = new Map<string, Row[]>();
    for (const row of rows.sort(byStart)) {
      byId.set(row.id, row);
      const ofSite = bySite.get(row.site_id);
      if (ofSite === undefined) bySite.set(row.site_id, [row]);
      else ofSite.push(row);
    }
    this.byId = byId;
    this.bySite = bySite;
  }

  /** The copy with `id` as the database has it now (gone when deleted). */
  private async refresh(id: number): Promise<void> {
    const row = await this.db.get<Row>('SELECT * FROM maintenance_windows WHERE id = ?', [id]);
    const rows = [...this.byId.values()].filter((other) => other.id !== id);
    if (row !== undefined) rows.push(row);
    this.keep(rows);
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
    const row = this.byId.get(id);
    return row === undefined ? undefined : this.view(row);
  }

  list(query: MaintenanceQuery = {}): MaintenanceWindow[] {
    let rows =
      query.siteId !== undefined
        ? (this.bySite.get(query.siteId) ?? [])
        : [...this.byId.values()].sort(byStart);
    if ((query.include ?? 'current') === 'current') {
      const now = this.now().toISOString();
      rows = rows.filter((row) => row.ends_at > now);
    }
    return rows.map((row) => this.view(row));
  }

  async create(input: NewMaintenance, actor: string): Promise<MaintenanceWindow> {
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
    const { rows } = await this.db.run<{ id: number }>(
      `INSERT INTO maintenance_windows (site_id, device_id, starts_at, ends_at, reason, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        input.siteId,
        input.deviceId ?? null,
        startsAt.toISOString(),
        endsAt.toISOString(),
        input.reason,
        actor,
        now.toISOString(),
      ],
    );
    const id = rows[0]!.id;
    await this.turns.run(() => this.refresh(id));
    return this.get(id)!;
  }

  update(id: number, patch: MaintenancePatch): Promise<MaintenanceWindow> {
    return this.turns.run(() => this.updateNow(id, patch));
  }

  private async updateNow(id: number, patch: MaintenancePatch): Promise<MaintenanceWindow> {
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
    await this.db.run(
      'UPDATE maintenance_windows SET starts_at = ?, ends_at = ?, reason = ? WHERE id = ?',
      [startsAt, endsAt, patch.reason ?? current.reason, id],
    );
    await this.refresh(id);
    return this.get(id)!;
  }

  remove(id: number): Promise<MaintenanceWindow> {
    return this.turns.run(async () => {
      const current = this.get(id);
      if (current === undefined) {
        throw new VigilError('VIGIL_NOT_FOUND', `No maintenance window ${id}: check the id.`);
      }
      await this.db.run('DELETE FROM maintenance_windows WHERE id = ?', [id]);
      await this.refresh(id);
      return current;
    });
  }

  /**
   * True while a window covers the device: one of the site's whole-site windows or one
   * of the device's own. With deviceId null only whole-site windows count.
   */
  covers(siteId: string, deviceId: string | null, at: Date): boolean {
    const iso = at.toISOString();
    return (this.bySite.get(siteId) ?? []).some(
      (row) =>
        row.starts_at <= iso &&
        row.ends_at > iso &&
        (row.device_id === null || row.device_id === deviceId),
    );
  }

  /** Windows of a site that overlap [from, to), for availability figures. */
  spans(siteId: string, from: Date, to: Date): Span[] {
    const [start, end] = [from.toISOString(), to.toISOString()];
    const rows = (this.bySite.get(siteId) ?? []).filter(
      (row) => row.ends_at > start && row.starts_at < end,
    );
    return rows.map((row) => ({
      deviceId: row.device_id,
      from: Math.max(Date.parse(row.starts_at), from.getTime()),
      to: Math.min(Date.parse(row.ends_at), to.getTime()),
    }));
  }
}

/** The API's order: by start, then by id (ISO times compare as text). */
function byStart(a: Row, b: Row): number {
  return a.starts_at < b.starts_at ? -1 : a.starts_at > b.starts_at ? 1 : a.id - b.id;
}
