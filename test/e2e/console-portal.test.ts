/**
 * The customer portal in a real browser (Debian's chromium) against the whole broker with
 * the built console (issue 16 part 5): a customer account signs in, sees its own site and
 * not another customer's, no NOC navigation, reports a fault and sees the ticket, in
 * English and in Chinese. Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { sitePath } from '../../shared/api/sites.js';
import { userPath } from '../../shared/api/routes.js';
import { adminCall } from '../helpers/admin-call.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const CUSTOMER = { username: 'anna', password: 'customer password 123' };

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))('customer portal in a browser', () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let admin: string;

  const call = adminCall(
    () => broker.httpUrl,
    () => admin,
  );

  beforeAll(async () => {
    broker = await startTestBroker({ settings: { consoleDir } });
    admin = await loginToken(broker);
    // Two customers with a described site and a camera each; B has an open ticket.
    await call('POST', '/api/customers', { id: 'alpha', name: 'Alpha Water Works' });
    await call('POST', '/api/customers', { id: 'bravo', name: 'Bravo Harbour Ltd' });
    await call('PUT', sitePath('alpha-plant'), { name: 'Alpha plant', customerId: 'alpha' });
    await call('PUT', sitePath('bravo-quay'), { name: 'Bravo quay', customerId: 'bravo' });
    await call('PUT', `${sitePath('alpha-plant')}/devices/cam-gate`, { criticality: 'normal' });
    await call('PUT', `${sitePath('bravo-quay')}/devices/cam-mast`, { criticality: 'normal' });
    await call('POST', '/api/tickets', {
      siteId: 'bravo-quay',
      title: 'Bravo mast camera tilted',
      description: 'phoned in',
    });
    await call('PUT', userPath(CUSTOMER.username), {
      role: 'customer',
      customerId: 'alpha',
      password: CUSTOMER.password,
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  it('shows a customer its own site only, and lets it report a fault and see the ticket', async () => {
    await page.goto(broker.httpUrl);
    await page.getByLabel('Username').fill(CUSTOMER.username);
    await page.getByLabel('Password').fill(CUSTOMER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const nav = page.locator('[data-testid="portal-nav"]');
    await nav.waitFor();
    expect(await page.locator('[data-testid="portal-customer"]').textContent()).toContain('alpha');
    // The portal's three screens, none of the NOC's.
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'My sites',
      'My tickets',
      'Reports',
      'Inspection',
    ]);
    await page.locator('[data-testid="site-card"][data-site-id="alpha-plant"]').waitFor();
    expect(await page.locator('[data-testid="site-card"]').count()).toBe(1);
    expect(await page.content()).not.toContain('bravo');
    await page.screenshot({ path: join(screenshotDir, 'portal-sites.png'), fullPage: true });

    await nav.getByRole('link', { name: 'My tickets' }).click();
    // B's ticket is not on the list; the list is empty until A reports.
    await page.locator('[data-testid="no-tickets"]').waitFor();
    await page.locator('[data-testid="new-ticket"]').click();
    const form = page.locator('[data-testid="new-ticket-form"]');
    await form.waitFor();
    // Only its own site to choose, and no priority (the contract decides).
    expect(await form.locator('select[name="siteId"] option').allTextContents()).toEqual([
      'Choose a site',
      'alpha-plant',
    ]);
    expect(await form.locator('select[name="priority"]').count()).toBe(0);
    await form.locator('select[name="siteId"]').selectOption('alpha-plant');
    await form.locator('select[name="deviceId"]').selectOption('cam-gate');
    await form.getByLabel('What is wrong (one line)').fill('The picture at the gate is blurred');
    await form.getByLabel('Where, since when, what you see').fill('Since the storm last night.');
    await page.screenshot({ path: join(screenshotDir, 'portal-report.png'), fullPage: true });
    await form.getByRole('button', { name: 'Open the ticket' }).click();

    const opened = page.locator('[data-testid="new-ticket-opened"]');
    await opened.waitFor();
    const ticket = (await broker.tickets.list({ status: 'open', source: 'manual' })).find(
      (t) => t.siteId === 'alpha-plant',
    );
    expect(ticket).toMatchObject({
      deviceId: 'cam-gate',
      reportedBy: CUSTOMER.username,
      reportedVia: 'portal',
    });
    const line = page.locator(`[data-testid="ticket"][data-ticket-id="${ticket!.id}"]`);
    await line.waitFor();
    expect(await page.locator('[data-testid="ticket"]').count()).toBe(1);

    await opened.getByRole('link').click();
    const article = page.locator(`[data-testid="ticket-page"][data-ticket-id="${ticket!.id}"]`);
    await article.waitFor();
    expect(await article.locator('[data-testid="reported-by"]').textContent()).toContain(
      'anna, through the customer portal',
    );
    // No step buttons for a customer: the team works the ticket.
    await page.getByText('The maintenance team works this ticket').waitFor();
    expect(await page.locator('button[data-action]').count()).toBe(0);
    await page.screenshot({ path: join(screenshotDir, 'portal-ticket.png'), fullPage: true });

    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await page
      .locator('[data-testid="portal-nav"]')
      .getByRole('link', { name: '我的工单' })
      .waitFor();
    expect(await page.locator('[data-testid="portal-customer"]').textContent()).toContain(
      '客户门户',
    );
    await page.screenshot({ path: join(screenshotDir, 'portal-ticket-zh.png'), fullPage: true });
    await page.locator('[data-testid="language"]').selectOption('en');
  });

  it('lets the customer sign off a report issued to it', async () => {
    // November is over in Asia/Shanghai (the test clock is the real one, in December or later).
    await call('POST', '/api/sites/alpha-plant/inspection/issued', { period: '2026-11' });
    await call('POST', '/api/sites/bravo-quay/inspection/issued', { period: '2026-11' });
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
      new Date(),
    );
    await page.locator('[data-testid="portal-nav"]').getByRole('link', { name: 'Reports' }).click();
    const row = page.locator('[data-testid="issued-report"][data-site="alpha-plant"]');
    await row.waitFor();
    // B's report is not listed.
    expect(await page.locator('[data-testid="issued-report"]').count()).toBe(1);
    await row.getByRole('button', { name: 'Sign off' }).click();
    const form = page.locator('[data-testid="sign-off-form"]');
    await form.locator('input[name="name"]').fill('Anna Li');
    await form.locator('input[name="signedOn"]').fill(today);
    await form.locator('input[name="remarks"]').fill('Checked with our guard.');
    await form.locator('button[type="submit"]').click();
    await row.locator('[data-testid="sign-off"]').getByText('Anna Li').waitFor();
    expect(await page.content()).not.toContain('bravo');
    await page.screenshot({ path: join(screenshotDir, 'portal-sign-off.png'), fullPage: true });
  });

  it('lets an admin create a customer account on the users screen', async () => {
    await page.locator('[data-testid="logout"]').click();
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('nav').getByRole('link', { name: 'Users' }).click();
    const form = page.locator('[data-testid="user-form"]');
    await form.locator('input[name="username"]').fill('ben');
    await form.locator('select[name="role"]').selectOption('customer');
    await form.locator('select[name="customerId"]').selectOption('bravo');
    await form.locator('input[name="password"]').fill('customer password 456');
    await form.locator('button[type="submit"]').click();
    await page
      .locator(
        '[data-testid="user"][data-username="ben"][data-role="customer"][data-customer="bravo"]',
      )
      .waitFor();
    await page.screenshot({ path: join(screenshotDir, 'portal-users.png'), fullPage: true });
    await page.locator('[data-testid="logout"]').click();
    // Back as the customer of the other tests.
    await page.getByLabel('Username').fill(CUSTOMER.username);
    await page.getByLabel('Password').fill(CUSTOMER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  it("keeps the user's time zone for the screens, across a reload", async () => {
    await page.locator('[data-testid="time-zone"]').selectOption('Europe/Berlin');
    await page.reload();
    const zone = page.locator('[data-testid="time-zone"]');
    await page.locator('[data-testid="portal-nav"]').waitFor();
    await expect.poll(() => zone.inputValue()).toBe('Europe/Berlin');
    await zone.selectOption('');
  });
});
