/**
 * How a deadline looks at a given moment. The deadline itself comes from the API; this
 * only compares it with the clock for display.
 */

/** Share of a deadline's time used after which the countdown turns to a warning. */
export const WARNING_FRACTION = 0.8;

export type CountdownState =
  | { state: 'none' }
  | { state: 'paused' }
  | { state: 'ok' | 'warning'; remainingMs: number; usedFraction: number }
  | { state: 'breached'; overdueMs: number }
  | { state: 'met'; at: number; earlyMs: number }
  | { state: 'missed'; byMs: number };

/**
 * `start`: when the clock started (the ticket's openedAt); `due`: the deadline or null
 * when there is none; `doneAt`: when the step was done, which stops the clock.
 */
export function countdownState(
  start: string,
  due: string | null,
  doneAt: string | null,
  now: number,
  paused = false,
): CountdownState {
  if (due === null) return { state: 'none' };
  if (paused && doneAt === null) return { state: 'paused' };
  const dueMs = Date.parse(due);
  if (doneAt !== null) {
    const doneMs = Date.parse(doneAt);
    return doneMs <= dueMs
      ? { state: 'met', at: doneMs, earlyMs: dueMs - doneMs }
      : { state: 'missed', byMs: doneMs - dueMs };
  }
  const remainingMs = dueMs - now;
  if (remainingMs < 0) return { state: 'breached', overdueMs: -remainingMs };
  const startMs = Date.parse(start);
  const total = dueMs - startMs;
  const usedFraction = total > 0 ? Math.min(1, Math.max(0, (now - startMs) / total)) : 1;
  return {
    state: usedFraction >= WARNING_FRACTION ? 'warning' : 'ok',
    remainingMs,
    usedFraction,
  };
}
