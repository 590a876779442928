import { describe, expect, it } from 'vitest';
import { stepsFor } from '../../../broker/sql/types.js';
import { ticketMigrations } from '../../../broker/tickets/store.js';
import {
  FINISHED_STATUSES,
  actionsAllowedIn,
  isAlertingClockState,
  isAllowed,
  isAwaitingAcknowledgement,
  isFinalClockState,
  transitions,
} from '../../../shared/ticket-workflow.js';

describe('the ticket workflow (one table for broker and console)', () => {
  it('allows per status what docs/API.md lists, in the order of the steps', () => {
    expect({
      open: actionsAllowedIn('open'),
      acknowledged: actionsAllowedIn('acknowledged'),
      dispatched: actionsAllowedIn('dispatched'),
      'on-site': actionsAllowedIn('on-site'),
      resolved: actionsAllowedIn('resolved'),
      closed: actionsAllowedIn('closed'),
    }).toEqual({
      open: ['acknowledge', 'dispatch', 'on-site', 'note', 'resolve'],
      acknowledged: ['dispatch', 'on-site', 'note', 'resolve'],
      dispatched: ['on-site', 'note', 'resolve'],
      'on-site': ['note', 'resolve'],
      resolved: ['note', 'close'],
      closed: ['note'],
    });
    expect(isAllowed('close', 'on-site')).toBe(false);
    expect(isAllowed('close', 'resolved')).toBe(true);
  });

  it('never leads out of a finished status except by a note, which keeps it', () => {
    for (const [action, { from, to }] of Object.entries(transitions)) {
      if (to === null) continue;
      const leavesFinished = from.some((status) => FINISHED_STATUSES.includes(status));
      expect({ action, leavesFinished }).toEqual({
        action,
        leavesFinished: action === 'close',
      });
    }
  });

  it('spells the same finished statuses as the one-open-ticket index of the store', () => {
    // Both engines' first step spell it.
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const index = /WHERE status NOT IN \(([^)]*)\)/.exec(
        stepsFor(dialect, ticketMigrations)[0]?.sql ?? '',
      );
      expect(index?.[1]?.split(',').map((s) => s.trim().replace(/'/g, ''))).toEqual([
        ...FINISHED_STATUSES,
      ]);
    }
  });

  it('names the final and the alerting clock states', () => {
    const states = ['running', 'warning', 'paused', 'met', 'breached'] as const;
    expect(states.filter(isFinalClockState)).toEqual(['met', 'breached']);
    expect(states.filter(isAlertingClockState)).toEqual(['warning', 'breached']);
  });

  it('awaits an acknowledgement only while nobody answered: any later step is an answer', () => {
    const statuses = [
      'open',
      'acknowledged',
      'dispatched',
      'on-site',
      'resolved',
      'closed',
    ] as const;
    expect(statuses.filter(isAwaitingAcknowledgement)).toEqual(['open']);
  });
});
