/**
 * Which tickets the wall's alarm is about, and what the operator chose for it. The rule
 * of "not yet acknowledged" is shared/ticket-workflow.ts's, never a copy here; this file
 * only keeps the emergencies and remembers what was muted and switched on.
 */
import { isAwaitingAcknowledgement } from '../../../shared/ticket-workflow.js';
import { isFinished } from './tickets.js';
import type { Ticket, TicketId } from './types.js';

/** Emergencies nobody has answered yet, oldest first (the one waiting longest leads). */
export function alarmingTickets(tickets: Iterable<Ticket>): Ticket[] {
  return [...tickets]
    .filter(
      (t) => t.priority === 'emergency' && isAwaitingAcknowledgement(t.status) && !isFinished(t),
    )
    .sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt) || a.id - b.id);
}

/**
 * The alarm's state across live updates: which emergencies sound, which were muted, and
 * which are new since the last look (for one desktop notification each). Muting covers the
 * emergencies sounding at that moment only: a new one sounds again.
 */
export class AlarmTracker {
  private muted = new Set<TicketId>();
  private seen = new Set<TicketId>();
  private current: Ticket[] = [];

  /** Takes the tickets as they are now; returns the alarming ones not seen before. */
  update(tickets: Iterable<Ticket>): Ticket[] {
    this.current = alarmingTickets(tickets);
    const ids = new Set(this.current.map((t) => t.id));
    // An acknowledged ticket leaves both sets: if it is ever open again, it is new again.
    for (const id of this.muted) if (!ids.has(id)) this.muted.delete(id);
    for (const id of this.seen) if (!ids.has(id)) this.seen.delete(id);
    const fresh = this.current.filter((t) => !this.seen.has(t.id));
    for (const t of fresh) this.seen.add(t.id);
    return fresh;
  }

  get tickets(): readonly Ticket[] {
    return this.current;
  }

  /** The screen flashes while any emergency waits, muted or not. */
  get flashing(): boolean {
    return this.current.length > 0;
  }

  /** The alarm sounds while an emergency waits that nobody muted. */
  get sounding(): boolean {
    return this.current.some((t) => !this.muted.has(t.id));
  }

  mute(): void {
    for (const t of this.current) this.muted.add(t.id);
  }
}

/** The parts of the browser used here, typed so Node's type check (tests) passes. */
interface Browser {
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}
const browser = globalThis as Browser;

function read(key: string): boolean {
  try {
    return browser.localStorage?.getItem(key) === 'on';
  } catch {
    // Storage disabled by privacy settings: the operator chooses again after a reload.
    return false;
  }
}

function write(key: string, on: boolean): void {
  try {
    browser.localStorage?.setItem(key, on ? 'on' : 'off');
  } catch {
    // Not remembered in this browser; it still holds for this page.
  }
}

const SOUND_KEY = 'vigil.alarm.sound';
const NOTIFY_KEY = 'vigil.alarm.notifications';

/** The operator enabled the alarm's sound once in this browser. */
export const soundChoice = {
  get: (): boolean => read(SOUND_KEY),
  set: (on: boolean): void => write(SOUND_KEY, on),
};

/** The operator opted in to desktop notifications of new emergencies in this browser. */
export const notifyChoice = {
  get: (): boolean => read(NOTIFY_KEY),
  set: (on: boolean): void => write(NOTIFY_KEY, on),
};
