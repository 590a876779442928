/**
 * The Chinese console in a real browser (Debian's chromium) against the whole broker with
 * the built console: a ticket's timeline entries and the inspection report (its advice,
 * 评测和改进意见, rendered from codes and figures) read in Chinese, and nothing English of
 * what Vigil says leaks into them; the incident report of a manual ticket says who
 * reported it. Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { sitePath } from '../../shared/api/sites.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { adminCall } from '../helpers/admin-call.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const DAY = 86_400_000;

/** Last month on Beijing's calendar: its year, month (1-12) and period name. */
function lastMonth(now: Date): { year: number; month: number; period: string } {
  const [year, month] = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
  })
    .format(now)
    .split('-')
    .map(Number);
  const at = new Date(Date.UTC(year!, month! - 2, 1));
  const m = at.getUTCMonth() + 1;
  return {
    year: at.getUTCFullYear(),
    month: m,
    period: `${at.getUTCFullYear()}-${String(m).padStart(2, '0')}`,
  };
}

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))(
  'the Chinese console shows timelines and the inspection report in Chinese',
  () => {
    let broker: RunningBroker;
    let browser: Browser;
    let page: Page;
    let admin: string;
    let ticket: Ticket;
    const last = lastMonth(new Date());

    const call = adminCall(
      () => broker.httpUrl,
      () => admin,
    );

    beforeAll(async () => {
      broker = await startTestBroker({ settings: { consoleDir } });
      admin = await loginToken(broker);
      await call('POST', '/api/customers', { id: 'acme', name: '上海示例物流' });
      // Accepted three years before the 20th of the month after last: the cameras leave
      // warranty within 90 days of last month's end.
      const accepted = new Date(Date.UTC(last.year - 3, last.month, 20)).toISOString().slice(0, 10);
      await call('PUT', sitePath('plant-7'), {
        name: '七号仓库',
        customerId: 'acme',
        acceptedOn: accepted,
      });
      await call('PUT', `${sitePath('plant-7')}/devices/cam-gate`, { criticality: 'normal' });
      // The gate camera failed three times last month, 30 minutes each.
      const { history } = broker.desk;
      const first = Date.UTC(last.year, last.month - 1, 1);
      await history.record('plant-7', 'cam-gate', 'up', new Date(first - DAY));
      for (const day of [10, 12, 14]) {
        const down = first + (day - 1) * DAY + 2 * 3_600_000;
        await history.record('plant-7', 'cam-gate', 'down', new Date(down));
        await history.record('plant-7', 'cam-gate', 'up', new Date(down + 30 * 60_000));
      }
      // A fault a customer phoned in, acknowledged: two timeline entries of codes.
      await call('POST', '/api/tickets', {
        siteId: 'plant-7',
        deviceId: 'cam-gate',
        title: '大门画面模糊',
        description: '保安来电：暴雨后画面失焦',
      });
      [ticket] = (await broker.tickets.list({ status: 'open', source: 'manual' })) as [Ticket];
      await call('POST', `/api/tickets/${ticket.id}/actions`, { action: 'acknowledge' });
      browser = await launchBrowser();
      page = await browser.context.newPage();
      await page.goto(broker.httpUrl);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('[data-testid="language"]').selectOption('zh-CN');
    });

    afterAll(async () => {
      await browser?.close();
      await broker?.stop();
    });

    it("shows a ticket's timeline entries in Chinese", async () => {
      await page.goto(`${broker.httpUrl}/#/tickets/${ticket.id}`);
      const timeline = page.locator('vigil-timeline');
      await timeline.getByText('admin 开单，电话报修：保安来电：暴雨后画面失焦').waitFor();
      const entries = await timeline.locator('li').allTextContents();
      expect(entries.join('\n')).toContain('人工报修');
      expect(entries.join('\n')).toContain('已响应');
      // What Vigil says is Chinese: no English sentence of the catalogue.
      expect(entries.join('\n')).not.toMatch(/Ticket opened|reported by phone|Acknowledged/);
      await page.screenshot({ path: join(screenshotDir, 'timeline-zh.png'), fullPage: true });
    });

    it('shows the inspection report with its 评测和改进意见 in Chinese', async () => {
      await page.goto(`${broker.httpUrl}/#/inspection?site=plant-7&period=${last.period}`);
      const report = page.locator('[data-testid="inspection-report"]');
      await report.waitFor();
      const advice = report.locator('[data-testid="advice"]');
      await advice.getByRole('heading', { name: '评测和改进意见' }).waitFor();
      const items = await advice.locator('li').allTextContents();
      const failures = items.find((text) => text.includes('本期故障'));
      expect(failures, items.join('\n')).toMatch(
        /摄像机“cam-gate”（cam-gate）本期故障 3 次，累计停机 90 分钟，最长一次 30 分钟。建议检查网线、水晶头及交换机 PoE 供电端口。/,
      );
      expect(items.some((text) => /质保期将于 \d{4}年\d{1,2}月\d{1,2}日届满/.test(text))).toBe(
        true,
      );
      expect(items.join('\n')).not.toMatch(/failed|check its|leaves warranty/);
      await page.screenshot({ path: join(screenshotDir, 'inspection-zh.png'), fullPage: true });
    });

    it('says in the incident report who reported a manual ticket, in Chinese', async () => {
      await page.goto(`${broker.httpUrl}/#/tickets/${ticket.id}/report`);
      const report = page.locator('[data-testid="incident-report"]');
      await report.waitFor();
      expect(await report.locator('[data-testid="reported-by"]').textContent()).toContain(
        'admin（电话报修）',
      );
      expect(await report.locator('[data-testid="detected-at"]').count()).toBe(0);
      await report.getByText('已响应').first().waitFor();
      await page.screenshot({
        path: join(screenshotDir, 'incident-report-zh.png'),
        fullPage: true,
      });
    });
  },
);
