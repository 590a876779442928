import { describe, expect, it } from 'vitest';
import { ticketExample, type Ticket } from '../../../shared/api/tickets.js';
import {
  byUrgency,
  deadlinesOf,
  filterTickets,
  isFinished,
  nextDue,
} from '../../../console/src/data/tickets.js';

/** A ticket as an older broker sent it: no SLA clocks, only the timeline. */
const open: Ticket = {
  ...ticketExample,
  status: 'acknowledged',
  resolvedAt: null,
  sla: [],
  timeline: [
    {
      at: '2026-11-26T08:03:15.500Z',
      kind: 'detected',
      actor: 'system',
      text: 'Device down',
      message: { code: 'detected.device-down', params: { messages: [] } },
    },
    {
      at: '2026-11-26T08:05:00.000Z',
      kind: 'acknowledged',
      actor: 'li.wei',
      text: 'Acknowledged: On it',
      message: { code: 'step.acknowledged', params: { note: 'On it' } },
    },
  ],
};

describe('reading a ticket', () => {
  it('stops the respond-by clock at the acknowledgement and keeps the others running', () => {
    const clockless = { warnAt: null, state: null };
    const allowed = (due: string | null) => Date.parse(due ?? '') - Date.parse(open.openedAt);
    expect(deadlinesOf(open)).toEqual([
      {
        kind: 'respond',
        due: open.respondBy,
        doneAt: '2026-11-26T08:05:00.000Z',
        allowedMs: allowed(open.respondBy),
        ...clockless,
      },
      {
        kind: 'onSite',
        due: open.onSiteBy,
        doneAt: null,
        allowedMs: allowed(open.onSiteBy),
        ...clockless,
      },
      {
        kind: 'resolve',
        due: open.resolveBy,
        doneAt: null,
        allowedMs: allowed(open.resolveBy),
        ...clockless,
      },
    ]);
    expect(nextDue(open)).toBe(Date.parse(open.onSiteBy ?? ''));
    expect(isFinished(open)).toBe(false);
  });

  it("takes the broker's clocks when it sends them: a resolved ticket runs none", () => {
    const done = deadlinesOf(ticketExample).map((d) => d.doneAt);
    expect(done).toEqual(ticketExample.sla.map((clock) => clock.doneAt));
    expect(deadlinesOf(ticketExample).map((d) => [d.due, d.warnAt, d.state])).toEqual(
      ticketExample.sla.map((clock) => [clock.due, clock.warnAt, clock.state]),
    );
    expect(nextDue(ticketExample)).toBeNull();
    expect(isFinished(ticketExample)).toBe(true);
  });

  it('shows a paused clock (maintenance) and leaves it out of the urgency', () => {
    const paused: Ticket = {
      ...open,
      sla: ticketExample.sla.map((clock) => ({ ...clock, state: 'paused', doneAt: null })),
    };
    expect(deadlinesOf(paused).map((d) => d.state)).toEqual(['paused', 'paused', 'paused']);
    expect(nextDue(paused)).toBeNull();
  });

  it('has no running deadline where the contract sets none', () => {
    const general: Ticket = { ...open, onSiteBy: null, timeline: [] };
    expect(nextDue(general)).toBe(Date.parse(general.respondBy ?? ''));
  });

  it('puts the nearest running deadline first, then the higher priority', () => {
    const later: Ticket = { ...open, id: 1, respondBy: '2026-11-26T09:00:00.000Z', timeline: [] };
    const sooner: Ticket = { ...open, id: 2, respondBy: '2026-11-26T08:30:00.000Z', timeline: [] };
    const general: Ticket = { ...later, id: 3, priority: 'general' };
    expect([later, general, sooner].sort(byUrgency).map((t) => t.id)).toEqual([2, 1, 3]);
    expect(
      filterTickets([later, general], { priority: 'general', siteId: null, status: null }),
    ).toEqual([general]);
  });
});
