/**
 * The `from`/`to` period of a query (charts, outage timelines): one check with one
 * answer, so every route refuses an empty or too long period the same way and says
 * what to send instead.
 */
import { VigilError } from '../../shared/errors.js';

const DAY_MS = 86_400_000;

export interface Period {
  from: Date;
  to: Date;
  spanMs: number;
}

/** The period, or VIGIL_BAD_REQUEST when `to` is not after `from` or more than `maxDays` later. */
export function periodOf(query: { from: string; to: string }, maxDays: number): Period {
  const from = new Date(query.from);
  const to = new Date(query.to);
  const spanMs = to.getTime() - from.getTime();
  if (!(spanMs > 0) || spanMs > maxDays * DAY_MS) {
    throw new VigilError('VIGIL_BAD_REQUEST', 'The period is empty or too long.', [
      `to: must be after from, at most ${maxDays} days later`,
    ]);
  }
  return { from, to, spanMs };
}
