/**
 * The conformance suite of the API's audit trail (broker/audit-trail.ts), run on SQLite
 * and on PostgreSQL (test/suites/stores/backends.ts): append only, newest first, filtered
 * by actor and target; on a pair, what either node wrote is one trail.
 */
import { beforeEach, expect, it } from 'vitest';
import { AuditStore } from '../../../broker/audit-trail.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

export function auditTrailSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let audit: AuditStore;
  const clock = { now: new Date('2026-12-07T08:00:00.000Z') };

  beforeEach(async () => {
    db = await backend.open();
    audit = new AuditStore(db, () => clock.now);
    await audit.start();
  });

  it('keeps who did what to which target when, with the detail as JSON, newest first', async () => {
    await audit.add('olga', 'ticket.report', 'ticket:7', { description: '大门摄像机黑屏' });
    await audit.add('ada', 'user.create', 'user:olga', { role: 'operator' });
    await audit.add('olga', 'ticket.step', 'ticket:7');
    const all = await audit.list();
    expect(all.map((entry) => [entry.actor, entry.action, entry.target])).toEqual([
      ['olga', 'ticket.step', 'ticket:7'],
      ['ada', 'user.create', 'user:olga'],
      ['olga', 'ticket.report', 'ticket:7'],
    ]);
    expect(all[2]).toEqual({
      id: expect.any(Number),
      at: '2026-12-07T08:00:00.000Z',
      actor: 'olga',
      action: 'ticket.report',
      target: 'ticket:7',
      detail: JSON.stringify({ description: '大门摄像机黑屏' }),
    });
    expect(all[0]?.detail).toBe('{}');
  });

  it('filters by actor and by target, and stops at the limit', async () => {
    for (let i = 0; i < 5; i++) await audit.add(i % 2 ? 'ada' : 'olga', 'site.put', `site:s${i}`);
    expect((await audit.list({ actor: 'ada' })).map((entry) => entry.target)).toEqual([
      'site:s3',
      'site:s1',
    ]);
    expect(await audit.list({ actor: 'olga', target: 'site:s2' })).toHaveLength(1);
    expect(await audit.list({ target: 'site:none' })).toEqual([]);
    expect((await audit.list({ limit: 2 })).map((entry) => entry.target)).toEqual([
      'site:s4',
      'site:s3',
    ]);
  });

  it('writes an entry inside a transaction with the change it records, or not at all', async () => {
    await db
      .transaction(async (tx) => {
        await audit.add('ada', 'user.delete', 'user:zoe', {}, tx);
        throw new Error('the change failed');
      })
      .catch(() => undefined);
    expect(await audit.list()).toEqual([]);
    await db.transaction((tx) => audit.add('ada', 'user.delete', 'user:zoe', {}, tx));
    expect(await audit.list()).toHaveLength(1);
  });

  it('is one trail for both nodes of a pair', async () => {
    const other = new AuditStore(await backend.reopen(db), () => clock.now);
    await other.start();
    await audit.add('olga', 'auth.login', 'user:olga', { address: '203.0.113.7' });
    await other.add('olga', 'auth.logout', 'user:olga', { address: '203.0.113.7' });
    expect((await audit.list()).map((entry) => entry.action)).toEqual([
      'auth.logout',
      'auth.login',
    ]);
    expect((await other.list({ actor: 'olga' })).map((entry) => entry.action)).toEqual([
      'auth.logout',
      'auth.login',
    ]);
  });
}
