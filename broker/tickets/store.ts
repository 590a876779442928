/**
 * Tickets in the stores' database (broker/sql/: SQLite's vigil.db, or PostgreSQL shared by
 * the two nodes of a pair). The rule "at most one open ticket per site, device and fault"
 * is a partial unique index, and a ticket is opened by `INSERT ... ON CONFLICT DO
 * NOTHING`, so it holds when two writers race (two connections, a new leader and a
 * frozen old one, a retry after a crash): the second insert inserts nothing and the
 * caller finds the first. The rule is for detected faults: manual tickets (source
 * 'manual', reported by a person) are outside the index, each stands alone, and the
 * detector's lookups (findOpen, findLatest) never see them, so no recovery resolves one.
 * Timestamps are ISO 8601 UTC strings with milliseconds, so text order is time order.
 *
 * Each deadline of the contract table is a row of ticket_sla: its allowed time, its due
 * time (moved later by maintenance pauses), when it was met, warned and breached. The
 * clocks live only in these rows, never in memory: a restarted broker, or the node that
 * takes over a pair, runs them on from where the database says they are.
 */
import type {
  Fault,
  Priority,
  ReportedVia,
  SlaDeadline,
  Ticket,
  TicketSource,
  TicketStatus,
  TimelineEntry,
  ContractDeadline,
} from '../../shared/api/tickets.js';
import { FINISHED_STATUSES } from '../../shared/ticket-workflow.js';
import { say } from '../../shared/wording/render.js';
import type { Message } from '../../shared/wording/messages.js';
import {
  postgresTypes,
  type SqlDatabase,
  type SqlSession,
  type StoreMigration,
} from '../sql/types.js';
import { DEFAULT_WARN_SHARE, slaClockAt, type SlaRow } from './deadlines.js';
import type { TicketListQuery } from './types.js';

/** Page size of `list({ status: 'all' })` when the query gives none. */
export const DEFAULT_ALL_LIMIT = 200;

// SQLite's steps are the ones every existing vigil.db ran (never edited). PostgreSQL's
// give the same final schema: identity ids, DOUBLE PRECISION for REAL (PostgreSQL's REAL
// is 4 bytes), json_build_object for json_object, and a CHECK widened in place where
// SQLite has to rebuild the table.
// Steps whose PostgreSQL text differs from SQLite's only in its types (postgresTypes).
const STEP_1 = `
      CREATE TABLE tickets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        device_id TEXT,
        fault TEXT NOT NULL,
        priority TEXT NOT NULL CHECK (priority IN ('emergency', 'serious', 'general')),
        status TEXT NOT NULL
          CHECK (status IN ('open', 'acknowledged', 'dispatched', 'on-site', 'resolved', 'closed')),
        title TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        respond_by TEXT,
        on_site_by TEXT,
        resolve_by TEXT,
        resolved_at TEXT
      );
      -- One open ticket per site, device and fault. coalesce() because SQLite treats
      -- NULLs as distinct in a unique index, and site-wide faults have no device.
      CREATE UNIQUE INDEX tickets_one_open
        ON tickets (site_id, coalesce(device_id, ''), fault)
        WHERE status NOT IN ('resolved', 'closed');
      CREATE INDEX tickets_opened_at ON tickets (opened_at);
      CREATE TABLE ticket_timeline (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        text TEXT NOT NULL
      );
      CREATE INDEX ticket_timeline_ticket ON ticket_timeline (ticket_id, id);
`;

const STEP_2 = `
      ALTER TABLE tickets ADD COLUMN responded_at TEXT;
      ALTER TABLE tickets ADD COLUMN responded_by TEXT;
      ALTER TABLE tickets ADD COLUMN dispatched_at TEXT;
      ALTER TABLE tickets ADD COLUMN dispatched_by TEXT;
      ALTER TABLE tickets ADD COLUMN engineer TEXT;
      ALTER TABLE tickets ADD COLUMN on_site_at TEXT;
      ALTER TABLE tickets ADD COLUMN on_site_reported_by TEXT;
      ALTER TABLE tickets ADD COLUMN resolved_by TEXT;
      ALTER TABLE tickets ADD COLUMN cause TEXT;
      ALTER TABLE tickets ADD COLUMN fix TEXT;
      ALTER TABLE tickets ADD COLUMN closed_at TEXT;
      ALTER TABLE tickets ADD COLUMN closed_by TEXT;
      ALTER TABLE tickets ADD COLUMN confirmation TEXT;
      ALTER TABLE tickets ADD COLUMN covers TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE tickets ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
      CREATE INDEX tickets_key ON tickets (site_id, device_id, fault, id);
      CREATE TABLE ticket_sla (
        ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        deadline TEXT NOT NULL CHECK (deadline IN ('respond', 'on-site', 'resolve')),
        allowed_min REAL NOT NULL,
        due TEXT NOT NULL,
        done_at TEXT,
        warned_at TEXT,
        breached_at TEXT,
        paused_ms REAL NOT NULL DEFAULT 0,
        paused_since TEXT,
        PRIMARY KEY (ticket_id, deadline)
      );
      CREATE INDEX ticket_sla_running ON ticket_sla (due) WHERE done_at IS NULL;
`;

