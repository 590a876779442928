/**
 * The channels screen in a real browser against the whole broker (broker/app.ts) serving
 * the built console, with a local DingTalk robot (test/standins/dingtalk.ts): an admin
 * adds the robot through the form, sees its token masked, test-sends with an @-mention
 * (delivered), then with a wrong secret sees DingTalk's own refusal (310000 sign not
 * match), and deletes it. The console is the one `npm run build` put in dist/console
 * (VIGIL_TEST_CONSOLE_DIR names another build). Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';
import { DingTalkStandin } from '../standins/dingtalk.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const TOKEN = 'b6f0c1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8';
const SECRET = 'SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc';

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))('channels screen in a browser', () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let robot: DingTalkStandin;

  beforeAll(async () => {
    robot = await new DingTalkStandin(TOKEN, SECRET).start();
    broker = await startTestBroker({ settings: { consoleDir } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
    await robot?.stop();
  });

  it("adds a DingTalk robot, test-sends with a mention, shows DingTalk's refusal, deletes it", async () => {
    await page.goto(broker.httpUrl);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('nav').getByRole('link', { name: 'Channels' }).click();
    const form = page.locator('[data-testid="channel-form"]');
    await form.waitFor();
    await form.getByLabel('Name').fill('NOC 钉钉群');
    await form.getByLabel('Webhook URL (as the app shows it)').fill(robot.url);
    await form.getByLabel('Signing secret').fill(SECRET);
    await form.getByRole('button', { name: 'Add channel' }).click();
    const row = page.locator('[data-testid="channel"][data-type="dingtalk"]');
    await row.waitFor();
    // The form is ready for the next channel: empty, enabled by default.
    expect(await form.getByLabel('Name').inputValue()).toBe('');
    expect(await form.getByLabel('Enabled').isChecked()).toBe(true);
    expect(await row.locator('td').nth(4).textContent()).toBe('yes');
    expect(await row.textContent()).toContain('access_token=b6f0…f7a8');
    expect(await page.content()).not.toContain(TOKEN);
    // Audited like other admin writes, with which secrets were set but not their values.
    const audit = (await broker.desk.audit.list()).filter((e) => e.action === 'channel.create');
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({
      url: '(set)',
      secret: '(set)',
    });
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
    expect(JSON.stringify(audit)).not.toContain(SECRET);

    await page.getByLabel('Mobile to mention or text').fill('13800138000');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.locator('[data-testid="channel-test-result"][data-delivered="true"]').waitFor();
    expect(robot.messages[0]).toMatchObject({ mentioned: ['13800138000'] });
    await page.screenshot({ path: join(screenshotDir, 'channels.png'), fullPage: true });

    // A wrong secret: the edit form keeps the URL (left empty) and replaces the secret.
    await row.getByRole('button', { name: 'Edit' }).click();
    await form.getByLabel('Signing secret').fill(`SEC${'f'.repeat(64)}`);
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Send test' }).click();
    const refused = page.locator('[data-testid="channel-test-result"][data-delivered="false"]');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('310000 sign not match');

    // The delivery log: test-sends do not go through the outbox, so nothing is listed yet.
    await page.getByRole('button', { name: 'Delivery log' }).click();
    await page.getByText('Nothing sent through this channel yet.').waitFor();

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No channel yet.', { exact: false }).waitFor();
  });
});
