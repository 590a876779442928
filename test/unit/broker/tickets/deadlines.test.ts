import { describe, expect, it } from 'vitest';
import { addMinutes, deadlinesFor } from '../../../../broker/tickets/deadlines.js';
import { defaultSla } from '../../../../broker/tickets/types.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('ticket deadlines (7x24: plain elapsed time)', () => {
  it('gives an emergency 10 min to respond, 2 h to be on site, 4 h to resolve', () => {
    const d = deadlinesFor('emergency', new Date('2026-11-26T08:03:15.500Z'), defaultSla);
    expect({
      respondBy: iso(d.respondBy),
      onSiteBy: iso(d.onSiteBy),
      resolveBy: iso(d.resolveBy),
    }).toEqual({
      respondBy: '2026-11-26T08:13:15.500Z',
      onSiteBy: '2026-11-26T10:03:15.500Z',
      resolveBy: '2026-11-26T12:03:15.500Z',
    });
  });

  it('sets no on-site deadline for a general ticket (the contract says "at an agreed time")', () => {
    const d = deadlinesFor('general', new Date('2026-11-26T08:00:00.000Z'), defaultSla);
    expect(iso(d.respondBy)).toBe('2026-11-26T10:00:00.000Z');
    expect(d.onSiteBy).toBeNull();
    expect(iso(d.resolveBy)).toBe('2026-11-26T16:00:00.000Z');
  });

  it('runs across the end of a year', () => {
    const d = deadlinesFor('emergency', new Date('2026-12-31T23:55:00.000Z'), defaultSla);
    expect(iso(d.respondBy)).toBe('2027-01-01T00:05:00.000Z');
    expect(iso(d.onSiteBy)).toBe('2027-01-01T01:55:00.000Z');
  });

  it('runs across the end of a 31-day month and of February', () => {
    expect(iso(addMinutes(new Date('2027-01-31T23:00:00.000Z'), 120))).toBe(
      '2027-02-01T01:00:00.000Z',
    );
    // 2027 is not a leap year: after 28 February comes 1 March.
    expect(iso(addMinutes(new Date('2027-02-28T22:00:00.000Z'), 480))).toBe(
      '2027-03-01T06:00:00.000Z',
    );
    // 2028 is: 29 February exists.
    expect(iso(addMinutes(new Date('2028-02-28T23:30:00.000Z'), 240))).toBe(
      '2028-02-29T03:30:00.000Z',
    );
  });

  it('ignores daylight saving: the deadline is elapsed time, not wall-clock time', () => {
    // Europe moves its clocks forward at 2026-03-29T01:00Z; two hours stay two hours.
    expect(iso(addMinutes(new Date('2026-03-29T00:30:00.000Z'), 120))).toBe(
      '2026-03-29T02:30:00.000Z',
    );
  });

  it('follows a configured table', () => {
    const sla = { ...defaultSla, serious: { respondMin: 5, onSiteMin: null, resolveMin: null } };
    const d = deadlinesFor('serious', new Date('2026-06-30T23:58:00.000Z'), sla);
    expect(iso(d.respondBy)).toBe('2026-07-01T00:03:00.000Z');
    expect(d.onSiteBy).toBeNull();
    expect(d.resolveBy).toBeNull();
  });
});
