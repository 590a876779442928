/**
 * The acknowledge link's token (broker/notify/ack-link.ts) on SQLite and on PostgreSQL
 * (test/suites/stores/backends.ts): signed with a key the broker keeps in its database,
 * refused when changed or from another broker, expiring, used up by redeeming only
 * (reading it for a chat app's preview leaves it usable), and on a pair one key for both
 * nodes and one use across them (issue 17).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { AckLinks } from '../../../broker/notify/ack-link.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

export function ackLinkSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let clock: number;
  const now = () => new Date(clock);

  beforeEach(async () => {
    db = await backend.open();
    clock = Date.parse('2026-12-06T12:00:00Z');
  });

  describe('AckLinks', () => {
    it('names the ticket and the person, and survives reading', async () => {
      const links = new AckLinks(db, { now });
      await links.start();
      const token = links.issue(17, 'zhang-wei');
      const first = await links.check(token);
      expect(first).toMatchObject({ ok: true, claims: { ticketId: 17, personId: 'zhang-wei' } });
      expect((await links.check(token)).ok).toBe(true);
    });

    it('is used once: the second redeem is told so', async () => {
      const links = new AckLinks(db, { now });
      await links.start();
      const token = links.issue(17, null);
      expect((await links.redeem(token, 'Li Na')).ok).toBe(true);
      expect(await links.redeem(token, 'Li Na')).toMatchObject({ ok: false, reason: 'used' });
      expect(await links.check(token)).toMatchObject({ ok: false, reason: 'used' });
    });

    it('expires after its time to live', async () => {
      const links = new AckLinks(db, { now, ttlMs: 24 * 3600_000 });
      await links.start();
      const token = links.issue(17, 'zhang-wei');
      clock += 24 * 3600_000 - 1;
      expect((await links.check(token)).ok).toBe(true);
      clock += 2;
      expect(await links.check(token)).toMatchObject({ ok: false, reason: 'expired' });
    });

    it('refuses a changed token, a cut one, and one signed by another broker', async () => {
      const links = new AckLinks(db, { now });
      await links.start();
      const token = links.issue(17, 'zhang-wei');
      const [payload, mac] = token.split('.');
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), t: 18 }),
      ).toString('base64url');
      expect(await links.check(`${forged}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
      expect(await links.check(payload!)).toEqual({ ok: false, reason: 'invalid' });
      expect(await links.check(`${token}x`)).toEqual({ ok: false, reason: 'invalid' });
      const theirs = new AckLinks(await backend.open(), { now });
      await theirs.start();
      expect(await theirs.check(token)).toEqual({ ok: false, reason: 'invalid' });
    });

    it('keeps its key across restarts, in the database', async () => {
      const first = new AckLinks(db, { now });
      await first.start();
      const token = first.issue(17, null);
      const again = new AckLinks(await backend.reopen(db), { now });
      await again.start();
      expect((await again.check(token)).ok).toBe(true);
    });

    it('makes one key when both nodes of a pair start at once, and a link works once across them', async () => {
      const one = new AckLinks(db, { now });
      const two = new AckLinks(await backend.reopen(db), { now });
      await Promise.all([one.start(), two.start()]);
      const token = one.issue(17, 'zhang-wei');
      expect((await two.check(token)).ok).toBe(true);
      // Pressed on both nodes at the same moment: one wins, the other is told it was used.
      const [a, b] = await Promise.all([
        one.redeem(token, 'Zhang Wei'),
        two.redeem(token, 'Zhang Wei'),
      ]);
      expect([a.ok, b.ok].sort()).toEqual([false, true]);
      expect([a, b].find((r) => !r.ok)).toMatchObject({ reason: 'used' });
      expect(await one.check(token)).toMatchObject({ ok: false, reason: 'used' });
    });
  });
}
