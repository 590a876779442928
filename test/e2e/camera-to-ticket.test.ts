/**
 * The spine of the product, with real processes: `vigil demo` starts the simulator, the
 * broker (metrics into a real influxd) and an agent; a camera is switched off through
 * the simulator; the emergency ticket must open with the contract's deadlines, the
 * camera's readings must be in InfluxDB, and the ticket must resolve when it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../shared/api/devices.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.js';

const MINUTE = 60_000;

describe('a camera fails and comes back', () => {
  let influx: RunningInfluxd;
  let demo: RunningDemo;

  beforeAll(async () => {
    influx = await startInfluxd();
    demo = await startDemo({ VIGIL_INFLUX_URL: influx.url });
  });

  afterAll(async () => {
    await demo?.stop();
    await influx?.stop();
  });

  it('shows every simulated device up', async () => {
    const devices = await eventually('26 devices up', async () => {
      const list = await demo.api<Device[]>('/api/devices');
      return list.length === 26 && list.every((d) => d.status === 'up') ? list : null;
    });
    expect(devices.filter((d) => d.kind === 'camera')).toHaveLength(24);
    expect(devices.filter((d) => d.kind === 'nvr')).toHaveLength(2);
    expect(devices.every((d) => d.serialNumber)).toBe(true);
  });

  it('opens one emergency ticket with the contract deadlines within 30 s of the camera going offline', async () => {
    const fault = await demo.sim('/sim/devices/cam-03/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'offline' }),
    });
    expect(fault.status).toBe(201);
    const switchedOffAt = Date.now();

    const ticket = await eventually(
      'an open ticket for cam-03',
      async () =>
        (await demo.api<Ticket[]>('/api/tickets?status=open')).find((t) => t.deviceId === 'cam-03'),
      30_000,
    );
    expect(Date.now() - switchedOffAt).toBeLessThan(30_000);
    expect(ticket.priority).toBe('emergency');
    expect(ticket.status).toBe('open');
    const opened = Date.parse(ticket.openedAt);
    expect(Date.parse(ticket.respondBy ?? '') - opened).toBe(10 * MINUTE);
    expect(Date.parse(ticket.onSiteBy ?? '') - opened).toBe(120 * MINUTE);

    const device = (await demo.api<Device[]>('/api/devices')).find((d) => d.id === 'cam-03');
    expect(device?.status).toBe('down');
    expect(device?.reasons[0]?.code).toBe('unreachable');

    // Further polls of the dead camera must not open a second ticket.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const open = (await demo.api<Ticket[]>('/api/tickets?status=open')).filter(
      (t) => t.deviceId === 'cam-03',
    );
    expect(open).toHaveLength(1);
  });

  it("keeps the camera's readings in InfluxDB, the failed polls included", async () => {
    const query = `SELECT "up", "responseMs" FROM "device" WHERE "device" = 'cam-03' AND "site" = 'demo-site'`;
    const rows = await eventually('cam-03 rows in InfluxDB', async () => {
      const response = await fetch(`${influx.url}/query?db=vigil&q=${encodeURIComponent(query)}`);
      const body = (await response.json()) as {
        results: { series?: { columns: string[]; values: unknown[][] }[] }[];
      };
      const values = body.results[0]?.series?.[0]?.values ?? [];
      const upColumn = body.results[0]?.series?.[0]?.columns.indexOf('up') ?? -1;
      const down = values.filter((row) => row[upColumn] === false);
      const up = values.filter((row) => row[upColumn] === true);
      return up.length > 0 && down.length > 0 ? values : null;
    });
    expect(rows.length).toBeGreaterThan(1);
  });

  it('resolves the ticket by itself when the camera is back, and says so in its timeline', async () => {
    const clear = await demo.sim('/sim/devices/cam-03/faults', { method: 'DELETE' });
    expect(clear.ok).toBe(true);
    const resolved = await eventually(
      'the cam-03 ticket resolved',
      async () =>
        (await demo.api<Ticket[]>('/api/tickets?status=all')).find(
          (t) => t.deviceId === 'cam-03' && t.status === 'resolved',
        ),
      30_000,
    );
    expect(resolved.resolvedAt).not.toBeNull();
    // The demo has no notification channel: the emergency reached nobody, and says so.
    expect(resolved.timeline.map((entry) => entry.kind)).toEqual([
      'detected',
      'notify-failed',
      'resolved',
    ]);
    expect(resolved.timeline[1]?.text).toMatch(/No channel reaches this site: nobody was notified/);
    expect(resolved.timeline[2]?.actor).toBe('system');
    expect(
      (await demo.api<Ticket[]>('/api/tickets?status=open')).filter((t) => t.deviceId === 'cam-03'),
    ).toEqual([]);
  });
});
