import { describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import { filterDevices } from '../../../console/src/data/fleet.js';

const device = (id: string, siteId: string, status: Device['status'], name = id): Device => ({
  ...deviceExample,
  id,
  siteId,
  status,
  name,
});

describe('the fleet', () => {
  const devices = [
    device('cam-2', 'a', 'up'),
    device('cam-10', 'a', 'down', 'Main gate'),
    device('cam-1', 'b', 'degraded'),
    device('nvr-1', 'c', 'up'),
    device('cam-1', 'd', 'unknown'),
  ];

  // The site roll-up is the broker's (test/unit/broker/sites/rollup.test.ts).

  it('filters by site, status and words, in a stable order that a status change does not move', () => {
    const all = filterDevices(devices, { siteId: null, status: null, search: '' });
    expect(all.map((d) => `${d.siteId}/${d.id}`)).toEqual([
      'a/cam-2',
      'a/cam-10',
      'b/cam-1',
      'c/nvr-1',
      'd/cam-1',
    ]);
    expect(
      filterDevices(devices, { siteId: 'a', status: 'down', search: '' }).map((d) => d.id),
    ).toEqual(['cam-10']);
    expect(
      filterDevices(devices, { siteId: null, status: null, search: 'main GATE' }).map((d) => d.id),
    ).toEqual(['cam-10']);
    const changed = devices.map((d) => (d.id === 'cam-2' ? { ...d, status: 'down' as const } : d));
    expect(
      filterDevices(changed, { siteId: null, status: null, search: '' }).map((d) => d.id),
    ).toEqual(all.map((d) => d.id));
  });
});
