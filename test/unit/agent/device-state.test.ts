import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeviceState } from '../../../agent/device-state.js';
import type { PollResult } from '../../../agent/poll.js';

const identity = {
  manufacturer: 'Vigil Sim',
  model: 'VS-IPC-4M',
  firmwareVersion: '5.7.3',
  serialNumber: 'SN-1',
  hardwareId: 'HW-1',
};

const ok = (extra: Partial<Extract<PollResult, { ok: true }>> = {}): PollResult => ({
  ok: true,
  values: { up: true, responseMs: 5 },
  degraded: [],
  ...extra,
});

const failed = (
  code: 'unreachable' | 'timeout' | 'protocol-error',
  message: string = code,
): PollResult => ({
  ok: false,
  values: { up: false },
  failure: { code, message },
});

describe('device state', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-26T08:00:00Z'));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts unknown and reports up, with identity, at the first good poll', () => {
    const state = new DeviceState();
    expect(state.snapshot()).toMatchObject({ status: 'unknown', reasons: [] });
    vi.advanceTimersByTime(1000);
    const { change, recheck } = state.record(ok({ identity }));
    expect(recheck).toBe(false);
    expect(change).toEqual({
      status: 'up',
      since: new Date('2026-11-26T08:00:01Z'),
      reasons: [],
      identity,
    });
    expect(state.record(ok({ identity })).change).toBeNull();
  });

  it('goes down only after two failed polls in a row, asking for a quick recheck after the first', () => {
    const state = new DeviceState();
    state.record(ok());
    vi.advanceTimersByTime(15_000);
    const first = state.record(failed('unreachable'));
    expect(first).toEqual({ change: null, recheck: true });
    expect(state.status).toBe('up');
    vi.advanceTimersByTime(2000);
    const second = state.record(failed('unreachable', 'connect ECONNREFUSED'));
    expect(second.recheck).toBe(false);
    // Down since the first failure, not since the recheck that confirmed it.
    expect(second.change).toEqual({
      status: 'down',
      since: new Date('2026-11-26T08:00:15Z'),
      reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED' }],
    });
  });

  it('dates "down" from the first request left unanswered: the probe\'s question or the poll\'s start', () => {
    const state = new DeviceState();
    state.record(ok());
    // A probe sent at 08:00:10 got no answer; the check it asked for (sent 08:00:11,
    // given up 08:00:16) confirms.
    vi.advanceTimersByTime(11_000);
    state.suspect(new Date('2026-11-26T08:00:10Z'));
    vi.advanceTimersByTime(5000);
    const confirmed = state.record(failed('timeout'), new Date('2026-11-26T08:00:11Z'));
    expect(confirmed.change).toMatchObject({
      status: 'down',
      since: new Date('2026-11-26T08:00:10Z'),
    });

    // Back up; then a poll sent at 08:01:00 fails and its recheck confirms.
    vi.setSystemTime(new Date('2026-11-26T08:00:30Z'));
    expect(state.record(ok()).change).toMatchObject({
      status: 'up',
      since: new Date('2026-11-26T08:00:30Z'),
    });
    vi.setSystemTime(new Date('2026-11-26T08:01:05Z'));
    state.record(failed('timeout'), new Date('2026-11-26T08:01:00Z'));
    vi.setSystemTime(new Date('2026-11-26T08:01:11Z'));
    expect(state.record(failed('timeout'), new Date('2026-11-26T08:01:06Z')).change).toMatchObject({
      status: 'down',
      since: new Date('2026-11-26T08:01:00Z'),
    });
  });

  it('forgets a miss that a good poll answered: a later outage starts at its own first miss', () => {
    const state = new DeviceState();
    state.record(ok());
    vi.advanceTimersByTime(3000);
    state.suspect(new Date('2026-11-26T08:00:02Z'));
    state.record(ok());
    vi.setSystemTime(new Date('2026-11-26T08:05:00Z'));
    state.record(failed('unreachable'), new Date('2026-11-26T08:04:59Z'));
    vi.advanceTimersByTime(1000);
    expect(state.record(failed('unreachable')).change?.since).toEqual(
      new Date('2026-11-26T08:04:59Z'),
    );
  });

  it("a poll that ended inside the agent forgets a probe's suspicion: the next failure needs its own confirmation", () => {
    const state = new DeviceState();
    state.record(ok());
    state.suspect(new Date('2026-11-26T08:00:00Z'));
    state.forgetSuspicion();
    vi.setSystemTime(new Date('2026-11-26T08:05:00Z'));
    expect(state.record(failed('timeout')).recheck).toBe(true);
    expect(state.status).toBe('up');
    expect(state.record(failed('timeout')).change).toMatchObject({
      status: 'down',
      since: new Date('2026-11-26T08:05:00Z'),
    });
  });

  it('never dates a new status before the one it ends began (a gateway clock that stepped)', () => {
    const state = new DeviceState();
    vi.setSystemTime(new Date('2026-11-26T08:00:10Z'));
    state.record(ok());
    vi.advanceTimersByTime(1000);
    state.record(failed('unreachable'), new Date('2026-11-26T07:59:00Z'));
    expect(state.record(failed('unreachable')).change?.since).toEqual(
      new Date('2026-11-26T08:00:11Z'),
    );
  });

  it('a single failure between good polls changes nothing', () => {
    const state = new DeviceState();
    state.record(ok());
    expect(state.record(failed('timeout')).change).toBeNull();
    expect(state.record(ok()).change).toBeNull();
    expect(state.record(failed('timeout')).recheck).toBe(true);
    expect(state.status).toBe('up');
  });

  it('stays down quietly, but reports a new reason', () => {
    const state = new DeviceState();
    state.record(failed('timeout'));
    expect(state.record(failed('timeout')).change?.status).toBe('down');
    expect(state.record(failed('timeout', 'other words')).change).toBeNull();
    vi.advanceTimersByTime(30_000);
    const change = state.record(failed('protocol-error')).change;
    expect(change?.reasons).toEqual([{ code: 'protocol-error', message: 'protocol-error' }]);
    // Still the same outage: `since` is when it went down.
    expect(change?.since).toEqual(new Date('2026-11-26T08:00:00Z'));
  });

  it('comes back up at the first good poll, keeping the identity it knew', () => {
    const state = new DeviceState();
    state.record(ok({ identity }));
    state.record(failed('unreachable'));
    state.record(failed('unreachable'));
    vi.advanceTimersByTime(60_000);
    const { change } = state.record(ok());
    expect(change).toEqual({
      status: 'up',
      since: new Date('2026-11-26T08:01:00Z'),
      reasons: [],
      identity,
    });
  });

  it('is degraded when a check reports a degradation, and up again when it clears', () => {
    const state = new DeviceState();
    state.record(ok());
    const drift = { code: 'clock-drift' as const, message: 'clock 120 s ahead' };
    expect(state.record(ok({ degraded: [drift] })).change).toMatchObject({
      status: 'degraded',
      reasons: [drift],
    });
    expect(state.record(ok()).change).toMatchObject({ status: 'up', reasons: [] });
  });

  it('reports a new identity (a replaced device) even when the status stays', () => {
    const state = new DeviceState();
    state.record(ok({ identity }));
    const replaced = { ...identity, serialNumber: 'SN-2' };
    expect(state.record(ok({ identity: replaced })).change).toMatchObject({
      status: 'up',
      identity: replaced,
    });
  });

  it("reports an NVR's recordings when they change, and keeps them while it is down", () => {
    const state = new DeviceState();
    const four = ['REC_CH01', 'REC_CH02', 'REC_CH03', 'REC_CH04'].map((token) => ({ token }));
    expect(state.record(ok({ recordings: four })).change?.recordings).toEqual(four);
    expect(state.record(ok({ recordings: [...four] })).change).toBeNull();
    // A poll that could not list them (the search failed) keeps the list.
    expect(state.record(ok()).change).toBeNull();
    state.record(failed('timeout'));
    expect(state.record(failed('timeout')).change).toMatchObject({
      status: 'down',
      recordings: four,
    });
    const renamed = four.map((r, i) => (i === 0 ? { ...r, source: 'Gate' } : r));
    expect(state.record(ok({ recordings: renamed })).change).toMatchObject({
      status: 'up',
      recordings: renamed,
    });
  });

  it('can require more confirmations', () => {
    const state = new DeviceState({ confirmations: 3 });
    expect(state.record(failed('timeout')).recheck).toBe(true);
    expect(state.record(failed('timeout')).recheck).toBe(true);
    expect(state.record(failed('timeout')).change?.status).toBe('down');
  });
});
