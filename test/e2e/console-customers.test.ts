/**
 * The customers screen in a real browser against the whole broker (broker/app.ts) serving
 * the built console: an admin adds a customer (an ambiguous zone refused with what to
 * send), gives it a site from its row, changes its deadlines, sees its figures, and the
 * screen speaks Chinese. The console is the one `npm run build` put in dist/console
 * (VIGIL_TEST_CONSOLE_DIR names another build). Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { customerPath } from '../../shared/api/customers.js';
import { sitePath } from '../../shared/api/sites.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))(
  'customers screen in a browser',
  () => {
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
      return response.json() as Promise<Record<string, unknown>>;
    };

    beforeAll(async () => {
      broker = await startTestBroker({ settings: { consoleDir } });
      token = await loginToken(broker);
      browser = await launchBrowser();
      page = await browser.context.newPage();
    });

    afterAll(async () => {
      await browser?.close();
      await broker?.stop();
    });

    it('adds a customer, refusing an ambiguous zone with what to send', async () => {
      await page.goto(broker.httpUrl);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('nav').getByRole('link', { name: 'Customers' }).click();
      const form = page.locator('[data-testid="customer-form"]');
      await form.waitFor();
      await form.getByLabel('Id').fill('acme');
      await form.getByLabel('Name').fill('Acme Security');
      await form.getByLabel('Time zone').fill('CST');
      await form.getByRole('button', { name: 'Add customer' }).click();
      await page.getByRole('alert').filter({ hasText: 'CST is Chicago' }).waitFor();
      await form.getByLabel('Time zone').fill('Europe/Berlin');
      await form.getByLabel('Documents in').selectOption('en');
      await form.getByRole('button', { name: 'Add customer' }).click();
      const row = page.locator('[data-testid="customer"][data-id="acme"]');
      await row.waitFor();
      expect(await row.textContent()).toContain('Europe/Berlin');
      expect(await api('GET', customerPath('acme'))).toMatchObject({
        name: 'Acme Security',
        timeZone: 'Europe/Berlin',
        locale: 'en',
        contractIsTemplate: true,
      });
    });

    it("changes the customer's deadlines and shows its site and figures", async () => {
      await api('PUT', sitePath('plant-7'), { name: 'Plant 7' });
      await page.reload();
      const row = page.locator('[data-testid="customer"][data-id="acme"]');
      await row.waitFor();
      // The site's customer, picked on the customer's row.
      const addSite = row.locator('[data-testid="customer-add-site"]');
      await addSite.getByLabel('Site').selectOption('plant-7');
      await addSite.getByRole('button', { name: 'Add site' }).click();
      await page.getByRole('status').filter({ hasText: 'Acme Security saved.' }).waitFor();
      expect(await api('GET', sitePath('plant-7'))).toMatchObject({
        customerId: 'acme',
        customer: 'Acme Security',
      });
      await row.getByRole('button', { name: 'Edit' }).click();
      const edit = page.locator('[data-testid="customer-edit"][data-id="acme"]');
      await edit.locator('input[name="emergency.respondMin"]').fill('5');
      await edit.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Acme Security saved.' }).waitFor();
      expect(await row.textContent()).toContain('plant-7');
      expect(await api('GET', customerPath('acme'))).toMatchObject({
        contractIsTemplate: false,
        contract: { sla: { emergency: { respondMin: 5 } } },
      });
      // A site with nothing observed: no availability yet, and no deadline ended.
      expect(await row.locator('[data-testid="customer-figures"]').textContent()).toContain('–');
      await shot(page, 'customers');
    });

    it('speaks Chinese', async () => {
      await page.locator('select[data-testid="language"]').selectOption('zh-CN');
      await page.getByRole('heading', { name: '客户与合同' }).waitFor();
      expect(await page.locator('nav').textContent()).toContain('客户');
      await shot(page, 'customers-zh-CN');
    });
  },
);
