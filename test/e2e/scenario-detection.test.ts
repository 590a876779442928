/**
 * Detection scenarios with real processes: `vigil sim` faults drive `vigil agent`,
 * which reports to `vigil broker`; what the NOC sees is read from the broker's API.
 * One site for the whole file, the scenarios in order, each on its own devices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../shared/api/devices.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { eventually } from '../helpers/eventually.js';
import { startScenarioSite, type ScenarioSite } from './scenario-site.js';

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('detection scenarios on a real site', () => {
  let site: ScenarioSite;
  const tickets = (query = 'status=all') => site.api<Ticket[]>(`/api/tickets?${query}`);
  const ofDevice = async (id: string) => (await tickets()).filter((t) => t.deviceId === id);
  // A loaded machine may rightly add general tickets (slow answers, stream timeouts on a
  // 16-channel NVR); the outage assertions are about the device-down ones.
  const downOf = async (id: string) =>
    (await ofDevice(id)).filter((t) => t.fault === 'device-down');
  const device = async (id: string) =>
    (await site.api<Device[]>('/api/devices')).find((d) => d.id === id);

  beforeAll(async () => {
    site = await startScenarioSite();
    await eventually(
      'all 12 devices up',
      async () => {
        const list = await site.api<Device[]>('/api/devices');
        return list.length === 12 && list.every((d) => d.status === 'up');
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await site?.stop();
  });

  it('camera offline: one emergency ticket whose deadlines are the contract numbers', async () => {
    await site.fault('cam-03');
    const ticket = await eventually('a ticket for cam-03', async () => (await downOf('cam-03'))[0]);
    expect(ticket).toMatchObject({ priority: 'emergency', fault: 'device-down', status: 'open' });
    const opened = Date.parse(ticket.openedAt);
    expect(Date.parse(ticket.respondBy!) - opened).toBe(10 * MINUTE);
    expect(Date.parse(ticket.onSiteBy!) - opened).toBe(120 * MINUTE);
    expect(Date.parse(ticket.resolveBy!) - opened).toBe(240 * MINUTE);
    await sleep(5000); // further failed polls
    expect(await downOf('cam-03')).toHaveLength(1);
  });

  it('recovery resolves it; a relapse within the hour reopens the same ticket', async () => {
    await site.clear('cam-03');
    const resolved = await eventually('cam-03 resolved', async () => {
      const [ticket] = await downOf('cam-03');
      return ticket?.status === 'resolved' ? ticket : null;
    });
    expect(resolved.timeline.at(-1)).toMatchObject({ kind: 'resolved', actor: 'system' });

    await site.fault('cam-03');
    const reopened = await eventually('cam-03 reopened', async () => {
      const [ticket] = await downOf('cam-03');
      return ticket?.status === 'open' ? ticket : null;
    });
    expect(reopened.id).toBe(resolved.id);
    expect(reopened.occurrences).toBe(2);
    expect(await downOf('cam-03')).toHaveLength(1);
    await site.clear('cam-03');
  });

  it('flapping: three failures within the hour give one serious ticket', async () => {
    for (let i = 0; i < 3; i++) {
      await site.fault('cam-05');
      await eventually(
        `cam-05 down (${i + 1})`,
        async () => (await device('cam-05'))?.status === 'down',
      );
      await site.clear('cam-05');
      await eventually(
        `cam-05 up (${i + 1})`,
        async () => (await device('cam-05'))?.status === 'up',
      );
    }
    const flapping = await eventually('a frequent-failures ticket', async () =>
      (await ofDevice('cam-05')).find((t) => t.fault === 'flapping'),
    );
    expect(flapping.priority).toBe('serious');
    const all = await ofDevice('cam-05');
    expect(all.filter((t) => t.fault === 'flapping')).toHaveLength(1);
    // The failures before it share one reopened device-down ticket, not one each.
    expect(all.filter((t) => t.fault === 'device-down').length).toBeLessThanOrEqual(1);
  }, 90_000);

  it('NVR offline: one ticket covering the cameras it records, none for them', async () => {
    for (const camera of ['cam-07', 'cam-08']) {
      await site.api(`/api/sites/demo-site/devices/${camera}`, {
        method: 'PUT',
        body: JSON.stringify({ recorderId: 'nvr-01' }),
      });
    }
    await site.fault('nvr-01');
    const ticket = await eventually('a ticket for nvr-01', async () => (await downOf('nvr-01'))[0]);
    expect(ticket).toMatchObject({ priority: 'emergency', covers: ['cam-07', 'cam-08'] });
    await sleep(4000);
    expect(await downOf('nvr-01')).toHaveLength(1);
    expect([...(await downOf('cam-07')), ...(await downOf('cam-08'))]).toEqual([]);
    await site.clear('nvr-01');
    await eventually(
      'nvr-01 resolved',
      async () => (await downOf('nvr-01'))[0]?.status === 'resolved',
    );
  });

  it('maintenance: a device failing inside its window opens nothing', async () => {
    const window = await site.api<{ id: number }>('/api/maintenance', {
      method: 'POST',
      body: JSON.stringify({
        siteId: 'demo-site',
        deviceId: 'cam-09',
        durationMin: 30,
        reason: 'scenario',
      }),
    });
    await site.fault('cam-09');
    await eventually('cam-09 down', async () => (await device('cam-09'))?.status === 'down');
    await sleep(5000); // longer than the hold
    expect(await ofDevice('cam-09')).toEqual([]);
    await site.clear('cam-09');
    await eventually('cam-09 up', async () => (await device('cam-09'))?.status === 'up');
    await site.api(`/api/maintenance/${window.id}`, { method: 'DELETE' });
  });

  it('agent killed: one site ticket, no device tickets', async () => {
    const before = (await tickets()).length;
    await site.killAgent();
    const siteTicket = await eventually(
      'a site-unreachable ticket',
      async () => (await tickets('status=open')).find((t) => t.fault === 'site-unreachable'),
      30_000,
    );
    expect(siteTicket).toMatchObject({ deviceId: null, priority: 'emergency' });
    expect(siteTicket.covers).toHaveLength(12);
    await sleep(5000);
    const after = await tickets();
    expect(after).toHaveLength(before + 1);
  });
});
