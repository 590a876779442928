/**
 * Issue 16's proof for spare parts and warranty, with real processes (`vigil demo`: the
 * simulator, the broker and an agent): a camera fails and its ticket opens; the
 * simulator swaps it for another unit (fault `replaced`: same address, new serial
 * number) and brings it back; the broker links the replacement to the open ticket with
 * both serial numbers, and once the engineer records it as a warranty repair the
 * camera's warranty restarts from that day.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../shared/api/devices.js';
import type { Replacement } from '../../shared/api/parts.js';
import type { Site } from '../../shared/api/sites.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { addYears } from '../../shared/warranty.js';
import { launchBrowser, screenshotDir } from '../helpers/browser.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';

const CAMERA = 'cam-05';
const NEW_SERIAL = 'SWAP-2026-0001';

describe('a camera is swapped while its ticket is open', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDemo();
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('records the replacement on the ticket and restarts the warranty of a warranty repair', async () => {
    const before = await eventually(`${CAMERA} up with a serial number`, async () => {
      const device = (await demo.api<Device[]>('/api/devices')).find((d) => d.id === CAMERA);
      return device?.status === 'up' && device.serialNumber ? device : null;
    });
    const fault = (body: object) =>
      demo.sim(`/sim/devices/${CAMERA}/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await fault({ kind: 'offline' })).status).toBe(201);
    const ticket = await eventually(
      `an open ticket for ${CAMERA}`,
      async () =>
        (await demo.api<Ticket[]>('/api/tickets?status=open')).find((t) => t.deviceId === CAMERA),
      30_000,
    );

    // The engineer puts another unit at the same address, then it comes back.
    expect((await fault({ kind: 'replaced', serialNumber: NEW_SERIAL })).status).toBe(201);
    const back = await demo.sim(`/sim/devices/${CAMERA}/faults/offline`, { method: 'DELETE' });
    expect(back.ok).toBe(true);

    const [replacement] = await eventually(
      'the replacement on the ticket',
      async () => {
        const list = await demo.api<Replacement[]>(`/api/tickets/${ticket.id}/replacements`);
        return list.length > 0 ? list : null;
      },
      30_000,
    );
    expect(replacement).toMatchObject({
      source: 'detected',
      deviceId: CAMERA,
      oldSerial: before.serialNumber,
      newSerial: NEW_SERIAL,
      warrantyRepair: false,
    });
    const timeline = (await demo.api<Ticket>(`/api/tickets/${ticket.id}`)).timeline;
    expect(timeline.map((e) => e.text)).toContain(
      `Device replaced: serial ${before.serialNumber} → ${NEW_SERIAL}`,
    );

    const patched = await demo.api<Replacement>(
      `/api/tickets/${ticket.id}/replacements/${replacement!.id}`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ warrantyRepair: true }),
      },
    );
    // The demo site has the contract's template: 3 years, from the day in Beijing.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
      new Date(replacement!.at),
    );
    expect(patched).toMatchObject({
      warrantyRepair: true,
      warrantyStartsOn: today,
      warrantyEndsOn: addYears(today, 3),
    });
    const site = await demo.api<Site>(`/api/sites/${ticket.siteId}`);
    expect(site.devices.find((d) => d.deviceId === CAMERA)).toMatchObject({
      replacedOn: today,
      warrantyEndsOn: addYears(today, 3),
    });

    // The console's device page says the new end (with the built console only).
    if (!existsSync(join('dist', 'console', 'index.html'))) return;
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(demo.apiUrl);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(demo.adminPassword);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('nav').waitFor();
      await page.goto(`${demo.apiUrl}/#/devices/${CAMERA}`);
      const warranty = page.locator('[data-testid="warranty"]');
      await warranty.waitFor();
      expect(await warranty.textContent()).toContain(addYears(today, 3).slice(0, 4));
      await page.screenshot({ path: join(screenshotDir, 'device-replaced.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
