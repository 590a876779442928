/**
 * The NVR recording timeline in a real browser against the real broker, simulator and
 * agent (scenario site, console served): every channel of the NVR has a named track from
 * the start (the agent lists its recordings); the simulator stops recording on one
 * channel, and the device page shows a gap on that channel's track only, open while it
 * lasts; when recording resumes the gap closes, with its duration in the channel's total.
 * The agent's recording lag limit is 3 s here (120 s by default) so this takes seconds.
 * Screenshots land in test-output/screenshots/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceOutages } from '../../shared/api/outages.js';
import { deviceOutagesPath } from '../../shared/api/routes.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { startScenarioSite, type ScenarioSite } from './scenario-site.js';

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

describe("an NVR's recording gaps per channel in the console", () => {
  let site: ScenarioSite;
  let browser: Browser;
  let page: Page;
  let nvr = '';

  beforeAll(async () => {
    site = await startScenarioSite({
      console: true,
      nvrChannels: 4,
      checks: { recordingLagS: 3 },
    });
    const devices = (await (await fetch(`${site.simUrl}/sim/devices`)).json()) as {
      id: string;
      kind: string;
    }[];
    nvr = devices.find((d) => d.kind === 'nvr')!.id;
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  const track = (channel: string) =>
    page.locator(`[data-testid="channel-track"][data-channel="${channel}"]`);
  const ALL = ['REC_CH01', 'REC_CH02', 'REC_CH03', 'REC_CH04'];
  const trackChannels = () =>
    page
      .locator('[data-testid="channel-track"]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-channel')));

  it('shows every channel recording before any fault', async () => {
    await page.goto(site.apiUrl);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(site.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`[data-testid="device-tile"][data-device-id="${nvr}"]`).waitFor();
    await page.goto(`${site.apiUrl}/#/devices/${nvr}`);
    const timeline = page.locator('[data-testid="recording-timeline"]');
    await timeline.waitFor({ timeout: 30_000 });
    await expect.poll(() => timeline.getAttribute('data-gaps'), { timeout: 10_000 }).toBe('0');
    expect(await page.locator('[data-testid="recording-gap"]').count()).toBe(0);
    // Every channel has its track, clean ones included, named by its camera.
    await expect.poll(trackChannels, { timeout: 30_000 }).toEqual(ALL);
    await page
      .getByText(/channel 3$/)
      .first()
      .waitFor();
    expect(await page.locator('[data-testid="other-channels"]').count()).toBe(0);
  });

  it('draws an open gap on the stopped channel only, reachable from the keyboard', async () => {
    const response = await fetch(`${site.simUrl}/sim/devices/${nvr}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'recording-stopped', channel: 2 }),
    });
    expect(response.status).toBe(201);
    // The page loads the timeline again when the NVR's reasons change (live stream).
    await page
      .locator('[data-testid="channel-track"][data-channel="REC_CH02"][data-open]')
      .waitFor({ timeout: 30_000 });
    const gap = page.locator('[data-testid="recording-gap"][data-channel="REC_CH02"][data-open]');
    expect(await gap.count()).toBe(1);
    // All 4 channels keep their track; no other channel has a gap.
    expect(await trackChannels()).toEqual(ALL);
    const gaps = page.locator('[data-testid="recording-gap"]');
    expect(await gaps.count()).toBe(1);
    for (const other of ['REC_CH01', 'REC_CH03', 'REC_CH04']) {
      expect(await track(other).locator('[data-testid="recording-gap"]').count()).toBe(0);
      expect(await track(other).getAttribute('data-open')).toBeNull();
    }
    expect(await page.locator('[data-testid="other-channels"]').count()).toBe(0);
    await page.getByText('1 of 4 channels had a recording gap in the period.').waitFor();
    // Keyboard: the gap takes the focus and says what it is, by the camera's name.
    await gap.focus();
    expect(await gap.evaluate((el) => el.matches(':focus'))).toBe(true);
    expect(await gap.getAttribute('aria-label')).toMatch(/ channel 2: recording stopped from /);
    await shot(page, 'device-nvr-recording-gap');

    // The broker's figures say the same.
    const now = Date.now();
    const outages = await site.api<DeviceOutages>(
      deviceOutagesPath(nvr, {
        from: new Date(now - 3_600_000).toISOString(),
        to: new Date(now).toISOString(),
      }),
    );
    expect(outages.allChannels).toBe(true);
    expect(outages.channels.map((c) => [c.channel, c.open, c.spans.length])).toEqual([
      ['REC_CH01', false, 0],
      ['REC_CH02', true, 1],
      ['REC_CH03', false, 0],
      ['REC_CH04', false, 0],
    ]);
    expect(outages.channels.filter((c) => c.gapS > 0).map((c) => c.channel)).toEqual(['REC_CH02']);
    expect(outages.channelCount).toBe(4);
  });

  it('closes the gap when recording resumes, with its length in the channel total', async () => {
    // A few seconds of gap, so it has a length to show.
    await page.waitForTimeout(4_000);
    await site.clear(nvr);
    await expect
      .poll(() => track('REC_CH02').getAttribute('data-open'), { timeout: 30_000 })
      .toBeNull();
    const gap = page.locator('[data-testid="recording-gap"][data-channel="REC_CH02"]');
    expect(await gap.count()).toBe(1);
    expect(await gap.getAttribute('data-open')).toBeNull();
    const total = Number(
      await page
        .locator('[data-testid="channel-total"][data-channel="REC_CH02"]')
        .getAttribute('data-gap-s'),
    );
    expect(total).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="recording-gap"]').count()).toBe(1);
    expect(await trackChannels()).toEqual(ALL);
    for (const other of ['REC_CH01', 'REC_CH03', 'REC_CH04']) {
      expect(
        await page
          .locator(`[data-testid="channel-total"][data-channel="${other}"]`)
          .getAttribute('data-gap-s'),
      ).toBe('0');
    }
    await shot(page, 'device-nvr-recording-closed');
    // The Chinese page says the same.
    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await page.getByText('本时间范围内各通道的录像中断').waitFor();
    await shot(page, 'device-nvr-recording-zh');
    await page.locator('[data-testid="language"]').selectOption('en');
  });
});
