/**
 * An HTTPS camera whose certificate changed, with real processes (`vigil demo` on a site
 * file with one https camera: simulator, broker, agent): the agent pins the camera's
 * self-signed certificate on first contact; the simulator's cert-changed fault (a new
 * certificate) becomes a general ticket naming the camera and both fingerprints, the
 * camera degraded, not down; an operator accepts the new certificate through the API (as
 * the console's button does), the acceptance is in the audit trail, and the ticket
 * resolves by itself once the next poll answers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../shared/api/audit.js';
import type { Device } from '../../shared/api/devices.js';
import type { SimDevice } from '../../shared/api/sim.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';

const CAMERA = 'cam-03';
const FAULT = 'degraded:certificate-changed';

describe('an HTTPS camera whose certificate changed', () => {
  let demo: RunningDemo;
  let browser: Browser | null = null;
  let folder = '';
  let original = '';
  let presented = '';
  const device = async () =>
    (await demo.api<Device[]>('/api/devices')).find((d) => d.id === CAMERA);
  const tickets = async () =>
    (await demo.api<Ticket[]>('/api/tickets?status=all')).filter(
      (t) => t.deviceId === CAMERA && t.fault === FAULT,
    );

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'vigil-e2e-site-'));
    const site = join(folder, 'https.yaml');
    writeFileSync(
      site,
      [
        'site: demo-site',
        'seed: demo',
        'devices:',
        '  - kind: camera',
        '    count: 2',
        '  - kind: camera',
        '    count: 1',
        '    https: true',
        '',
      ].join('\n'),
    );
    demo = await startDemo({ VIGIL_DEMO_SITE: site });
    await eventually(`${CAMERA} up`, async () => (await device())?.status === 'up', 60_000);
    const sim = (await (await demo.sim('/sim/devices')).json()) as SimDevice[];
    original = sim.find((d) => d.id === CAMERA)?.tlsFingerprint ?? '';
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('is polled over HTTPS with its pinned self-signed certificate', async () => {
    expect((await device())?.xaddr).toMatch(/^https:\/\//);
    expect(original).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('a new certificate is an alert naming the camera and both fingerprints, not an outage', async () => {
    const answer = await demo.sim(`/sim/devices/${CAMERA}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'cert-changed' }),
    });
    expect(answer.status).toBe(201);
    presented = ((await answer.json()) as SimDevice).tlsFingerprint ?? '';
    expect(presented).not.toBe(original);
    const [ticket] = await eventually(
      `a ${FAULT} ticket for ${CAMERA}`,
      async () => {
        const open = (await tickets()).filter((t) => t.status !== 'resolved');
        return open.length > 0 ? open : null;
      },
      30_000,
    );
    expect(ticket?.priority).toBe('general');
    expect(ticket?.title).toContain(CAMERA);
    const detected = ticket?.timeline[0]?.text ?? '';
    expect(detected).toContain(original);
    expect(detected).toContain(presented);
    const refused = await device();
    expect(refused?.status).toBe('degraded');
    expect(refused?.reasons).toContainEqual(
      expect.objectContaining({
        code: 'certificate-changed',
        certificate: { pinned: original, presented },
      }),
    );
  });

  it('accepted by an operator on its console page, audited, the ticket resolves by itself', async () => {
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await page.goto(demo.apiUrl);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(demo.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="device-tile"]').first().waitFor({ timeout: 30_000 });
    await page.goto(`${demo.apiUrl}/#/devices/${CAMERA}`);
    const alert = page.locator('[data-testid="certificate-changed"]');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain(original);
    expect(await page.locator('[data-testid="presented-fingerprint"]').textContent()).toBe(
      presented,
    );
    // The confirmation names the fingerprint to compare with the device; accepted.
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await page.locator('button[data-command="trust-certificate"]').click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Done: the agent ran the command.' })
      .waitFor({ timeout: 30_000 });
    expect(asked).toContain(presented);
    await eventually(
      `the ${FAULT} ticket of ${CAMERA} resolved`,
      async () => {
        const all = await tickets();
        return all.length === 1 && all[0]?.status === 'resolved';
      },
      30_000,
    );
    expect((await device())?.status).toBe('up');
    const audit = await demo.api<AuditEntry[]>(
      `/api/audit?target=${encodeURIComponent(`device:demo-site/${CAMERA}`)}`,
    );
    expect(audit[0]).toMatchObject({ actor: 'admin', action: 'device.trust-certificate' });
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toMatchObject({
      fingerprint: presented,
      previous: original,
      ok: true,
    });
  });
});
