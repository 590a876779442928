/**
 * The Hikvision driver inside a poll (agent/poll.ts), with a fake client whose ISAPI
 * answers are the documented formats: the driver chosen from the manufacturer or the
 * config, disks judged, an account the ISAPI refuses while ONVIF accepts it (only the
 * driver waits, and its tries are spaced out like every refusal), paths the device lacks,
 * malformed answers and timeouts that never take the device down.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { identity } from '../../../../agent/checks/identity.js';
import { media } from '../../../../agent/checks/media.js';
import { DeviceMemory, type Check, type CheckContext } from '../../../../agent/checks/types.js';
import { checkDefaults } from '../../../../agent/config.js';
import { hikvision } from '../../../../agent/drivers/hikvision/index.js';
import type { DriverName } from '../../../../agent/drivers/names.js';
import {
  OnvifError,
  type DeviceInformation,
  type OnvifClient,
  type VendorAnswer,
} from '../../../../agent/onvif/types.js';
import { runChecks } from '../../../../agent/poll.js';

const FIXTURES = new URL('../../../fixtures/vendor/hikvision/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

const HIKVISION: DeviceInformation = {
  manufacturer: 'HIKVISION',
  model: 'DS-7608NXI-I2/8P/S',
  firmwareVersion: 'V4.62.210 build 230619',
  serialNumber: 'DS-7608NXI-I2/8P/S20230101CCRRJ12345678WCVU',
  hardwareId: '88',
};

type Answer = VendorAnswer | null | OnvifError;

/** A recorder that answers ONVIF with `info` and ISAPI from `routes`; it counts what is asked. */
class FakeRecorder {
  readonly asked: string[] = [];
  onvifAsked = 0;
  /** The ISAPI refuses the account (401 after credentials) on every path. */
  refusing = false;
  routes: Record<string, Answer> = {
    '/ISAPI/System/deviceInfo': ok(read('documented-deviceInfo-nvr.xml')),
    '/ISAPI/System/status': ok(read('documented-status-nvr.xml')),
    '/ISAPI/ContentMgmt/Storage': ok(read('documented-storage-empty-bay.xml')),
    '/ISAPI/ContentMgmt/InputProxy/channels': ok(read('documented-channels.xml')),
    '/ISAPI/ContentMgmt/InputProxy/channels/status': ok(read('documented-channel-status.xml')),
  };

  constructor(readonly info: DeviceInformation = HIKVISION) {}

  client(withVendor = true): OnvifClient {
    const client: Partial<OnvifClient> = {
      deviceInformation: async () => {
        this.onvifAsked += 1;
        return this.info;
      },
      channels: async () => {
        this.onvifAsked += 1;
        return [];
      },
    };
    if (withVendor) {
      client.vendorGet = async (path) => {
        this.asked.push(path);
        if (this.refusing) {
          throw new OnvifError(
            'auth-failed',
            `GET http://192.0.2.50${path} (the device's own HTTP API) refused the device's credentials (401)`,
          );
        }
        const answer = this.routes[path] ?? {
          status: 403,
          body: read('documented-response-not-supported.xml'),
        };
        if (answer instanceof OnvifError) throw answer;
        return answer;
      };
    }
    return client as OnvifClient;
  }
}

function ok(body: string): VendorAnswer {
  return { status: 200, body };
}

const CHECKS: readonly Check[] = [identity, media, ...hikvision.checks];

function context(
  recorder: FakeRecorder,
  options: {
    kind?: 'camera' | 'nvr';
    driver?: DriverName;
    memory?: DeviceMemory;
    now?: () => number;
    withVendor?: boolean;
  } = {},
): CheckContext {
  const device = {
    id: 'nvr-01',
    name: 'Recorder A',
    kind: options.kind ?? 'nvr',
    xaddr: 'http://192.0.2.50/onvif/device_service',
    ...(options.driver ? { driver: options.driver } : {}),
  };
  return {
    device,
    client: recorder.client(options.withVendor ?? true),
    signal: new AbortController().signal,
    settings: { ...checkDefaults },
    memory: options.memory ?? new DeviceMemory(),
    now: options.now ?? Date.now,
    intervalS: 15,
  };
}

