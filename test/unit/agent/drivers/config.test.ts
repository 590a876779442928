/**
 * `driver:` of a device in the agent config: one of the drivers, kept in the device's
 * config (which the poll reads, agent/drivers/index.ts), shown in the configuration the
 * NOC may see; anything else is an error by path.
 */
import { describe, expect, it } from 'vitest';
import { publicConfig } from '../../../../agent/commands.js';
import { buildConfig } from '../../../../agent/config.js';
import { VigilError } from '../../../../shared/errors.js';

const file = (driver?: unknown): Record<string, unknown> => ({
  siteId: 's1',
  agentId: 'gw-01',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'u', password: 'p' },
  onvif: { username: 'monitor', password: 'o' },
  devices: [
    { id: 'cam-01', name: 'A', kind: 'camera', xaddr: 'http://192.0.2.11/onvif/device_service' },
    {
      id: 'nvr-01',
      name: 'B',
      kind: 'nvr',
      xaddr: 'http://192.0.2.50/onvif/device_service',
      ...(driver !== undefined ? { driver } : {}),
    },
  ],
});

describe('driver: in the agent config', () => {
  it('is kept for the device that sets it, absent for the others', async () => {
    for (const driver of ['onvif', 'hikvision', 'dahua'] as const) {
      const config = await buildConfig(file(driver), '/tmp');
      expect(config.devices[0]?.driver).toBeUndefined();
      expect(config.devices[1]?.driver).toBe(driver);
      const shown = publicConfig(config).devices as Record<string, unknown>[];
      expect(shown[1]?.driver).toBe(driver);
      expect(shown[0]).not.toHaveProperty('driver');
    }
  });

  it('is refused with its path when it names no driver', async () => {
    const error = await buildConfig(file('axis'), '/tmp').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VigilError);
    expect((error as VigilError).details).toEqual([
      'devices/1/driver: must be one of "onvif", "hikvision", "dahua"',
    ]);
  });
});
