/**
 * The on-call screen in a real browser against the whole broker (broker/app.ts) serving the
 * built console: an admin adds a person (a bad mobile number refused with the field to fix),
 * a team, its rota and its coverage through the forms; "on call now" names the engineer,
 * the site lookup finds the team by the site's customer, and the screen speaks Chinese.
 * The console is the one `npm run build` put in dist/console (VIGIL_TEST_CONSOLE_DIR names
 * another build). Screenshots land in test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/app.js';
import { oncallApiRoutes } from '../../shared/api/oncall.js';
import { sitePath } from '../../shared/api/sites.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { loginToken, startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.js';

const consoleDir =
  process.env.VIGIL_TEST_CONSOLE_DIR ??
  fileURLToPath(new URL('../../dist/console/', import.meta.url));

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

describe.skipIf(!existsSync(join(consoleDir, 'index.html')))('on-call screen in a browser', () => {
  let broker: RunningBroker;
  let browser: Browser;
  let page: Page;
  let token: string;

  const api = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
  };

  beforeAll(async () => {
    broker = await startTestBroker({ settings: { consoleDir } });
    token = await loginToken(broker);
    // The second engineer and the site come from the API; the rest from the forms.
    await api('POST', oncallApiRoutes.people, { id: 'li-na', name: '李娜', phone: '13900139000' });
    await api('PUT', sitePath('plant-7'), { customer: 'Example Logistics Ltd' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });

  it('adds a person, refusing a bad mobile number with the field to fix', async () => {
    await page.goto(broker.httpUrl);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('nav').getByRole('link', { name: 'On call' }).click();
    const form = page.locator('[data-testid="person-form"]');
    await form.waitFor();
    await form.getByLabel('Id (e.g. zhang-wei)').fill('zhang-wei');
    await form.getByLabel('Name').fill('张伟');
    await form.getByLabel('Mobile (11 digits)').fill('138 0013');
    await form.getByRole('button', { name: 'Add person' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'phone: "138 0013" is not a mainland mobile number' })
      .waitFor();
    await form.getByLabel('Mobile (11 digits)').fill('+86 138-0013-8000');
    await form.getByRole('button', { name: 'Add person' }).click();
    const person = page.locator('[data-testid="person"][data-person="zhang-wei"]');
    await person.waitFor();
    expect(await person.textContent()).toContain('13800138000');
    // Changed later: the same form, filled in, saves with PATCH.
    await person.locator('[data-testid="edit-person"]').click();
    expect(await form.getByLabel('Mobile (11 digits)').inputValue()).toBe('13800138000');
    await form.getByLabel('Email').fill('zhang.wei@example.com');
    await form.getByRole('button', { name: 'Save person' }).click();
    await expect.poll(() => person.textContent()).toContain('zhang.wei@example.com');
  });

  it('adds a team with its rota and coverage, and shows who is on call now', async () => {
    const team = page.locator('[data-testid="team-form"]');
    await team.getByLabel('Id (e.g. east-china)').fill('east');
    await team.getByLabel('Name').fill('华东运维组');
    await team.getByLabel('Team lead').selectOption('li-na');
    await team.getByRole('button', { name: 'Add team' }).click();
    await page.locator('[data-testid="team"][data-team="east"]').waitFor();

    await page.locator('[data-testid="team"][data-team="east"] [data-testid="open-team"]').click();
    const rotation = page.locator('[data-testid="rotation-form"]');
    await rotation.waitFor();
    // One person on call the whole time, so the answer does not depend on today's date.
    await rotation.getByLabel('People in turn (ids, comma-separated)').fill('zhang-wei');
    await rotation.getByLabel('From').fill('2020-01-01');
    await rotation.getByRole('button', { name: 'Add rotation' }).click();
    await page.locator('[data-testid="rotation"]').waitFor();
    // The next 14 days: zhang-wei the whole time, one turn.
    await expect
      .poll(() => page.locator('[data-testid="turn"]').first().getAttribute('data-person'))
      .toBe('zhang-wei');
    // The team's own fields: li-na becomes the supervisor too.
    const edit = page.locator('[data-testid="team-edit-form"]');
    await edit.getByLabel('Supervisor').selectOption('li-na');
    await edit.getByRole('button', { name: 'Save team' }).click();
    await expect
      .poll(() => page.locator('[data-testid="oncall-now"][data-team="east"]').textContent())
      .toContain('李娜 / 李娜 / –');

    const coverage = page.locator('[data-testid="coverage-form"]');
    await coverage.getByLabel('Covers').selectOption('customer');
    await coverage.getByLabel('Site id or customer').fill('example logistics ltd');
    await coverage.getByRole('button', { name: 'Set' }).click();
    await page.locator('[data-testid="coverage"][data-scope="customer"]').waitFor();

    await expect
      .poll(() =>
        page.locator('[data-testid="oncall-now"][data-team="east"]').getAttribute('data-engineer'),
      )
      .toBe('zhang-wei');
    const lookup = page.locator('[data-testid="site-lookup"]');
    await lookup.getByLabel('Site').fill('plant-7');
    await lookup.getByRole('button', { name: 'Who is on call for a site' }).click();
    const answer = page.locator('[data-testid="site-answer"]');
    await answer.waitFor();
    expect(await answer.getAttribute('data-team')).toBe('east');
    expect(await answer.textContent()).toContain('张伟');
    await shot(page, 'oncall');
  });

  it('speaks Chinese', async () => {
    await page.locator('select[data-testid="language"]').selectOption('zh-CN');
    await page.getByRole('heading', { name: '当前值班' }).waitFor();
    await page.locator('nav').getByRole('link', { name: '值班' }).waitFor();
    await shot(page, 'oncall-zh');
  });
});