export const ticketMigrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: STEP_1,
    postgres: postgresTypes(STEP_1),
  },
  {
    // The work order's steps (who and when), the covered devices, and the SLA clocks.
    version: 2,
    sqlite: STEP_2,
    postgres: postgresTypes(STEP_2),
  },
  {
    // Titles and timeline entries as messages with codes (shared/wording/), made words
    // where a person reads them. The English sentences of older tickets are kept as
    // "text" messages, shown as they were.
    version: 3,
    sqlite: `
      ALTER TABLE tickets ADD COLUMN title_message TEXT NOT NULL DEFAULT '{}';
      UPDATE tickets SET title_message = json_object('code', 'text', 'params', json_object('text', title));
      ALTER TABLE tickets DROP COLUMN title;
      ALTER TABLE ticket_timeline ADD COLUMN message TEXT NOT NULL DEFAULT '{}';
      UPDATE ticket_timeline SET message = json_object('code', 'text', 'params', json_object('text', text));
      ALTER TABLE ticket_timeline DROP COLUMN text;
    `,
    postgres: `
      ALTER TABLE tickets ADD COLUMN title_message TEXT NOT NULL DEFAULT '{}';
      UPDATE tickets SET title_message = json_build_object('code', 'text', 'params', json_build_object('text', title))::text;
      ALTER TABLE tickets DROP COLUMN title;
      ALTER TABLE ticket_timeline ADD COLUMN message TEXT NOT NULL DEFAULT '{}';
      UPDATE ticket_timeline SET message = json_build_object('code', 'text', 'params', json_build_object('text', text))::text;
      ALTER TABLE ticket_timeline DROP COLUMN text;
    `,
  },
  {
    // A site's tickets of a period (the inspection report, the desk's lists by site):
    // without it SQLite reads every ticket the site ever had (tickets_key) and sorts them.
    version: 4,
    sql: `CREATE INDEX tickets_site_opened ON tickets (site_id, opened_at, id);`,
  },
  {
    // Manual tickets (issue 16 part 6): who reported it, how, and what they said. The
    // one-open rule becomes the detected faults' own: two people may report two problems
    // of one camera, and each is its own work order.
    version: 5,
    sql: `
      ALTER TABLE tickets ADD COLUMN source TEXT NOT NULL DEFAULT 'detected'
        CHECK (source IN ('detected', 'manual'));
      ALTER TABLE tickets ADD COLUMN reported_by TEXT;
      ALTER TABLE tickets ADD COLUMN reported_via TEXT CHECK (reported_via IN ('phone', 'portal'));
      ALTER TABLE tickets ADD COLUMN description TEXT;
      DROP INDEX tickets_one_open;
      CREATE UNIQUE INDEX tickets_one_open
        ON tickets (site_id, coalesce(device_id, ''), fault)
        WHERE status NOT IN ('resolved', 'closed') AND source = 'detected';
    `,
  },
  {
    // The spare-part clocks (issue 16 part 7, broker/parts/) run as rows of ticket_sla
    // beside the contract table's, so they warn, breach, pause and count down the same
    // way. SQLite cannot widen a CHECK in place: the table is rebuilt
    // (https://sqlite.org/lang_altertable.html#otheralter).
    version: 6,
    sqlite: `
      CREATE TABLE ticket_sla_new (
        ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        deadline TEXT NOT NULL
          CHECK (deadline IN ('respond', 'on-site', 'resolve', 'part-replaced', 'part-shipped')),
        allowed_min REAL NOT NULL,
        due TEXT NOT NULL,
        done_at TEXT,
        warned_at TEXT,
        breached_at TEXT,
        paused_ms REAL NOT NULL DEFAULT 0,
        paused_since TEXT,
        PRIMARY KEY (ticket_id, deadline)
      );
      INSERT INTO ticket_sla_new SELECT ticket_id, deadline, allowed_min, due, done_at,
        warned_at, breached_at, paused_ms, paused_since FROM ticket_sla;
      DROP TABLE ticket_sla;
      ALTER TABLE ticket_sla_new RENAME TO ticket_sla;
      CREATE INDEX ticket_sla_running ON ticket_sla (due) WHERE done_at IS NULL;
    `,
    postgres: `
      ALTER TABLE ticket_sla DROP CONSTRAINT ticket_sla_deadline_check;
      ALTER TABLE ticket_sla ADD CONSTRAINT ticket_sla_deadline_check
        CHECK (deadline IN ('respond', 'on-site', 'resolve', 'part-replaced', 'part-shipped'));
    `,
  },
];

