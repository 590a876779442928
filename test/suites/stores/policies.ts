/**
 * The escalation policies in force (broker/notify/policies.ts PolicyStore) on SQLite and
 * on PostgreSQL (test/suites/stores/backends.ts): the configured ones until an admin saves
 * some, the saved ones across a restart and on the other node of a pair, and a step that
 * cannot run refused with its path.
 */
import { beforeEach, expect, it } from 'vitest';
import { defaultPolicies, PolicyStore } from '../../../broker/notify/policies.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { NotifyPolicies } from '../../../shared/api/notify-policy.js';
import type { StoreBackend } from './backends.js';

export function policyStoreSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  beforeEach(async () => {
    db = await backend.open();
  });

  const quicker: NotifyPolicies = {
    ...defaultPolicies,
    serious: {
      steps: [
        { when: 'opened', notify: ['engineer'], sms: true },
        { when: 'unacknowledged', afterMin: 5, notify: ['engineer', 'lead'], sms: true },
      ],
      digestEveryMin: null,
    },
  };

  it('answers the configured policies until some are saved, then the saved ones everywhere', async () => {
    const store = new PolicyStore(db, defaultPolicies);
    await store.start();
    expect(await store.current()).toEqual(defaultPolicies);
    expect(await store.save(quicker, 'admin')).toEqual(quicker);
    expect(await store.current()).toEqual(quicker);
    const other = new PolicyStore(await backend.reopen(db), defaultPolicies);
    await other.start();
    expect(await other.current()).toEqual(quicker);
    await other.save(defaultPolicies, 'someone else');
    expect(await store.current()).toEqual(defaultPolicies);
  });

  it('refuses a step that cannot run, with its path, and keeps what was in force', async () => {
    const store = new PolicyStore(db, defaultPolicies);
    await store.start();
    const broken: NotifyPolicies = {
      ...defaultPolicies,
      general: {
        steps: [{ when: 'unacknowledged', notify: ['lead'], sms: false }],
        digestEveryMin: 30,
      },
    };
    await expect(store.save(broken, 'admin')).rejects.toMatchObject({
      code: 'VIGIL_BAD_REQUEST',
      details: [
        'general/steps/0/afterMin: required for an unacknowledged step (minutes after opening)',
      ],
    });
    expect(await store.current()).toEqual(defaultPolicies);
  });
}
