/**
 * Detection without storms, on the real ticket desk (SQLite, rules, SLA table) with a
 * clock the test moves: what a NOC operator would see on the ticket board.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentHealthExample } from '../../../../shared/messages/agent-health.js';
import { camera, makeDesk, type DeskFixture } from './desk-fixture.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const site = 'demo-site';

/** A site of 10 cameras and 1 NVR watched by agent gw-01. */
function siteDevices() {
  const cameras = Array.from({ length: 10 }, (_, i) =>
    camera(`cam-${String(i + 1).padStart(2, '0')}`),
  );
  return [...cameras, camera('nvr-01', { kind: 'nvr', name: 'Recorder' })];
}

describe('detector', () => {
  let f: DeskFixture;
  afterEach(async () => {
    await f?.cleanup();
  });

  it('opens one emergency ticket for an isolated camera failure at once, and resolves it on recovery', async () => {
    f = await makeDesk({}, siteDevices());
    f.report('cam-03', 'down');
    const [ticket] = await f.open();
    expect(ticket).toMatchObject({
      deviceId: 'cam-03',
      fault: 'device-down',
      priority: 'emergency',
    });
    await f.advance(MINUTE);
    f.report('cam-03', 'up');
    expect(await f.open()).toEqual([]);
    expect((await f.all())[0]?.timeline.at(-1)).toMatchObject({
      kind: 'resolved',
      actor: 'system',
    });
  });

  it('a camera down, then unknown (its NVR went down too), then back: its ticket resolves', async () => {
    f = await makeDesk({}, siteDevices());
    f.report('cam-03', 'down');
    expect((await f.open()).map((t) => [t.deviceId, t.fault])).toEqual([['cam-03', 'device-down']]);
    await f.advance(MINUTE);
    f.report('cam-03', 'unknown');
    await f.advance(MINUTE);
    f.report('cam-03', 'up');
    expect(await f.open()).toEqual([]);
    // A camera only unknown before (never down) coming up resolves nothing and opens nothing.
    f.report('cam-04', 'unknown');
    await f.advance(MINUTE);
    f.report('cam-04', 'up');
    expect((await f.all()).filter((t) => t.deviceId === 'cam-04')).toEqual([]);
  });

  it('reopens the same ticket when the same fault comes back within an hour', async () => {
    f = await makeDesk({}, siteDevices());
    f.report('cam-03', 'down');
    await f.advance(3 * SECOND);
    await f.advance(MINUTE);
    f.report('cam-03', 'up');
    await f.advance(20 * MINUTE);
    f.report('cam-03', 'down');
    await f.advance(3 * SECOND);
    const all = await f.all();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'open', occurrences: 2, resolvedAt: null });
    expect(all[0]?.timeline.map((e) => e.kind)).toEqual(['detected', 'resolved', 'reopened']);
  });

  it('agent gone: one site ticket covering its devices, no device tickets; after it is back, devices still down get their own', async () => {
    f = await makeDesk({}, siteDevices());
    f.agentOnline('gw-01');
    f.agentOffline('gw-01', 'connection-lost');
    await f.advance(3 * SECOND, false);
    let open = await f.open();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      fault: 'site-unreachable',
      deviceId: null,
      priority: 'emergency',
    });
    expect(open[0]?.covers).toHaveLength(11);
    // The agent comes back; its retained states say cam-05 is down.
    await f.advance(MINUTE, false);
    expect(await f.open()).toHaveLength(1);
    f.agentOnline('gw-01');
    f.report('cam-05', 'down');
    await f.advance(3 * SECOND);
    open = await f.open();
    expect(open.map((t) => [t.fault, t.deviceId])).toEqual([['device-down', 'cam-05']]);
    expect((await f.all()).find((t) => t.fault === 'site-unreachable')?.status).toBe('resolved');
  });

  it('agent silent past the heartbeat timeout: site unreachable, resolved by its next message', async () => {
    f = await makeDesk({}, siteDevices());
    f.agentOnline('gw-01');
    await f.advance(80 * SECOND, false);
    expect(await f.open()).toEqual([]);
    await f.advance(11 * SECOND, false); // 91 s > 90 s
    await f.advance(3 * SECOND, false); // the hold
    expect((await f.open()).map((t) => t.fault)).toEqual(['site-unreachable']);
    f.agentOnline('gw-01');
    expect(await f.open()).toEqual([]);
  });

  it('many cameras at once: one site ticket listing them, not one per camera', async () => {
    f = await makeDesk({}, siteDevices());
    f.report('cam-01', 'down'); // alone so far: its own ticket at once
    expect((await f.open()).map((t) => t.deviceId)).toEqual(['cam-01']);
    await f.advance(200);
    f.report('cam-02', 'down'); // a second one: still far from a site outage, at once too
    expect((await f.open()).map((t) => t.deviceId)).toEqual(['cam-01', 'cam-02']);
    for (const id of ['cam-03', 'cam-04']) {
      f.report(id, 'down');
      await f.advance(200);
    }
    await f.advance(3 * SECOND);
    const open = await f.open();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ fault: 'site-outage', deviceId: null, priority: 'emergency' });
    expect(open[0]?.covers).toEqual(['cam-01', 'cam-02', 'cam-03', 'cam-04']);
    // The tickets opened first were folded into the site ticket.
    for (const id of ['cam-01', 'cam-02']) {
      const folded = (await f.all()).find((t) => t.deviceId === id);
      expect(folded?.status).toBe('resolved');
      expect(folded?.timeline.at(-1)?.text).toMatch(/Folded into the site ticket/);
    }
    // Most come back; the share falls below 30 %: the site ticket resolves, and the
    // cameras still down get their own tickets.
    f.report('cam-01', 'up');
    f.report('cam-02', 'up');
    await f.advance(SECOND);
    const after = await f.open();
    expect(after.map((t) => t.deviceId).sort()).toEqual(['cam-03', 'cam-04']);
    expect((await f.all()).find((t) => t.fault === 'site-outage')?.status).toBe('resolved');
  });

  it('an NVR down covers the cameras it records; they get no tickets of their own', async () => {
    f = await makeDesk({}, siteDevices());
    await f.desk.sites.putDevice(site, 'cam-01', { recorderId: 'nvr-01' });
    await f.desk.sites.putDevice(site, 'cam-02', { recorderId: 'nvr-01' });
    f.report('nvr-01', 'down');
    f.report('cam-01', 'down');
    await f.advance(3 * SECOND);
    const open = await f.open();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ deviceId: 'nvr-01', priority: 'emergency' });
    expect(open[0]?.covers).toEqual(['cam-01', 'cam-02']);
    // The NVR is back, cam-01 stays down: now it gets its own ticket.
    f.report('nvr-01', 'up');
    await f.advance(SECOND);
    expect((await f.open()).map((t) => t.deviceId)).toEqual(['cam-01']);
  });

  it('flapping: the third failure within an hour opens one serious ticket, later failures add none', async () => {
    f = await makeDesk({}, siteDevices());
    for (let i = 0; i < 5; i++) {
      f.report('cam-07', 'down');
      await f.advance(5 * SECOND);
      f.report('cam-07', 'up');
      await f.advance(2 * MINUTE);
    }
    const all = await f.all();
    expect(all.map((t) => [t.fault, t.priority]).sort()).toEqual([
      ['device-down', 'emergency'],
      ['flapping', 'serious'],
    ]);
    const flapping = all.find((t) => t.fault === 'flapping');
    expect(flapping?.status).toBe('open');
    expect(flapping?.timeline[0]?.text).toMatch(/failed 3 times within 60 min/);
    // Quiet for an hour: the frequent-failures ticket resolves itself.
    await f.advance(61 * MINUTE);
    expect(await f.open()).toEqual([]);
  });

  it('opens nothing during maintenance, pauses nothing that is not there, and opens after if still down', async () => {
    f = await makeDesk({}, siteDevices());
    await f.desk.maintenance.create(
      { siteId: site, durationMin: 30, reason: 'switch upgrade' },
      'alice',
    );
    f.report('cam-02', 'down');
    f.agentOffline('gw-01', 'shutdown');
    await f.advance(10 * SECOND);
    f.agentOnline('gw-01');
    await f.advance(10 * MINUTE);
    expect(await f.all()).toEqual([]);
    await f.advance(21 * MINUTE); // the window is over, cam-02 is still down
    expect((await f.open()).map((t) => t.deviceId)).toEqual(['cam-02']);
  });

  it('degradations: a general ticket per reason code, resolved when the code goes away', async () => {
    f = await makeDesk({}, siteDevices());
    f.report('cam-04', 'degraded', {
      reasons: [{ code: 'clock-drift', message: 'clock 620 s ahead' }],
    });
    const [drift] = await f.open();
    expect(drift).toMatchObject({ fault: 'degraded:clock-drift', priority: 'general' });
    expect(drift?.title).toMatch(/clock drift/);
    f.report('cam-04', 'up');
    expect(await f.open()).toEqual([]);
  });

  it('criticality from the site metadata moves the priority', async () => {
    f = await makeDesk({}, siteDevices());
    await f.desk.sites.putDevice(site, 'cam-09', { criticality: 'low' });
    f.report('cam-09', 'down');
    await f.advance(3 * SECOND);
    expect((await f.open())[0]?.priority).toBe('serious');
  });

  it("an NVR's recording stopped is an emergency, as the contract lists it", async () => {
    f = await makeDesk({}, siteDevices());
    f.report('nvr-01', 'degraded', {
      reasons: [
        { code: 'recording-stopped', message: 'newest recording 20 min old', channel: 'ch2' },
      ],
    });
    expect((await f.open())[0]).toMatchObject({
      fault: 'degraded:recording-stopped',
      priority: 'emergency',
    });
    expect((await f.open())[0]?.timeline[0]?.text).toMatch(/ch2: newest recording 20 min old/);
  });

  it('gateway low on resources: one general site ticket, resolved when it recovers', async () => {
    f = await makeDesk({}, siteDevices());
    const health = {
      ...agentHealthExample,
      gateway: { cpuLoadPct: 10, memUsedPct: 40, diskUsedPct: 98 },
    };
    f.health(health);
    f.health(health);
    expect(await f.open()).toEqual([
      expect.objectContaining({
        fault: 'degraded:gateway-resources',
        deviceId: null,
        priority: 'general',
      }),
    ]);
    f.health({ ...health, gateway: { ...health.gateway, diskUsedPct: 50 } });
    expect(await f.open()).toEqual([]);
  });

  it("after a broker restart, the agent's first message resolves the site ticket of the previous run", async () => {
    f = await makeDesk({}, siteDevices());
    f.agentOffline('gw-01', 'shutdown');
    await f.advance(3 * SECOND, false);
    expect((await f.open()).map((t) => t.fault)).toEqual(['site-unreachable']);
    await f.restart();
    f.agentOnline('gw-01');
    expect(await f.open()).toEqual([]);
  });
});
