/**
 * A `datetime-local` value read in a named zone and written back (shared/zoned-time.ts),
 * as the console's forms use it: Asia/Shanghai (no daylight saving) and Europe/Berlin on
 * its 2026 change days (EU: last Sunday of March and of October, at 01:00 UTC), where
 * 02:30 is skipped in spring and happens twice in autumn. Whatever zone the machine
 * running the test is in: nothing here may depend on it.
 */
import { describe, expect, it } from 'vitest';
import { instantOfLocal, localOfInstant } from '../../../shared/zoned-time.js';

describe('a local date and time in a named zone', () => {
  it('reads Shanghai times as UTC+8 on every day of the year', () => {
    expect(instantOfLocal('2026-12-07T09:30', 'Asia/Shanghai')).toBe('2026-12-07T01:30:00.000Z');
    expect(instantOfLocal('2026-07-01T00:15', 'Asia/Shanghai')).toBe('2026-06-30T16:15:00.000Z');
    // Seconds, when the input has a step that shows them.
    expect(instantOfLocal('2026-12-07T09:30:45', 'Asia/Shanghai')).toBe('2026-12-07T01:30:45.000Z');
    expect(localOfInstant('2026-12-07T01:30:00.000Z', 'Asia/Shanghai')).toBe('2026-12-07T09:30');
    expect(localOfInstant('2026-06-30T16:15:59.999Z', 'Asia/Shanghai')).toBe('2026-07-01T00:15');
  });

  it('reads Berlin times in winter (UTC+1) and in summer (UTC+2)', () => {
    expect(instantOfLocal('2026-01-15T09:00', 'Europe/Berlin')).toBe('2026-01-15T08:00:00.000Z');
    expect(instantOfLocal('2026-07-15T09:00', 'Europe/Berlin')).toBe('2026-07-15T07:00:00.000Z');
    expect(localOfInstant('2026-07-15T07:00:00.000Z', 'Europe/Berlin')).toBe('2026-07-15T09:00');
  });

  it('moves a time the spring change skips on by the gap: 02:30 is 03:30 CEST', () => {
    // 29 March 2026: at 02:00 CET the clocks jump to 03:00 CEST (01:00 UTC).
    expect(instantOfLocal('2026-03-29T01:59', 'Europe/Berlin')).toBe('2026-03-29T00:59:00.000Z');
    expect(instantOfLocal('2026-03-29T02:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z');
    expect(instantOfLocal('2026-03-29T03:00', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    expect(localOfInstant('2026-03-29T01:30:00.000Z', 'Europe/Berlin')).toBe('2026-03-29T03:30');
  });

  it('takes the earlier of a time the autumn change repeats: 02:30 CEST, not CET', () => {
    // 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET (01:00 UTC).
    expect(instantOfLocal('2026-10-25T02:30', 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
    expect(instantOfLocal('2026-10-25T03:30', 'Europe/Berlin')).toBe('2026-10-25T02:30:00.000Z');
    // Both instants read 02:30 there.
    expect(localOfInstant('2026-10-25T00:30:00.000Z', 'Europe/Berlin')).toBe('2026-10-25T02:30');
    expect(localOfInstant('2026-10-25T01:30:00.000Z', 'Europe/Berlin')).toBe('2026-10-25T02:30');
  });

  it('gives back the same local time it read, across a year of Berlin hours', () => {
    for (let at = Date.UTC(2026, 0, 1); at < Date.UTC(2027, 0, 1); at += 3 * 3_600_000 + 60_000) {
      const local = localOfInstant(at, 'Europe/Berlin');
      const back = instantOfLocal(local, 'Europe/Berlin')!;
      // The repeated autumn hour reads back as its first occurrence, an hour earlier.
      expect([at, at - 3_600_000], local).toContain(Date.parse(back));
      expect(localOfInstant(back, 'Europe/Berlin')).toBe(local);
    }
  });

  it('refuses what is not a datetime-local value', () => {
    for (const bad of ['', '2026-12-07', '09:30', '2026-12-07 09:30', '2026-12-07T9:30'])
      expect(instantOfLocal(bad, 'Asia/Shanghai'), bad).toBeUndefined();
  });
});
