import { describe, expect, it } from 'vitest';
import { slaClockAt } from '../../../broker/tickets/deadlines.js';
import type { SlaRow } from '../../../broker/tickets/deadlines.js';
import { ticketExample, type SlaClock, type Ticket } from '../../../shared/api/tickets.js';
import { countdownState, type CountdownClock } from '../../../console/src/countdown.js';
import { deadlinesOf } from '../../../console/src/data/tickets.js';
import { formatDuration } from '../../../console/src/format.js';

const opened = '2026-11-26T08:00:00.000Z';
const due = '2026-11-26T08:10:00.000Z';
const at = (iso: string) => Date.parse(iso);

/** A 10-minute respond clock as the broker stores it, opened at 08:00. */
const row: SlaRow = {
  ticket_id: 1,
  deadline: 'respond',
  allowed_min: 10,
  due,
  done_at: null,
  warned_at: null,
  breached_at: null,
  paused_ms: 0,
  paused_since: null,
};

/** The ticket the API sends with `clock` as its only SLA clock. */
function ticketWith(clock: SlaClock): Ticket {
  return {
    ...ticketExample,
    status: 'open',
    openedAt: opened,
    respondBy: clock.due,
    onSiteBy: null,
    resolveBy: null,
    respondedAt: null,
    resolvedAt: null,
    sla: [clock],
    timeline: [],
  };
}

/** What vigil-countdown shows for the respond deadline of the ticket at `now`. */
function shown(ticket: Ticket, now: number) {
  const respond = deadlinesOf(ticket).find((d) => d.kind === 'respond');
  if (respond === undefined) throw new Error('no respond deadline');
  return countdownState(respond, now);
}

/** The broker's clock, as the API sent it at `sentAt`, with the broker's warning share. */
const sent = (sentAt: string, warnShare?: number, patch: Partial<SlaRow> = {}) =>
  slaClockAt({ ...row, ...patch }, new Date(sentAt), warnShare);

describe('countdownState: the broker decides, the console compares instants', () => {
  it('counts down to due, with the share of the allowed time used for the bar', () => {
    const view = shown(ticketWith(sent(opened)), at('2026-11-26T08:00:48.000Z'));
    expect(view).toEqual({ state: 'ok', remainingMs: 552_000, usedFraction: 0.08 });
  });

  it("warns at the broker's warnAt (default share: 8 of 10 min)", () => {
    const ticket = ticketWith(sent(opened));
    expect(ticket.sla[0]?.warnAt).toBe('2026-11-26T08:08:00.000Z');
    expect(shown(ticket, at('2026-11-26T08:07:59.999Z')).state).toBe('ok');
    expect(shown(ticket, at('2026-11-26T08:08:00.000Z')).state).toBe('warning');
  });

  it('says "warning" exactly when the broker does, with warnShare 0.5 in its config', () => {
    // The clock the API sent when the ticket opened, computed with the broker's share.
    const ticket = ticketWith(sent(opened, 0.5));
    expect(ticket.sla[0]).toMatchObject({ state: 'running', warnAt: '2026-11-26T08:05:00.000Z' });
    expect(shown(ticket, at('2026-11-26T08:04:59.999Z')).state).toBe('ok');
    expect(shown(ticket, at('2026-11-26T08:05:00.000Z')).state).toBe('warning');
    // Every second from the opening to past the due time: the screen turns with the broker.
    for (let t = at(opened); t <= at(due) + 60_000; t += 1000) {
      const broker = slaClockAt(row, new Date(t), 0.5).state;
      const screen = shown(ticket, t).state;
      expect({ t: new Date(t).toISOString(), warning: screen === 'warning' }).toEqual({
        t: new Date(t).toISOString(),
        warning: broker === 'warning',
      });
      expect({ t, breached: screen === 'breached' }).toEqual({
        t,
        breached: broker === 'breached',
      });
    }
  });

  it("keeps the broker's warning state, even before warnAt (warned under an earlier share)", () => {
    const warned = sent('2026-11-26T08:06:00.000Z', 0.9, { warned_at: '2026-11-26T08:05:00.000Z' });
    expect(warned.state).toBe('warning');
    expect(shown(ticketWith(warned), at('2026-11-26T08:06:00.000Z')).state).toBe('warning');
  });

  it('is breached at the due time and says by how much', () => {
    const ticket = ticketWith(sent(opened));
    expect(shown(ticket, at(due)).state).toBe('breached');
    expect(shown(ticket, at('2026-11-26T08:13:00.000Z'))).toEqual({
      state: 'breached',
      overdueMs: 180_000,
    });
  });

  it("stops when the step was done: met, or missed as the broker's breach says", () => {
    const now = at('2026-11-26T09:00:00.000Z');
    const met = sent('2026-11-26T09:00:00.000Z', undefined, {
      done_at: '2026-11-26T08:05:00.000Z',
    });
    expect(shown(ticketWith(met), now)).toEqual({
      state: 'met',
      at: at('2026-11-26T08:05:00.000Z'),
      earlyMs: 300_000,
    });
    const late = sent('2026-11-26T09:00:00.000Z', undefined, {
      done_at: '2026-11-26T08:12:30.000Z',
      breached_at: '2026-11-26T08:10:00.000Z',
    });
    expect(shown(ticketWith(late), now)).toEqual({ state: 'missed', byMs: 150_000 });
  });

  it('stands still while paused (maintenance)', () => {
    const paused = sent('2026-11-26T08:09:00.000Z', undefined, {
      paused_since: '2026-11-26T08:07:00.000Z',
    });
    expect(shown(ticketWith(paused), at('2026-11-26T08:30:00.000Z'))).toEqual({ state: 'paused' });
  });

  it('has nothing to count where the contract sets no deadline', () => {
    const none: CountdownClock = {
      due: null,
      warnAt: null,
      doneAt: null,
      state: null,
      allowedMs: null,
    };
    expect(countdownState(none, Date.now())).toEqual({ state: 'none' });
  });

  it('never warns on a ticket without clocks (an older broker): only the broker knows its share', () => {
    const old: Ticket = { ...ticketWith(sent(opened)), sla: [] };
    expect(shown(old, at('2026-11-26T08:09:59.000Z')).state).toBe('ok');
    expect(shown(old, at(due)).state).toBe('breached');
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
