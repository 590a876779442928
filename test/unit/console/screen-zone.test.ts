/**
 * The screens' zone (console/src/format.ts setScreenZone): the signed-in user's setting
 * moves every time the console shows, and what "today" means, to that zone; a calendar
 * day stays the same day in every zone; null goes back to the browser's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatDay,
  formatTime,
  fromZonedInput,
  screenTimeZone,
  screenZoneLabel,
  setScreenZone,
} from '../../../console/src/format.js';

describe('the screens in the user’s zone', () => {
  afterEach(() => setScreenZone(null));

  it('shows times in the chosen zone, and "today" is that zone’s day', () => {
    const at = '2026-12-06T23:30:00Z';
    const now = Date.parse('2026-12-07T01:00:00Z');
    setScreenZone('Asia/Shanghai');
    // 07:30 on 7 December in Beijing, the same day as "now" there: the time alone.
    expect(formatTime(at, now)).toBe('07:30:00');
    setScreenZone('UTC');
    // 23:30 on 6 December in UTC, the day before "now" there: with the date.
    expect(formatTime(at, now)).toMatch(/Dec.*23:30/);
    setScreenZone('America/New_York');
    expect(formatTime(at, now)).toBe('18:30:00');
    expect(screenTimeZone()).toBe('America/New_York');
  });

  it('keeps a calendar day the same day whatever the zone', () => {
    for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Shanghai']) {
      setScreenZone(zone);
      expect(formatDay('2026-12-07')).toMatch(/Dec 7, 2026|7 Dec 2026/);
    }
  });

  it('reads a typed date and time in the chosen zone, not the runtime’s', () => {
    // Whatever zone this machine is in: 09:00 typed by a user in Shanghai is 01:00 UTC.
    setScreenZone('Asia/Shanghai');
    expect(fromZonedInput('2026-12-08T09:00')).toBe('2026-12-08T01:00:00.000Z');
    expect(screenZoneLabel(Date.parse('2026-12-08T01:00:00Z'))).toBe('Asia/Shanghai GMT+8');
    setScreenZone('Europe/Berlin');
    expect(fromZonedInput('2026-12-08T09:00')).toBe('2026-12-08T08:00:00.000Z');
    expect(fromZonedInput('')).toBeUndefined();
  });

  it('goes back to the browser’s zone with null', () => {
    setScreenZone('Asia/Tokyo');
    setScreenZone(null);
    expect(screenTimeZone()).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});
