/**
 * The console through a failover (issue 17 part 4), in a real browser: two broker
 * processes on one real PostgreSQL, behind a real HAProxy that sends the browser to the
 * node answering 200 on GET /api/health/leader (as deploy/haproxy.cfg does). The leader
 * is killed with SIGKILL; the page says it lost the broker, then comes back live by itself
 * through the same address, now served by the other node, still signed in (the session
 * is in PostgreSQL), and a ticket opened on the new leader, for a site described on the
 * old one, reaches it as a live event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes, sitePath } from '../../shared/api/routes.js';
import { launchBrowser, screenshotDir, type Browser } from '../helpers/browser.js';
import { eventually } from '../helpers/eventually.js';
import { PairNode } from '../helpers/failover-pair.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { freePorts } from '../helpers/ports.js';

const consoleDir = fileURLToPath(new URL('../../dist/console', import.meta.url));
const OPERATOR = { username: 'noc1', password: 'noc1 password' };

/** HAProxy in front of the two nodes' HTTP ports, checking who leads every 500 ms. */
async function startHaproxy(dir: string, port: number, nodes: PairNode[]): Promise<ChildProcess> {
  const file = join(dir, 'haproxy.cfg');
  await writeFile(
    file,
    [
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 10m',
      '  timeout server 10m',
      '  default-server check inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions',
      'frontend console',
      `  bind 127.0.0.1:${port}`,
      '  default_backend brokers',
      'backend brokers',
      '  option httpchk',
      `  http-check send meth GET uri ${apiRoutes.healthLeader} ver HTTP/1.1 hdr Host vigil`,
      '  http-check expect status 200',
      ...nodes.map((node) => `  server ${node.name} 127.0.0.1:${node.httpPort}`),
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  // A server starts as up in HAProxy until its checks say otherwise (fall 2, 500 ms apart):
  // ready once ten requests in a row reach the leader, none the standby.
  await eventually(
    'HAProxy to send every request to the leader',
    async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited: ${errors}`);
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`http://127.0.0.1:${port}${apiRoutes.healthLeader}`).catch(
          () => null,
        );
        await response?.body?.cancel();
        if (response?.status !== 200) return false;
      }
      return true;
    },
    30_000,
  );
  return child;
}

describe('console across a failover of the broker pair', () => {
  let root: string;
  let postgres: RunningPostgres;
  let influx: RunningInfluxd;
  let nodes: PairNode[] = [];
  let haproxy: ChildProcess | null = null;
  let url: string;
  let browser: Browser;
  let page: Page;
  let token: string;

  const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vigil-e2e-console-failover-'));
    [postgres, influx] = await Promise.all([startPostgres(), startInfluxd()]);
    const settings = {
      postgresUrl: postgres.url,
      influxUrl: influx.url,
      influxDatabase: 'vigil_console_failover',
      extra: { consoleDir },
    };
    nodes = [
      await PairNode.create(root, 'broker-1', settings),
      await PairNode.create(root, 'broker-2', settings),
    ];
    await nodes[0]!.start();
    await eventually('broker-1 to lead', () => nodes[0]!.leads(), 30_000);
    await nodes[1]!.start();
    const [port] = (await freePorts(1)) as [number];
    url = `http://127.0.0.1:${port}`;
    haproxy = await startHaproxy(root, port, nodes);

    // An operator, made through the load balancer: kept in PostgreSQL, so both nodes know it.
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { token: string }).token;
    const created = await api('PUT', `/api/users/${OPERATOR.username}`, {
      role: 'operator',
      password: OPERATOR.password,
    });
    expect(created.status, await created.text()).toBe(200);
    // A site described on the first leader: the second one must know it (PostgreSQL).
    const site = await api('PUT', sitePath('plant-7'), { customer: 'Example Logistics' });
    expect(site.status, await site.text()).toBe(200);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    haproxy?.kill('SIGTERM');
    for (const node of nodes) await node.kill('SIGTERM');
    await influx?.stop();
    await postgres?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('comes back live by itself through the load balancer, still signed in, and shows what the new leader opens', async () => {
    await page.goto(url);
    await page.getByLabel('Username').fill(OPERATOR.username);
    await page.getByLabel('Password').fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const badge = page.locator('[data-testid="connection"]');
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    await page.locator('nav').getByRole('link', { name: 'Tickets' }).click();

    // The leader dies with everything it had in memory.
    await nodes[0]!.kill('SIGKILL');
    await page.locator('[data-testid="disconnected"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(screenshotDir, 'failover-disconnected.png') });

    // The standby takes the lease over (at most ttl + ttl/3), HAProxy sees it lead, and
    // the page reconnects on its own: no reload, no new login.
    await eventually('broker-2 to lead', () => nodes[1]!.leads(), 30_000);
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 45_000 }).toBe('live');
    expect(await page.locator('[data-testid="disconnected"]').count()).toBe(0);
    expect(await page.locator('[data-testid="logout"]').count()).toBe(1);

    // A live event from the new leader: a ticket opened there appears on the desk.
    const opened = await api('POST', apiRoutes.tickets, {
      siteId: 'plant-7',
      title: 'Gate camera dark after the failover',
      description: 'Reported by phone while the broker pair failed over.',
    });
    expect(opened.status, await opened.clone().text()).toBe(201);
    const ticket = (await opened.json()) as { id: number };
    await page
      .locator(`[data-testid="ticket"][data-ticket-id="${ticket.id}"]`)
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(screenshotDir, 'failover-live-again.png'), fullPage: true });
  }, 180_000);
});
