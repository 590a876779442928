/**
 * The issued-report store on a real SQLite file: versions count per site and period, the
 * lists (per site, per customer) carry their sign-offs, contents come back byte for byte,
 * an unknown version is a 404 naming the list, and the tables survive a reopen.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../broker/db.js';
import {
  IssuedReportStore,
  type NewIssuedReport,
} from '../../../broker/inspection/issued/store.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import { VigilError } from '../../../shared/errors.js';

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

describe('IssuedReportStore', () => {
  let dir: string;
  let db: Db;
  let store: IssuedReportStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-issued-'));
    db = openDatabase(join(dir, 'vigil.db'));
    store = new IssuedReportStore(db);
    store.start();
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts versions per site and period, and lists them with their sign-offs', () => {
    expect(store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z')).version).toBe(1);
    expect(store.add(issued('a', '2026-11', '2026-12-02T01:00:00.000Z')).version).toBe(2);
    expect(store.add(issued('a', '2026-10', '2026-12-02T02:00:00.000Z')).version).toBe(1);
    expect(store.add(issued('b', '2026-11', '2026-12-03T01:00:00.000Z')).version).toBe(1);
    store.add(issued('c', '2026-11', '2026-12-03T02:00:00.000Z', 'other'));
    store.signOff('a', '2026-11', 1, {
      name: '王芳',
      signedOn: '2026-12-02',
      remarks: '',
      recordedBy: 'olga',
      recordedAt: '2026-12-02T03:00:00.000Z',
    });

    expect(store.forSite('a').map((r) => `${r.period} v${r.version}`)).toEqual([
      '2026-11 v2',
      '2026-11 v1',
      '2026-10 v1',
    ]);
    expect(store.forSite('a', '2026-10').map((r) => r.version)).toEqual([1]);
    const forAcme = store.forCustomer('acme');
    expect(forAcme.map((r) => `${r.siteId} ${r.period} v${r.version}`)).toEqual([
      'b 2026-11 v1',
      'a 2026-10 v1',
      'a 2026-11 v2',
      'a 2026-11 v1',
    ]);
    expect(
      forAcme.find((r) => r.siteId === 'a' && r.period === '2026-11' && r.version === 1)!.signOffs,
    ).toMatchObject([{ name: '王芳', signedOn: '2026-12-02' }]);
    expect(
      forAcme.find((r) => r.siteId === 'a' && r.period === '2026-11' && r.version === 2)!.signOffs,
    ).toEqual([]);
    expect(store.forCustomer('other').map((r) => r.siteId)).toEqual(['c']);
  });

  it('gives the contents back byte for byte, with the size and SHA-256 of the PDF', () => {
    const input = issued('a', '2026-11', '2026-12-01T01:00:00.000Z');
    const summary = store.add(input);
    expect(summary.pdfBytes).toBe(input.pdf.length);
    expect(summary.pdfSha256).toBe(createHash('sha256').update(input.pdf).digest('hex'));
    expect(store.pdf('a', '2026-11', 1).equals(input.pdf)).toBe(true);
    expect(store.html('a', '2026-11', 1)).toBe(input.html);
    expect(store.get('a', '2026-11', 1).report).toEqual(input.report);
  });

  it('answers an unknown version with a 404 that names the list', () => {
    store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z'));
    for (const read of [
      () => store.get('a', '2026-11', 2),
      () => store.pdf('a', '2026-12', 1),
      () =>
        store.signOff('x', '2026-11', 1, {
          name: 'n',
          signedOn: '2026-12-02',
          remarks: '',
          recordedBy: 'olga',
          recordedAt: '2026-12-02T03:00:00.000Z',
        }),
    ]) {
      const error = (() => {
        try {
          read();
        } catch (caught) {
          return caught;
        }
        return null;
      })() as VigilError;
      expect(error).toBeInstanceOf(VigilError);
      expect(error.code).toBe('VIGIL_NOT_FOUND');
      expect(error.message).toMatch(/GET \/api\/sites\/\w+\/inspection\/issued/);
    }
  });

  it('keeps everything across a reopen, the migration applied once', () => {
    store.add(issued('a', '2026-11', '2026-12-01T01:00:00.000Z'));
    db.close();
    db = openDatabase(join(dir, 'vigil.db'));
    store = new IssuedReportStore(db);
    store.start();
    expect(store.add(issued('a', '2026-11', '2026-12-02T01:00:00.000Z')).version).toBe(2);
    expect(store.forSite('a')).toHaveLength(2);
  });
});
