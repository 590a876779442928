/**
 * Issued inspection reports (issue 16 part 4) through the API with the real desk, a real
 * SQLite file and Debian's chromium printing the PDF: issuing freezes the report, a
 * reissue is version 2 beside version 1, a sign-off is kept and shown, the PDF is a real
 * PDF whose text (read back by poppler's pdftotext, an independent reader) is the
 * Chinese customer's, and data arriving later changes the live report, never the issued.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import {
  IssuedReport,
  IssuedReportList,
  issuedReportExample,
  issuedReportPath,
  IssuedReportSummary,
  SignOff,
} from '../../../shared/api/issued-reports.js';
import { validator } from '../../../shared/validate.js';
import { ChromiumPdfPrinter } from '../../../broker/inspection/issued/pdf.js';
import { CHROMIUM, chromium, pdftotext, skipReason, titled } from '../../helpers/requires.js';
import { UserStore } from '../../../broker/api/users.js';
import { login } from './api/fixture.js';
import { camera, deskApi, makeDesk, type DeskFixture } from './detect/desk-fixture.js';

const site = 'demo-site';
const at = (iso: string) => new Date(iso);
const skip = skipReason(chromium, pdftotext);

/** The text of a PDF as poppler reads it. */
function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pdftotext-'));
  try {
    const file = join(dir, 'report.pdf');
    writeFileSync(file, pdf);
    const read = spawnSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    if (read.status !== 0) throw new Error(`pdftotext failed: ${read.stderr}`);
    return read.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(skip !== null)(titled('issued inspection reports', skip), () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let tokens: Record<'olga' | 'vera' | 'wang' | 'li', string>;

  beforeAll(async () => {
    f = await makeDesk({}, [
      camera('cam-01', { name: '大门' }),
      camera('cam-02', { name: '仓库' }),
      camera('nvr-01', { kind: 'nvr', name: '录像机' }),
    ]);
    const { history, sites, customers } = f.desk;
    await customers.create({ id: 'hua-an', name: '华安物流有限公司', timeZone: 'Asia/Shanghai' });
    await sites.put(site, { name: '示范工厂', customerId: 'hua-an', acceptedOn: '2025-06-01' });
    for (const id of ['cam-01', 'cam-02', 'nvr-01'])
      await history.record(site, id, 'up', at('2026-10-01T00:00:00Z'));
    // cam-01 down 30 min on 10 November (Beijing time 18:00-18:30).
    await history.record(site, 'cam-01', 'down', at('2026-11-10T10:00:00Z'));
    await history.record(site, 'cam-01', 'up', at('2026-11-10T10:30:00Z'));
    f.clock.now = at('2026-12-02T02:00:00Z');
    const api = await deskApi(
      f,
      {
        olga: { username: 'olga', password: 'operator password 123', role: 'operator' },
        vera: { username: 'vera', password: 'viewer password 123', role: 'viewer' },
      },
      { pdf: new ChromiumPdfPrinter({ chromiumPath: CHROMIUM }) },
    );
    app = api.app;
    // Customer accounts (the portal, issue 16 part 5): the report's customer's, and another's.
    await customers.create({ id: 'other-co', name: 'Other Co' });
    const users = new UserStore(f.store);
    await users.setUser('wang', 'customer', 'customer password 123', 'hua-an');
    await users.setUser('li', 'customer', 'customer password 456', 'other-co');
    tokens = {
      ...api.tokens,
      wang: (await login(app, { username: 'wang', password: 'customer password 123' })).token,
      li: (await login(app, { username: 'li', password: 'customer password 456' })).token,
    };
  });

  afterAll(async () => {
    await app?.close();
    await f?.cleanup();
  });

  const call = (who: keyof typeof tokens, method: 'GET' | 'POST', url: string, body?: object) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}` },
      ...(body ? { payload: body } : {}),
    });
  const one = (version: number, route: 'one' | 'html' | 'pdf' | 'signOffs' = 'one') =>
    issuedReportPath(route, { site, period: '2026-11', version });

  it('the example of the contract is valid', () => {
    expect(validator(IssuedReportSummary)(issuedReportExample).ok).toBe(true);
  });

  it('issues only for staff, and only a period that is over', async () => {
    const url = issuedReportPath('site', { site });
    expect((await call('vera', 'POST', url, { period: '2026-11' })).statusCode).toBe(403);
    const running = await call('olga', 'POST', url, { period: '2026-12' });
    expect(running.statusCode).toBe(409);
    expect(running.json<{ message: string }>().message).toContain('runs until 2027-01-01 00:00');
  });

  it('issue twice: versions 1 and 2, both listed and readable; later data changes neither', async () => {
    const url = issuedReportPath('site', { site });
    const first = await call('olga', 'POST', url, { period: '2026-11' });
    expect(first.statusCode).toBe(201);
    const v1 = first.json<IssuedReportSummary>();
    expect(validator(IssuedReportSummary)(v1).ok).toBe(true);
    expect(v1).toMatchObject({
      siteId: site,
      siteName: '示范工厂',
      customerId: 'hua-an',
      customerName: '华安物流有限公司',
      period: '2026-11',
      version: 1,
      issuedBy: 'olga',
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      signOffs: [],
    });

    // Data arriving late for November: cam-02 was down 2 h on 20 November.
    await f.desk.history.record(site, 'cam-02', 'down', at('2026-11-20T01:00:00Z'));
    await f.desk.history.record(site, 'cam-02', 'up', at('2026-11-20T03:00:00Z'));
    // Four hours later (sessions last a day; the clock is the API's too).
    f.clock.now = at('2026-12-02T06:00:00Z');
    const live = (
      await call('vera', 'GET', `/api/sites/${site}/inspection?period=2026-11`)
    ).json<InspectionReport>();
    expect(live.devices.find((d) => d.deviceId === 'cam-02')!.outages.count).toBe(1);

    const second = await call('olga', 'POST', url, { period: '2026-11' });
    expect(second.statusCode).toBe(201);
    expect(second.json<IssuedReportSummary>().version).toBe(2);

    const listed = (await call('vera', 'GET', url)).json<IssuedReportSummary[]>();
    expect(validator(IssuedReportList)(listed).ok).toBe(true);
    expect(listed.map((r) => r.version)).toEqual([2, 1]);
    const forCustomer = (
      await call('vera', 'GET', issuedReportPath('customer', { customer: 'hua-an' }))
    ).json<IssuedReportSummary[]>();
    expect(forCustomer.map((r) => `${r.siteId} ${r.period} v${r.version}`)).toEqual([
      `${site} 2026-11 v2`,
      `${site} 2026-11 v1`,
    ]);

    // Version 1 is November as it was known on 2 December: cam-02 without its late outage.
    const frozen1 = (await call('vera', 'GET', one(1))).json<IssuedReport>();
    expect(validator(IssuedReport)(frozen1).ok).toBe(true);
    const cam = (r: IssuedReport, id: string) => r.report.devices.find((d) => d.deviceId === id)!;
    expect(cam(frozen1, 'cam-01').outages).toEqual({ count: 1, totalS: 1800, longestS: 1800 });
    expect(cam(frozen1, 'cam-02').outages.count).toBe(0);
    expect(frozen1.report.generatedAt).toBe('2026-12-02T02:00:00.000Z');
    const frozen2 = (await call('vera', 'GET', one(2))).json<IssuedReport>();
    expect(cam(frozen2, 'cam-02').outages).toEqual({ count: 1, totalS: 7200, longestS: 7200 });

    // Still more data later: neither issued version moves.
    await f.desk.history.record(site, 'cam-01', 'down', at('2026-11-25T01:00:00Z'));
    await f.desk.history.record(site, 'cam-01', 'up', at('2026-11-25T02:00:00Z'));
    const again1 = (await call('vera', 'GET', one(1))).json<IssuedReport>();
    expect(again1.report).toEqual(frozen1.report);
    expect(cam(again1, 'cam-01').outages.count).toBe(1);

    // An unknown version is a 404 that says where the list is.
    const missing = await call('vera', 'GET', one(3));
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ message: string }>().message).toContain(url);

    // Both in the audit trail.
    const audit = await f.desk.audit.list({ target: `site:${site}` });
    expect(audit.filter((a) => a.action === 'inspection.issue').map((a) => a.actor)).toEqual([
      'olga',
      'olga',
    ]);
  }, 120_000); // two chromium prints on a busy 2-core machine

  it('keeps the PDF: a real PDF, its SHA-256 as listed, its text the Chinese report', async () => {
    const res = await call('vera', 'GET', one(1, 'pdf'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const pdf = res.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const summary = (await call('vera', 'GET', one(1))).json<IssuedReport>();
    expect(pdf.length).toBe(summary.pdfBytes);
    expect(createHash('sha256').update(pdf).digest('hex')).toBe(summary.pdfSha256);
    const text = pdfText(pdf);
    // The report in the customer's language: its title and the contract's 评测和改进意见,
    // and the site's, the customer's and the devices' names as the customer wrote them.
    expect(text).toContain('巡检报告');
    expect(text).toContain('评测和改进意见');
    expect(text).toContain('示范工厂');
    expect(text).toContain('华安物流有限公司');
    expect(text).toContain('大门');

    const html = await call('vera', 'GET', one(1, 'html'));
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('示范工厂');
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('records a sign-off (staff), refuses an impossible date, and shows it in the lists', async () => {
    expect(
      (await call('vera', 'POST', one(1, 'signOffs'), { name: '王芳', signedOn: '2026-12-02' }))
        .statusCode,
    ).toBe(403);
    const early = await call('olga', 'POST', one(1, 'signOffs'), {
      name: '王芳',
      signedOn: '2026-12-01',
    });
    expect(early.statusCode).toBe(400);
    expect(JSON.stringify(early.json())).toContain('before the report was issued (2026-12-02');
    const later = await call('olga', 'POST', one(1, 'signOffs'), {
      name: '王芳',
      signedOn: '2026-12-05',
    });
    expect(JSON.stringify(later.json())).toContain('after today (2026-12-02');

    const signed = await call('olga', 'POST', one(1, 'signOffs'), {
      name: '王芳',
      signedOn: '2026-12-02',
      remarks: '同意。二号摄像机请尽快检修。',
    });
    expect(signed.statusCode).toBe(201);
    expect(validator(SignOff)(signed.json()).ok).toBe(true);
    expect(signed.json()).toMatchObject({
      name: '王芳',
      signedOn: '2026-12-02',
      remarks: '同意。二号摄像机请尽快检修。',
      recordedBy: 'olga',
      recordedAt: '2026-12-02T06:00:00.000Z',
    });

    const listed = (
      await call('vera', 'GET', issuedReportPath('customer', { customer: 'hua-an' }))
    ).json<IssuedReportSummary[]>();
    expect(listed.find((r) => r.version === 1)!.signOffs.map((s) => s.name)).toEqual(['王芳']);
    expect(listed.find((r) => r.version === 2)!.signOffs).toEqual([]);
    expect((await call('vera', 'GET', one(1))).json<IssuedReport>().signOffs).toHaveLength(1);
    const audit = await f.desk.audit.list({ target: `site:${site}` });
    expect(audit.find((a) => a.action === 'inspection.sign-off')).toMatchObject({ actor: 'olga' });
  });

  it("in the portal: the customer reads and signs its own reports; another customer's account finds none", async () => {
    const own = await call('wang', 'GET', issuedReportPath('customer', { customer: 'hua-an' }));
    expect(own.json<IssuedReportSummary[]>().map((r) => r.version)).toEqual([2, 1]);
    expect((await call('wang', 'GET', one(2, 'pdf'))).statusCode).toBe(200);
    const issue = await call('wang', 'POST', issuedReportPath('site', { site }), {
      period: '2026-10',
    });
    expect(issue.statusCode).toBe(403);
    const signed = await call('wang', 'POST', one(2, 'signOffs'), {
      name: '王芳',
      signedOn: '2026-12-02',
    });
    expect(signed.statusCode).toBe(201);
    expect(signed.json()).toMatchObject({ name: '王芳', recordedBy: 'wang', remarks: '' });

    for (const url of [
      issuedReportPath('customer', { customer: 'hua-an' }),
      issuedReportPath('site', { site }),
      one(1),
      one(1, 'pdf'),
      one(1, 'html'),
    ])
      expect((await call('li', 'GET', url)).statusCode, url).toBe(404);
    const forged = await call('li', 'POST', one(1, 'signOffs'), {
      name: 'Someone',
      signedOn: '2026-12-02',
    });
    expect(forged.statusCode).toBe(404);
  });

  it('nothing issued can be changed or deleted in the database itself', () => {
    expect(() =>
      f.db.prepare("UPDATE issued_reports SET html = 'forged' WHERE version = 1").run(),
    ).toThrow(/never changed/);
    expect(() => f.db.prepare('DELETE FROM issued_reports').run()).toThrow(/kept/);
    expect(() =>
      f.db.prepare("UPDATE issued_report_sign_offs SET name = 'someone else'").run(),
    ).toThrow(/never changed/);
  });
});

describe('issuing without chromium', () => {
  it('answers 503 saying to install chromium or set reports.chromiumPath, and stores nothing', async () => {
    const f = await makeDesk({}, [camera('cam-01')]);
    f.clock.now = at('2026-12-02T02:00:00Z');
    const { app, tokens } = await deskApi(
      f,
      { olga: { username: 'olga', password: 'operator password 123', role: 'operator' } },
      { pdf: new ChromiumPdfPrinter({ chromiumPath: '/nonexistent/chromium' }) },
    );
    try {
      const headers = { authorization: `Bearer ${tokens.olga}` };
      const url = issuedReportPath('site', { site });
      const res = await app.inject({
        method: 'POST',
        url,
        headers,
        payload: { period: '2026-11' },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'VIGIL_REPORT_PRINT_FAILED' });
      expect(res.json<{ message: string }>().message).toContain('reports.chromiumPath');
      expect((await app.inject({ url, headers })).json()).toEqual([]);
    } finally {
      await app.close();
      await f.cleanup();
    }
  });
});
