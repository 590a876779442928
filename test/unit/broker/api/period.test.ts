import { describe, expect, it } from 'vitest';
import { periodOf } from '../../../../broker/api/period.js';
import { VigilError } from '../../../../shared/errors.js';

describe('the period of a query', () => {
  it('reads from and to', () => {
    expect(periodOf({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }, 366)).toEqual({
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
      spanMs: 86_400_000,
    });
  });

  it('refuses an empty, reversed or too long period, saying what to send', () => {
    const refused = (from: string, to: string, maxDays: number): [string, unknown] => {
      try {
        periodOf({ from, to }, maxDays);
      } catch (error) {
        return error instanceof VigilError ? [error.code, error.details] : ['thrown', error];
      }
      return ['accepted', null];
    };
    const day = '2026-11-01T00:00:00Z';
    expect(refused(day, day, 366)).toEqual([
      'VIGIL_BAD_REQUEST',
      ['to: must be after from, at most 366 days later'],
    ]);
    expect(refused('2026-11-02T00:00:00Z', day, 366)[0]).toBe('VIGIL_BAD_REQUEST');
    expect(refused(day, '2027-12-07T00:00:01Z', 400)).toEqual([
      'VIGIL_BAD_REQUEST',
      ['to: must be after from, at most 400 days later'],
    ]);
    expect(refused(day, '2027-12-06T00:00:00Z', 400)[0]).toBe('accepted'); // exactly 400 days
    expect(refused('not a time', day, 366)[0]).toBe('VIGIL_BAD_REQUEST');
  });
});
