import { describe, expect, it } from 'vitest';
import { buildFleet } from '../../../sim/model.js';

const plan = { siteId: 'demo-site', seed: '', cameras: 24, nvrs: 2, nvrChannels: 16 };

describe('simulated fleet', () => {
  it('has cam-01..cam-24 then nvr-01, nvr-02', () => {
    const ids = buildFleet(plan).map((d) => d.id);
    expect(ids).toHaveLength(26);
    expect(ids.slice(0, 2)).toEqual(['cam-01', 'cam-02']);
    expect(ids.slice(-3)).toEqual(['cam-24', 'nvr-01', 'nvr-02']);
  });

  it('gives the same identities on every build (a restart changes nothing)', () => {
    expect(buildFleet(plan)).toEqual(buildFleet(plan));
  });

  it('gives each device its own serial number', () => {
    const serials = buildFleet(plan).map((d) => d.identity.serialNumber);
    expect(new Set(serials).size).toBe(serials.length);
  });

  it('another seed or site gives other serial numbers', () => {
    const base = buildFleet(plan).map((d) => d.identity.serialNumber);
    const seeded = buildFleet({ ...plan, seed: '7' }).map((d) => d.identity.serialNumber);
    const other = buildFleet({ ...plan, siteId: 'other' }).map((d) => d.identity.serialNumber);
    expect(seeded.some((s, i) => s !== base[i])).toBe(true);
    expect(other.some((s, i) => s !== base[i])).toBe(true);
  });

  it('an NVR has its channels and two profiles per channel', () => {
    const nvr = buildFleet(plan).find((d) => d.id === 'nvr-01');
    expect(nvr).toMatchObject({ kind: 'nvr', channels: 16, identity: { model: 'VS-NVR-16' } });
    expect(nvr?.profiles).toHaveLength(32);
  });
});
