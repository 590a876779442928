/**
 * How a deadline looks at a given moment. Everything that decides comes from the broker
 * (shared/api/tickets.ts SlaClock): the due time, the instant the warning begins
 * (`warnAt`, from the broker's `tickets.warnShare`) and the clock's own state. This only
 * compares those instants with the page's clock, so the countdown turns when the broker
 * does; it applies no share of its own (STYLE.md habit 13).
 */
import { isFinalClockState } from '../../shared/ticket-workflow.js';
import type { SlaClock } from './data/types.js';

/** One deadline as the broker sent it, or as an older broker's ticket fields tell it. */
export interface CountdownClock {
  /** The deadline; null where the contract sets none. */
  due: string | null;
  /** When the warning begins; null when the broker sent no clock for the deadline. */
  warnAt: string | null;
  /** When the step was done, which stops the clock; null while it is still to do. */
  doneAt: string | null;
  /** The broker's state of the clock when it sent it; null without a clock. */
  state: SlaClock['state'] | null;
  /** The time the contract allows, for the bar of time used; null when unknown. */
  allowedMs: number | null;
}

export type CountdownState =
  | { state: 'none' }
  | { state: 'paused' }
  | { state: 'ok' | 'warning'; remainingMs: number; usedFraction: number }
  | { state: 'breached'; overdueMs: number }
  | { state: 'met'; at: number; earlyMs: number }
  | { state: 'missed'; byMs: number };

export function countdownState(clock: CountdownClock, now: number): CountdownState {
  if (clock.due === null) return { state: 'none' };
  const dueMs = Date.parse(clock.due);
  if (clock.doneAt !== null) {
    const doneMs = Date.parse(clock.doneAt);
    // A final state is the broker's verdict (a breach stays a breach); without one the
    // times tell.
    const met =
      clock.state !== null && isFinalClockState(clock.state)
        ? clock.state === 'met'
        : doneMs <= dueMs;
    return met
      ? { state: 'met', at: doneMs, earlyMs: Math.max(0, dueMs - doneMs) }
      : { state: 'missed', byMs: Math.max(0, doneMs - dueMs) };
  }
  if (clock.state === 'paused') return { state: 'paused' };
  const remainingMs = dueMs - now;
  // The broker breaches at the due instant itself (deadlines.ts slaClockAt).
  if (remainingMs <= 0 || clock.state === 'breached') {
    return { state: 'breached', overdueMs: Math.max(0, -remainingMs) };
  }
  const usedFraction =
    clock.allowedMs !== null && clock.allowedMs > 0
      ? Math.min(1, Math.max(0, (clock.allowedMs - remainingMs) / clock.allowedMs))
      : 1;
  const warning =
    clock.state === 'warning' || (clock.warnAt !== null && now >= Date.parse(clock.warnAt));
  return { state: warning ? 'warning' : 'ok', remainingMs, usedFraction };
}
