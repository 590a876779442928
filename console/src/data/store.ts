/**
 * The console's state in one small store. Every change replaces the changed part with a
 * new object (a new Map for devices or tickets), so a Lit property that holds it changes
 * identity and re-renders; listeners are called once per change.
 */
import type {
  ConnectionState,
  Device,
  LiveEvent,
  Locale,
  MaintenanceWindow,
  Site,
  SiteRollup,
  Ticket,
  TicketId,
  TicketScope,
  UserRole,
} from './types.js';

export type SessionState = 'checking' | 'signed-out' | 'signed-in';

export interface ConsoleUser {
  username: string;
  role: UserRole;
  /** The customer of a `customer` account (the portal); null or absent for the staff. */
  customerId?: string | null;
}

export interface ConsoleState {
  session: SessionState;
  /** Known after a login in this page; null after a reload that resumed the cookie session. */
  user: ConsoleUser | null;
  devices: ReadonlyMap<string, Device>;
  tickets: ReadonlyMap<TicketId, Ticket>;
  /** Which tickets the lists hold: only open ones, or resolved ones too. */
  ticketScope: TicketScope;
  /** True while the resolved tickets are being loaded for the first time. */
  loadingTickets: boolean;
  connection: ConnectionState;
  /** Why the last reload of the lists failed; null once one succeeded. */
  problem: string | null;
  /** A message for the login screen, e.g. that the session ended. */
  notice: string | null;
  /** The console's language: the user's choice, remembered by the server and the browser. */
  locale: Locale;
  /** The zone the screens show times in, the user's choice; null: the browser's. */
  timeZone: string | null;
  /** Site metadata (names, warranty); empty when the broker has no sites API. */
  sites: readonly Site[];
  /** Current and planned maintenance windows. */
  maintenance: readonly MaintenanceWindow[];
  /** Every site's roll-up state and counts, as the broker computed them (GET /api/rollup). */
  rollup: readonly SiteRollup[];
}

export type Listener = (state: ConsoleState) => void;

export function initialState(
  session: SessionState = 'checking',
  locale: Locale = 'en',
): ConsoleState {
  return {
    session,
    user: null,
    devices: new Map(),
    tickets: new Map(),
    ticketScope: 'open',
    loadingTickets: false,
    connection: 'idle',
    problem: null,
    notice: null,
    locale,
    timeZone: null,
    sites: [],
    maintenance: [],
    rollup: [],
  };
}

export class Store {
  private state: ConsoleState;
  private readonly listeners: Set<Listener>;

  constructor(state: ConsoleState = initialState()) {
    this.state = state;
    this.listeners = new Set();
  }

  get(): ConsoleState {
    return this.state;
  }

  /** Calls `listener` on every change until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  update(patch: Partial<ConsoleState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener(this.state);
  }

  setDevices(devices: readonly Device[]): void {
    this.update({ devices: new Map(devices.map((device) => [device.id, device])) });
  }

  setTickets(tickets: readonly Ticket[], scope: TicketScope): void {
    this.update({
      tickets: new Map(tickets.map((ticket) => [ticket.id, ticket])),
      ticketScope: scope,
    });
  }

  /** A device or ticket from the live stream replaces the one with its id. */
  apply(event: LiveEvent): void {
    this.applyAll([event]);
  }

  /**
   * Many live events in one change: one new map per kind and one render, however many
   * events arrived (a site coming back can send thousands in a second).
   */
  applyAll(events: readonly LiveEvent[]): void {
    if (events.length === 0) return;
    let devices: Map<string, Device> | null = null;
    let tickets: Map<TicketId, Ticket> | null = null;
    let maintenance: MaintenanceWindow[] | null = null;
    for (const event of events) {
      if (event.type === 'device') {
        devices ??= new Map(this.state.devices);
        devices.set(event.device.id, event.device);
      } else if (event.type === 'ticket') {
        tickets ??= new Map(this.state.tickets);
        tickets.set(event.ticket.id, event.ticket);
      } else if (event.type === 'maintenance') {
        maintenance ??= [...this.state.maintenance];
        const at = maintenance.findIndex((w) => w.id === event.window.id);
        if (event.window.state === 'over') {
          if (at >= 0) maintenance.splice(at, 1);
        } else if (at >= 0) maintenance[at] = event.window;
        else maintenance.push(event.window);
      }
    }
    const patch: Partial<ConsoleState> = {};
    if (devices !== null) patch.devices = devices;
    if (tickets !== null) patch.tickets = tickets;
    if (maintenance !== null) patch.maintenance = maintenance;
    if (Object.keys(patch).length > 0) this.update(patch);
  }

  /** Back to an empty console, e.g. after logging out. */
  reset(session: SessionState, notice: string | null = null): void {
    // The language stays: the login screen keeps speaking it.
    this.state = { ...initialState(session, this.state.locale), notice };
    for (const listener of [...this.listeners]) listener(this.state);
  }
}
