/** A site from a site file: its layout, per-group accounts, and faults that come and go. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../../sim/scenario.js';
import { SimSite } from '../../../sim/site.js';
import { SimClient } from './client.js';

const parsed = parseScenario(`
site: it-scenario
seed: s1
devices:
  - kind: camera
    count: 2
  - kind: camera
    personality: legacy-camera
    credentials: { username: service, password: other-pw }
  - kind: nvr
    channels: 4
    names: [Back office recorder]
faults:
  - device: cam-02
    at: 0.2
    every: 1
    fault: { kind: offline, durationS: 0.4 }
`);
if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
const { scenario } = parsed;
const site = new SimSite({
  siteId: scenario.siteId,
  seed: scenario.seed,
  devices: scenario.devices,
  timedFaults: scenario.timedFaults,
  credentials: { username: 'admin', password: 'site pw' },
});
const client = new SimClient(site);

beforeAll(() => site.start());
afterAll(() => site.stop());

describe('a site from a site file', () => {
  it('has the layout, names, personalities and accounts of the file', async () => {
    const devices = site.devices();
    expect(devices.map((d) => [d.id, d.personality, d.credentials.username])).toEqual([
      ['cam-01', 'standard', 'admin'],
      ['cam-02', 'standard', 'admin'],
      ['cam-03', 'legacy-camera', 'service'],
      ['nvr-01', 'standard', 'admin'],
    ]);
    expect(devices[3]).toMatchObject({ name: 'Back office recorder', channels: 4 });
    const info = await client.soap(
      'cam-03',
      '/onvif/device_service',
      '<tds:GetDeviceInformation/>',
    );
    expect(info.status).toBe(200);
  });

  it('a timed fault comes and goes on its own, again and again', async () => {
    const seen: string[] = [];
    const end = Date.now() + 2600;
    while (Date.now() < end) {
      const state = site.device('cam-02')?.faults.length ? 'offline' : 'up';
      if (seen.at(-1) !== state) seen.push(state);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(seen.join(' ')).toMatch(/up offline up offline up/);
  });

  it('reset clears the faults and starts the timed ones over', async () => {
    await site.setFault('cam-01', { kind: 'hang' });
    const devices = await site.reset();
    expect(devices.every((d) => d.faults.length === 0)).toBe(true);
  });
});
