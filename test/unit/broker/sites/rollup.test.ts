import { describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { siteRollups } from '../../../../broker/sites/rollup.js';

const device = (id: string, siteId: string, status: Device['status']): Device => ({
  ...deviceExample,
  id,
  siteId,
  status,
});

const none = { inMaintenance: new Set<string>(), agentsOffline: new Map<string, number>() };

describe('site roll-up', () => {
  it('counts devices per status and names the worst state', () => {
    const rollups = siteRollups({
      ...none,
      devices: [
        device('cam-1', 'a', 'up'),
        device('cam-2', 'a', 'down'),
        device('cam-3', 'a', 'degraded'),
        device('cam-1', 'b', 'up'),
        device('cam-2', 'b', 'unknown'),
        device('cam-1', 'c', 'up'),
      ],
      sites: [{ id: 'c', name: 'Canal depot' }],
    });
    expect(rollups.map((r) => [r.siteId, r.name, r.state, r.total])).toEqual([
      ['a', 'a', 'down', 3],
      ['b', 'b', 'degraded', 2],
      ['c', 'Canal depot', 'ok', 1],
    ]);
    expect(rollups[0]?.counts).toEqual({ up: 1, degraded: 1, down: 1, unknown: 0 });
  });

  it('puts maintenance above everything, then an offline agent or all unknown', () => {
    const devices = [
      device('cam-1', 'works', 'down'),
      device('cam-1', 'gone', 'up'),
      device('cam-1', 'dark', 'unknown'),
      device('cam-2', 'dark', 'unknown'),
    ];
    const rollups = siteRollups({
      devices,
      sites: [],
      inMaintenance: new Set(['works']),
      agentsOffline: new Map([['gone', 1]]),
    });
    const state = Object.fromEntries(rollups.map((r) => [r.siteId, r.state]));
    expect(state).toEqual({ works: 'maintenance', gone: 'unreachable', dark: 'unreachable' });
    expect(rollups.find((r) => r.siteId === 'gone')?.agentsOffline).toBe(1);
    expect(rollups.find((r) => r.siteId === 'works')?.inMaintenance).toBe(true);
  });

  it('lists a described site without devices as ok with zero counts', () => {
    expect(siteRollups({ ...none, devices: [], sites: [{ id: 'new', name: 'New site' }] })).toEqual(
      [
        {
          siteId: 'new',
          name: 'New site',
          state: 'ok',
          total: 0,
          counts: { up: 0, degraded: 0, down: 0, unknown: 0 },
          inMaintenance: false,
          agentsOffline: 0,
        },
      ],
    );
  });

  it('orders sites by name, numbers by value', () => {
    const rollups = siteRollups({
      ...none,
      devices: [device('x', 's10', 'up'), device('x', 's9', 'up'), device('x', 's1', 'up')],
      sites: [],
    });
    expect(rollups.map((r) => r.siteId)).toEqual(['s1', 's9', 's10']);
  });
});