/** A timeline entry as the desk writes it: what happened as a message with a code. */
export interface NewEntry {
  at: string;
  kind: string;
  actor: string;
  message: Message;
}

/** The entry as the API sends it: the message, and its words in English for readers without a catalogue. */
function timelineEntry(row: {
  at: string;
  kind: string;
  actor: string;
  message: string;
}): TimelineEntry {
  const message = JSON.parse(row.message) as Message;
  return { at: row.at, kind: row.kind, actor: row.actor, message, text: say(message) };
}

export interface NewTicket {
  siteId: string;
  deviceId: string | null;
  fault: Fault;
  priority: Priority;
  title: Message;
  openedAt: Date;
  respondBy: Date | null;
  onSiteBy: Date | null;
  resolveBy: Date | null;
  covers?: string[];
  /** Detected unless said; a manual ticket names who reported it, how, and what they said. */
  source?: TicketSource;
  reportedBy?: string;
  reportedVia?: ReportedVia;
  description?: string;
}

export interface RunningClock extends SlaRow {
  site_id: string;
  device_id: string | null;
  priority: Priority;
  /** JSON of the ticket's title message: made words only when a clock alerts. */
  title_message: string;
}

/** Fields a step of the work order sets (column name -> value). */
export type StepFields = Partial<
  Record<
    | 'responded_at'
    | 'responded_by'
    | 'dispatched_at'
    | 'dispatched_by'
    | 'engineer'
    | 'on_site_at'
    | 'on_site_reported_by'
    | 'resolved_at'
    | 'resolved_by'
    | 'cause'
    | 'fix'
    | 'closed_at'
    | 'closed_by'
    | 'confirmation',
    string | null
  >
>;

interface TicketRow {
  id: number;
  site_id: string;
  device_id: string | null;
  fault: Fault;
  priority: Priority;
  status: TicketStatus;
  /** JSON of the title message (shared/wording/). */
  title_message: string;
  opened_at: string;
  respond_by: string | null;
  on_site_by: string | null;
  resolve_by: string | null;
  resolved_at: string | null;
  responded_at: string | null;
  responded_by: string | null;
  dispatched_at: string | null;
  dispatched_by: string | null;
  engineer: string | null;
  on_site_at: string | null;
  on_site_reported_by: string | null;
  resolved_by: string | null;
  cause: string | null;
  fix: string | null;
  closed_at: string | null;
  closed_by: string | null;
  confirmation: string | null;
  covers: string;
  occurrences: number;
  source: TicketSource;
  reported_by: string | null;
  reported_via: ReportedVia | null;
  description: string | null;
}

interface TimelineRow {
  ticket_id: number;
  at: string;
  kind: string;
  actor: string;
  message: string;
}

// The workflow's finished statuses (shared/ticket-workflow.ts). The partial unique index
// (migration 1, rebuilt by 5) spells the same list; changing it needs a migration that
// rebuilds it.
const finishedList = FINISHED_STATUSES.map((s) => `'${s}'`).join(', ');
const notFinished = `status NOT IN (${finishedList})`;

