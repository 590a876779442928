/**
 * Times in a stated zone (console/src/format.ts formatInZone): a team's hand-overs read as
 * the team's clocks read them, with the offset, whatever the browser's zone.
 */
import { describe, expect, it } from 'vitest';
import { axisLabels, formatInZone, zoneOffset } from '../../../console/src/format.js';

describe('formatInZone', () => {
  it("shows the zone's wall clock and its offset, across a DST change", () => {
    expect(formatInZone('2026-12-07T01:00:00Z', 'Asia/Shanghai')).toMatch(/09:00 GMT\+8$/);
    expect(formatInZone('2026-07-01T07:00:00Z', 'Europe/Berlin')).toMatch(/09:00 GMT\+2$/);
    expect(formatInZone('2026-12-01T08:00:00Z', 'Europe/Berlin')).toMatch(/09:00 GMT\+1$/);
    expect(zoneOffset('2026-12-01T08:00:00Z', 'UTC')).toMatch(/^GMT(\+0)?$/);
  });
});

describe('axisLabels (the charts of chart.ts)', () => {
  it("names a Beijing report's weeks by their Monday, whatever the runtime's zone", () => {
    // Monday 30 November 2026, 00:00 in Beijing, is Sunday 29 November 16:00 UTC.
    const monday = Date.parse('2026-11-29T16:00:00Z');
    expect(axisLabels('day', 'Asia/Shanghai', 'en-GB')(monday)).toBe('30/11');
    expect(axisLabels('day', 'Asia/Shanghai', 'zh-CN')(monday)).toBe('11/30');
    // The calendar the chart used before: UTC's names the Sunday.
    expect(axisLabels('day', 'UTC', 'en-GB')(monday)).toBe('29/11');
  });

  it("reads a device's readings on the screens' zone's clock", () => {
    const at = Date.parse('2026-12-07T01:30:00Z');
    expect(axisLabels('time', 'Asia/Shanghai', 'en-GB')(at)).toBe('09:30');
    expect(axisLabels('time', 'America/New_York', 'en-GB')(at)).toBe('20:30');
    expect(axisLabels('day-hour', 'America/New_York', 'en-GB')(at)).toMatch(/^06\/12,? 20$/);
  });
});
