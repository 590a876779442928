/**
 * Issued inspection reports in a real browser against the whole broker (broker/app.ts)
 * serving the built console, in Chinese: an admin issues last month's report of a
 * Chinese customer's site from the customers screen, records the customer's sign-off
 * there, and the PDF behind the screen's link is stored and reads in Chinese (poppler's
 * pdftotext). The console is the one `npm run build` put in dist/console
 * (VIGIL_TEST_CONSOLE_DIR names another build). Screenshots land in test-output/screenshots/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { customerApiRoutes } from '../../shared/api/customers.js';
import { issuedReportPath, type IssuedReportSummary } from '../../shared/api/issued-reports.js';
import { sitePath } from '../../shared/api/sites.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';
import { CHROMIUM, pdftotext, skipReason, titled } from '../helpers/requires.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));
const skip = existsSync(join(consoleDir, 'index.html'))
  ? skipReason(pdftotext)
  : `no built console in ${consoleDir}: run npm run build`;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

/** Today in Beijing, as the sign-off's date input takes it. */
const todayInShanghai = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());

/** Last month in Beijing (YYYY-MM): the newest period that is over. */
function lastMonthInShanghai(): string {
  const [year, month] = todayInShanghai().split('-').map(Number);
  const at = new Date(Date.UTC(year!, month! - 2, 1));
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

describe.skipIf(skip !== null)(titled('issued reports in a browser', skip), () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let token: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
    return response.json() as Promise<unknown>;
  };

  beforeAll(async () => {
    broker = await startTestBroker({
      settings: { consoleDir, reports: { chromiumPath: CHROMIUM } },
    });
    token = await loginToken(broker);
    await api('POST', customerApiRoutes.list, { id: 'hua-an', name: '华安物流有限公司' });
    await api('PUT', sitePath('plant-9'), { name: '示范工厂', customerId: 'hua-an' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  it('issues last month’s report and records the sign-off on the customers screen, in Chinese', async () => {
    await page.goto(broker.httpUrl);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('select[data-testid="language"]').selectOption('zh-CN');
    await page.locator('nav').getByRole('link', { name: '客户' }).click();
    const section = page.locator('[data-testid="issued-hua-an"]');
    await section.getByText('尚未出具报告。').waitFor();

    const period = lastMonthInShanghai();
    const form = section.locator('[data-testid="issue-form"]');
    await form.getByLabel('站点').selectOption('plant-9');
    await form.getByLabel('统计周期').selectOption(period);
    await form.getByRole('button', { name: '出具报告' }).click();
    const row = section.locator('[data-testid="issued-report"][data-version="1"]');
    await row.waitFor({ timeout: 90_000 });
    expect(await row.textContent()).toContain('示范工厂');
    expect(await row.locator('[data-testid="sign-off"]').textContent()).toContain('未签字');

    await row.getByRole('button', { name: '登记签字' }).click();
    const sign = section.locator('[data-testid="sign-off-form"]');
    await sign.getByLabel('签字人').fill('王芳');
    await sign.getByLabel('签字日期').fill(todayInShanghai());
    await sign.getByLabel('意见').fill('同意。');
    await sign.getByRole('button', { name: '保存签字' }).click();
    await row.locator('[data-testid="sign-off"]').filter({ hasText: '王芳' }).waitFor();
    await shot(page, 'issued-reports-zh-CN');

    const listed = (await api(
      'GET',
      issuedReportPath('customer', { customer: 'hua-an' }),
    )) as IssuedReportSummary[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ siteId: 'plant-9', period, version: 1, locale: 'zh-CN' });
    expect(listed[0]!.signOffs).toMatchObject([
      { name: '王芳', signedOn: todayInShanghai(), remarks: '同意。', recordedBy: 'admin' },
    ]);

    // The screen's PDF link, opened with the browser's session cookie.
    const href = await row.getByRole('link', { name: 'PDF' }).getAttribute('href');
    const pdf = await page.request.get(new URL(href!, broker.httpUrl).href);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-pdf-'));
    try {
      writeFileSync(join(dir, 'r.pdf'), await pdf.body());
      const text = spawnSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'r.pdf'), '-'], {
        encoding: 'utf8',
      }).stdout;
      expect(text).toContain('巡检报告');
      expect(text).toContain('示范工厂');
      expect(text).toContain('华安物流有限公司');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