/**
 * A unique index refused the row: better-sqlite3's SqliteError code, or PostgreSQL's
 * SQLSTATE 23505 unique_violation (PostgreSQL 15 docs, Appendix A).
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

const iso = (at: Date | null) => (at === null ? null : at.toISOString());

// The spare-part clocks have no column of their own on the ticket: their due time is the clock's.
const deadlineColumn: Partial<Record<SlaDeadline, 'respond_by' | 'on_site_by' | 'resolve_by'>> = {
  respond: 'respond_by',
  'on-site': 'on_site_by',
  resolve: 'resolve_by',
};
const deadlineOrder: Record<SlaDeadline, number> = {
  respond: 0,
  'on-site': 1,
  resolve: 2,
  'part-replaced': 3,
  'part-shipped': 4,
};

/** `IN (?, ?, ...)` for `count` values (json_each is SQLite's alone). */
const marks = (count: number) => Array.from({ length: count }, () => '?').join(', ');

/** Statuses from shared/ticket-workflow.ts as SQL literals (never from a request). */
const statusList = (statuses: readonly TicketStatus[]) =>
  statuses.map((s) => `'${s.replaceAll("'", "''")}'`).join(', ');

export type AllowedMinutes = Record<ContractDeadline, number | null>;

const priorityRank = `CASE priority WHEN 'emergency' THEN 0 WHEN 'serious' THEN 1 ELSE 2 END`;

/**
 * The ticket desk's storage. Every method is one statement or one transaction; none keeps
 * a ticket or a clock in memory between calls.
 */
export class TicketStore {
  private readonly now: () => Date;
  private readonly warnShare: number;

  constructor(
    private readonly db: SqlDatabase,
    opts: { now?: () => Date; warnShare?: number } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.warnShare = opts.warnShare ?? DEFAULT_WARN_SHARE;
  }

  /** Creates or upgrades the tables (component "tickets"). */
  async start(): Promise<void> {
    await this.db.migrate('tickets', ticketMigrations);
  }

