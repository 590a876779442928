/**
 * The documents Vigil hands a customer, through the real HTTP API over the ticket desk on
 * a SQLite file: the inspection report (JSON and printable page) and the incident report
 * (故障报告) come in the customer's language (zh-CN here, the default) and in English with
 * `?locale=en`; their times are Beijing time with the offset; no English heading leaks
 * into the Chinese page; a manual ticket's report says who opened it, not "detected".
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InspectionReport } from '../../../shared/api/inspection.js';
import { inspectionPath, sitePath } from '../../../shared/api/routes.js';
import { IncidentReport, type Ticket } from '../../../shared/api/tickets.js';
import { validator } from '../../../shared/validate.js';
import { deviceDown } from '../../../broker/detect/rules/device-down.js';
import { ticketMessage } from '../../../broker/notify/compose.js';
import { login } from './api/fixture.js';
import { camera, deskApi, makeDesk, type DeskFixture } from './detect/desk-fixture.js';

const at = (iso: string) => new Date(iso);

/** What a reader sees of a page: its text without styles, scripts and tags. */
function visible(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/g, ' ');
}

/**
 * The Latin words of a Chinese page: ids, names and the abbreviations a Chinese engineer
 * writes as they are (MTTR, MTBF, UTC, the zone's name, Vigil). Any other is English leaking.
 */
const LATIN_ALLOWED = new Set([
  'cam',
  'north',
  'Acme',
  'MTTR',
  'MTBF',
  'UTC',
  'Asia',
  'Shanghai',
  'Vigil',
  'olga',
  'SN',
]);
const latinWords = (text: string) =>
  [...new Set(text.match(/[A-Za-z]{2,}/g) ?? [])].filter((w) => !LATIN_ALLOWED.has(w));

