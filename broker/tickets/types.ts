import type { SlaAlert } from '../../shared/api/live.js';
import type {
  IncidentReport,
  Priority,
  ReportedVia,
  SlaDeadline,
  Ticket,
  TicketAction,
  TicketQuery,
} from '../../shared/api/tickets.js';
import type { Message } from '../../shared/wording/messages.js';
import type { Detection } from '../pipeline/types.js';

/**
 * The ticket desk: opens, reopens and resolves tickets from detections, with the
 * contract's deadlines, opens the tickets people report (manual, each its own), takes
 * the work order's steps from people, runs the SLA clocks, and keeps it all in the
 * stores' database, SQLite or PostgreSQL (one open detected ticket per device and fault,
 * held by a unique index). Emits every change on BrokerEvents 'ticket' and every clock
 * alert on 'sla'. Holds no ticket or clock in memory: nothing to reload when a node
 * starts or takes over a pair beyond `start()`.
 */
export interface TicketService {
  /** Creates or upgrades the tables. Before any other call. */
  start(): Promise<void>;
  /**
   * Opens, reopens, resolves or leaves alone; resolves with the tickets it changed.
   * Detections (and clock beats) run one after another in the order they were handed
   * over, dated by the instant of the call.
   */
  apply(detection: Detection): Promise<Ticket[]>;
  /**
   * Opens a manual ticket (a fault a person reported) and emits it. Throws VigilError
   * VIGIL_NOT_FOUND for an unknown site and VIGIL_BAD_REQUEST for a device not on the
   * site or a blank title.
   */
  openManual(report: ManualReport): Promise<Ticket>;
  /**
   * One step of the work order by `actor`. Throws VigilError VIGIL_NOT_FOUND for an
   * unknown ticket and VIGIL_CONFLICT for a step its status does not allow.
   */
  act(id: number, action: TicketAction, actor: string): Promise<Ticket>;
  /**
   * Replaces the devices an open ticket covers and says so in its timeline (a site
   * ticket that finds more of its cameras down). Returns the ticket when it changed.
   */
  cover(
    siteId: string,
    deviceId: string | null,
    fault: string,
    covers: string[],
  ): Promise<Ticket | undefined>;
  /**
   * Checks every running clock at the service's `now`: pauses and resumes for
   * maintenance, warns and breaches. Resolves with the alerts it raised (also emitted).
   * A beat called while the previous one still waits for its turn joins it (at the later
   * instant): a slow database never piles beats up.
   */
  tick(): Promise<SlaAlert[]>;
  /** Resolves once every detection and beat handed over so far has run. */
  idle(): Promise<void>;
  /**
   * Appends a timeline entry without changing the ticket (what the notifications did:
   * broker/notify/escalation.ts) and emits the ticket. Undefined for an unknown ticket.
   */
  record(id: number, kind: string, actor: string, said: Message): Promise<Ticket | undefined>;
  /**
   * Starts a clock beyond the contract table's (a spare-part clock, broker/parts/) with
   * `allowedMin` from now, or ends it as done now when `allowedMin` is null; appends an
   * entry of `kind` saying `said`, and emits the ticket. Undefined for an unknown or
   * finished ticket, or an end of a clock that was not running.
   */
  clock(
    id: number,
    deadline: SlaDeadline,
    allowedMin: number | null,
    kind: string,
    actor: string,
    said: Message,
  ): Promise<Ticket | undefined>;
  report(id: number): Promise<IncidentReport | undefined>;
  list(query: TicketListQuery): Promise<Ticket[]>;
  get(id: number): Promise<Ticket | undefined>;
}

/**
 * A list as the desk runs it: the API's query, and for a customer account the sites it
 * may see. The sites are part of the query, so `limit` counts the customer's own tickets
 * (cut after the query, a customer whose tickets are older than others' got fewer, or none).
 */
export interface TicketListQuery extends TicketQuery {
  /** Only tickets of these sites (none: no ticket at all); absent: every site. */
  sites?: readonly string[];
}

/** A fault a person reported (POST /api/tickets), with who and how. */
export interface ManualReport {
  siteId: string;
  /** null: a fault of the whole site. */
  deviceId: string | null;
  title: string;
  description: string;
  /** The reporter's choice; the contract's rule for manual tickets when absent. */
  priority?: Priority;
  /** The user who opens it. */
  reportedBy: string;
  via: ReportedVia;
}

/**
 * Deadlines per priority, in minutes after the ticket opened; null where the contract
 * sets none. Defaults are the contract table (docs/SERVICE-COMMITMENTS.md):
 * emergency respond 10 / on site 120 / resolve 240 (software default); serious respond
 * 15 (software default for "immediately") / engineer departs 60 / resolve 240; general
 * respond 120 / on site at an agreed time (null) / resolve 480. Service is 7x24: the
 * clock never pauses for nights or holidays (only for maintenance windows).
 *
 * `onSiteMetBy` says which step meets the on-site deadline: for serious the contract
 * promises the engineer *departs* within 1 h (dispatch), for emergency that they are on
 * site within 2 h (arrival).
 */
export interface SlaTerms {
  respondMin: number;
  onSiteMin: number | null;
  resolveMin: number | null;
  onSiteMetBy?: 'dispatch' | 'on-site';
}

export type SlaTable = Record<Priority, SlaTerms>;

export const defaultSla: SlaTable = {
  emergency: { respondMin: 10, onSiteMin: 120, resolveMin: 240, onSiteMetBy: 'on-site' },
  serious: { respondMin: 15, onSiteMin: 60, resolveMin: 240, onSiteMetBy: 'dispatch' },
  general: { respondMin: 120, onSiteMin: null, resolveMin: 480, onSiteMetBy: 'on-site' },
};
