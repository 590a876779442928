/**
 * A locked login in a real browser (Debian's chromium) against the whole broker with the
 * built console: the login screen says, in Chinese and in English, that this name is
 * refused from this address, until when and what to do; an admin, signed in from the
 * same address (the lock holds for that name only), lifts it on the users screen and the
 * name signs in again. Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { userPath } from '../../shared/api/routes.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const OLGA = { username: 'olga', password: 'operator password 123' };

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))('a locked login in a browser', () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // Three wrong passwords lock here, to keep the browser test short; the API test
    // (test/integration/broker/api/login-limits.test.ts) proves the default 20.
    broker = await startTestBroker({
      settings: { consoleDir, http: { loginLimits: { failuresPerAccount: 3 } } },
    });
    const admin = await loginToken(broker);
    const created = await fetch(`${broker.httpUrl}${userPath(OLGA.username)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'operator', password: OLGA.password }),
    });
    expect(created.status).toBe(200);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  const signIn = async (username: string, password: string) => {
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('[data-testid="login-form"] button[type="submit"]').click();
  };
  const errorText = () => page.locator('[data-testid="login-error"]').innerText();

  it('says in Chinese that the name is locked from this address, until when, and what to do', async () => {
    await page.goto(broker.httpUrl);
    await page.locator('[data-testid="language"]').selectOption('zh-CN');
    await signIn(OLGA.username, 'wrong password');
    await expect.poll(errorText).toBe('用户名或密码错误。');
    await signIn(OLGA.username, 'wrong password');
    await signIn(OLGA.username, 'wrong password');
    await expect.poll(errorText).toContain('输错密码次数过多');
    const text = await errorText();
    expect(text).toContain('此用户名从您的地址（127.0.0.1）');
    // The lock's end with its offset, so nobody misreads the hour.
    expect(text).toMatch(/\d{1,2}:\d{2} GMT[+-]?\d*/);
    expect(text).toContain('请管理员解除锁定');
    await page.screenshot({ path: join(screenshotDir, 'login-locked-zh.png') });

    // The right password is refused too while the lock holds, now said in English.
    await page.locator('[data-testid="language"]').selectOption('en');
    await signIn(OLGA.username, OLGA.password);
    await expect
      .poll(errorText)
      .toContain('Too many wrong passwords for this username from your address (127.0.0.1)');
    expect(await errorText()).toContain('ask an admin to lift the lock');
    await page.screenshot({ path: join(screenshotDir, 'login-locked-en.png') });
  });

  it('lets an admin at the same address lift the lock on the users screen', async () => {
    await signIn('admin', TEST_ADMIN_PASSWORD);
    await page.goto(`${broker.httpUrl}/#/users`);
    const row = page.locator('[data-testid="login-lock"][data-address="127.0.0.1"]');
    await row.waitFor();
    expect(await row.innerText()).toContain(OLGA.username);
    await page.screenshot({ path: join(screenshotDir, 'login-locks.png'), fullPage: true });
    await row.getByRole('button').click();
    await page.locator('[data-testid="no-login-locks"]').waitFor();

    const res = await fetch(`${broker.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(OLGA),
    });
    expect(res.status).toBe(200);
  });
});