describe("documents in the customer's language", () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let tokens: Record<'admin' | 'operator' | 'viewer', string>;

  beforeEach(async () => {
    f = await makeDesk({}, [
      camera('cam-01', { siteId: 'north', name: '北门' }),
      camera('cam-02', { siteId: 'north', name: '大门' }),
    ]);
    f.clock.now = at('2026-11-01T00:00:00Z');
    const api = await deskApi(f, {
      admin: { username: 'ada', password: 'admin password 12345', role: 'admin' },
      operator: { username: 'olga', password: 'operator password 123', role: 'operator' },
      viewer: { username: 'vera', password: 'viewer password 1234', role: 'viewer' },
    });
    app = api.app;
    tokens = api.tokens;
    // A customer of the default language (zh-CN) in Beijing time.
    expect(
      (await call('admin', 'POST', '/api/customers', { id: 'acme', name: 'Acme' })).statusCode,
    ).toBe(201);
    expect((await call('admin', 'PUT', sitePath('north'), { customerId: 'acme' })).statusCode).toBe(
      200,
    );
    // Accepted three years before: the warranty ends on 20 December, within 90 days.
    await f.desk.sites.put('north', { name: '北门厂区', acceptedOn: '2023-12-19' });

    const { history } = f.desk;
    for (const id of ['cam-01', 'cam-02'])
      await history.record('north', id, 'up', at('2026-10-20T00:00:00Z'));
    // cam-01 fails three times in November (Beijing time): 30, 60 and 15 minutes.
    const outage = async (from: string, minutes: number) => {
      await history.record('north', 'cam-01', 'down', at(from));
      await history.record('north', 'cam-01', 'up', new Date(Date.parse(from) + minutes * 60_000));
    };
    await outage('2026-11-03T02:00:00Z', 30);
    await outage('2026-11-10T02:00:00Z', 60);
    await outage('2026-11-20T02:00:00Z', 15);
  });

  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  const passwords = {
    admin: ['ada', 'admin password 12345'],
    operator: ['olga', 'operator password 123'],
    viewer: ['vera', 'viewer password 1234'],
  } as const;

  /** Moves the clock (past the sessions' 12 h) and signs everyone in again. */
  const later = async (iso: string) => {
    f.clock.now = at(iso);
    for (const [who, [username, password]] of Object.entries(passwords))
      tokens[who as keyof typeof passwords] = (await login(app, { username, password })).token;
  };

  const call = (
    who: 'admin' | 'operator' | 'viewer',
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    payload?: object,
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}` },
      ...(payload ? { payload } : {}),
    });

  it('gives the inspection report in Chinese, its advice from codes, and in English on request', async () => {
    await later('2026-12-02T08:00:00Z');
    const zh = (
      await call('viewer', 'GET', inspectionPath('north', '2026-11'))
    ).json<InspectionReport>();
    expect(validator(InspectionReport)(zh)).toMatchObject({ ok: true });
    expect(zh.locale).toBe('zh-CN');
    const failures = zh.suggestions.find((s) => s.rule === 'frequent-failures')!;
    expect(failures.message).toEqual({
      code: 'advice.frequent-failures',
      params: {
        kind: 'camera',
        name: '北门',
        device: 'cam-01',
        outages: 3,
        downMin: 105,
        longestMin: 60,
      },
    });
    expect(failures.text).toBe(
      '摄像机“北门”（cam-01）本期故障 3 次，累计停机 105 分钟，最长一次 60 分钟。建议检查网线、水晶头及交换机 PoE 供电端口。',
    );
    const warranty = zh.suggestions.find(
      (s) => s.rule === 'warranty-ending' && s.deviceId === 'cam-01',
    )!;
    expect(warranty.text).toContain('质保期将于 2026年12月19日届满');
    for (const s of zh.suggestions)
      expect(latinWords(s.text), s.text).toEqual(['PoE'].filter((w) => s.text.includes(w)));

    const en = (
      await call('viewer', 'GET', `${inspectionPath('north', '2026-11')}&locale=en`)
    ).json<InspectionReport>();
    expect(en.locale).toBe('en');
    expect(en.suggestions.find((s) => s.rule === 'frequent-failures')?.text).toBe(
      'Camera "北门" (cam-01) failed 3 times, down 105 min in all, the longest 60 min: check its cabling and PoE port.',
    );
    // The same advice, its code and figures unchanged: only the words differ.
    expect(en.suggestions.map((s) => s.message)).toEqual(zh.suggestions.map((s) => s.message));
    expect(
      (await call('viewer', 'GET', `${inspectionPath('north', '2026-11')}&locale=fr`)).statusCode,
    ).toBe(400);
  });

  it('prints the inspection report in Chinese with Beijing times, and in English with ?locale=en', async () => {
    await later('2026-12-02T08:00:00Z');
    const page = await call('viewer', 'GET', inspectionPath('north', '2026-11', true));
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const zh = page.body;
    expect(zh).toContain('<html lang="zh-CN">');
    for (const words of [
      '北门厂区（north）2026年11月巡检报告',
      '统计周期',
      '2026年11月1日 00:00（UTC+08:00） 至 2026年12月1日 00:00（UTC+08:00）（时区 Asia/Shanghai）',
      '站点可用率（不含维护时段）',
      '设备运行情况',
      '平均修复时间（MTTR）',
      '工单与服务时限',
      '评测和改进意见',
      '本期故障 3 次',
      '服务方（乙方）签字',
      '客户（甲方）签字',
      '本报告由 Vigil 于 2026年12月2日 16:00（UTC+08:00） 生成。',
    ])
      expect(zh).toContain(words);
    expect(latinWords(visible(zh))).toEqual(['PoE']);

    const en = (
      await call('viewer', 'GET', `${inspectionPath('north', '2026-11', true)}&locale=en`)
    ).body;
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Preventive inspection — 北门厂区 (north), November 2026');
    expect(en).toContain('Evaluation and improvement advice');
    expect(en).toContain('2026-11-01 00:00 (UTC+08:00)');
    expect(en).not.toMatch(/评测|巡检|签字/);
  });

  it("gives a detected ticket's incident report in Chinese, and in English with ?locale=en", async () => {
    await later('2026-11-26T08:00:00Z');
    await f.desk.tickets.apply(
      deviceDown(camera('cam-01', { siteId: 'north', name: '北门', status: 'down' }), f.clock.now),
    );
    const ticket = (await f.desk.tickets.list({ status: 'open', deviceId: 'cam-01' }))[0]!;
    f.clock.now = at('2026-11-26T08:03:00Z');
    await call('operator', 'POST', `/api/tickets/${ticket.id}/actions`, { action: 'acknowledge' });

    const zh = (
      await call('viewer', 'GET', `/api/tickets/${ticket.id}/report`)
    ).json<IncidentReport>();
    expect(validator(IncidentReport)(zh)).toMatchObject({ ok: true });
    expect(zh).toMatchObject({ locale: 'zh-CN', timeZone: 'Asia/Shanghai', source: 'detected' });
    expect(zh.title).toMatch(/^摄像机“北门”（cam-01）故障离线/);
    expect(zh.steps.map((s) => s.text)).toContain('已响应');

    const html = (await call('viewer', 'GET', `/api/tickets/${ticket.id}/report.html`)).body;
    for (const words of [
      '故障报告（工单 #',
      '故障内容',
      '设备离线 / 紧急',
      '发现时间',
      '2026年11月26日 16:00（UTC+08:00）',
      '处理记录',
      '时间（Asia/Shanghai）',
      '已响应',
      'Vigil 系统',
      '首次响应',
    ])
      expect(html).toContain(words);
    expect(html).not.toMatch(/Incident report|Detected|Service log|Deadlines|Outcome/);
    expect(latinWords(visible(html))).toEqual([]);

    const en = (await call('viewer', 'GET', `/api/tickets/${ticket.id}/report.html?locale=en`))
      .body;
    expect(en).toContain('Incident report — ticket');
    expect(en).toContain('<th>Detected</th><td>2026-11-26 16:00 (UTC+08:00)</td>');
    expect(en).not.toMatch(/故障报告|处理记录/);
    const json = (
      await call('viewer', 'GET', `/api/tickets/${ticket.id}/report?locale=en`)
    ).json<IncidentReport>();
    expect(json.title).toMatch(/^Camera "北门" \(cam-01\) is down/);
  });

  it("says who opened a manual ticket in its report, and its notification's fault is its title", async () => {
    await later('2026-11-26T01:10:00Z');
    const made = await call('operator', 'POST', '/api/tickets', {
      siteId: 'north',
      deviceId: 'cam-02',
      title: '大门画面模糊',
      description: '保安来电：昨夜暴雨后大门摄像机画面失焦',
    });
    expect(made.statusCode).toBe(201);
    const ticket = made.json<Ticket>();
    const html = (await call('viewer', 'GET', `/api/tickets/${ticket.id}/report.html`)).body;
    expect(html).toContain(
      '<th>报修</th><td>2026年11月26日 09:10（UTC+08:00），olga 人工开单（电话报修）</td>',
    );
    expect(html).toContain('<th>报修描述</th><td>保安来电：昨夜暴雨后大门摄像机画面失焦</td>');
    expect(html).toContain('人工报修');
    expect(html).not.toContain('发现时间');
    const en = (await call('viewer', 'GET', `/api/tickets/${ticket.id}/report.html?locale=en`))
      .body;
    expect(en).toContain('opened by olga (reported by phone)');
    expect(en).not.toContain('<th>Detected</th>');

    // Its notification names the fault by what the reporter said, not by the code "manual".
    const note = ticketMessage({
      ticket,
      stage: 'opened',
      language: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      customer: 'Acme',
      siteName: 'north',
      to: [],
      ticketUrl: null,
      ackUrl: null,
    });
    expect(note.markdown).toContain('- **故障**：大门画面模糊');
    expect(note.markdown).not.toContain('manual');
  });
});
