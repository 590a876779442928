import { describe, expect, it } from 'vitest';
import { WARNING_FRACTION, countdownState } from '../../../console/src/countdown.js';
import { formatDuration } from '../../../console/src/format.js';

const opened = '2026-11-26T08:00:00.000Z';
const due = '2026-11-26T08:10:00.000Z';
const at = (iso: string) => Date.parse(iso);

describe('countdownState', () => {
  it('counts down while less than the warning share of the time is used', () => {
    const view = countdownState(opened, due, null, at('2026-11-26T08:00:48.000Z'));
    expect(view).toEqual({ state: 'ok', remainingMs: 552_000, usedFraction: 0.08 });
  });

  it(`warns once ${WARNING_FRACTION * 100} % of the time is used`, () => {
    expect(countdownState(opened, due, null, at('2026-11-26T08:07:59.000Z')).state).toBe('ok');
    expect(countdownState(opened, due, null, at('2026-11-26T08:08:00.000Z')).state).toBe('warning');
  });

  it('is breached past the deadline and says by how much', () => {
    expect(countdownState(opened, due, null, at('2026-11-26T08:13:00.000Z'))).toEqual({
      state: 'breached',
      overdueMs: 180_000,
    });
  });

  it('stops when the step was done: met before the deadline, missed after it', () => {
    const now = at('2026-11-26T09:00:00.000Z');
    expect(countdownState(opened, due, '2026-11-26T08:05:00.000Z', now)).toEqual({
      state: 'met',
      at: at('2026-11-26T08:05:00.000Z'),
      earlyMs: 300_000,
    });
    expect(countdownState(opened, due, '2026-11-26T08:12:30.000Z', now)).toEqual({
      state: 'missed',
      byMs: 150_000,
    });
  });

  it('has nothing to count where the contract sets no deadline', () => {
    expect(countdownState(opened, null, null, Date.now())).toEqual({ state: 'none' });
  });
});

describe('formatDuration', () => {
  it('writes the two largest units', () => {
    expect(formatDuration(552_000)).toBe('9 min 12 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000 + 60_000)).toBe('2 d 3 h');
  });

  it('rounds time left up, so it reads 0 s only at the deadline', () => {
    expect(formatDuration(551_001, { round: 'up' })).toBe('9 min 12 s');
    expect(formatDuration(1, { round: 'up' })).toBe('1 s');
  });

  it('drops the seconds of a coarse duration ("overdue 3 min")', () => {
    expect(formatDuration(192_000, { coarse: true })).toBe('3 min');
  });
});
