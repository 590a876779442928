/**
 * The vendor drivers against answers real devices gave, as public projects recorded them
 * (test/fixtures/vendor/<vendor>/SOURCE.md names each source, its licence and what was
 * changed): what the Hikvision driver reads from a Hikvision camera's own ISAPI answers,
 * byte for byte as a vcrpy cassette of MissiaL/hikvision-client (MIT) holds them, CR LF
 * line ends included, and how it takes a published ResponseStatus `methodNotAllowed`
 * (evercam/hikvision_client, MIT). The documented formats are held in ./drivers/.
 *
 * What these answers showed, and what the tests hold the driver to:
 * - a camera says `<deviceType>IPCamera</deviceType>`: it is no recorder, so its storage
 *   (a memory card) and its InputProxy channels (it has none) are never asked;
 * - DeviceStatus carries `CameraList` and `DomeInfoList` beside the CPU and memory lists,
 *   with `heatState` and `fanState` but no temperature: read as no temperature, the extra
 *   lists ignored; memory is KiB-ish numbers of no stated unit (73 used, 40596 available),
 *   which is why the driver does not read memory;
 * - the 401 of that firmware is an HTML page with a Digest challenge that puts `qop`
 *   first, names no algorithm (MD5, RFC 7616 section 3.3), no opaque, and `stale="FALSE"`
 *   in capitals.
 * And what a real recorder described in prose showed (not a recording, so no fixture): a
 * disk set to `Redund` beside a `RW` one sits idle, so storageUsedPct pools read-write
 * disks only (agent/drivers/disks.ts recordsOnto, changed for it).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { identity } from '../../../agent/checks/identity.js';
import { DeviceMemory, type Check, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { judgeDisks } from '../../../agent/drivers/disks.js';
import { hikvision } from '../../../agent/drivers/hikvision/index.js';
import {
  diskAdvice,
  isapiGet,
  parseDeviceInfo,
  parseSystemStatus,
  PATHS,
  responseStatusOf,
} from '../../../agent/drivers/hikvision/isapi.js';
import { isRecorder, driverMemory, type Disk } from '../../../agent/drivers/types.js';
import { authorizerFor, isStale, parseChallenges } from '../../../agent/onvif/http-auth.js';
import { parseXml } from '../../../agent/onvif/soap.js';
import type { DeviceInformation, OnvifClient, VendorAnswer } from '../../../agent/onvif/types.js';
import { runChecks } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';

const HIKVISION = new URL('../../fixtures/vendor/hikvision/', import.meta.url);
const raw = (name: string): string => readFileSync(new URL(name, HIKVISION), 'utf8');

/** The DS-2CD2155FWD-I of the cassettes, on firmware V5.5.0 and V5.4.5. */
const CAMERA = {
  'V5.5.0': {
    deviceInfo: 'recorded-deviceInfo-camera-DS-2CD2155FWD-I-V5.5.0.xml',
    status: 'recorded-status-camera-DS-2CD2155FWD-I-V5.5.0.xml',
  },
  'V5.4.5': {
    deviceInfo: 'recorded-deviceInfo-camera-DS-2CD2155FWD-I-V5.4.5.xml',
    status: 'recorded-status-camera-DS-2CD2155FWD-I-V5.4.5.xml',
  },
} as const;

/**
 * The challenge that camera sent with its 401 (cassette test_auth_firmware_v5_5, the
 * response headers of its first interaction; SOURCE.md), as one header line.
 */
const RECORDED_CHALLENGE =
  'Digest qop="auth", realm="IP Camera(83813)", ' +
  'nonce="4d5755784d7a41344d546b365a446b31597a51354e513d3d", stale="FALSE"';

