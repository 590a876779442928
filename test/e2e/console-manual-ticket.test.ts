/**
 * The ticket desk's "new ticket" form in a real browser (Debian's chromium) against the
 * whole broker with the built console: an operator takes a call, opens a manual ticket
 * for one camera of a described site, and the ticket page says who reported it and how,
 * in English and in Chinese. A viewer sees no form. Screenshots land in
 * test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { sitePath } from '../../shared/api/sites.js';
import { userPath } from '../../shared/api/routes.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const OPERATOR = { username: 'olga', password: 'operator password 123' };
const VIEWER = { username: 'vera', password: 'viewer password 123' };

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))('new ticket form in a browser', () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let admin: string;

  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, `${method} ${path}: ${await response.text()}`).toBeLessThan(300);
  };

  async function logIn(who: { username: string; password: string }): Promise<void> {
    await page.goto(broker.httpUrl);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('nav').getByRole('link', { name: 'Tickets' }).click();
  }

  beforeAll(async () => {
    broker = await startTestBroker({ settings: { consoleDir } });
    admin = await loginToken(broker);
    await call('PUT', userPath(OPERATOR.username), {
      role: 'operator',
      password: OPERATOR.password,
    });
    await call('PUT', userPath(VIEWER.username), { role: 'viewer', password: VIEWER.password });
    // A described site with two cameras and no agent yet: the form offers its devices.
    await call('PUT', sitePath('plant-7'), { name: 'Plant 7' });
    await call('PUT', `${sitePath('plant-7')}/devices/cam-gate`, { criticality: 'normal' });
    await call('PUT', `${sitePath('plant-7')}/devices/cam-lobby`, { criticality: 'normal' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  it('opens a manual ticket from the desk and shows who reported it, in English and Chinese', async () => {
    await logIn(OPERATOR);
    await page.locator('[data-testid="new-ticket"]').click();
    const form = page.locator('[data-testid="new-ticket-form"]');
    await form.waitFor();
    await form.locator('select[name="siteId"]').selectOption('plant-7');
    await form.locator('select[name="deviceId"]').selectOption('cam-gate');
    await form.getByLabel('What is wrong (one line)').fill('The picture at the gate is blurred');
    await form
      .getByLabel('What the caller said: where, since when, what they see')
      .fill('The guard called at 09:10: out of focus since the storm.');
    await page.screenshot({ path: join(screenshotDir, 'new-ticket-form.png'), fullPage: true });
    await form.getByRole('button', { name: 'Open the ticket' }).click();

    const opened = page.locator('[data-testid="new-ticket-opened"]');
    await opened.waitFor();
    const [ticket] = await broker.tickets.list({ status: 'open', source: 'manual' });
    expect(ticket).toMatchObject({
      siteId: 'plant-7',
      deviceId: 'cam-gate',
      priority: 'general',
      reportedBy: 'olga',
      reportedVia: 'phone',
    });
    expect(await opened.textContent()).toContain(`Ticket #${ticket!.id} opened.`);
    // The desk lists it at once, with who reported it.
    const line = page.locator(`[data-testid="ticket"][data-ticket-id="${ticket!.id}"]`);
    await line.waitFor();
    expect(await line.getAttribute('data-source')).toBe('manual');
    expect(await line.locator('[data-testid="reported-by"]').textContent()).toBe(
      'Reported by olga',
    );

    await opened.getByRole('link').click();
    const article = page.locator(`[data-testid="ticket-page"][data-ticket-id="${ticket!.id}"]`);
    await article.waitFor();
    expect(await article.locator('[data-testid="ticket-source"]').getAttribute('data-source')).toBe(
      'manual',
    );
    expect(await article.locator('[data-testid="reported-by"]').textContent()).toContain(
      'olga, by phone',
    );
    await article
      .getByText('Ticket opened by olga, reported by phone: The guard called at 09:10')
      .waitFor();
    await page.screenshot({ path: join(screenshotDir, 'manual-ticket.png'), fullPage: true });

    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await article.getByText('olga 开单，电话报修：The guard called at 09:10').waitFor();
    expect(await article.locator('[data-testid="reported-by"]').textContent()).toContain(
      'olga（电话报修）',
    );
    await page.screenshot({ path: join(screenshotDir, 'manual-ticket-zh.png'), fullPage: true });
    await page.locator('[data-testid="language"]').selectOption('en');
  });

  it('offers no form to a viewer', async () => {
    await page.context().clearCookies();
    await logIn(VIEWER);
    await page.getByRole('heading', { name: 'Ticket desk' }).waitFor();
    expect(await page.locator('[data-testid="new-ticket"]').count()).toBe(0);
  });
});
