/**
 * The console through a broker restart, in a real browser against a real broker process:
 * while the broker is down the page says so (banner and badge) and keeps what it showed;
 * when the broker is back the live stream reconnects by itself, the banner goes, and the
 * session (kept in the broker's SQLite) is still signed in: no reload, no new login.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import {
  startBrokerProcess,
  writeBrokerConfig,
  type BrokerProcess,
} from '../helpers/broker-process.js';
import { freePorts } from '../helpers/ports.js';

const consoleDir = fileURLToPath(new URL('../../dist/console', import.meta.url));

describe('console across a broker restart', () => {
  let dataDir: string;
  let config: string;
  let url: string;
  let broker: BrokerProcess | null = null;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-reconnect-'));
    const [httpPort, mqttPort] = (await freePorts(2)) as [number, number];
    url = `http://127.0.0.1:${httpPort}`;
    config = await writeBrokerConfig(dataDir, {
      http: { host: '127.0.0.1', port: httpPort },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      consoleDir,
    });
    broker = await startBrokerProcess(config);
    // An operator made by the admin through the users API: the admin's own sessions end at
    // every start, because VIGIL_ADMIN_PASSWORD sets the admin's password again.
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const created = await fetch(`${url}/api/users/noc1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ role: 'operator', password: 'noc1 password' }),
    });
    expect(created.status).toBe(200);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says it is disconnected while the broker is down and comes back live by itself', async () => {
    await page.goto(url);
    await page.getByLabel('Username').fill('noc1');
    await page.getByLabel('Password').fill('noc1 password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const badge = page.locator('[data-testid="connection"]');
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 15_000 }).toBe('live');

    await broker?.kill('SIGTERM');
    broker = null;
    await page.locator('[data-testid="disconnected"]').waitFor({ timeout: 15_000 });
    expect(await badge.getAttribute('data-state')).toBe('reconnecting');
    await page.screenshot({ path: join(screenshotDir, 'disconnected.png') });

    broker = await startBrokerProcess(config);
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 45_000 }).toBe('live');
    expect(await page.locator('[data-testid="disconnected"]').count()).toBe(0);
    // Still signed in: the header, not the login form.
    expect(await page.locator('[data-testid="logout"]').count()).toBe(1);
  });
});
