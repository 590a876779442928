import { describe, expect, it } from 'vitest';
import { siteExample } from '../../../../shared/api/sites.js';
import { sign } from '../../../../broker/notify/webhook.js';
import {
  availability,
  periodRange,
  warrantyOf,
  weekStart,
} from '../../../../broker/inspection/report.js';

const ms = (iso: string) => Date.parse(iso);

describe('inspection figures', () => {
  it('reads months and quarters as UTC ranges in UTC', () => {
    expect(periodRange('2026-11', 'UTC')).toEqual({
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-12-01T00:00:00Z'),
    });
    expect(periodRange('2026-Q4', 'UTC').to).toEqual(new Date('2027-01-01T00:00:00Z'));
    expect(periodRange('2028-02', 'UTC').to).toEqual(new Date('2028-03-01T00:00:00Z'));
  });

  it("reads a period in Beijing time by default: a customer's month in China", () => {
    expect(periodRange('2026-11')).toEqual({
      from: new Date('2026-10-31T16:00:00Z'),
      to: new Date('2026-11-30T16:00:00Z'),
    });
    expect(periodRange('2026-11', 'Asia/Shanghai')).toEqual(periodRange('2026-11'));
    // A quarter's edges are the local midnights of its first day and of the next quarter's.
    expect(periodRange('2026-Q4', 'Asia/Shanghai')).toEqual({
      from: new Date('2026-09-30T16:00:00Z'),
      to: new Date('2026-12-31T16:00:00Z'),
    });
    expect(periodRange('2027-Q1', 'Asia/Shanghai').from).toEqual(
      periodRange('2026-Q4', 'Asia/Shanghai').to,
    );
    // 2028 is a leap year: February has 29 local days.
    const feb = periodRange('2028-02', 'Asia/Shanghai');
    expect(feb.to.getTime() - feb.from.getTime()).toBe(29 * 86_400_000);
  });

  it('gives a month of a daylight-saving zone its short or long day', () => {
    // New York: EDT (UTC-4) until 2026-11-01 02:00, then EST (UTC-5).
    const november = periodRange('2026-11', 'America/New_York');
    expect(november).toEqual({
      from: new Date('2026-11-01T04:00:00Z'),
      to: new Date('2026-12-01T05:00:00Z'),
    });
    expect(november.to.getTime() - november.from.getTime()).toBe((30 * 24 + 1) * 3_600_000);
    // March 2026: clocks forward on the 8th, so the month is an hour short.
    const march = periodRange('2026-03', 'America/New_York');
    expect(march.from).toEqual(new Date('2026-03-01T05:00:00Z'));
    expect(march.to).toEqual(new Date('2026-04-01T04:00:00Z'));
    // Berlin: CET (UTC+1) to CEST (UTC+2) on 2026-03-29, back on 2026-10-25.
    expect(periodRange('2026-03', 'Europe/Berlin')).toEqual({
      from: new Date('2026-02-28T23:00:00Z'),
      to: new Date('2026-03-31T22:00:00Z'),
    });
    expect(periodRange('2026-10', 'Europe/Berlin')).toEqual({
      from: new Date('2026-09-30T22:00:00Z'),
      to: new Date('2026-10-31T23:00:00Z'),
    });
    // A quarter across both changes: Q2 starts in summer time and ends in it.
    expect(periodRange('2026-Q2', 'Europe/Berlin')).toEqual({
      from: new Date('2026-03-31T22:00:00Z'),
      to: new Date('2026-06-30T22:00:00Z'),
    });
    // A zone whose clocks jump at midnight: Santiago skips 00:00-01:00 on 2026-09-06 (not a
    // first of the month), and Havana on 2026-03-08; a month still starts at local midnight.
    expect(periodRange('2026-12', 'America/Santiago').from).toEqual(
      new Date('2026-12-01T03:00:00Z'),
    );
  });

  it('counts consecutive down states as one outage, and unknown time as not observed', () => {
    const from = ms('2026-11-01T00:00:00Z');
    const to = ms('2026-11-01T10:00:00Z');
    const figures = availability(
      [
        { deviceId: 'c', status: 'up', at: '2026-10-31T00:00:00.000Z' },
        { deviceId: 'c', status: 'down', at: '2026-11-01T01:00:00.000Z' },
        { deviceId: 'c', status: 'down', at: '2026-11-01T01:30:00.000Z' },
        { deviceId: 'c', status: 'up', at: '2026-11-01T02:00:00.000Z' },
        { deviceId: 'c', status: 'unknown', at: '2026-11-01T08:00:00.000Z' },
      ],
      [],
      from,
      to,
    );
    expect(figures.outages).toEqual({ count: 1, totalS: 3600, longestS: 3600 });
    expect(figures.observedS).toBe(8 * 3600);
    expect(figures.availabilityPct).toBe(87.5);
  });

  it('gives no availability for a device never observed', () => {
    expect(availability([], [], 0, 1000).availabilityPct).toBeNull();
  });

  it('ends the warranty 3 years after acceptance, restarts it on replacement', () => {
    const site = { ...siteExample, acceptedOn: '2024-01-10' };
    expect(warrantyOf(site, 'x', new Date('2026-11-30T00:00:00Z'))).toEqual({
      endsOn: '2027-01-10',
      state: 'ending-soon',
    });
    expect(warrantyOf(site, 'x', new Date('2027-02-01T00:00:00Z')).state).toBe('expired');
    const replaced = {
      ...site,
      devices: [{ ...siteExample.devices[0]!, deviceId: 'x', replacedOn: '2026-05-01' }],
    };
    expect(warrantyOf(replaced, 'x', new Date('2026-11-30T00:00:00Z'))).toEqual({
      endsOn: '2029-05-01',
      state: 'in-warranty',
    });
    expect(warrantyOf({ ...site, acceptedOn: null }, 'y', new Date()).state).toBe('unknown');
  });

  it('starts weeks on Monday 00:00 UTC', () => {
    expect(new Date(weekStart(ms('2026-11-26T15:00:00Z'))).toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(new Date(weekStart(ms('2026-11-23T00:00:00Z'))).toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
  });
});

describe('webhook signature', () => {
  it('is the hex HMAC-SHA256 of the body (RFC 4231 test case 2)', () => {
    expect(sign('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});
