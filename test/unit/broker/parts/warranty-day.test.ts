/**
 * The day a warranty restarts is the replacement's day in the customer's zone: a camera
 * swapped at 01:00 on 1 December in Beijing (17:00 UTC the day before) restarts on
 * 1 December, not on UTC's 30 November.
 */
import { describe, expect, it } from 'vitest';
import { dayIn } from '../../../../broker/parts/service.js';
import { addYears } from '../../../../shared/warranty.js';

describe('the day of a replacement', () => {
  it("is the customer's calendar day", () => {
    const at = new Date('2026-11-30T17:00:00Z');
    expect(dayIn(at, 'Asia/Shanghai')).toBe('2026-12-01');
    expect(dayIn(at, 'UTC')).toBe('2026-11-30');
    expect(dayIn(at, 'America/New_York')).toBe('2026-11-30');
  });

  it('restarts a warranty on 29 February in Beijing that ends on 28 February three years on', () => {
    const day = dayIn(new Date('2024-02-28T16:30:00Z'), 'Asia/Shanghai');
    expect(day).toBe('2024-02-29');
    expect(addYears(day, 3)).toBe('2027-02-28');
  });
});
