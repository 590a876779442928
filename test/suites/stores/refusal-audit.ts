/**
 * The conformance suite of the MQTT front door's refusal audit (broker/mqtt/refusal-audit.ts),
 * run on SQLite and on PostgreSQL (test/suites/stores/backends.ts): refusals queued on the
 * hot path, written in batches, bounded on disk and in memory, one log for a pair.
 */
import { beforeEach, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../../broker/mqtt/refusal-audit.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

const refusal = (i: number, patch: Partial<AuditEntry> = {}): AuditEntry => ({
  at: new Date(Date.UTC(2026, 11, 7, 8, 0, i)),
  action: 'publish',
  username: 'site-a.gw-01',
  clientId: 'site-a/gw-01',
  remoteAddress: '203.0.113.7:50123',
  topic: `vigil/v1/site-b/gw-01/state/${i}`,
  reason: 'an agent publishes only under its own site',
  ...patch,
});

export function refusalAuditSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let audit: AuditLog;

  beforeEach(async () => {
    db = await backend.open();
    audit = new AuditLog(db, { flushMs: 60_000 });
    await audit.start();
    return () => audit.stop();
  });

  it('counts every refusal at once and keeps who, what, when and why, newest first', async () => {
    audit.record(refusal(1, { action: 'connect', topic: null, username: null }));
    audit.record(refusal(2));
    expect(audit.refused).toEqual({ connect: 1, publish: 1, subscribe: 0 });
    const [newest, oldest] = await audit.list();
    expect(newest).toEqual({
      id: expect.any(Number),
      at: '2026-12-07T08:00:02.000Z',
      action: 'publish',
      username: 'site-a.gw-01',
      clientId: 'site-a/gw-01',
      remoteAddress: '203.0.113.7:50123',
      topic: 'vigil/v1/site-b/gw-01/state/2',
      reason: 'an agent publishes only under its own site',
    });
    expect(oldest).toMatchObject({ action: 'connect', username: null, topic: null });
    expect(await audit.list({ username: 'nobody' })).toEqual([]);
  });

  it('bounds what a client chooses (topic, names) and the rows kept', async () => {
    const small = new AuditLog(db, { keep: 5, flushMs: 60_000 });
    audit.record(refusal(0, { topic: 't'.repeat(5000), clientId: 'c'.repeat(500) }));
    const [long] = await audit.list();
    expect(long?.topic).toHaveLength(515);
    expect(long?.clientId).toHaveLength(203);
    for (let i = 1; i <= 1000; i++) small.record(refusal(i % 60));
    await small.flush();
    const rows = await db.get<{ n: number }>('SELECT count(*) AS n FROM mqtt_audit');
    expect(rows?.n).toBeLessThanOrEqual(6);
  });

  it('writes a flood in batches, every entry once', async () => {
    for (let i = 0; i < 1234; i++) audit.record(refusal(i % 60, { clientId: `c-${i}` }));
    await audit.flush();
    const rows = await audit.list({ limit: 5000 });
    expect(rows).toHaveLength(1234);
    expect(new Set(rows.map((row) => row.clientId)).size).toBe(1234);
  });

  it('keeps the newest entries while the database cannot be written, and says so', async () => {
    const said: string[] = [];
    const broken = new AuditLog(
      {
        ...db,
        dialect: db.dialect,
        label: 'a closed database',
        transaction: async () => {
          throw new Error('connection refused');
        },
      } as unknown as SqlDatabase,
      { maxQueued: 3, flushMs: 60_000, onError: (line) => said.push(line) },
    );
    for (let i = 0; i < 5; i++) broken.record(refusal(i));
    await broken.flush();
    await broken.flush();
    expect(broken.refused.publish).toBe(5);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /cannot write the MQTT refusal audit to a closed database: connection refused; 3 entries wait, 2 dropped/,
    );
  });

  it('is one log for both nodes of a pair', async () => {
    const other = new AuditLog(await backend.reopen(db), { flushMs: 60_000 });
    await other.start();
    audit.record(refusal(1, { clientId: 'on-the-old-leader' }));
    await audit.flush();
    other.record(refusal(2, { clientId: 'on-the-new-leader' }));
    expect((await other.list()).map((row) => row.clientId)).toEqual([
      'on-the-new-leader',
      'on-the-old-leader',
    ]);
    await other.stop();
  });
}
