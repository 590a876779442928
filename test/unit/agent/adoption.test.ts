import { describe, expect, it } from 'vitest';
import { Adoption, discoveredId, discoveredKind, sameAddress } from '../../../agent/adoption.js';
import type { DeviceConfig } from '../../../agent/config.js';
import type { DiscoveredDevice } from '../../../agent/onvif/discovery.js';
import { Secret } from '../../../agent/secret.js';

const account = { username: 'monitor', password: new Secret('site-secret') };

function found(n: number, over: Partial<DiscoveredDevice> = {}): DiscoveredDevice {
  const xaddr = `http://192.0.2.${n}/onvif/device_service`;
  return {
    endpoint: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    xaddr,
    xaddrs: [xaddr],
    scopes: [`onvif://www.onvif.org/name/Cam%20${n}`],
    name: `Cam ${n}`,
    hardware: 'IPC',
    ...over,
  };
}

const configured: DeviceConfig = {
  id: 'cam-01',
  name: 'Lobby',
  kind: 'camera',
  xaddr: 'http://192.0.2.1:80/onvif/device_service',
  ...account,
};

describe('discovered devices', () => {
  it('take their id from the endpoint UUID, or a hash of a non-UUID endpoint', () => {
    expect(discoveredId(found(7))).toBe('onvif-00000000000040008000000000000007');
    const other = discoveredId({ endpoint: 'urn:vendor:cam-7', xaddr: 'http://x/' });
    expect(other).toMatch(/^onvif-[0-9a-f]{32}$/);
    expect(discoveredId({ endpoint: 'urn:vendor:cam-7', xaddr: 'http://y/' })).toBe(other);
  });

  it('are NVRs when their scopes say Profile G or Network_Video_Storage', () => {
    expect(discoveredKind(found(1))).toBe('camera');
    expect(discoveredKind({ scopes: ['onvif://www.onvif.org/Profile/G'] })).toBe('nvr');
    expect(discoveredKind({ scopes: ['onvif://www.onvif.org/type/Network_Video_Storage'] })).toBe(
      'nvr',
    );
  });

  it('match a configured device by host, port and path', () => {
    expect(sameAddress('http://192.0.2.1/onvif/device_service', configured.xaddr)).toBe(true);
    expect(sameAddress('http://192.0.2.1:8080/onvif/device_service', configured.xaddr)).toBe(false);
  });
});

describe('Adoption', () => {
  it('auto: adopts unconfigured devices with the site account and keeps them', () => {
    const adoption = new Adoption();
    expect(adoption.update([found(1), found(2)], [configured], 'auto')).toEqual({
      devices: true,
      pending: false,
    });
    const [adopted] = adoption.adopted(account);
    expect(adoption.adopted(account)).toHaveLength(1);
    expect(adopted).toMatchObject({
      id: discoveredId(found(2)),
      name: 'Cam 2',
      username: 'monitor',
    });
    expect(adopted?.password.reveal()).toBe('site-secret');
    // The same answer again changes nothing; a device missing from a probe stays polled.
    expect(adoption.update([found(2)], [configured], 'auto').devices).toBe(false);
    expect(adoption.update([], [configured], 'auto').devices).toBe(false);
    expect(adoption.adopted(account)).toHaveLength(1);
    // A new address under the same endpoint: the same id, the new address.
    const moved = found(2, { xaddr: 'http://192.0.2.99/onvif/device_service' });
    expect(adoption.update([moved], [configured], 'auto').devices).toBe(true);
    expect(adoption.adopted(account)[0]).toMatchObject({
      id: discoveredId(found(2)),
      xaddr: moved.xaddr,
    });
    expect(adoption.pending()).toEqual([]);
  });

  it('approve: lists unconfigured devices, adopts none', () => {
    const adoption = new Adoption();
    const at = new Date('2026-11-26T08:00:00Z');
    expect(adoption.update([found(1), found(3)], [configured], 'approve', at).pending).toBe(true);
    expect(adoption.adopted(account)).toEqual([]);
    expect(adoption.pending()).toEqual([
      {
        endpoint: found(3).endpoint,
        xaddr: found(3).xaddr,
        suggestedId: discoveredId(found(3)),
        name: 'Cam 3',
        hardware: 'IPC',
        kind: 'camera',
        firstSeenAt: at.toISOString(),
        lastSeenAt: at.toISOString(),
      },
    ]);
    expect(adoption.update([found(3)], [configured], 'approve').pending).toBe(false);
    expect(adoption.update([], [configured], 'approve').pending).toBe(true);
  });
});
