/**
 * The outbox's pure arithmetic (broker/notify/outbox.ts): backoff and planning. What it
 * does with its rows is the store's conformance suite, on SQLite and on PostgreSQL
 * (test/suites/stores/outbox.ts, outbox-lanes.ts).
 */
import { describe, expect, it } from 'vitest';
import { backoffMs, planSends } from '../../../../broker/notify/outbox.js';

describe('backoff and planning', () => {
  it('doubles from the first wait up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 5_000, 60_000))).toEqual([
      5_000, 10_000, 20_000, 40_000, 60_000,
    ]);
  });

  it('sends alone what fits the window, and merges the rest into one', () => {
    expect(planSends([1, 2, 3], 20)).toEqual({ alone: [1, 2, 3], merged: [] });
    expect(planSends([1, 2, 3, 4, 5], 3)).toEqual({ alone: [1, 2], merged: [3, 4, 5] });
    expect(planSends([1, 2, 3], 0)).toEqual({ alone: [], merged: [1, 2, 3] });
    // One waiting on a full window waits as it is: nothing to merge it with.
    expect(planSends([1], 0)).toEqual({ alone: [1], merged: [] });
  });
});