describe('the driver of a device', () => {
  it('is Hikvision for a device that says HIKVISION: its disks, status and channels', async () => {
    const recorder = new FakeRecorder();
    const result = await runChecks(CHECKS, context(recorder));
    expect(result.ok).toBe(true);
    expect(result.values).toMatchObject({ up: true, storages: 1, storageUsedPct: 7.4 });
    expect(result.ok && result.degraded).toEqual([]);
    expect(result.vendor).toMatchObject({
      driver: 'hikvision',
      device: { model: 'DS-7608NXI-I2/8P/S', deviceType: 'NVR' },
      system: { cpuPct: 31, uptimeS: 1209615 },
      disks: [
        { name: 'hdd1', state: 'ok', health: 'ok' },
        { name: 'hdd2', state: 'notexist', health: 'empty' },
      ],
      channels: [
        { id: '1', online: true, name: '摄像机12' },
        { id: '2', online: false, detail: 'netUnreachable' },
        { id: '3', online: false },
        { id: '4', online: null, name: 'Gate' },
      ],
    });
    expect(recorder.asked).toEqual([
      '/ISAPI/System/deviceInfo',
      '/ISAPI/ContentMgmt/Storage',
      '/ISAPI/System/status',
      '/ISAPI/ContentMgmt/InputProxy/channels',
      '/ISAPI/ContentMgmt/InputProxy/channels/status',
    ]);
  });

  it('is ONVIF only for another manufacturer, or when the config says onvif', async () => {
    const axis = new FakeRecorder({ ...HIKVISION, manufacturer: 'AXIS' });
    const result = await runChecks(CHECKS, context(axis));
    expect(result.vendor).toBeUndefined();
    expect(result.values.storages).toBeUndefined();
    expect(axis.asked).toEqual([]);

    const told = new FakeRecorder();
    await runChecks(CHECKS, context(told, { driver: 'onvif' }));
    expect(told.asked).toEqual([]);
  });

  it('is Hikvision when the config says so, for an OEM rebrand that names itself', async () => {
    const oem = new FakeRecorder({ ...HIKVISION, manufacturer: 'LTS' });
    const result = await runChecks(CHECKS, context(oem, { driver: 'hikvision' }));
    expect(result.vendor?.driver).toBe('hikvision');
    expect(result.values.storages).toBe(1);
  });

  it('asks a camera neither for disks nor for channels', async () => {
    const camera = new FakeRecorder({ ...HIKVISION, model: 'DS-2CD2143G2-I' });
    camera.routes['/ISAPI/System/deviceInfo'] = ok(
      read('documented-deviceInfo-nvr.xml').replace('>NVR<', '>IPCamera<'),
    );
    await runChecks(CHECKS, context(camera, { kind: 'camera' }));
    expect(camera.asked).toEqual(['/ISAPI/System/deviceInfo', '/ISAPI/System/status']);
  });

  it('reads the disks of a recorder listed as a camera, since its ISAPI says NVR', async () => {
    // `vigil agent check` takes a device for a camera unless told --kind nvr.
    const recorder = new FakeRecorder();
    const result = await runChecks(CHECKS, context(recorder, { kind: 'camera' }));
    expect(result.vendor?.disks).toHaveLength(2);
    expect(result.values.storages).toBe(1);
  });

  it('reports nothing through a client without the vendor request', async () => {
    const recorder = new FakeRecorder();
    const result = await runChecks(CHECKS, context(recorder, { withVendor: false }));
    expect(result).toMatchObject({ ok: true, degraded: [] });
    expect(result.vendor).toBeUndefined();
  });
});

describe('disks', () => {
  it('gives storage-failure per failed disk; the device is degraded, not down', async () => {
    const recorder = new FakeRecorder();
    recorder.routes['/ISAPI/ContentMgmt/Storage'] = ok(read('documented-storage-failures.xml'));
    const result = await runChecks(CHECKS, context(recorder));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.values).toMatchObject({ up: true, storages: 7, storageUsedPct: 63.3 });
    expect(result.degraded.map((r) => r.message.split(': ')[0])).toEqual([
      'disk hdd2 is smartFailed',
      'disk hdd3 is error',
      'disk hdd4 is unformatted',
      'disk NAS 192.0.2.80:/volume1/nvr (id 9) is offline',
    ]);
    expect(new Set(result.degraded.map((r) => r.code))).toEqual(new Set(['storage-failure']));
  });
});

