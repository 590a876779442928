/**
 * Times in a stated zone (console/src/format.ts formatInZone): a team's hand-overs read as
 * the team's clocks read them, with the offset, whatever the browser's zone.
 */
import { describe, expect, it } from 'vitest';
import { formatInZone, zoneOffset } from '../../../console/src/format.js';

describe('formatInZone', () => {
  it("shows the zone's wall clock and its offset, across a DST change", () => {
    expect(formatInZone('2026-12-07T01:00:00Z', 'Asia/Shanghai')).toMatch(/09:00 GMT\+8$/);
    expect(formatInZone('2026-07-01T07:00:00Z', 'Europe/Berlin')).toMatch(/09:00 GMT\+2$/);
    expect(formatInZone('2026-12-01T08:00:00Z', 'Europe/Berlin')).toMatch(/09:00 GMT\+1$/);
    expect(zoneOffset('2026-12-01T08:00:00Z', 'UTC')).toMatch(/^GMT(\+0)?$/);
  });
});
