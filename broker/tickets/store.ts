/**
 * Tickets in SQLite. The rule "at most one open ticket per site, device and fault" is a
 * partial unique index, so it holds even when two writers race (two pipelines on one
 * file, a retry after a crash): the second insert fails and the caller leaves it there.
 * The rule is for detected faults: manual tickets (source 'manual', reported by a
 * person) are outside the index, each stands alone, and the detector's lookups
 * (findOpen, findLatest) never see them, so no recovery resolves one.
 * Timestamps are ISO 8601 UTC strings with milliseconds, so text order is time order.
 *
 * Each deadline of the contract table is a row of ticket_sla: its allowed time, its due
 * time (moved later by maintenance pauses), when it was met, warned and breached.
 */
import type {
  Fault,
  Priority,
  ReportedVia,
  SlaDeadline,
  Ticket,
  TicketQuery,
  TicketSource,
  TicketStatus,
  TimelineEntry,
  ContractDeadline,
} from '../../shared/api/tickets.js';
import { FINISHED_STATUSES } from '../../shared/ticket-workflow.js';
import { say } from '../../shared/wording/render.js';
import type { Message } from '../../shared/wording/messages.js';
import { migrate, type Db, type Migration } from '../db.js';
import { DEFAULT_WARN_SHARE, slaClockAt, type SlaRow } from './deadlines.js';

/** Page size of `list({ status: 'all' })` when the query gives none. */
export const DEFAULT_ALL_LIMIT = 200;