describe('an ISAPI that refuses the account ONVIF accepts', () => {
  it('degrades with its own reason, asks no more this poll, and spaces out the tries', async () => {
    const recorder = new FakeRecorder();
    recorder.refusing = true;
    let now = 1_000_000;
    const memory = new DeviceMemory();
    const poll = () => runChecks(CHECKS, context(recorder, { memory, now: () => now }));

    const first = await poll();
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.degraded).toHaveLength(1);
    expect(first.degraded[0]!.code).toBe('auth-failed');
    expect(first.degraded[0]!.message).toMatch(
      /^the device's own API refused the agent \(hikvision-device-info check: GET .*\(401\)\)\. ONVIF still answers the monitoring account/,
    );
    // One refused request, none after it in the same poll; ONVIF went on.
    expect(recorder.asked).toEqual(['/ISAPI/System/deviceInfo']);
    expect(first.values).toMatchObject({ up: true, channels: 0 });

    // The second poll tries once more (a refusal may be a glitch) ...
    now += 15_000;
    await poll();
    expect(recorder.asked).toHaveLength(2);
    // ... then not before credentialsRetryS, while ONVIF is asked every poll.
    const onvifBefore = recorder.onvifAsked;
    for (let i = 0; i < 10; i++) {
      now += 15_000;
      const waiting = await poll();
      expect(waiting.ok && waiting.degraded.map((r) => r.code)).toEqual(['auth-failed']);
    }
    expect(recorder.asked).toHaveLength(2);
    expect(recorder.onvifAsked - onvifBefore).toBe(20);

    // Fixed on the device: the next try works and the reason is gone.
    recorder.refusing = false;
    now += checkDefaults.credentialsRetryS * 1000;
    const fixed = await poll();
    expect(fixed.ok && fixed.degraded).toEqual([]);
    expect(fixed.values.storages).toBe(1);
  });

  it('on a camera, a refusal is a finding, not a ticket (the ISAPI of a camera tells nothing ONVIF does not), and its tries are spaced out all the same', async () => {
    const camera = new FakeRecorder();
    camera.refusing = true;
    let now = 1_000_000;
    const memory = new DeviceMemory();
    const poll = () =>
      runChecks(CHECKS, context(camera, { kind: 'camera', memory, now: () => now }));
    const first = await poll();
    expect(first.ok && first.degraded).toEqual([]);
    expect(first.vendor?.problems).toEqual([
      expect.stringMatching(/^the device's own API refused the agent /),
    ]);
    for (let i = 0; i < 5; i++) {
      now += 15_000;
      await poll();
    }
    // The first try and the one after; no more within credentialsRetryS.
    expect(camera.asked).toHaveLength(2);
  });

  it('is forgotten once the config says driver: onvif for the device', async () => {
    const recorder = new FakeRecorder();
    recorder.refusing = true;
    const memory = new DeviceMemory();
    const refused = await runChecks(CHECKS, context(recorder, { memory }));
    expect(refused.ok && refused.degraded.map((r) => r.code)).toEqual(['auth-failed']);
    // SIGHUP with `driver: onvif`: the same device (address, account), no vendor API.
    const after = await runChecks(CHECKS, context(recorder, { memory, driver: 'onvif' }));
    expect(after.ok && after.degraded).toEqual([]);
    expect(recorder.asked).toHaveLength(1);
  });

  it('takes an account without the right (lowPrivilege) as the same refusal', async () => {
    const recorder = new FakeRecorder();
    recorder.routes['/ISAPI/ContentMgmt/Storage'] = {
      status: 403,
      body: read('documented-response-low-privilege.xml'),
    };
    const result = await runChecks(CHECKS, context(recorder));
    expect(result.ok && result.degraded.map((r) => [r.code, r.message])).toEqual([
      [
        'auth-failed',
        expect.stringMatching(
          /hikvision-storage check: GET \/ISAPI\/ContentMgmt\/Storage refused the account the right to read it \(ISAPI statusCode 4 Invalid Operation, lowPrivilege\): give the account/,
        ),
      ],
    ]);
    expect(recorder.asked).toEqual(['/ISAPI/System/deviceInfo', '/ISAPI/ContentMgmt/Storage']);
  });
});