describe('a Hikvision camera as recorded (DS-2CD2155FWD-I, MissiaL/hikvision-client, MIT)', () => {
  it('answers with CR LF line ends, as the cassette holds the bytes', () => {
    for (const files of Object.values(CAMERA)) {
      for (const name of Object.values(files)) {
        const body = raw(name);
        expect(body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\r\n')).toBe(true);
        expect(body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      }
    }
  });

  it('reads its identity: a camera (IPCamera), model, firmware, anonymised serial', () => {
    expect(parseDeviceInfo(parseXml(raw(CAMERA['V5.5.0'].deviceInfo)))).toEqual({
      model: 'DS-2CD2155FWD-I',
      // The upstream replaced the serial number and MAC address with X before publishing.
      serialNumber: 'DS-2CD2155FWD-XXXXXXXXXXXXXXXXXXXXX',
      firmwareVersion: 'V5.5.0',
      deviceType: 'IPCamera',
      macAddress: 'XX:XX:XX:XX:XX:XX',
    });
    expect(parseDeviceInfo(parseXml(raw(CAMERA['V5.4.5'].deviceInfo)))).toMatchObject({
      model: 'DS-2CD2155FWD-I',
      firmwareVersion: 'V5.4.5',
      deviceType: 'IPCamera',
    });
  });

  it('reads its status: the CPU and uptime; no temperature in the dome lists', () => {
    // V5.5.0 adds CameraList and DomeInfoList (heatState, fanState): no temperature.
    expect(parseSystemStatus(parseXml(raw(CAMERA['V5.5.0'].status)))).toEqual({
      cpuPct: 100,
      uptimeS: 2900578,
    });
    expect(parseSystemStatus(parseXml(raw(CAMERA['V5.4.5'].status)))).toEqual({
      cpuPct: 30,
      uptimeS: 857877,
    });
  });

  it('is no recorder by its own deviceType, even where the config does not say', () => {
    const memory = new DeviceMemory();
    driverMemory(memory).device = parseDeviceInfo(parseXml(raw(CAMERA['V5.5.0'].deviceInfo)));
    const context = { device: { kind: 'camera' }, memory } as unknown as CheckContext;
    expect(isRecorder(context)).toBe(false);
  });

  it('in a poll: asked for its identity and status only, never for disks or channels', async () => {
    for (const [firmware, files] of Object.entries(CAMERA)) {
      const camera = recordedCamera({
        [PATHS.deviceInfo]: { status: 200, body: raw(files.deviceInfo) },
        [PATHS.status]: { status: 200, body: raw(files.status) },
      });
      const result = await runChecks(CHECKS, context(camera.client));
      expect(result.ok).toBe(true);
      expect(result.ok && result.degraded).toEqual([]);
      expect(result.values.storages).toBeUndefined();
      expect(result.values.storageUsedPct).toBeUndefined();
      expect(result.vendor).toMatchObject({
        driver: 'hikvision',
        device: { model: 'DS-2CD2155FWD-I', deviceType: 'IPCamera', firmwareVersion: firmware },
      });
      expect(result.vendor?.disks).toBeUndefined();
      expect(result.vendor?.channels).toBeUndefined();
      expect(camera.asked).toEqual([PATHS.deviceInfo, PATHS.status]);
    }
  });

  it('no disks at all is no storage verdict: nothing judged, nothing failed', () => {
    expect(judgeDisks([], diskAdvice)).toEqual({ values: { storages: 0 }, degraded: [] });
  });

  it("reads its 401 challenge: Digest, MD5 by default, qop auth, a stale in capitals that is not 'true'", () => {
    expect(parseChallenges(RECORDED_CHALLENGE)).toEqual([
      {
        scheme: 'digest',
        params: {
          qop: 'auth',
          realm: 'IP Camera(83813)',
          nonce: '4d5755784d7a41344d546b365a446b31597a51354e513d3d',
          stale: 'FALSE',
        },
      },
    ]);
    expect(isStale(RECORDED_CHALLENGE)).toBe(false);
    // An answer to it: qop=auth with a counted nonce, no opaque since none was offered.
    const authorizer = authorizerFor(RECORDED_CHALLENGE, {
      username: 'monitor',
      password: new Secret('not-the-recorded-one'),
    });
    const header = authorizer?.authorization('GET', '/ISAPI/System/status') ?? '';
    expect(header).toMatch(/^Digest /);
    expect(header).toContain('realm="IP Camera(83813)"');
    expect(header).toContain('qop=auth');
    expect(header).toContain('nc=00000001');
    expect(header).not.toContain('opaque');
    // The page itself is HTML, not XML: nothing a driver parses.
    expect(raw('recorded-401-camera-DS-2CD2155FWD-I.html')).toContain(
      '<h2>Access Error: 401 -- Unauthorized</h2>',
    );
  });
});

describe('a published ResponseStatus methodNotAllowed (evercam/hikvision_client, MIT)', () => {
  const body = raw('published-response-method-not-allowed-hikvision_client.xml');

  it('is read as ISAPI writes it', () => {
    expect(responseStatusOf(parseXml(body))).toEqual({
      statusCode: '4',
      statusString: 'Invalid Operation',
      subStatusCode: 'methodNotAllowed',
    });
  });

  it('means the device lacks the path: nothing reported, asked again only after an hour', async () => {
    // That project's test pairs it with HTTP 400.
    const device = recordedCamera({ [PATHS.status]: { status: 400, body } });
    let now = 1_000_000;
    const ctx = context(device.client, () => now);
    await expect(isapiGet(ctx, PATHS.status)).resolves.toBeNull();
    now += 30 * 60_000;
    await expect(isapiGet(ctx, PATHS.status)).resolves.toBeNull();
    expect(device.asked).toEqual([PATHS.status]);
    now += 31 * 60_000;
    await isapiGet(ctx, PATHS.status);
    expect(device.asked).toEqual([PATHS.status, PATHS.status]);
  });
});

describe('a recorder with a redundant disk, as a real one was described', () => {
  // techmarkai/hikvision-nvr-ha (MIT), docs/HANDOVER.md: a DS-7608NI-K2/8P on V4.40.015
  // with "2 x 2.8 TB SATA, one Redund, one RW", and "one disk full, the other idle" when
  // no channel records redundantly. Described there in prose, not recorded: the disks
  // below are ours, in the ISAPI form parseStorage gives (capacity and free space in MiB).
  const disk = (id: string, property: string, freeMiB: number): Disk => ({
    id,
    name: `hdd${id}`,
    state: 'ok',
    health: 'ok',
    capacityMiB: 2861022,
    freeMiB,
    type: 'SATA',
    property,
  });

  it('counts the redundant disk as present, but not in storageUsedPct: the RW disk is full', () => {
    expect(judgeDisks([disk('1', 'RW', 0), disk('2', 'Redund', 2861022)], diskAdvice)).toEqual({
      values: { storages: 2, storageUsedPct: 100 },
      degraded: [],
    });
  });

  it('leaves a read-only disk out of the pool too, and reads no share without a RW disk', () => {
    expect(judgeDisks([disk('1', 'RW', 1430511), disk('2', 'RO', 0)], diskAdvice).values).toEqual({
      storages: 2,
      storageUsedPct: 50,
    });
    expect(judgeDisks([disk('1', 'Redund', 0)], diskAdvice).values).toEqual({ storages: 1 });
  });

  it("still judges a redundant disk's failure", () => {
    const failed: Disk = { ...disk('2', 'Redund', 0), state: 'error', health: 'failed' };
    const verdict = judgeDisks([disk('1', 'RW', 0), failed], diskAdvice);
    expect(verdict.degraded.map((r) => r.code)).toEqual(['storage-failure']);
    expect(verdict.values).toEqual({ storages: 2, storageUsedPct: 100 });
  });

  it("reads Dahua's partition Type the same: ReadWrite pooled, others not", () => {
    expect(
      judgeDisks([disk('1', 'ReadWrite', 0), disk('2', 'Redundant', 2861022)], diskAdvice).values,
    ).toEqual({ storages: 2, storageUsedPct: 100 });
  });
});

// ---- a camera that answers what was recorded ----------------------------------------------

const CHECKS: readonly Check[] = [identity, ...hikvision.checks];

const ONVIF_IDENTITY: DeviceInformation = {
  manufacturer: 'HIKVISION',
  model: 'DS-2CD2155FWD-I',
  firmwareVersion: 'V5.5.0 build 170725',
  serialNumber: 'DS-2CD2155FWD-XXXXXXXXXXXXXXXXXXXXX',
  hardwareId: '88',
};

/** ONVIF says HIKVISION; ISAPI answers `routes`, anything else as a path it lacks (404). */
function recordedCamera(routes: Record<string, VendorAnswer>) {
  const asked: string[] = [];
  const client = {
    deviceInformation: async () => ONVIF_IDENTITY,
    channels: async () => [],
    vendorGet: async (path: string) => {
      asked.push(path);
      return routes[path] ?? { status: 404, body: '' };
    },
  } as Partial<OnvifClient> as OnvifClient;
  return { asked, client };
}

function context(client: OnvifClient, now: () => number = Date.now): CheckContext {
  return {
    device: {
      id: 'cam-01',
      name: 'Camera A',
      kind: 'camera',
      xaddr: 'http://192.0.2.61/onvif/device_service',
    },
    client,
    signal: new AbortController().signal,
    settings: { ...checkDefaults },
    memory: new DeviceMemory(),
    now,
    intervalS: 15,
  };
}