export const ticketMigrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
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
    `,
  },
  {
    // The work order's steps (who and when), the covered devices, and the SLA clocks.
    version: 2,
    sql: `
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
    `,
  },
  {
    // Titles and timeline entries as messages with codes (shared/wording/), made words
    // where a person reads them. The English sentences of older tickets are kept as
    // "text" messages, shown as they were.
    version: 3,
    sql: `
      ALTER TABLE tickets ADD COLUMN title_message TEXT NOT NULL DEFAULT '{}';
      UPDATE tickets SET title_message = json_object('code', 'text', 'params', json_object('text', title));
      ALTER TABLE tickets DROP COLUMN title;
      ALTER TABLE ticket_timeline ADD COLUMN message TEXT NOT NULL DEFAULT '{}';
      UPDATE ticket_timeline SET message = json_object('code', 'text', 'params', json_object('text', text));
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
    sql: `
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

/** better-sqlite3 reports constraint failures as SqliteError with this code. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
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

export interface TicketStore {
  /**
   * Inserts an open ticket with its first timeline entry and its clocks, in one
   * transaction. Returns undefined when a detected ticket for the same site, device and
   * fault is already open: the unique index refused the row (never for a manual one).
   */
  insertOpen(ticket: NewTicket, first: NewEntry, allowedMin: AllowedMinutes): Ticket | undefined;
  /** The open detected ticket of this site, device and fault (manual ones are never found). */
  findOpen(siteId: string, deviceId: string | null, fault: Fault): Ticket | undefined;
  /** The newest detected ticket of this site, device and fault, finished or not. */
  findLatest(siteId: string, deviceId: string | null, fault: Fault): Ticket | undefined;
  /**
   * Moves a ticket that is still open to `status` and appends `entry`; sets resolvedAt
   * when the status is 'resolved'. Returns undefined when the ticket is missing or
   * already finished (someone else got there first).
   */
  changeStatus(id: number, status: TicketStatus, entry: NewEntry): Ticket | undefined;
  /**
   * One step of the work order: moves from one of `from` to `to` (or keeps the status
   * when `to` is null), sets the step's fields, ends the named clocks, appends `entry`.
   * Returns undefined when the ticket is not in one of `from` (someone else moved it).
   */
  step(
    id: number,
    from: readonly TicketStatus[],
    to: TicketStatus | null,
    fields: StepFields,
    clocksDone: readonly SlaDeadline[],
    entry: NewEntry,
  ): Ticket | undefined;
  /** Reopens a finished ticket (a relapse): status open, resolution cleared, occurrences + 1. */
  reopen(id: number, entry: NewEntry): Ticket | undefined;
  /** Appends an entry and optionally replaces the covered devices. */
  annotate(id: number, entry: NewEntry, covers?: string[]): Ticket | undefined;
  /** Clocks still running or paused, of tickets not finished. */
  runningClocks(): RunningClock[];
  markWarned(ticketId: number, deadline: SlaDeadline, at: string): boolean;
  markBreached(ticketId: number, deadline: SlaDeadline, at: string): boolean;
  pause(ticketId: number, at: string): boolean;
  resume(ticketId: number, at: string): boolean;
  clocks(ticketId: number): SlaRow[];
  /**
   * Starts (or starts again from `entry.at`) a clock beyond the contract table's, a
   * spare-part clock, and appends `entry`. Undefined for an unknown or finished ticket.
   */
  startClock(
    id: number,
    deadline: SlaDeadline,
    allowedMin: number,
    entry: NewEntry,
  ): Ticket | undefined;
  /** Ends a running clock as done at `entry.at` and appends `entry`; undefined when none ran. */
  endClock(id: number, deadline: SlaDeadline, entry: NewEntry): Ticket | undefined;
  list(query: TicketQuery): Ticket[];
  get(id: number): Ticket | undefined;
}

export type AllowedMinutes = Record<ContractDeadline, number | null>;

/** Creates the tables on first use (component "tickets") and prepares the statements. */
export function openTicketStore(
  db: Db,
  opts: { now?: () => Date; warnShare?: number } = {},
): TicketStore {
  migrate(db, 'tickets', ticketMigrations);
  const now = opts.now ?? (() => new Date());
  const warnShare = opts.warnShare ?? DEFAULT_WARN_SHARE;

  const insertTicket = db.prepare(`
    INSERT INTO tickets (site_id, device_id, fault, priority, status, title_message, opened_at,
                         respond_by, on_site_by, resolve_by, resolved_at, covers,
                         source, reported_by, reported_via, description)
    VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`);
  const insertEntry = db.prepare(
    'INSERT INTO ticket_timeline (ticket_id, at, kind, actor, message) VALUES (?, ?, ?, ?, ?)',
  );
  const insertClock = db.prepare(
    'INSERT INTO ticket_sla (ticket_id, deadline, allowed_min, due) VALUES (?, ?, ?, ?)',
  );
  const selectTicket = db.prepare('SELECT * FROM tickets WHERE id = ?');
  const selectOpen = db.prepare(`
    SELECT * FROM tickets
    WHERE site_id = ? AND coalesce(device_id, '') = coalesce(?, '') AND fault = ? AND ${notFinished}
      AND source = 'detected'`);
  const selectLatest = db.prepare(`
    SELECT * FROM tickets
    WHERE site_id = ? AND coalesce(device_id, '') = coalesce(?, '') AND fault = ?
      AND source = 'detected'
    ORDER BY id DESC LIMIT 1`);
  const updateStatus = db.prepare(`
    UPDATE tickets SET status = ?, resolved_at = coalesce(?, resolved_at),
                       resolved_by = coalesce(?, resolved_by)
    WHERE id = ? AND ${notFinished}`);
  const selectTimelines = db.prepare(`
    SELECT ticket_id, at, kind, actor, message FROM ticket_timeline
    WHERE ticket_id IN (SELECT value FROM json_each(?))
    ORDER BY ticket_id, id`);
  const selectClocks = db.prepare(`
    SELECT * FROM ticket_sla WHERE ticket_id IN (SELECT value FROM json_each(?))`);
  const selectRunning = db.prepare(`
    SELECT s.*, t.site_id, t.device_id, t.priority, t.title_message FROM ticket_sla s JOIN tickets t ON t.id = s.ticket_id
    WHERE s.done_at IS NULL AND t.${notFinished}`);
  const endClock = db.prepare(
    'UPDATE ticket_sla SET done_at = ? WHERE ticket_id = ? AND deadline = ? AND done_at IS NULL',
  );

  function withDetails(rows: TicketRow[]): Ticket[] {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((r) => r.id));
    const entries = new Map<number, TimelineEntry[]>();
    for (const row of selectTimelines.all(ids) as TimelineRow[]) {
      const list = entries.get(row.ticket_id) ?? [];
      list.push(timelineEntry(row));
      entries.set(row.ticket_id, list);
    }
    const clocks = new Map<number, SlaRow[]>();
    for (const row of selectClocks.all(ids) as SlaRow[]) {
      const list = clocks.get(row.ticket_id) ?? [];
      list.push(row);
      clocks.set(row.ticket_id, list);
    }
    const at = now();
    return rows.map((row) => {
      const titleMessage = JSON.parse(row.title_message) as Message;
      const sla = (clocks.get(row.id) ?? [])
        .sort((a, b) => deadlineOrder[a.deadline] - deadlineOrder[b.deadline])
        .map((clock) => slaClockAt(clock, at, warnShare));
      // The deadlines as the console counts them down: paused time included.
      const due = (deadline: SlaDeadline, stored: string | null) =>
        sla.find((c) => c.deadline === deadline)?.due ?? stored;
      return {
        id: row.id,
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
        timeline: entries.get(row.id) ?? [],
      };
    });
  }

  function get(id: number): Ticket | undefined {
    const row = selectTicket.get(id) as TicketRow | undefined;
    return row === undefined ? undefined : withDetails([row])[0];
  }

  function addEntry(id: number, entry: NewEntry): void {
    insertEntry.run(id, entry.at, entry.kind, entry.actor, JSON.stringify(entry.message));
  }

  const insertOpenTx = db.transaction(
    (ticket: NewTicket, first: NewEntry, allowed: AllowedMinutes): number => {
      const result = insertTicket.run(
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
      );
      const id = Number(result.lastInsertRowid);
      addEntry(id, first);
      const dues: Record<ContractDeadline, Date | null> = {
        respond: ticket.respondBy,
        'on-site': ticket.onSiteBy,
        resolve: ticket.resolveBy,
      };
      for (const deadline of Object.keys(dues) as ContractDeadline[]) {
        const due = dues[deadline];
        const minutes = allowed[deadline];
        if (due !== null && minutes !== null) insertClock.run(id, deadline, minutes, iso(due));
      }
      return id;
    },
  );

  const changeStatusTx = db.transaction(
    (id: number, status: TicketStatus, entry: NewEntry): boolean => {
      const resolving = status === 'resolved';
      const resolvedAt = resolving ? entry.at : null;
      const resolvedBy = resolving ? entry.actor : null;
      if (updateStatus.run(status, resolvedAt, resolvedBy, id).changes === 0) return false;
      if (resolving)
        for (const d of ['respond', 'on-site', 'resolve']) endClock.run(entry.at, id, d);
      addEntry(id, entry);
      return true;
    },
  );

  const stepTx = db.transaction(
    (
      id: number,
      from: readonly TicketStatus[],
      to: TicketStatus | null,
      fields: StepFields,
      clocksDone: readonly SlaDeadline[],
      entry: NewEntry,
    ): boolean => {
      const row = selectTicket.get(id) as TicketRow | undefined;
      if (row === undefined || !from.includes(row.status)) return false;
      // Column names come from the StepFields type, never from a request.
      const names = Object.keys(fields);
      const sets = [...names.map((name) => `${name} = @${name}`)];
      if (to !== null) sets.push('status = @status');
      if (sets.length > 0) {
        db.prepare(`UPDATE tickets SET ${sets.join(', ')} WHERE id = @id`).run({
          ...fields,
          ...(to !== null ? { status: to } : {}),
          id,
        });
      }
      for (const deadline of clocksDone) endClock.run(entry.at, id, deadline);
      addEntry(id, entry);
      return true;
    },
  );

  const reopenTx = db.transaction((id: number, entry: NewEntry): boolean => {
    const changed = db
      .prepare(
        `UPDATE tickets SET status = 'open', resolved_at = NULL, resolved_by = NULL, cause = NULL,
           fix = NULL, closed_at = NULL, closed_by = NULL, confirmation = NULL,
           occurrences = occurrences + 1
         WHERE id = ? AND status IN (${finishedList})`,
      )
      .run(id).changes;
    if (changed === 0) return false;
    // The repair is not done after all: the resolution clock starts again from now, and
    // so do the steps not taken before the recovery (a relapse is a new call for help).
    db.prepare(
      `UPDATE ticket_sla SET done_at = NULL, warned_at = NULL, breached_at = NULL,
         paused_ms = 0, paused_since = NULL,
         due = strftime('%Y-%m-%dT%H:%M:%fZ', @at, '+' || (allowed_min * 60) || ' seconds')
       WHERE ticket_id = @id AND (deadline = 'resolve'
         OR (deadline = 'respond' AND (SELECT responded_at FROM tickets WHERE id = @id) IS NULL)
         OR (deadline = 'on-site' AND (SELECT on_site_at FROM tickets WHERE id = @id) IS NULL
             AND (SELECT dispatched_at FROM tickets WHERE id = @id) IS NULL))`,
    ).run({ id, at: entry.at });
    for (const row of db
      .prepare('SELECT * FROM ticket_sla WHERE ticket_id = ?')
      .all(id) as SlaRow[]) {
      const column = deadlineColumn[row.deadline];
      if (column === undefined) continue;
      db.prepare(`UPDATE tickets SET ${column} = ? WHERE id = ?`).run(row.due, id);
    }
    addEntry(id, entry);
    return true;
  });

  const annotateTx = db.transaction((id: number, entry: NewEntry, covers?: string[]): boolean => {
    if (selectTicket.get(id) === undefined) return false;
    if (covers !== undefined) {
      db.prepare('UPDATE tickets SET covers = ? WHERE id = ?').run(JSON.stringify(covers), id);
    }
    addEntry(id, entry);
    return true;
  });

  const pauseTx = db.transaction((ticketId: number, at: string): boolean => {
    return (
      db
        .prepare(
          'UPDATE ticket_sla SET paused_since = ? WHERE ticket_id = ? AND done_at IS NULL AND paused_since IS NULL',
        )
        .run(at, ticketId).changes > 0
    );
  });

  const resumeTx = db.transaction((ticketId: number, at: string): boolean => {
    const rows = db
      .prepare(
        'SELECT * FROM ticket_sla WHERE ticket_id = ? AND done_at IS NULL AND paused_since IS NOT NULL',
      )
      .all(ticketId) as SlaRow[];
    for (const row of rows) {
      const pausedMs = Math.max(0, Date.parse(at) - Date.parse(row.paused_since ?? at));
      const due = new Date(Date.parse(row.due) + pausedMs).toISOString();
      db.prepare(
        `UPDATE ticket_sla SET paused_since = NULL, paused_ms = paused_ms + ?, due = ?
         WHERE ticket_id = ? AND deadline = ?`,
      ).run(pausedMs, due, ticketId, row.deadline);
      const column = deadlineColumn[row.deadline];
      if (column !== undefined)
        db.prepare(`UPDATE tickets SET ${column} = ? WHERE id = ?`).run(due, ticketId);
    }
    return rows.length > 0;
  });

  const startClockTx = db.transaction(
    (id: number, deadline: SlaDeadline, allowedMin: number, entry: NewEntry): boolean => {
      const row = selectTicket.get(id) as TicketRow | undefined;
      if (row === undefined || FINISHED_STATUSES.includes(row.status)) return false;
      const due = new Date(Date.parse(entry.at) + allowedMin * 60_000).toISOString();
      db.prepare(
        `INSERT INTO ticket_sla (ticket_id, deadline, allowed_min, due) VALUES (?, ?, ?, ?)
         ON CONFLICT (ticket_id, deadline) DO UPDATE SET allowed_min = excluded.allowed_min,
           due = excluded.due, done_at = NULL, warned_at = NULL, breached_at = NULL,
           paused_ms = 0, paused_since = NULL`,
      ).run(id, deadline, allowedMin, due);
      addEntry(id, entry);
      return true;
    },
  );

  const endClockTx = db.transaction(
    (id: number, deadline: SlaDeadline, entry: NewEntry): boolean => {
      if (endClock.run(entry.at, id, deadline).changes === 0) return false;
      addEntry(id, entry);
      return true;
    },
  );

  const priorityRank = `CASE priority WHEN 'emergency' THEN 0 WHEN 'serious' THEN 1 ELSE 2 END`;

  return {
    insertOpen(ticket, first, allowed) {
      try {
        return get(insertOpenTx(ticket, first, allowed));
      } catch (error) {
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },
    findOpen(siteId, deviceId, fault) {
      const row = selectOpen.get(siteId, deviceId, fault) as TicketRow | undefined;
      return row === undefined ? undefined : withDetails([row])[0];
    },
    findLatest(siteId, deviceId, fault) {
      const row = selectLatest.get(siteId, deviceId, fault) as TicketRow | undefined;
      return row === undefined ? undefined : withDetails([row])[0];
    },
    changeStatus(id, status, entry) {
      return changeStatusTx(id, status, entry) ? get(id) : undefined;
    },
    step(id, from, to, fields, clocksDone, entry) {
      return stepTx(id, from, to, fields, clocksDone, entry) ? get(id) : undefined;
    },
    reopen(id, entry) {
      try {
        return reopenTx(id, entry) ? get(id) : undefined;
      } catch (error) {
        // Another ticket of the same fault was opened meanwhile: it holds the slot.
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },
    annotate(id, entry, covers) {
      return annotateTx(id, entry, covers) ? get(id) : undefined;
    },
    runningClocks() {
      return selectRunning.all() as RunningClock[];
    },
    markWarned(ticketId, deadline, at) {
      return (
        db
          .prepare(
            'UPDATE ticket_sla SET warned_at = ? WHERE ticket_id = ? AND deadline = ? AND warned_at IS NULL',
          )
          .run(at, ticketId, deadline).changes > 0
      );
    },
    markBreached(ticketId, deadline, at) {
      return (
        db
          .prepare(
            'UPDATE ticket_sla SET breached_at = ? WHERE ticket_id = ? AND deadline = ? AND breached_at IS NULL',
          )
          .run(at, ticketId, deadline).changes > 0
      );
    },
    pause: (ticketId, at) => pauseTx(ticketId, at),
    resume: (ticketId, at) => resumeTx(ticketId, at),
    clocks(ticketId) {
      return selectClocks.all(JSON.stringify([ticketId])) as SlaRow[];
    },
    startClock(id, deadline, allowedMin, entry) {
      return startClockTx(id, deadline, allowedMin, entry) ? get(id) : undefined;
    },
    endClock(id, deadline, entry) {
      return endClockTx(id, deadline, entry) ? get(id) : undefined;
    },
    list(query) {
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
      // SQLite reads LIMIT -1 as "no limit".
      params.limit = query.limit ?? (open ? -1 : DEFAULT_ALL_LIMIT);
      const sql = `SELECT * FROM tickets ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${order} LIMIT @limit`;
      return withDetails(db.prepare(sql).all(params) as TicketRow[]);
    },
    get,
  };
}
