/**
 * Every screen of the console in a real browser against the real demo: the language
 * switch (remembered per user on the server), the fleet, a fault turning a camera red and
 * its ticket worked from the ticket page (acknowledge, dispatch) until it resolves on
 * recovery, the incident report and the inspection report printed to PDF, the device
 * page, maintenance, users and wall mode. Screenshots land in test-output/screenshots/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

const pdfDir = join(screenshotDir, '..', 'pdf');

describe('console screens in a browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;

  /** True when the broker answers the route (not 404): another part may not have added it yet. */
  async function offers(path: string): Promise<boolean> {
    try {
      await demo.api(path);
      return true;
    } catch (error) {
      return !String(error).includes(': 404 ');
    }
  }

  beforeAll(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    mkdirSync(pdfDir, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('speaks Chinese on the login screen once chosen, and remembers it in the browser', async () => {
    await page.goto(demo.apiUrl);
    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await expect.poll(() => page.getByRole('button', { name: '登录' }).count()).toBe(1);
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await shot(page, 'login-zh');
    await page.reload();
    await expect.poll(() => page.getByRole('button', { name: '登录' }).count()).toBe(1);
    await page.locator('[data-testid="language"]').selectOption('en');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('logs in and shows the sites with their roll-up and the devices', async () => {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(demo.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="device-tile"][data-device-id="cam-03"]').waitFor();
    await expect
      .poll(
        () =>
          page.locator('[data-testid="status-count"][data-status="up"]').getAttribute('data-count'),
        {
          timeout: 30_000,
        },
      )
      .toBe('26');
    await expect
      .poll(() => page.locator('[data-testid="site-card"]').first().getAttribute('data-state'))
      .toBe('ok');
    // The site's figures are the broker's roll-up (GET /api/rollup), kept current.
    await expect
      .poll(() => page.locator('[data-testid="site-card"]').first().getAttribute('data-total'), {
        timeout: 10_000,
      })
      .toBe('26');
    // The search keeps what matches.
    await page.locator('[data-testid="device-search"]').fill('nvr');
    await expect.poll(() => page.locator('[data-testid="device-tile"]').count()).toBeLessThan(26);
    await page.locator('[data-testid="device-search"]').fill('');
    await shot(page, 'fleet');
  });

  let ticketId = 0;

  it('turns the camera red and its site down on a fault, with a running countdown', async () => {
    const response = await demo.sim('/sim/devices/cam-03/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'offline' }),
    });
    expect(response.status).toBe(201);
    await page
      .locator('[data-testid="device-tile"][data-device-id="cam-03"][data-status="down"]')
      .waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('[data-testid="site-card"]').first().getAttribute('data-state'))
      .toBe('down');
    const ticket = page.locator('[data-testid="ticket"][data-ticket-device="cam-03"]').first();
    await ticket.waitFor({ timeout: 30_000 });
    ticketId = Number(await ticket.getAttribute('data-ticket-id'));
    const countdown = ticket.locator(
      '[data-deadline="respond-by"] [data-testid="countdown-value"]',
    );
    const first = await countdown.textContent();
    await page.waitForTimeout(1_500);
    expect(await countdown.textContent()).not.toBe(first);
    await shot(page, 'fleet-fault');
  });

  it('works the ticket from its page: acknowledge, dispatch an engineer', async () => {
    await page
      .locator(`[data-ticket-id="${ticketId}"] [data-testid="ticket-link"]`)
      .first()
      .click();
    await page.locator('[data-testid="ticket-page"]').waitFor();
    expect(page.url()).toContain(`#/tickets/${ticketId}`);
    await shot(page, 'ticket');
    expect(await offers(`/api/tickets/${ticketId}/report`)).toBe(true);
    await page.locator('button[data-action="acknowledge"]').click();
    await expect
      .poll(() => page.locator('[data-testid="ticket-page"]').getAttribute('data-status'))
      .toBe('acknowledged');
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.locator('button[data-action="dispatch"]').click();
    await page.getByLabel('Engineer to send').fill('Li Wei');
    await page.locator('[data-testid="action-form"] button[type="submit"]').click();
    await expect
      .poll(() => page.locator('[data-testid="ticket-page"]').getAttribute('data-status'))
      .toBe('dispatched');
    await expect
      .poll(() =>
        page.locator('vigil-countdown[data-deadline="respond-by"]').getAttribute('data-state'),
      )
      .toBe('met');
    await shot(page, 'ticket-dispatched');
  });

  it('shows the ticket resolved when the camera is back', async () => {
    await demo.sim('/sim/devices/cam-03/faults', { method: 'DELETE' });
    await expect
      .poll(() => page.locator('[data-testid="ticket-page"]').getAttribute('data-status'), {
        timeout: 30_000,
      })
      .toBe('resolved');
    await shot(page, 'ticket-resolved');
  });

  it("closes the ticket with the customer's confirmation, after asking", async () => {
    expect(await offers(`/api/tickets/${ticketId}/report`)).toBe(true);
    await page.locator('button[data-action="close"]').click();
    await page.getByLabel("Customer's confirmation (name, how)").fill('Ms Zhang, by phone');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('[data-testid="action-form"] button[type="submit"]').click();
    await expect
      .poll(() => page.locator('[data-testid="ticket-page"]').getAttribute('data-status'))
      .toBe('closed');
  });

  it('prints the incident report', async () => {
    expect(await offers(`/api/tickets/${ticketId}/report`)).toBe(true);
    await page.locator('[data-testid="report-link"]').click();
    await page.locator('[data-testid="incident-report"]').waitFor();
    await shot(page, 'incident-report');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(pdfDir, 'incident-report.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('shows the device page with its identity, checks and metric charts', async () => {
    await page.goto(`${demo.apiUrl}/#/devices/cam-03`);
    await page.locator('[data-testid="device-page"]').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('[data-testid="chart"]').first().getAttribute('data-points'), {
        timeout: 15_000,
      })
      .not.toBe('0');
    await shot(page, 'device');
  });

  it("shows an NVR's recording: channels, gaps on a time line, channels stopped over time", async () => {
    await page.goto(`${demo.apiUrl}/#/devices/nvr-01`);
    const timeline = page.locator('[data-testid="recording-timeline"]');
    await timeline.waitFor({ timeout: 30_000 });
    // Nothing stopped recording in the demo: every channel of the NVR has its track, none
    // with a gap in the hour (the broker's outage history from the agent's list of
    // recordings; test/e2e/console-recording.test.ts injects a gap).
    const sim = (await (await fetch(`${demo.simUrl}/sim/devices`)).json()) as {
      id: string;
      channels: number;
    }[];
    const channels = sim.find((d) => d.id === 'nvr-01')!.channels;
    expect(channels).toBeGreaterThan(1);
    await expect
      .poll(() => timeline.getAttribute('data-channels'), { timeout: 30_000 })
      .toBe(String(channels));
    expect(await timeline.getAttribute('data-all-channels')).not.toBeNull();
    expect(await timeline.getAttribute('data-gaps')).toBe('0');
    expect(await page.locator('[data-testid="recording-gap"]').count()).toBe(0);
    // Its own tickets only (the page was showing cam-03 and its ticket just before).
    await expect.poll(() => page.getByText('Main gate').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="chart"]').count()).toBe(3);
    await shot(page, 'device-nvr');
    await page.goto(`${demo.apiUrl}/#/devices/cam-03`);
    await page.locator('[data-testid="device-page"]').waitFor({ timeout: 30_000 });
  });

  it('polls the device now through its agent and says it is done', async () => {
    const probe = await fetch(`${demo.apiUrl}/api/sites/demo-site/agents/gw-01/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    // 401 (no session here) when the route exists, 404 when the broker lacks it.
    expect(probe.status).not.toBe(404);
    await page.locator('button[data-command="poll-now"]').click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Done: the agent ran the command.' })
      .waitFor({ timeout: 20_000 });
  });

  it('starts a maintenance window now, shows the site in maintenance, and ends it', async () => {
    expect(await offers('/api/maintenance')).toBe(true);
    await page.goto(`${demo.apiUrl}/#/maintenance`);
    await page.locator('[data-testid="maintenance-form"]').waitFor();
    await page.getByLabel('Reason').fill('Replace the core switch');
    await page.locator('[data-testid="start-now"]').click();
    const window = page.locator('[data-testid="window"][data-state="active"]');
    await window.waitFor();
    await shot(page, 'maintenance');
    await page.goto(`${demo.apiUrl}/#/fleet`);
    // The broker's roll-up, asked again as soon as the window started.
    await expect
      .poll(() => page.locator('[data-testid="site-card"]').first().getAttribute('data-state'), {
        timeout: 5_000,
      })
      .toBe('maintenance');
    await page.goto(`${demo.apiUrl}/#/maintenance`);
    await page.locator('[data-testid="end-window"]').click();
    await expect.poll(() => window.count()).toBe(0);
  });

  it('shows the users and wall screens', async () => {
    await page.goto(`${demo.apiUrl}/#/users`);
    await page.locator('[data-testid="user"][data-username="admin"]').waitFor();
    await shot(page, 'users');
    await page.goto(`${demo.apiUrl}/#/wall`);
    await page.locator('[data-testid="wall"]').waitFor();
    await shot(page, 'wall');
  });

  it('opens the inspection report of the current month and prints it to PDF', async () => {
    const month = new Date().toISOString().slice(0, 7);
    expect(await offers(`/api/sites/demo-site/inspection?period=${month}`)).toBe(true);
    await page.goto(`${demo.apiUrl}/#/inspection?site=demo-site&period=${month}`);
    await page
      .locator(`[data-testid="inspection-report"][data-period="${month}"]`)
      .waitFor({ timeout: 30_000 });
    // The weekly trends the agents measured: a chart per figure from the second week of
    // the period on, one table before (the demo has run for minutes: one week).
    const trends = page.locator(
      '[data-testid="trends"] [data-testid="trend"][data-kind="chart"], [data-testid="trend-table"] tbody tr',
    );
    await expect.poll(() => trends.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(page, 'inspection');
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'inspection-print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    await page.emulateMedia({ media: 'screen' });
    writeFileSync(join(pdfDir, 'inspection.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(10_000);
  });

  it('switches to Chinese and keeps it for the user after a reload', async () => {
    await page.goto(`${demo.apiUrl}/#/fleet`);
    await page.locator('[data-testid="device-tile"]').first().waitFor();
    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await page.getByRole('link', { name: '设备总览' }).waitFor();
    await expect
      .poll(async () => (await demo.api<{ locale: string }>('/api/auth/session')).locale)
      .toBe('zh-CN');
    // Another browser of the same user (no local choice) gets Chinese from the server.
    await page.evaluate('localStorage.clear()');
    await page.reload();
    await page.getByRole('link', { name: '设备总览' }).waitFor({ timeout: 15_000 });
    await shot(page, 'fleet-zh');
    await page.goto(`${demo.apiUrl}/#/tickets`);
    await page.getByRole('heading', { name: '工单台' }).waitFor();
    await shot(page, 'tickets-zh');
    await page.goto(`${demo.apiUrl}/#/tickets/${ticketId}`);
    await page.locator('[data-testid="ticket-page"]').waitFor();
    await page.getByRole('heading', { name: /故障离线/ }).waitFor();
    await shot(page, 'ticket-zh');
    await page.goto(`${demo.apiUrl}/#/wall`);
    await page.locator('[data-testid="wall"]').waitFor();
    await shot(page, 'wall-zh');
  });
});
