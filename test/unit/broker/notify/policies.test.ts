/**
 * Escalation policies as data (broker/notify/policies.ts): the defaults keep the
 * contract, steps that cannot run are refused with their path, and a digest of general
 * tickets always goes out before half of any of its tickets' response time has passed.
 */
import { describe, expect, it } from 'vitest';
import {
  defaultPolicies,
  digestDueAt,
  mergePolicies,
  policyProblems,
  stepsAt,
} from '../../../../broker/notify/policies.js';

const MIN = 60_000;

describe('policies', () => {
  it('page an emergency at once with SMS, the lead after 5 min, supervisor at warning, manager at breach', () => {
    const e = defaultPolicies.emergency;
    expect(stepsAt(e, 'opened')).toEqual([{ when: 'opened', notify: ['engineer'], sms: true }]);
    expect(stepsAt(e, 'unacknowledged')).toEqual([
      { when: 'unacknowledged', afterMin: 5, notify: ['engineer', 'lead'], sms: true },
    ]);
    expect(stepsAt(e, 'sla-warning')[0]!.notify).toEqual(['supervisor']);
    expect(stepsAt(e, 'sla-breach')[0]!.notify).toEqual(['manager']);
    expect(e.digestEveryMin).toBeNull();
  });

  it('keep serious and general quiet: no SMS, general in a digest every 30 min', () => {
    for (const p of [defaultPolicies.serious, defaultPolicies.general])
      expect(p.steps.every((s) => !s.sms)).toBe(true);
    expect(defaultPolicies.general.digestEveryMin).toBe(30);
    expect(policyProblems(defaultPolicies)).toEqual([]);
  });

  it('refuse an unacknowledged step without its wait, naming the path', () => {
    const broken = mergePolicies(defaultPolicies, {
      serious: { steps: [{ when: 'unacknowledged', notify: ['lead'], sms: false }] },
    });
    expect(policyProblems(broken)).toEqual([
      'serious/steps/0/afterMin: required for an unacknowledged step (minutes after opening)',
    ]);
    // The other priorities keep their defaults.
    expect(broken.emergency).toEqual(defaultPolicies.emergency);
  });
});

describe('digest timing', () => {
  const t0 = Date.parse('2026-12-06T03:00:00Z');

  it('waits the digest interval when the response time allows', () => {
    // General: respond within 120 min, half is 60 min; the digest goes at 30 min.
    expect(
      digestDueAt({
        firstQueuedAt: t0,
        everyMs: 30 * MIN,
        tickets: [{ openedAt: t0, respondBy: t0 + 120 * MIN }],
      }),
    ).toBe(t0 + 30 * MIN);
  });

  it('goes before half of the shortest response time has passed, night or day', () => {
    // A ticket with 40 min to respond, queued 5 min into a batch: half is 20 min after it opened.
    const due = digestDueAt({
      firstQueuedAt: t0,
      everyMs: 30 * MIN,
      tickets: [
        { openedAt: t0, respondBy: t0 + 120 * MIN },
        { openedAt: t0 + 5 * MIN, respondBy: t0 + 45 * MIN },
      ],
    });
    expect(due).toBeLessThan(t0 + 25 * MIN);
    expect(due).toBe(t0 + 25 * MIN - 60_000);
    // A very short response time keeps a margin of a tenth of its half.
    expect(
      digestDueAt({
        firstQueuedAt: t0,
        everyMs: 30 * MIN,
        tickets: [{ openedAt: t0, respondBy: t0 + 4 * MIN }],
      }),
    ).toBe(t0 + 2 * MIN - 12_000);
  });

  it('ignores tickets without a response deadline', () => {
    expect(
      digestDueAt({
        firstQueuedAt: t0,
        everyMs: 30 * MIN,
        tickets: [{ openedAt: t0, respondBy: null }],
      }),
    ).toBe(t0 + 30 * MIN);
  });
});