describe('what ISAPI lacks or garbles', () => {
  it('reports nothing for a path the device lacks, and asks again only an hour later', async () => {
    const recorder = new FakeRecorder();
    delete recorder.routes['/ISAPI/ContentMgmt/InputProxy/channels/status']; // 403 notSupport
    recorder.routes['/ISAPI/ContentMgmt/InputProxy/channels'] = null; // 404
    let now = 5_000_000;
    const memory = new DeviceMemory();
    const poll = () => runChecks(CHECKS, context(recorder, { memory, now: () => now }));
    const first = await poll();
    expect(first.ok && first.degraded).toEqual([]);
    expect(first.vendor?.channels).toBeUndefined();
    expect(first.vendor?.problems).toBeUndefined();
    const asked = (path: string): number => recorder.asked.filter((p) => p === path).length;
    for (let i = 0; i < 4; i++) {
      now += 15_000;
      await poll();
    }
    expect(asked('/ISAPI/ContentMgmt/InputProxy/channels/status')).toBe(1);
    expect(asked('/ISAPI/ContentMgmt/Storage')).toBe(5);
    now += 60 * 60 * 1000;
    await poll();
    expect(asked('/ISAPI/ContentMgmt/InputProxy/channels/status')).toBe(2);
  });

  it('keeps a malformed answer or a timeout among the findings, never a reason', async () => {
    const recorder = new FakeRecorder();
    recorder.routes['/ISAPI/ContentMgmt/Storage'] = ok('<storage><hddList><hdd></storage>');
    recorder.routes['/ISAPI/System/status'] = new OnvifError('timeout', 'no answer within 5000 ms');
    const result = await runChecks(CHECKS, context(recorder));
    expect(result).toMatchObject({ ok: true, degraded: [] });
    expect(result.values.storages).toBeUndefined();
    expect(result.vendor?.problems).toEqual([
      expect.stringMatching(/^GET \/ISAPI\/ContentMgmt\/Storage: malformed XML at line 1: /),
      'GET /ISAPI/System/status: no answer within 5000 ms',
    ]);
  });

  it('reads a vendor error as a problem with what ISAPI said', async () => {
    const recorder = new FakeRecorder();
    recorder.routes['/ISAPI/ContentMgmt/Storage'] = {
      status: 500,
      body: '<ResponseStatus><statusCode>3</statusCode><statusString>Device Error</statusString></ResponseStatus>',
    };
    const result = await runChecks(CHECKS, context(recorder));
    expect(result.vendor?.problems).toEqual([
      'GET /ISAPI/ContentMgmt/Storage: the device answered HTTP 500 (ISAPI statusCode 3 Device Error, no subStatusCode)',
    ]);
  });

  it('asks device info and status at most every ten minutes, and reports them meanwhile', async () => {
    const recorder = new FakeRecorder();
    let now = 9_000_000;
    const memory = new DeviceMemory();
    const poll = () => runChecks(CHECKS, context(recorder, { memory, now: () => now }));
    await poll();
    now += 15_000;
    const second = await poll();
    expect(second.vendor?.device?.model).toBe('DS-7608NXI-I2/8P/S');
    expect(second.vendor?.system?.cpuPct).toBe(31);
    const asked = (path: string): number => recorder.asked.filter((p) => p === path).length;
    expect(asked('/ISAPI/System/deviceInfo')).toBe(1);
    expect(asked('/ISAPI/ContentMgmt/Storage')).toBe(2);
    expect(asked('/ISAPI/ContentMgmt/InputProxy/channels/status')).toBe(2);
    now += 10 * 60 * 1000;
    await poll();
    expect(asked('/ISAPI/System/deviceInfo')).toBe(2);
  });
});
