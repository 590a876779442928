/**
 * Tickets in SQLite. The rule "at most one open ticket per site, device and fault" is a
 * partial unique index, so it holds even when two writers race (two pipelines on one
 * file, a retry after a crash): the second insert fails and the caller leaves it there.
 * Timestamps are ISO 8601 UTC strings with milliseconds, so text order is time order.
 */
import type {
  Fault,
  Priority,
  Ticket,
  TicketQuery,
  TicketStatus,
  TimelineEntry,
} from '../../shared/api/tickets.js';
import { migrate, type Db, type Migration } from '../db.js';

/** Statuses after which a ticket no longer holds the "one open ticket" slot. */
export const FINISHED_STATUSES: readonly TicketStatus[] = ['resolved', 'closed'];

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
];

export interface NewTicket {
  siteId: string;
  deviceId: string | null;
  fault: Fault;
  priority: Priority;
  title: string;
  openedAt: Date;
  respondBy: Date | null;
  onSiteBy: Date | null;
  resolveBy: Date | null;
}

export interface TicketStore {
  /**
   * Inserts an open ticket with its first timeline entry, in one transaction. Returns
   * undefined when a ticket for the same site, device and fault is already open: the
   * unique index refused the row.
   */
  insertOpen(ticket: NewTicket, first: TimelineEntry): Ticket | undefined;
  findOpen(siteId: string, deviceId: string | null, fault: Fault): Ticket | undefined;
  /**
   * Moves a ticket that is still open to `status` and appends `entry`; sets resolvedAt
   * when the status is 'resolved'. Returns undefined when the ticket is missing or
   * already finished (someone else got there first).
   */
  changeStatus(id: number, status: TicketStatus, entry: TimelineEntry): Ticket | undefined;
  list(query: TicketQuery): Ticket[];
  get(id: number): Ticket | undefined;
}

interface TicketRow {
  id: number;
  site_id: string;
  device_id: string | null;
  fault: Fault;
  priority: Priority;
  status: TicketStatus;
  title: string;
  opened_at: string;
  respond_by: string | null;
  on_site_by: string | null;
  resolve_by: string | null;
  resolved_at: string | null;
}

interface TimelineRow extends TimelineEntry {
  ticket_id: number;
}

const notFinished = `status NOT IN (${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** better-sqlite3 reports constraint failures as SqliteError with this code. */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

const iso = (at: Date | null) => (at === null ? null : at.toISOString());

/** Creates the tables on first use (component "tickets") and prepares the statements. */
export function openTicketStore(db: Db): TicketStore {
  migrate(db, 'tickets', ticketMigrations);

  const insertTicket = db.prepare(`
    INSERT INTO tickets (site_id, device_id, fault, priority, status, title, opened_at,
                         respond_by, on_site_by, resolve_by, resolved_at)
    VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, NULL)`);
  const insertEntry = db.prepare(
    'INSERT INTO ticket_timeline (ticket_id, at, kind, actor, text) VALUES (?, ?, ?, ?, ?)',
  );
  const selectTicket = db.prepare('SELECT * FROM tickets WHERE id = ?');
  const selectOpen = db.prepare(`
    SELECT * FROM tickets
    WHERE site_id = ? AND coalesce(device_id, '') = coalesce(?, '') AND fault = ? AND ${notFinished}`);
  const updateStatus = db.prepare(`
    UPDATE tickets SET status = ?, resolved_at = coalesce(?, resolved_at)
    WHERE id = ? AND ${notFinished}`);
  // The open board: most urgent priority first, then the nearest response deadline.
  const selectOpenList = db.prepare(`
    SELECT * FROM tickets WHERE ${notFinished}
    ORDER BY CASE priority WHEN 'emergency' THEN 0 WHEN 'serious' THEN 1 ELSE 2 END,
             respond_by IS NULL, respond_by, id
    LIMIT ?`);
  const selectAllList = db.prepare(
    'SELECT * FROM tickets ORDER BY opened_at DESC, id DESC LIMIT ?',
  );
  const selectTimelines = db.prepare(`
    SELECT ticket_id, at, kind, actor, text FROM ticket_timeline
    WHERE ticket_id IN (SELECT value FROM json_each(?))
    ORDER BY ticket_id, id`);

  function withTimelines(rows: TicketRow[]): Ticket[] {
    if (rows.length === 0) return [];
    const entries = new Map<number, TimelineEntry[]>();
    for (const row of selectTimelines.all(JSON.stringify(rows.map((r) => r.id))) as TimelineRow[]) {
      const list = entries.get(row.ticket_id) ?? [];
      list.push({ at: row.at, kind: row.kind, actor: row.actor, text: row.text });
      entries.set(row.ticket_id, list);
    }
    return rows.map((row) => ({
      id: row.id,
      siteId: row.site_id,
      deviceId: row.device_id,
      fault: row.fault,
      priority: row.priority,
      status: row.status,
      title: row.title,
      openedAt: row.opened_at,
      respondBy: row.respond_by,
      onSiteBy: row.on_site_by,
      resolveBy: row.resolve_by,
      resolvedAt: row.resolved_at,
      timeline: entries.get(row.id) ?? [],
    }));
  }

  function get(id: number): Ticket | undefined {
    const row = selectTicket.get(id) as TicketRow | undefined;
    return row === undefined ? undefined : withTimelines([row])[0];
  }

  function addEntry(id: number, entry: TimelineEntry): void {
    insertEntry.run(id, entry.at, entry.kind, entry.actor, entry.text);
  }

  const insertOpenTx = db.transaction((ticket: NewTicket, first: TimelineEntry): number => {
    const result = insertTicket.run(
      ticket.siteId,
      ticket.deviceId,
      ticket.fault,
      ticket.priority,
      ticket.title,
      iso(ticket.openedAt),
      iso(ticket.respondBy),
      iso(ticket.onSiteBy),
      iso(ticket.resolveBy),
    );
    const id = Number(result.lastInsertRowid);
    addEntry(id, first);
    return id;
  });

  const changeStatusTx = db.transaction(
    (id: number, status: TicketStatus, entry: TimelineEntry): boolean => {
      const resolvedAt = status === 'resolved' ? entry.at : null;
      if (updateStatus.run(status, resolvedAt, id).changes === 0) return false;
      addEntry(id, entry);
      return true;
    },
  );

  return {
    insertOpen(ticket, first) {
      try {
        return get(insertOpenTx(ticket, first));
      } catch (error) {
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },
    findOpen(siteId, deviceId, fault) {
      const row = selectOpen.get(siteId, deviceId, fault) as TicketRow | undefined;
      return row === undefined ? undefined : withTimelines([row])[0];
    },
    changeStatus(id, status, entry) {
      return changeStatusTx(id, status, entry) ? get(id) : undefined;
    },
    list(query) {
      // SQLite reads LIMIT -1 as "no limit".
      if ((query.status ?? 'open') === 'open') {
        return withTimelines(selectOpenList.all(query.limit ?? -1) as TicketRow[]);
      }
      return withTimelines(selectAllList.all(query.limit ?? DEFAULT_ALL_LIMIT) as TicketRow[]);
    },
    get,
  };
}
