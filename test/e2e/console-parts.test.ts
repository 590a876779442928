/**
 * Spare parts and warranty in a real browser (Debian's chromium) against the whole
 * broker with the built console: a customer's devices leaving warranty within 90 days
 * on the customers screen, and a ticket's spare-part clock counting down on its page,
 * in English and in Chinese. Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { partPath } from '../../shared/api/parts.js';
import { sitePath } from '../../shared/api/sites.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { addYears } from '../../shared/warranty.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))('spare parts in a browser', () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let admin: string;
  let ticket: Ticket;
  // Accepted so that the warranty (3 years) ends 40 days from now.
  const endsOn = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
  const acceptedOn = addYears(endsOn, -3);

  const call = async <T>(method: string, path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as T;
  };

  beforeAll(async () => {
    broker = await startTestBroker({ settings: { consoleDir } });
    admin = await loginToken(broker);
    await call('POST', '/api/customers', { id: 'acme', name: 'Acme Plant', timeZone: 'UTC' });
    await call('PUT', sitePath('plant-7'), { name: 'Plant 7', customerId: 'acme', acceptedOn });
    await call('PUT', `${sitePath('plant-7')}/devices/cam-gate`, { criticality: 'normal' });
    ticket = await call<Ticket>('POST', '/api/tickets', {
      siteId: 'plant-7',
      deviceId: 'cam-gate',
      title: 'Water in the housing',
      description: '',
    });
    await call('POST', partPath('partNeeded', { id: ticket.id }), { partModel: 'DS-2CD2143G2-I' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(broker.httpUrl);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('nav').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  it("lists the customer's devices leaving warranty on the customers screen", async () => {
    await page.locator('nav').getByRole('link', { name: 'Customers' }).click();
    const section = page.locator('[data-testid="warranty-acme"]');
    await section.getByText('Leaving warranty within 90 days').waitFor();
    expect(await section.textContent()).toContain(endsOn);
    expect(await section.textContent()).toContain('cam-gate');
    await page.screenshot({ path: join(screenshotDir, 'warranty-expiry.png'), fullPage: true });
    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await section.getByText('90 天内质保到期').waitFor();
    await page.locator('[data-testid="language"]').selectOption('en');
  });

  it("counts the spare-part clock down on the ticket's page", async () => {
    await page.goto(`${broker.httpUrl}/#/tickets/${ticket.id}`);
    const clock = page.locator('vigil-countdown[data-deadline="part-shipped-by"]');
    await clock.waitFor();
    expect(await clock.getAttribute('label')).toBe('Part shipped by');
    await page.getByText('in no depot: to be shipped within 8 h').waitFor();
    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await page.locator('vigil-countdown[label="备件发货时限"]').waitFor();
    await page.screenshot({ path: join(screenshotDir, 'part-clock-zh.png'), fullPage: true });
    await page.locator('[data-testid="language"]').selectOption('en');
  });
});
