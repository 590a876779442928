/**
 * The warranty rule (shared/warranty.ts): the contract's years from the start day, an
 * end day that is the start's anniversary (29 February falls on 28 February in a
 * common year), the replacement before the device's and the site's acceptance, an
 * entered end that wins, and the states around the end day.
 */
import { describe, expect, it } from 'vitest';
import { addYears, warrantyEnd, warrantyStart, warrantyState } from '../../../shared/warranty.js';

describe('the warranty rule', () => {
  it('ends a warranty started on 29 February 2024 for 3 years on 28 February 2027', () => {
    expect(addYears('2024-02-29', 3)).toBe('2027-02-28');
    // Four years later there is a 29 February again.
    expect(addYears('2024-02-29', 4)).toBe('2028-02-29');
    expect(addYears('2023-03-01', 1)).toBe('2024-03-01');
    expect(addYears('2026-12-31', 3)).toBe('2029-12-31');
  });

  it('is in warranty through 28 February 2027 and out of it from 1 March', () => {
    const end = warrantyEnd({ replacedOn: '2024-02-29' }, 3);
    expect(end).toBe('2027-02-28');
    expect(warrantyState(end, new Date('2027-02-28T23:59:59Z'))).toBe('ending-soon');
    expect(warrantyState(end, new Date('2027-03-01T00:00:00Z'))).toBe('expired');
    expect(warrantyState(end, new Date('2026-11-30T00:00:00Z'), 90)).toBe('in-warranty');
    expect(warrantyState(end, new Date('2026-12-01T00:00:00Z'), 90)).toBe('ending-soon');
  });

  it('starts from the replacement, else the device, else the site; an entered end wins', () => {
    const site = { siteAcceptedOn: '2023-05-10' };
    expect(warrantyStart(site)).toBe('2023-05-10');
    expect(warrantyStart({ ...site, acceptedOn: '2023-06-01' })).toBe('2023-06-01');
    expect(warrantyStart({ ...site, acceptedOn: '2023-06-01', replacedOn: '2026-12-07' })).toBe(
      '2026-12-07',
    );
    expect(warrantyEnd({ ...site, acceptedOn: '2023-06-01' }, 5)).toBe('2028-06-01');
    expect(warrantyEnd({ ...site, warrantyEndsOn: '2030-01-01' }, 3)).toBe('2030-01-01');
    expect(warrantyEnd({}, 3)).toBeNull();
    expect(warrantyState(null, new Date())).toBe('unknown');
  });
});
