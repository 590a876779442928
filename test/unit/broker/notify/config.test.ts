/**
 * The escalation settings of the broker config's `notify:` section
 * (broker/notify/config.ts through broker/config.ts): defaults, overrides per priority,
 * and a policy step that cannot run reported with its path like every config error.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../broker/config.js';
import { defaultPolicies } from '../../../../broker/notify/policies.js';
import { VigilError } from '../../../../shared/errors.js';

describe('notify config: escalation', () => {
  it('has the contract defaults and no public URL', () => {
    const { escalation } = resolveConfig({}, { env: {} });
    expect(escalation.publicUrl).toBeNull();
    expect(escalation.ackTtlMs).toBe(24 * 3600_000);
    expect(escalation.policies).toEqual(defaultPolicies);
    expect(escalation.outbox).toMatchObject({
      attempts: 10,
      alertAfterMs: 600_000,
      smsPerMinute: 5,
    });
  });

  it('takes the public URL without a trailing slash, and policies per priority', () => {
    const { escalation } = resolveConfig(
      {
        notify: {
          publicUrl: 'https://vigil.example.com/',
          ackLinkHours: 2,
          policies: { general: { digestEveryMin: 15 } },
          outbox: { alertAfterMin: 5, smsPerMinute: 3 },
        },
      },
      { env: {} },
    );
    expect(escalation.publicUrl).toBe('https://vigil.example.com');
    expect(escalation.ackTtlMs).toBe(2 * 3600_000);
    expect(escalation.policies.general).toEqual({ ...defaultPolicies.general, digestEveryMin: 15 });
    expect(escalation.policies.emergency).toEqual(defaultPolicies.emergency);
    expect(escalation.outbox).toMatchObject({ alertAfterMs: 300_000, smsPerMinute: 3 });
  });

  it('reports a step that cannot run with its path', () => {
    let error: unknown;
    try {
      resolveConfig(
        {
          notify: {
            policies: {
              serious: { steps: [{ when: 'unacknowledged', notify: ['lead'], sms: false }] },
            },
          },
        },
        { env: {} },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VigilError);
    expect((error as VigilError).details).toEqual([
      'notify/policies/serious/steps/0/afterMin: required for an unacknowledged step (minutes after opening)',
    ]);
  });
});
