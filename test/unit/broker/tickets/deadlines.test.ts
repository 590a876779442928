import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WARN_SHARE,
  addMinutes,
  deadlinesFor,
  slaClockAt,
} from '../../../../broker/tickets/deadlines.js';
import type { SlaRow } from '../../../../broker/tickets/deadlines.js';
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

/** A respond clock of 10 minutes, opened at 08:00, nothing done yet. */
const respond: SlaRow = {
  ticket_id: 1,
  deadline: 'respond',
  allowed_min: 10,
  due: '2026-11-26T08:10:00.000Z',
  done_at: null,
  warned_at: null,
  breached_at: null,
  paused_ms: 0,
  paused_since: null,
};
const at = (iso: string) => new Date(iso);

describe('an SLA clock at a moment (slaClockAt)', () => {
  it(`warns at the default share (${DEFAULT_WARN_SHARE * 100} %) and says when: warnAt`, () => {
    const before = slaClockAt(respond, at('2026-11-26T08:07:59.999Z'));
    expect(before).toMatchObject({
      state: 'running',
      due: '2026-11-26T08:10:00.000Z',
      warnAt: '2026-11-26T08:08:00.000Z',
    });
    expect(slaClockAt(respond, at(before.warnAt)).state).toBe('warning');
  });

  it('follows the configured share: warnShare 0.5 warns at half the allowed time', () => {
    const clock = slaClockAt(respond, at('2026-11-26T08:04:59.999Z'), 0.5);
    expect(clock).toMatchObject({ state: 'running', warnAt: '2026-11-26T08:05:00.000Z' });
    expect(slaClockAt(respond, at('2026-11-26T08:05:00.000Z'), 0.5).state).toBe('warning');
  });

  it('is breached at the due time, and stays breached once done late', () => {
    expect(slaClockAt(respond, at('2026-11-26T08:10:00.000Z')).state).toBe('breached');
    const late = { ...respond, done_at: '2026-11-26T08:12:00.000Z' };
    expect(slaClockAt(late, at('2026-11-26T09:00:00.000Z')).state).toBe('breached');
    const early = { ...respond, done_at: '2026-11-26T08:09:00.000Z' };
    expect(slaClockAt(early, at('2026-11-26T09:00:00.000Z')).state).toBe('met');
  });

  it('keeps warning once warned, even when the share moved later', () => {
    const warned = { ...respond, warned_at: '2026-11-26T08:08:00.000Z' };
    expect(slaClockAt(warned, at('2026-11-26T08:08:30.000Z'), 0.9).state).toBe('warning');
  });

  it('moves due and warnAt by a pause, the running one included', () => {
    // Paused at 08:03 for 4 min so far, after 2 min of an earlier pause.
    const paused = {
      ...respond,
      due: '2026-11-26T08:12:00.000Z',
      paused_ms: 120_000,
      paused_since: '2026-11-26T08:03:00.000Z',
    };
    expect(slaClockAt(paused, at('2026-11-26T08:07:00.000Z'))).toMatchObject({
      state: 'paused',
      due: '2026-11-26T08:16:00.000Z',
      warnAt: '2026-11-26T08:14:00.000Z',
      pausedMs: 360_000,
    });
  });
});
