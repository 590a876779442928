import { describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../shared/api/devices.js';
import { maintenanceExample } from '../../../shared/api/maintenance.js';
import { ticketExample } from '../../../shared/api/tickets.js';
import { filterDevices, siteSummaries } from '../../../console/src/data/fleet.js';

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

  it('rolls each site up to its most serious state, with counts', () => {
    const sites = siteSummaries(devices, [], [], []);
    expect(sites.map((s) => [s.id, s.state, s.total])).toEqual([
      ['a', 'down', 2],
      ['b', 'degraded', 1],
      ['c', 'ok', 1],
      ['d', 'unreachable', 1],
    ]);
    expect(sites[0]?.counts).toEqual({ down: 1, degraded: 0, unknown: 0, up: 1 });
  });

  it('shows a site unreachable on its open ticket and in maintenance during a site-wide window', () => {
    const unreachable = {
      ...ticketExample,
      siteId: 'c',
      fault: 'site-unreachable',
      resolvedAt: null,
    };
    const window = { ...maintenanceExample, siteId: 'a', deviceId: null, state: 'active' as const };
    const states = siteSummaries(devices, [], [unreachable], [window]).map((s) => s.state);
    expect(states).toEqual(['maintenance', 'degraded', 'unreachable', 'unreachable']);
  });

  it('names sites from their records and lists a known site without devices', () => {
    const site = {
      id: 'e',
      name: 'Empty depot',
      customer: '',
      acceptedOn: null,
      retentionGoalDays: 30,
      devices: [],
    };
    expect(siteSummaries([], [site], [], [])).toMatchObject([
      { id: 'e', name: 'Empty depot', total: 0, state: 'ok' },
    ]);
  });

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
