/**
 * `behind: {nvr, channel}` in the agent config (agent/config.ts): a camera only behind an
 * NVR (no xaddr) is not polled, one with xaddr is polled and keeps `behind`; every mistake
 * is refused with its path and what to do.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../../agent/config.js';
import { VigilError } from '../../../shared/errors.js';

const nvr = {
  id: 'nvr-01',
  name: 'Recorder A',
  kind: 'nvr',
  xaddr: 'http://192.0.2.50/onvif/device_service',
};

function doc(devices: Record<string, unknown>[]): Record<string, unknown> {
  return {
    siteId: 'demo-site',
    agentId: 'gw-01',
    mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'demo-site.gw-01', password: 'm' },
    onvif: { username: 'monitor', password: 'o' },
    devices,
  };
}

async function errorsOf(devices: Record<string, unknown>[]): Promise<string[]> {
  try {
    await buildConfig(doc(devices), '/tmp');
  } catch (error) {
    expect(error).toBeInstanceOf(VigilError);
    return [...((error as VigilError).details ?? [])];
  }
  throw new Error('expected the configuration to be refused');
}

describe('cameras behind an NVR in the agent config', () => {
  it('polls the NVR and a camera with its own address, and only lists one without', async () => {
    const config = await buildConfig(
      doc([
        nvr,
        { id: 'cam-poe-1', name: 'Gate', kind: 'camera', behind: { nvr: 'nvr-01', channel: 1 } },
        {
          id: 'cam-both',
          name: 'Yard',
          kind: 'camera',
          xaddr: 'http://192.0.2.12/onvif/device_service',
          behind: { nvr: 'nvr-01', channel: 2 },
        },
      ]),
      '/tmp',
    );
    expect(config.devices.map((d) => d.id)).toEqual(['nvr-01', 'cam-both']);
    expect(config.devices[1]?.behind).toEqual({ nvr: 'nvr-01', channel: 2 });
    expect(config.devices[0]).not.toHaveProperty('behind');
    expect(config.behindNvr).toEqual([
      { id: 'cam-poe-1', name: 'Gate', kind: 'camera', behind: { nvr: 'nvr-01', channel: 1 } },
    ]);
  });

  it('refuses a device with neither an address nor an NVR, saying both ways out', async () => {
    const errors = await errorsOf([{ id: 'cam-1', name: 'Gate', kind: 'camera' }]);
    expect(errors).toEqual([
      expect.stringMatching(
        /^devices\/0\/xaddr: required \(the device's ONVIF address, such as http:\/\/.*\), unless the camera is on an NVR .*behind: \{nvr: /,
      ),
    ]);
  });

  it('refuses an unknown NVR, a camera named as NVR, an NVR behind one and a channel taken twice', async () => {
    const camera = { id: 'cam-x', name: 'X', kind: 'camera', xaddr: 'http://192.0.2.13/' };
    const errors = await errorsOf([
      nvr,
      camera,
      { id: 'c1', name: 'A', kind: 'camera', behind: { nvr: 'nvr-09', channel: 1 } },
      { id: 'c2', name: 'B', kind: 'camera', behind: { nvr: 'cam-x', channel: 1 } },
      { id: 'c3', name: 'C', kind: 'camera', behind: { nvr: 'nvr-01', channel: 3 } },
      { id: 'c4', name: 'D', kind: 'camera', behind: { nvr: 'nvr-01', channel: 3 } },
      { ...nvr, id: 'nvr-02', behind: { nvr: 'nvr-01', channel: 4 } },
    ]);
    expect(errors).toEqual([
      expect.stringMatching(
        /^devices\/2\/behind\/nvr: no device "nvr-09" in this file; set it to the id of the NVR/,
      ),
      expect.stringMatching(
        /^devices\/3\/behind\/nvr: "cam-x" \(devices\/1\) is a camera, not an NVR/,
      ),
      expect.stringMatching(
        /^devices\/5\/behind\/channel: channel 3 of "nvr-01" is already devices\/4/,
      ),
      expect.stringMatching(/^devices\/6\/behind: only a camera can be behind an NVR/),
    ]);
  });

  it('refuses a channel below 1 by the schema', async () => {
    const errors = await errorsOf([
      nvr,
      { id: 'c1', name: 'A', kind: 'camera', behind: { nvr: 'nvr-01', channel: 0 } },
    ]);
    expect(errors).toEqual([expect.stringMatching(/^devices\/1\/behind\/channel: /)]);
  });
});
