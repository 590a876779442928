import { describe, expect, it } from 'vitest';
import { ticketExample, type Ticket } from '../../../shared/api/tickets.js';
import { deadlinesOf, isFinished, nextDue } from '../../../console/src/data/tickets.js';

const open: Ticket = {
  ...ticketExample,
  status: 'acknowledged',
  resolvedAt: null,
  timeline: [
    { at: '2026-11-26T08:03:15.500Z', kind: 'detected', actor: 'system', text: 'Device down' },
    { at: '2026-11-26T08:05:00.000Z', kind: 'acknowledged', actor: 'li.wei', text: 'On it' },
  ],
};

describe('reading a ticket', () => {
  it('stops the respond-by clock at the acknowledgement and keeps the others running', () => {
    expect(deadlinesOf(open)).toEqual([
      { kind: 'respond', due: open.respondBy, doneAt: '2026-11-26T08:05:00.000Z' },
      { kind: 'onSite', due: open.onSiteBy, doneAt: null },
      { kind: 'resolve', due: open.resolveBy, doneAt: null },
    ]);
    expect(nextDue(open)).toBe(Date.parse(open.onSiteBy ?? ''));
    expect(isFinished(open)).toBe(false);
  });

  it('stops every clock when the fault was resolved', () => {
    // The example was resolved automatically before anyone responded.
    const done = deadlinesOf(ticketExample).map((d) => d.doneAt);
    expect(done).toEqual([
      ticketExample.resolvedAt,
      ticketExample.resolvedAt,
      ticketExample.resolvedAt,
    ]);
    expect(nextDue(ticketExample)).toBeNull();
    expect(isFinished(ticketExample)).toBe(true);
  });

  it('has no running deadline where the contract sets none', () => {
    const general: Ticket = { ...open, onSiteBy: null, timeline: [] };
    expect(nextDue(general)).toBe(Date.parse(general.respondBy ?? ''));
  });
});
