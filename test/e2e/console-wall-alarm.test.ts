/**
 * The wall's emergency alarm in a real browser against the real demo: the operator
 * enables the sound once (the browser's autoplay policy keeps an AudioContext suspended
 * until a click), a camera fails in the simulator, its emergency ticket arrives through
 * the live stream, and the wall flashes a banner naming the site, device and fault and
 * beeps; muting silences this alarm, a second emergency sounds again; acknowledging both
 * through the API (as anyone anywhere would) stops flash and beeps by themselves.
 * Screenshots land in test-output/screenshots/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteRollup } from '../../shared/api/sites.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';

/**
 * A desktop browser starts an AudioContext suspended until the page had a click (Chrome's
 * autoplay policy, https://developer.chrome.com/blog/autoplay/#web-audio). Headless
 * chromium does not, even with --autoplay-policy=user-gesture-required (tried: its
 * contexts run at once), so the page's contexts start suspended here as they would on
 * the wall's desktop browser; resume() is the real one.
 */
const holdAudio = `{
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor(...args) {
      super(...args);
      void this.suspend();
    }
  };
}`;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

describe('wall alarm in a browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;

  const controls = () => page.locator('[data-testid="alarm-controls"]');
  const beeps = async () => Number(await controls().getAttribute('data-beeps'));
  const banner = () => page.locator('[data-testid="wall-alarm"]');

  async function fail(device: string): Promise<void> {
    const response = await demo.sim(`/sim/devices/${device}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'offline' }),
    });
    expect(response.status).toBe(201);
  }

  async function emergencyOf(device: string): Promise<Ticket> {
    let found: Ticket | undefined;
    await expect
      .poll(
        async () => {
          const open = await demo.api<Ticket[]>('/api/tickets');
          found = open.find((t) => t.deviceId === device && t.priority === 'emergency');
          return found !== undefined;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    return found!;
  }

  /** The count of beeps does not move over more than one repeat period (4 s). */
  async function expectSilent(): Promise<void> {
    const before = await beeps();
    await page.waitForTimeout(5_000);
    expect(await beeps()).toBe(before);
  }

  beforeAll(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
    await browser.context.grantPermissions(['notifications'], { origin: demo.apiUrl });
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('asks once for a click to enable the sound, and remembers it', async () => {
    // The wall screen resumes its session from the cookie (signed in once, here through
    // the API with the browser's own cookie jar) and opens straight in wall mode.
    const login = await browser.context.request.post(`${demo.apiUrl}/api/auth/login`, {
      data: { username: 'admin', password: demo.adminPassword },
    });
    expect(login.status()).toBe(200);
    await page.addInitScript(holdAudio);
    await page.goto(`${demo.apiUrl}/#/wall`);
    await page.locator('[data-testid="wall"]').waitFor();
    await page.locator('[data-testid="alarm-controls"]').waitFor();

    // No emergency: no banner, and the browser holds the audio until a gesture.
    expect(await banner().count()).toBe(0);
    await expect.poll(() => controls().getAttribute('data-sound')).toBe('suspended');
    await page.getByRole('button', { name: 'Click to enable the alarm sound' }).click();
    await expect.poll(() => controls().getAttribute('data-sound')).toBe('running');
    expect(await page.getByRole('button', { name: /enable the alarm sound/ }).count()).toBe(0);
    expect(await page.evaluate("localStorage.getItem('vigil.alarm.sound')")).toBe('on');
  });

  it('flashes and beeps for a new emergency; muting silences it, a new one sounds again', async () => {
    const rollup = await demo.api<SiteRollup[]>('/api/rollup');
    await fail('cam-03');
    const first = await emergencyOf('cam-03');
    const siteName = rollup.find((s) => s.siteId === first.siteId)?.name ?? first.siteId;

    await banner().waitFor({ timeout: 30_000 });
    const row = banner().locator(`li[data-ticket-id="${first.id}"]`);
    await expect.poll(() => row.locator('[data-field="site"]').textContent()).toContain(siteName);
    expect(await row.locator('[data-field="device"]').textContent()).toContain('cam-03');
    expect(await row.locator('[data-field="fault"]').textContent()).toMatch(/down/);
    expect(await banner().getAttribute('role')).toBe('alert');
    // The oscillator plays: three beeps at once, then again every few seconds.
    await expect.poll(beeps, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const soFar = await beeps();
    await expect.poll(beeps, { timeout: 10_000 }).toBeGreaterThan(soFar);
    await shot(page, 'wall-alarm');

    await page.getByRole('button', { name: 'Mute this alarm' }).click();
    await page.locator('[data-testid="alarm-muted"]').waitFor();
    await expectSilent();
    // Muted, still flashing: the banner stays until someone acknowledges.
    expect(await banner().isVisible()).toBe(true);

    await fail('cam-04');
    const second = await emergencyOf('cam-04');
    await banner().locator(`li[data-ticket-id="${second.id}"]`).waitFor({ timeout: 30_000 });
    const mutedAt = await beeps();
    await expect.poll(beeps, { timeout: 10_000 }).toBeGreaterThan(mutedAt);
  });

  it("speaks the user's language: the banner in Chinese", async () => {
    const chosen = await page.request.patch(`${demo.apiUrl}/api/auth/session`, {
      data: { locale: 'zh-CN' },
    });
    expect(chosen.status()).toBe(200);
    await page.reload();
    await expect
      .poll(() => banner().locator('h2').textContent(), { timeout: 15_000 })
      .toBe('2 个紧急工单未确认');
    expect(await banner().locator('dt').first().textContent()).toBe('站点');
    expect(await banner().textContent()).toContain('cam-04');
    await shot(page, 'wall-alarm-zh');
  });

  it('stops flash and beeps by itself once every emergency is acknowledged elsewhere', async () => {
    const open = await demo.api<Ticket[]>('/api/tickets');
    const emergencies = open.filter((t) => t.priority === 'emergency' && t.status === 'open');
    expect(emergencies.length).toBeGreaterThanOrEqual(2);

    // One acknowledged: the other still sounds.
    const [one, ...rest] = emergencies;
    await demo.api(`/api/tickets/${one!.id}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'acknowledge' }),
    });
    await expect
      .poll(() => banner().locator(`li[data-ticket-id="${one!.id}"]`).count(), { timeout: 15_000 })
      .toBe(0);
    expect(await banner().isVisible()).toBe(true);

    for (const ticket of rest) {
      await demo.api(`/api/tickets/${ticket.id}/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'acknowledge' }),
      });
    }
    await expect.poll(() => banner().count(), { timeout: 15_000 }).toBe(0);
    await expectSilent();
    await shot(page, 'wall-alarm-acknowledged');
  });

  it('switches desktop notifications on only from the opt-in click', async () => {
    // The browser's permission was granted up front (a headless browser shows no prompt
    // to answer): even so, nothing is on until the operator opts in.
    const toggle = page.locator('[data-testid="alarm-notifications"]');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('true');
    expect(await page.evaluate("localStorage.getItem('vigil.alarm.notifications')")).toBe('on');
  });
});
