/**
 * The acknowledge link's token (broker/notify/ack-link.ts): signed with a key the broker
 * keeps in its database, refused when changed or from another broker, expiring, and used
 * up by redeeming only (reading it for a chat app's preview leaves it usable).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { AckLinks } from '../../../../broker/notify/ack-link.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

let dir: TempDir;
let db: Db;
let clock: number;
const now = () => new Date(clock);

beforeEach(async () => {
  dir = await tempDir('vigil-ack-');
  db = openDatabase(join(dir.path, 'vigil.db'));
  clock = Date.parse('2026-12-06T12:00:00Z');
});
afterEach(async () => {
  db.close();
  await dir.remove();
});

describe('AckLinks', () => {
  it('names the ticket and the person, and survives reading', () => {
    const links = new AckLinks(db, { now });
    links.start();
    const token = links.issue(17, 'zhang-wei');
    const first = links.check(token);
    expect(first).toMatchObject({ ok: true, claims: { ticketId: 17, personId: 'zhang-wei' } });
    expect(links.check(token).ok).toBe(true);
  });

  it('is used once: the second redeem is told so', () => {
    const links = new AckLinks(db, { now });
    links.start();
    const token = links.issue(17, null);
    expect(links.redeem(token, 'Li Na').ok).toBe(true);
    expect(links.redeem(token, 'Li Na')).toMatchObject({ ok: false, reason: 'used' });
    expect(links.check(token)).toMatchObject({ ok: false, reason: 'used' });
  });

  it('expires after its time to live', () => {
    const links = new AckLinks(db, { now, ttlMs: 24 * 3600_000 });
    links.start();
    const token = links.issue(17, 'zhang-wei');
    clock += 24 * 3600_000 - 1;
    expect(links.check(token).ok).toBe(true);
    clock += 2;
    expect(links.check(token)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses a changed token, a cut one, and one signed by another broker', async () => {
    const links = new AckLinks(db, { now });
    links.start();
    const token = links.issue(17, 'zhang-wei');
    const [payload, mac] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), t: 18 }),
    ).toString('base64url');
    expect(links.check(`${forged}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(links.check(payload!)).toEqual({ ok: false, reason: 'invalid' });
    expect(links.check(`${token}x`)).toEqual({ ok: false, reason: 'invalid' });
    const other = await tempDir('vigil-ack-other-');
    const otherDb = openDatabase(join(other.path, 'vigil.db'));
    try {
      const theirs = new AckLinks(otherDb, { now });
      theirs.start();
      expect(theirs.check(token)).toEqual({ ok: false, reason: 'invalid' });
    } finally {
      otherDb.close();
      await other.remove();
    }
  });

  it('keeps its key across restarts, in the database', () => {
    const first = new AckLinks(db, { now });
    first.start();
    const token = first.issue(17, null);
    const again = new AckLinks(db, { now });
    again.start();
    expect(again.check(token).ok).toBe(true);
  });
});
