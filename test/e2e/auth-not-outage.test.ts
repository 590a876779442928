/**
 * A wrong password is not an outage, with real processes (`vigil demo`: simulator,
 * broker, agent): the simulator's auth-changed fault (someone changed the camera's
 * password) gives one general ticket "monitoring credentials rejected", no emergency and
 * no time down in the outage timeline or the inspection report; the camera switched off
 * on top of it still goes down (the checks without credentials go on); the fault cleared,
 * the outage ticket resolves by itself, and the refused password is not tried often
 * enough to lock the account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../shared/api/devices.js';
import { inspectionPath, type InspectionReport } from '../../shared/api/inspection.js';
import { deviceOutagesPath, type DeviceOutages } from '../../shared/api/outages.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';

const CAMERA = 'cam-07';
const HOUR = 3_600_000;

describe('a camera whose password was changed', () => {
  let demo: RunningDemo;
  let faultAt = 0;
  // A loaded machine may rightly add general tickets of its own (slow answers): the
  // assertions are about the two faults this file causes.
  const ours = new Set(['degraded:auth-failed', 'device-down']);
  const ticketsOf = async (status: 'open' | 'all' = 'all') =>
    (await demo.api<Ticket[]>(`/api/tickets?status=${status}`)).filter(
      (t) => t.deviceId === CAMERA && ours.has(t.fault),
    );
  const device = async () =>
    (await demo.api<Device[]>('/api/devices')).find((d) => d.id === CAMERA);
  const fault = (body: object) =>
    demo.sim(`/sim/devices/${CAMERA}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    demo = await startDemo();
    // The camera under test up; the rest of the site is other tests' business.
    await eventually(`${CAMERA} up`, async () => (await device())?.status === 'up', 60_000);
  }, 120_000);

  afterAll(async () => {
    await demo?.stop();
  });

  it('gets one general ticket "monitoring credentials rejected", not an emergency', async () => {
    faultAt = Date.now();
    expect((await fault({ kind: 'auth-changed', password: 'rotated-password' })).status).toBe(201);
    const ticket = await eventually(
      `an open ticket for ${CAMERA}`,
      async () => (await ticketsOf('open'))[0],
      30_000,
    );
    expect(ticket).toMatchObject({ fault: 'degraded:auth-failed', priority: 'general' });
    expect(ticket.title).toMatch(/\(cam-07\): monitoring credentials rejected$/);
    expect(Date.parse(ticket.respondBy ?? '') - Date.parse(ticket.openedAt)).toBe(2 * HOUR);
    const refused = await device();
    expect(refused?.status).toBe('degraded');
    expect(refused?.reasons).toContainEqual({
      code: 'auth-failed',
      message: expect.stringMatching(/password/),
    });
    // More polls of the refusing camera: still that one ticket, never down.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect((await ticketsOf()).map((t) => t.fault)).toEqual(['degraded:auth-failed']);
    expect((await device())?.status).toBe('degraded');
  });

  it('counts no outage time in its timeline nor in the inspection report', async () => {
    const now = new Date().toISOString();
    const timeline = await demo.api<DeviceOutages>(
      deviceOutagesPath(CAMERA, {
        from: new Date(faultAt - 60_000).toISOString(),
        to: now,
        code: 'auth-failed',
      }),
    );
    expect(timeline.down).toEqual([]);
    expect(timeline.downS).toBe(0);
    // The refusal is on the timeline, open, as what it is.
    expect(timeline.channels[0]?.spans).toMatchObject([{ code: 'auth-failed', open: true }]);

    const report = await demo.api<InspectionReport>(inspectionPath('demo-site', now.slice(0, 7)));
    const camera = report.devices.find((d) => d.deviceId === CAMERA);
    expect(camera?.outages).toEqual({ count: 0, totalS: 0, longestS: 0 });
    expect(camera?.availabilityPct).toBe(100);
  });

  it('still goes down, an emergency, when it is switched off on top of it', async () => {
    expect((await fault({ kind: 'offline' })).status).toBe(201);
    const down = await eventually(
      `a device-down ticket for ${CAMERA}`,
      async () => (await ticketsOf('open')).find((t) => t.fault === 'device-down'),
      30_000,
    );
    expect(down.priority).toBe('emergency');
    expect((await device())?.reasons.map((r) => r.code)).toEqual(['unreachable']);
  });

  it('resolves the outage by itself once the camera is back; the refused password is not hammered', async () => {
    const cleared = await demo.sim(`/sim/devices/${CAMERA}/faults`, { method: 'DELETE' });
    expect(cleared.ok).toBe(true);
    const resolved = await eventually(
      `the ${CAMERA} device-down ticket resolved`,
      async () =>
        (await ticketsOf()).find((t) => t.fault === 'device-down' && t.status === 'resolved'),
      60_000,
    );
    expect(resolved.priority).toBe('emergency');
    const back = await device();
    expect(back?.status).not.toBe('down');
    // After two refusals in a row the agent tries the credentials at most once per
    // checks.credentialsRetryS (30 min): cameras lock an account after five failed logins
    // (agent/poll.ts). So the general ticket waits for that try (or a config reload with
    // the device's new password), and the camera has not locked the account.
    expect((await ticketsOf('open')).map((t) => t.fault)).toEqual(['degraded:auth-failed']);
    const sim = await demo.sim('/sim/devices');
    const devices = (await sim.json()) as { id: string; lockouts?: unknown[] }[];
    const info = devices.find((d) => d.id === CAMERA);
    expect(info).toBeDefined();
    expect(info?.lockouts ?? []).toEqual([]);
  });
});