  /**
   * Inserts an open ticket with its first timeline entry and its clocks, in one
   * transaction. Returns undefined when a detected ticket for the same site, device and
   * fault is already open: the unique index left the row out (never for a manual one).
   */
  async insertOpen(
    ticket: NewTicket,
    first: NewEntry,
    allowed: AllowedMinutes,
  ): Promise<Ticket | undefined> {
    const id = await this.db.transaction(async (tx) => {
      // ON CONFLICT DO NOTHING without a target: the only unique rule a new row can meet
      // is tickets_one_open. A refused insert returns no row and leaves the transaction
      // usable (a raised unique_violation would abort it on PostgreSQL).
      const inserted = await tx.run<{ id: number }>(
        `INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at,
                             respond_by, on_site_by, resolve_by, resolved_at, covers,
                             source, reported_by, reported_via, description)
         VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [
          ticket.siteId,
          ticket.deviceId,
          ticket.fault,
          ticket.priority,
          JSON.stringify(ticket.title),
          iso(ticket.openedAt),
          iso(ticket.respondBy),
          iso(ticket.onSiteBy),
          iso(ticket.resolveBy),
          JSON.stringify(ticket.covers ?? []),
          ticket.source ?? 'detected',
          ticket.reportedBy ?? null,
          ticket.reportedVia ?? null,
          ticket.description ?? null,
        ],
      );
      const row = inserted.rows[0];
      if (row === undefined) return undefined;
      const id = Number(row.id);
      await addEntry(tx, id, first);
      const dues: Record<ContractDeadline, Date | null> = {
        respond: ticket.respondBy,
        'on-site': ticket.onSiteBy,
        resolve: ticket.resolveBy,
      };
      for (const deadline of Object.keys(dues) as ContractDeadline[]) {
        const due = dues[deadline];
        const minutes = allowed[deadline];
        if (due !== null && minutes !== null)
          await tx.run(
            'INSERT INTO ticket_sla (ticket_id, deadline, allowed_min, due) VALUES (?, ?, ?, ?)',
            [id, deadline, minutes, iso(due)],
          );
      }
      return id;
    });
    return id === undefined ? undefined : this.get(id);
  }

  /** The open detected ticket of this site, device and fault (manual ones are never found). */
  async findOpen(
    siteId: string,
    deviceId: string | null,
    fault: Fault,
  ): Promise<Ticket | undefined> {
    const row = await this.db.get<TicketRow>(
      `SELECT * FROM tickets
       WHERE site_id = ? AND coalesce(device_id, '') = coalesce(?, '') AND fault = ? AND ${notFinished}
         AND source = 'detected'`,
      [siteId, deviceId, fault],
    );
    return row === undefined ? undefined : (await this.withDetails([row]))[0];
  }

  /** The newest detected ticket of this site, device and fault, finished or not. */
  async findLatest(
    siteId: string,
    deviceId: string | null,
    fault: Fault,
  ): Promise<Ticket | undefined> {
    const row = await this.db.get<TicketRow>(
      `SELECT * FROM tickets
       WHERE site_id = ? AND coalesce(device_id, '') = coalesce(?, '') AND fault = ?
         AND source = 'detected'
       ORDER BY id DESC LIMIT 1`,
      [siteId, deviceId, fault],
    );
    return row === undefined ? undefined : (await this.withDetails([row]))[0];
  }

  /**
   * Moves a ticket that is still open to `status` and appends `entry`; sets resolvedAt
   * when the status is 'resolved'. Returns undefined when the ticket is missing or
   * already finished (someone else got there first).
   */
  async changeStatus(
    id: number,
    status: TicketStatus,
    entry: NewEntry,
  ): Promise<Ticket | undefined> {
    const changed = await this.db.transaction(async (tx) => {
      const resolving = status === 'resolved';
      const updated = await tx.run(
        `UPDATE tickets SET status = ?, resolved_at = coalesce(?, resolved_at),
                            resolved_by = coalesce(?, resolved_by)
         WHERE id = ? AND ${notFinished}`,
        [status, resolving ? entry.at : null, resolving ? entry.actor : null, id],
      );
      if (updated.changes === 0) return false;
      if (resolving)
        for (const d of ['respond', 'on-site', 'resolve']) await endClock(tx, id, d, entry.at);
      await addEntry(tx, id, entry);
      return true;
    });
    return changed ? this.get(id) : undefined;
  }

  /**
   * One step of the work order: moves from one of `from` to `to` (or keeps the status
   * when `to` is null), sets the step's fields, ends the named clocks, appends `entry`.
   * Returns undefined when the ticket is not in one of `from` (someone else moved it).
   * The check is the UPDATE's own WHERE, so two people taking a step at once (on one
   * node or two) cannot both take it.
   */
  async step(
    id: number,
    from: readonly TicketStatus[],
    to: TicketStatus | null,
    fields: StepFields,
    clocksDone: readonly SlaDeadline[],
    entry: NewEntry,
  ): Promise<Ticket | undefined> {
    const changed = await this.db.transaction(async (tx) => {
      // Column names come from the StepFields type, never from a request. A step without
      // fields (a note) still "updates" the row, so the status check is the same statement.
      const names = Object.keys(fields);
      const sets = names.map((name) => `${name} = @${name}`);
      sets.push(to !== null ? 'status = @status' : 'status = status');
      const updated = await tx.run(
        `UPDATE tickets SET ${sets.join(', ')} WHERE id = @id AND status IN (${statusList(from)})`,
        { ...fields, ...(to !== null ? { status: to } : {}), id },
      );
      if (updated.changes === 0) return false;
      for (const deadline of clocksDone) await endClock(tx, id, deadline, entry.at);
      await addEntry(tx, id, entry);
      return true;
    });
    return changed ? this.get(id) : undefined;
  }

  /** Reopens a finished ticket (a relapse): status open, resolution cleared, occurrences + 1. */
  async reopen(id: number, entry: NewEntry): Promise<Ticket | undefined> {
    let changed: boolean;
    try {
      changed = await this.db.transaction(async (tx) => {
        const updated = await tx.run(
          `UPDATE tickets SET status = 'open', resolved_at = NULL, resolved_by = NULL, cause = NULL,
             fix = NULL, closed_at = NULL, closed_by = NULL, confirmation = NULL,
             occurrences = occurrences + 1
           WHERE id = ? AND status IN (${finishedList})`,
          [id],
        );
        if (updated.changes === 0) return false;
        const ticket = await tx.get<TicketRow>('SELECT * FROM tickets WHERE id = ?', [id]);
        // The repair is not done after all: the resolution clock starts again from now, and
        // so do the steps not taken before the recovery (a relapse is a new call for help).
        const restart = (deadline: SlaDeadline) =>
          deadline === 'resolve' ||
          (deadline === 'respond' && ticket?.responded_at == null) ||
          (deadline === 'on-site' && ticket?.on_site_at == null && ticket?.dispatched_at == null);
        const clocks = await tx.all<SlaRow>('SELECT * FROM ticket_sla WHERE ticket_id = ?', [id]);
        for (const clock of clocks) {
          if (!restart(clock.deadline)) continue;
          const due = new Date(Date.parse(entry.at) + clock.allowed_min * 60_000).toISOString();
          await tx.run(
            `UPDATE ticket_sla SET done_at = NULL, warned_at = NULL, breached_at = NULL,
               paused_ms = 0, paused_since = NULL, due = ?
             WHERE ticket_id = ? AND deadline = ?`,
            [due, id, clock.deadline],
          );
          const column = deadlineColumn[clock.deadline];
          if (column !== undefined)
            await tx.run(`UPDATE tickets SET ${column} = ? WHERE id = ?`, [due, id]);
        }
        await addEntry(tx, id, entry);
        return true;
      });
    } catch (error) {
      // Another ticket of the same fault was opened meanwhile: it holds the slot.
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
    return changed ? this.get(id) : undefined;
  }

  /** Appends an entry and optionally replaces the covered devices. */
  async annotate(id: number, entry: NewEntry, covers?: string[]): Promise<Ticket | undefined> {
    const changed = await this.db.transaction(async (tx) => {
      const exists = await tx.get('SELECT id FROM tickets WHERE id = ?', [id]);
      if (exists === undefined) return false;
      if (covers !== undefined)
        await tx.run('UPDATE tickets SET covers = ? WHERE id = ?', [JSON.stringify(covers), id]);
      await addEntry(tx, id, entry);
      return true;
    });
    return changed ? this.get(id) : undefined;
  }

  /** Clocks still running or paused, of tickets not finished. */
  runningClocks(): Promise<RunningClock[]> {
    return this.db.all<RunningClock>(
      `SELECT s.*, t.site_id, t.device_id, t.priority, t.title_message
       FROM ticket_sla s JOIN tickets t ON t.id = s.ticket_id
       WHERE s.done_at IS NULL AND t.${notFinished}`,
    );
  }

  /**
   * Marks the clock warned, with `entry` in the timeline, once: false when it was warned
   * already or has ended meanwhile (a step of another request, or the other node), so
   * every warning is raised by one caller only.
   */
  markWarned(
    ticketId: number,
    deadline: SlaDeadline,
    at: string,
    entry?: NewEntry,
  ): Promise<boolean> {
    return this.mark('warned_at', ticketId, deadline, at, entry);
  }

  /** As markWarned, for the breach. */
  markBreached(
    ticketId: number,
    deadline: SlaDeadline,
    at: string,
    entry?: NewEntry,
  ): Promise<boolean> {
    return this.mark('breached_at', ticketId, deadline, at, entry);
  }

  private mark(
    column: 'warned_at' | 'breached_at',
    ticketId: number,
    deadline: SlaDeadline,
    at: string,
    entry?: NewEntry,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const updated = await tx.run(
        `UPDATE ticket_sla SET ${column} = ?
         WHERE ticket_id = ? AND deadline = ? AND ${column} IS NULL AND done_at IS NULL`,
        [at, ticketId, deadline],
      );
      if (updated.changes === 0) return false;
      if (entry !== undefined) await addEntry(tx, ticketId, entry);
      return true;
    });
  }

  /** Pauses the ticket's running clocks from `at` (a maintenance window); `entry` with it. */
  pause(ticketId: number, at: string, entry?: NewEntry): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const updated = await tx.run(
        'UPDATE ticket_sla SET paused_since = ? WHERE ticket_id = ? AND done_at IS NULL AND paused_since IS NULL',
        [at, ticketId],
      );
      if (updated.changes === 0) return false;
      if (entry !== undefined) await addEntry(tx, ticketId, entry);
      return true;
    });
  }

  /** Resumes the paused clocks at `at`: each due time moves later by the pause. */
  resume(ticketId: number, at: string, entry?: NewEntry): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<SlaRow>(
        'SELECT * FROM ticket_sla WHERE ticket_id = ? AND done_at IS NULL AND paused_since IS NOT NULL',
        [ticketId],
      );
      for (const row of rows) {
        const pausedMs = Math.max(0, Date.parse(at) - Date.parse(row.paused_since ?? at));
        const due = new Date(Date.parse(row.due) + pausedMs).toISOString();
        await tx.run(
          `UPDATE ticket_sla SET paused_since = NULL, paused_ms = paused_ms + ?, due = ?
           WHERE ticket_id = ? AND deadline = ?`,
          [pausedMs, due, ticketId, row.deadline],
        );
        const column = deadlineColumn[row.deadline];
        if (column !== undefined)
          await tx.run(`UPDATE tickets SET ${column} = ? WHERE id = ?`, [due, ticketId]);
      }
      if (rows.length > 0 && entry !== undefined) await addEntry(tx, ticketId, entry);
      return rows.length > 0;
    });
  }

  clocks(ticketId: number): Promise<SlaRow[]> {
    return this.db.all<SlaRow>('SELECT * FROM ticket_sla WHERE ticket_id = ?', [ticketId]);
  }

  /**
   * Starts (or starts again from `entry.at`) a clock beyond the contract table's, a
   * spare-part clock, and appends `entry`. Undefined for an unknown or finished ticket.
   */
  async startClock(
    id: number,
    deadline: SlaDeadline,
    allowedMin: number,
    entry: NewEntry,
  ): Promise<Ticket | undefined> {
    const changed = await this.db.transaction(async (tx) => {
      const row = await tx.get<{ status: TicketStatus }>(
        'SELECT status FROM tickets WHERE id = ?',
        [id],
      );
      if (row === undefined || FINISHED_STATUSES.includes(row.status)) return false;
      const due = new Date(Date.parse(entry.at) + allowedMin * 60_000).toISOString();
      await tx.run(
        `INSERT INTO ticket_sla (ticket_id, deadline, allowed_min, due) VALUES (?, ?, ?, ?)
         ON CONFLICT (ticket_id, deadline) DO UPDATE SET allowed_min = excluded.allowed_min,
           due = excluded.due, done_at = NULL, warned_at = NULL, breached_at = NULL,
           paused_ms = 0, paused_since = NULL`,
        [id, deadline, allowedMin, due],
      );
      await addEntry(tx, id, entry);
      return true;
    });
    return changed ? this.get(id) : undefined;
  }

  /** Ends a running clock as done at `entry.at` and appends `entry`; undefined when none ran. */
  async endClock(id: number, deadline: SlaDeadline, entry: NewEntry): Promise<Ticket | undefined> {
    const changed = await this.db.transaction(async (tx) => {
      if ((await endClock(tx, id, deadline, entry.at)) === 0) return false;
      await addEntry(tx, id, entry);
      return true;
    });
    return changed ? this.get(id) : undefined;
  }

  async list(query: TicketListQuery): Promise<Ticket[]> {
    // No site at all is no ticket (and `IN ()` is no SQL on either engine).
    if (query.sites?.length === 0) return [];
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    // Asking for one state exactly (resolved, closed) looks beyond the open board.
    const open = (query.status ?? (query.state === undefined ? 'open' : 'all')) === 'open';
    if (open) where.push(notFinished);
    // Exact matches: query field -> column.
    const exact = [
      ['state', 'status'],
      ['priority', 'priority'],
      ['siteId', 'site_id'],
      ['deviceId', 'device_id'],
      ['fault', 'fault'],
      ['source', 'source'],
    ] as const;
    for (const [field, column] of exact) {
      if (query[field] === undefined) continue;
      where.push(`${column} = @${field}`);
      params[field] = query[field];
    }
    if (query.sites !== undefined) {
      const names = query.sites.map((site, i) => {
        params[`site${i}`] = site;
        return `@site${i}`;
      });
      where.push(`site_id IN (${names.join(', ')})`);
    }
    if (query.from !== undefined) {
      where.push('opened_at >= @from');
      params.from = new Date(query.from).toISOString();
    }
    if (query.to !== undefined) {
      where.push('opened_at < @to');
      params.to = new Date(query.to).toISOString();
    }
    const sort = query.sort ?? (open ? 'urgency' : 'newest');
    const order = {
      // The open board: most urgent priority first, then the nearest response deadline.
      urgency: `${priorityRank}, respond_by IS NULL, respond_by, id`,
      newest: 'opened_at DESC, id DESC',
      oldest: 'opened_at, id',
    }[sort];
    // The open board is whole unless a limit is asked (SQLite's LIMIT -1 is not portable).
    const limit = query.limit ?? (open ? null : DEFAULT_ALL_LIMIT);
    if (limit !== null) params.limit = limit;
    const sql = `SELECT * FROM tickets ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${order}${limit !== null ? ' LIMIT @limit' : ''}`;
    // No parameters at all is no parameter object (PostgreSQL's translation counts them).
    const bound = Object.keys(params).length > 0 ? params : undefined;
    return this.withDetails(await this.db.all<TicketRow>(sql, bound));
  }

  async get(id: number): Promise<Ticket | undefined> {
    const row = await this.db.get<TicketRow>('SELECT * FROM tickets WHERE id = ?', [id]);
    return row === undefined ? undefined : (await this.withDetails([row]))[0];
  }

  private async withDetails(rows: TicketRow[]): Promise<Ticket[]> {
    if (rows.length === 0) return [];
    const entries = new Map<number, TimelineEntry[]>();
    const clocks = new Map<number, SlaRow[]>();
    // In slices: a statement takes at most 32,766 parameters on SQLite, 65,535 on PostgreSQL.
    for (let i = 0; i < rows.length; i += 500) {
      const ids = rows.slice(i, i + 500).map((r) => Number(r.id));
      const timeline = await this.db.all<TimelineRow>(
        `SELECT ticket_id, at, kind, actor, message FROM ticket_timeline
         WHERE ticket_id IN (${marks(ids.length)}) ORDER BY ticket_id, id`,
        ids,
      );
      for (const row of timeline) {
        const list = entries.get(Number(row.ticket_id)) ?? [];
        list.push(timelineEntry(row));
        entries.set(Number(row.ticket_id), list);
      }
      const sla = await this.db.all<SlaRow>(
        `SELECT * FROM ticket_sla WHERE ticket_id IN (${marks(ids.length)})`,
        ids,
      );
      for (const row of sla) {
        const list = clocks.get(Number(row.ticket_id)) ?? [];
        list.push(row);
        clocks.set(Number(row.ticket_id), list);
      }
    }
    const at = this.now();
    return rows.map((row) => {
      const id = Number(row.id);
      const titleMessage = JSON.parse(row.title_message) as Message;
      const sla = (clocks.get(id) ?? [])
        .sort((a, b) => deadlineOrder[a.deadline] - deadlineOrder[b.deadline])
        .map((clock) => slaClockAt(clock, at, this.warnShare));
      // The deadlines as the console counts them down: paused time included.
      const due = (deadline: SlaDeadline, stored: string | null) =>
        sla.find((c) => c.deadline === deadline)?.due ?? stored;
      return {
        id,
        siteId: row.site_id,
        deviceId: row.device_id,
        fault: row.fault,
        priority: row.priority,
        status: row.status,
        title: say(titleMessage),
        titleMessage,
        openedAt: row.opened_at,
        respondBy: due('respond', row.respond_by),
        onSiteBy: due('on-site', row.on_site_by),
        resolveBy: due('resolve', row.resolve_by),
        respondedAt: row.responded_at,
        respondedBy: row.responded_by,
        dispatchedAt: row.dispatched_at,
        dispatchedBy: row.dispatched_by,
        engineer: row.engineer,
        onSiteAt: row.on_site_at,
        onSiteReportedBy: row.on_site_reported_by,
        resolvedAt: row.resolved_at,
        resolvedBy: row.resolved_by,
        cause: row.cause,
        fix: row.fix,
        closedAt: row.closed_at,
        closedBy: row.closed_by,
        confirmation: row.confirmation,
        covers: JSON.parse(row.covers) as string[],
        occurrences: row.occurrences,
        source: row.source,
        reportedBy: row.reported_by,
        reportedVia: row.reported_via,
        description: row.description,
        sla,
        timeline: entries.get(id) ?? [],
      };
    });
  }
}

async function addEntry(tx: SqlSession, id: number, entry: NewEntry): Promise<void> {
  await tx.run(
    'INSERT INTO ticket_timeline (ticket_id, at, kind, actor, message) VALUES (?, ?, ?, ?, ?)',
    [id, entry.at, entry.kind, entry.actor, JSON.stringify(entry.message)],
  );
}

async function endClock(tx: SqlSession, id: number, deadline: string, at: string): Promise<number> {
  const ended = await tx.run(
    'UPDATE ticket_sla SET done_at = ? WHERE ticket_id = ? AND deadline = ? AND done_at IS NULL',
    [at, id, deadline],
  );
  return ended.changes;
}
