/**
 * The user's time zone over the browser's (issue 16's leftovers), in a real browser
 * (Debian's chromium) set to America/New_York against the whole broker with the built
 * console: an operator whose setting is Asia/Shanghai types a maintenance window in
 * Shanghai time and the broker gets those instants; signed out and locked after wrong
 * passwords, the login screen gives the lock's end in Shanghai time; the admin's users
 * screen ("Locked until") too. Before, the inputs were read and the lock shown in the
 * browser's zone, thirteen hours off.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import type { LoginLock } from '../../shared/api/auth.js';
import type { MaintenanceWindow } from '../../shared/api/maintenance.js';
import {
  loginLockRoutes,
  maintenanceApiRoutes,
  userPath,
  userRoutes,
} from '../../shared/api/routes.js';
import { deviceStateExample } from '../../shared/messages/device-state.js';
import { topics } from '../../shared/topics.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import {
  connectAgent,
  loginToken,
  startTestBroker,
  TEST_ADMIN_PASSWORD,
} from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const OLGA = { username: 'olga', password: 'operator password 123' };
const SITE = 'zone-site';
const SHANGHAI = 'Asia/Shanghai';

/** "HH:MM" as the clocks of Shanghai read `at`. */
const shanghaiClock = (at: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: SHANGHAI,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(at));

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))(
  "the user's time zone in a browser set to another",
  () => {
    let broker: RunningBroker;
    let agent: MqttClient;
    let browser: Browser;
    let page: Page;
    let admin = '';

    const call = async <T>(token: string, method: string, path: string, body?: object) => {
      const res = await fetch(`${broker.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return (await res.json()) as T;
    };

    beforeAll(async () => {
      // Three wrong passwords lock here (the default is 20, test/e2e/console-login-lock).
      broker = await startTestBroker({
        settings: { consoleDir, http: { loginLimits: { failuresPerAccount: 3 } } },
      });
      admin = await loginToken(broker);
      await call(admin, 'PUT', userPath(OLGA.username), {
        role: 'operator',
        password: OLGA.password,
      });
      // Both people chose Shanghai time (the header's picker; the API here).
      const olga = await loginToken(broker, OLGA.password, OLGA.username);
      await call(olga, 'PATCH', userRoutes.session, { timeZone: SHANGHAI });
      await call(admin, 'PATCH', userRoutes.session, { timeZone: SHANGHAI });
      // A camera of the site, so that the maintenance form offers the site.
      agent = await connectAgent(broker, await broker.agents.add(SITE, 'gw-01'));
      const now = new Date().toISOString();
      const state = {
        ...deviceStateExample,
        siteId: SITE,
        ts: now,
        since: now,
        status: 'up',
        reasons: [],
      };
      await agent.publishAsync(topics.deviceState(SITE, 'cam-01'), JSON.stringify(state), {
        qos: 1,
      });
      await broker.pipeline.idle();
      browser = await launchBrowser({ timezoneId: 'America/New_York' });
      page = await browser.context.newPage();
    });

    afterAll(async () => {
      await browser?.close();
      await agent?.endAsync(true);
      await broker?.stop();
    });

    const signIn = async (username: string, password: string) => {
      await page.locator('input[name="username"]').fill(username);
      await page.locator('input[name="password"]').fill(password);
      await page.locator('[data-testid="login-form"] button[type="submit"]').click();
    };

    it('plans a maintenance window typed in Shanghai time as the Shanghai instants', async () => {
      await page.goto(broker.httpUrl);
      await page.locator('[data-testid="language"]').selectOption('en');
      // The browser's own zone is New York: what the page would assume without the setting.
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe(
        'America/New_York',
      );
      await signIn(OLGA.username, OLGA.password);
      await page.locator('[data-testid="logout"]').waitFor();
      await page.goto(`${broker.httpUrl}/#/maintenance`);
      const form = page.locator('[data-testid="maintenance-form"]');
      await form.locator(`select[name="siteId"] option[value="${SITE}"]`).waitFor({
        state: 'attached',
      });
      await form.locator('input[name="startsAt"]').fill('2027-01-20T09:00');
      await form.locator('input[name="endsAt"]').fill('2027-01-20T11:30');
      await form.locator('input[name="reason"]').fill('Mast repainted');
      await form.locator('button[value="plan"]').click();
      const row = page.locator('[data-testid="window"][data-state="planned"]');
      await row.waitFor();
      // Shown back in Shanghai time too.
      expect(await row.innerText()).toMatch(
        /Jan 20, 2027,? 09:00:00[\s\S]*Jan 20, 2027,? 11:30:00/,
      );
      await page.screenshot({ path: join(screenshotDir, 'maintenance-user-zone.png') });

      const olga = await loginToken(broker, OLGA.password, OLGA.username);
      const windows = await call<MaintenanceWindow[]>(
        olga,
        'GET',
        `${maintenanceApiRoutes.list}?include=all`,
      );
      // 09:00 and 11:30 in Shanghai (UTC+8), not in New York (UTC-5, 14:00 and 16:30 UTC).
      expect(windows.map((w) => [w.startsAt, w.endsAt])).toEqual([
        ['2027-01-20T01:00:00.000Z', '2027-01-20T03:30:00.000Z'],
      ]);
      // The form says which zone it reads.
      expect(await form.locator('[data-testid="entered-in"]').innerText()).toContain(
        'Asia/Shanghai GMT+8',
      );
    });

    it("gives a locked login's end in the zone of the user of this browser", async () => {
      await page.locator('[data-testid="logout"]').click();
      for (let i = 0; i < 3; i++) {
        await signIn(OLGA.username, 'wrong password');
        await page.locator('[data-testid="login-error"]').waitFor();
      }
      const error = page.locator('[data-testid="login-error"]');
      await expect.poll(() => error.innerText()).toContain('Too many wrong passwords');
      const [lock] = await call<LoginLock[]>(admin, 'GET', loginLockRoutes.list);
      expect(lock).toBeDefined();
      const text = await error.innerText();
      expect(text).toContain(`${shanghaiClock(lock!.until)} GMT+8`);
      await page.screenshot({ path: join(screenshotDir, 'login-locked-user-zone.png') });

      // The admin's users screen: "Locked until" in the admin's zone, Shanghai as well.
      await signIn('admin', TEST_ADMIN_PASSWORD);
      await page.locator('[data-testid="logout"]').waitFor();
      await page.goto(`${broker.httpUrl}/#/users`);
      const row = page.locator('[data-testid="login-lock"][data-address="127.0.0.1"]');
      await row.waitFor();
      expect(await row.innerText()).toContain(shanghaiClock(lock!.until));
    });
  },
);
