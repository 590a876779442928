/**
 * The conformance suite of the issued-report store (broker/inspection/issued/store.ts), on
 * SQLite and on PostgreSQL: versions count per site and period, the lists (per site, per
 * customer) carry their sign-offs, contents come back byte for byte, an unknown version is
 * a 404 naming the list, nothing issued or signed can be changed or deleted (triggers on
 * both engines), two nodes issuing one period at once get two versions, and the tables
 * survive a reopen.
 */
import { createHash } from 'node:crypto';
import { beforeEach, expect, it } from 'vitest';
import {
  IssuedReportStore,
  type NewIssuedReport,
} from '../../../broker/inspection/issued/store.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import { VigilError } from '../../../shared/errors.js';
import type { StoreBackend } from './backends.js';

const report = (siteId: string, period: string): InspectionReport => ({
  siteId,
  siteName: siteId,
  customer: 'Acme',
  period,
  timeZone: 'Asia/Shanghai',
  from: '2026-10-31T16:00:00.000Z',
  to: '2026-11-30T16:00:00.000Z',
  generatedAt: '2026-12-02T02:00:00.000Z',
  availabilityPct: 99.5,
  devices: [],
  tickets: [],
  trends: [],
  inventoryChanges: [],
  warrantyEndingSoon: [],
  suggestions: [],
});

const issued = (
  siteId: string,
  period: string,
  at: string,
  customerId = 'acme',
): NewIssuedReport => ({
  siteId,
  siteName: siteId,
  customerId,
  customerName: customerId,
  period,
  issuedAt: at,
  issuedBy: 'olga',
  locale: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  report: report(siteId, period),
  html: `<p>${siteId} ${period} ${at}</p>`,
  // Not a PDF: the store keeps bytes; the printer (pdf.ts) is what checks the header.
  pdf: Buffer.from(`%PDF-1.4 ${siteId} ${at}\u0000\u00ff`, 'latin1'),
});

const signOff = (name: string) => ({
  name,
  signedOn: '2026-12-02',
  remarks: '',
  recordedBy: 'olga',
  recordedAt: '2026-12-02T03:00:00.000Z',
});

export function issuedReportStoreSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let store: IssuedReportStore;

  beforeEach(async () => {
    db = await backend.open();
    store = new IssuedReportStore(db);
    await store.start();
  });

  it('counts versions per site and period, and lists them with their sign-offs', async () => {
    const version = async (siteId: string, period: string, at: string) =>
      (await store.add(issued(siteId, period, at))).version;
    expect(await version('a', '2026-11', '2026-12-01T01:00:00.000Z')).toBe(1);
    expect(await version('a', '2026-11', '2026-12-02T01:00:00.000Z')).toBe(2);
    expect(await version('a', '2026-10', '2026-12-02T02:00:00.000Z')).toBe(1);
    expect(await version('b', '2026-11', '2026-12-03T01:00:00.000Z')).toBe(1);
    await store.add(issued('c', '2026-11', '2026-12-03T02:00:00.000Z', 'other'));
    await store.signOff('a', '2026-11', 1, signOff('王芳'));

    expect((await store.forSite('a')).map((r) => `${r.period} v${r.version}`)).toEqual([
      '2026-11 v2',
      '2026-11 v1',
      '2026-10 v1',
    ]);
    expect((await store.forSite('a', '2026-10')).map((r) => r.version)).toEqual([1]);
    const forAcme = await store.forCustomer('acme');
    expect(forAcme.map((r) => `${r.siteId} ${r.period} v${r.version}`)).toEqual([
      'b 2026-11 v1',
      'a 2026-10 v1',
      'a 2026-11 v2',
      'a 2026-11 v1',
    ]);
    expect(
      forAcme.find((r) => r.siteId === 'a' && r.period === '2026-11' && r.version === 1)!.signOffs,
    ).toMatchObject([{ id: 1, name: '王芳', signedOn: '2026-12-02' }]);
    expect(
      forAcme.find((r) => r.siteId === 'a' && r.period === '2026-11' && r.version === 2)!.signOffs,
    ).toEqual([]);
    expect((await store.forCustomer('other')).map((r) => r.siteId)).toEqual(['c']);
  });

  it('gives the contents back byte for byte, with the size and SHA-256 of the PDF', async () => {
    const input = issued('a', '2026-11', '2026-12-01T01:00:00.000Z');
    const summary = await store.add(input);
    expect(summary.pdfBytes).toBe(input.pdf.length);
    expect(summary.pdfSha256).toBe(createHash('sha256').update(input.pdf).digest('hex'));
    expect((await store.pdf('a', '2026-11', 1)).equals(input.pdf)).toBe(true);
    expect(await store.html('a', '2026-11', 1)).toBe(input.html);
    expect((await store.get('a', '2026-11', 1)).report).toEqual(input.report);
  });

  it('answers an unknown version with a 404 that names the list', async () => {
    await store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z'));
    for (const read of [
      () => store.get('a', '2026-11', 2),
      () => store.pdf('a', '2026-12', 1),
      () => store.signOff('x', '2026-11', 1, signOff('n')),
    ]) {
      const error = (await read().then(
        () => null,
        (caught: unknown) => caught,
      )) as VigilError;
      expect(error).toBeInstanceOf(VigilError);
      expect(error.code).toBe('VIGIL_NOT_FOUND');
      expect(error.message).toMatch(/GET \/api\/sites\/\w+\/inspection\/issued/);
    }
  });

  it('refuses to change or delete what was issued or signed, in the database itself', async () => {
    await store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z'));
    await store.signOff('a', '2026-11', 1, signOff('王芳'));
    await expect(db.run("UPDATE issued_reports SET html = '<p>other</p>'")).rejects.toThrow(
      /never changed: issue a new version/,
    );
    await expect(db.run('DELETE FROM issued_reports')).rejects.toThrow(/is kept/);
    await expect(db.run("UPDATE issued_report_sign_offs SET name = 'x'")).rejects.toThrow(
      /never changed/,
    );
    await expect(db.run('DELETE FROM issued_report_sign_offs')).rejects.toThrow(/is kept/);
    expect((await store.forSite('a'))[0]!.signOffs).toHaveLength(1);
    expect(await store.html('a', '2026-11', 1)).toContain('a 2026-11');
  });

  // Two nodes exist only on PostgreSQL: SQLite serves one broker process, whose one
  // connection takes transactions in turn (broker/sql/sqlite.ts).
  if (backend.dialect === 'postgres') {
    it('gives two issuings of one period at once, from two nodes, two versions', async () => {
      const other = new IssuedReportStore(await backend.reopen(db));
      await other.start();
      const [one, two] = await Promise.all([
        store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z')),
        other.add(issued('a', '2026-11', '2026-12-01T01:00:01.000Z')),
      ]);
      expect([one.version, two.version].sort()).toEqual([1, 2]);
      expect((await other.forSite('a')).map((r) => r.version)).toEqual([2, 1]);
    });
  }

  it('keeps everything across a reopen, the migration applied once', async () => {
    await store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z'));
    store = new IssuedReportStore(await backend.reopen(db));
    await store.start();
    expect((await store.add(issued('a', '2026-11', '2026-12-02T01:00:00.000Z'))).version).toBe(2);
    expect(await store.forSite('a')).toHaveLength(2);
  });
}
