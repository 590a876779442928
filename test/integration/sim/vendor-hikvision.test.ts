/**
 * The hikvision-nvr personality speaks ISAPI over real sockets, to curl's own HTTP Digest:
 * the challenge as a DNVRS-Webs NVR writes it, every route with the same truth as the
 * ONVIF side (identity, channel count, faults), disks that fill while channels record, a
 * disk fault on exactly its bay, a camera gone from its PoE port, the firmware's answer to
 * an unknown path, and wrong passwords counted toward the account lockout.
 */
import { describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { childrenNamed, textAt, type XmlElement } from '../../../sim/soap/xml.js';
import { curl as curlProgram, skipReason, titled } from '../../helpers/requires.js';
import { SimClient } from './client.js';
import { send } from './http.js';
import { curl, runSite, xmlOf } from './vendor-http.js';

const ACCOUNT = { username: 'admin', password: 'isapi pw' };
const site = new SimSite({
  siteId: 'it-vendor-hik',
  devices: [
    { kind: 'camera', channels: 1 },
    { kind: 'nvr', channels: 4, personality: 'hikvision-nvr', disks: [4000, 4000, 0] },
  ],
  credentials: ACCOUNT,
});
const client = new SimClient(site);
const NVR = 'nvr-01';
const reason = skipReason(curlProgram);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

runSite(site, reason);

function url(path: string, id = NVR): string {
  return client.url(id, path);
}

async function isapi(path: string, password = ACCOUNT.password): Promise<XmlElement> {
  const answer = await curl(url(path), { ...ACCOUNT, password });
  expect(answer.code, `${path}: ${answer.body}`).toBe(200);
  return xmlOf(answer);
}

interface Hdd {
  id: string;
  status: string;
  capacity: number;
  freeSpace: number;
}

async function disks(): Promise<Hdd[]> {
  const storage = await isapi('/ISAPI/ContentMgmt/Storage');
  const list = childrenNamed(storage, 'hddList')[0];
  return childrenNamed(list ?? storage, 'hdd').map((hdd) => ({
    id: textAt(hdd, 'id') ?? '',
    status: textAt(hdd, 'status') ?? '',
    capacity: Number(textAt(hdd, 'capacity')),
    freeSpace: Number(textAt(hdd, 'freeSpace')),
  }));
}

describe.skipIf(reason)(titled('Hikvision ISAPI on the hikvision-nvr personality', reason), () => {
  it('asks for Digest as a DNVRS-Webs NVR does, before saying whether a path exists', async () => {
    for (const path of ['/ISAPI/System/deviceInfo', '/ISAPI/No/Such/Thing']) {
      const answer = await send(url(path));
      expect(answer.status, path).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(
        /^Digest realm="[0-9a-f]{24}", domain="::", qop="auth", nonce="[0-9a-f]+", opaque="", algorithm="MD5", stale="FALSE"$/,
      );
      expect(answer.headers['server']).toBe('DNVRS-Webs');
      expect(answer.headers['content-type']).toBe('application/xml; charset="UTF-8"');
      expect(answer.body).toContain('<statusString>Unauthorized</statusString>');
    }
    // Digest only, as the web authentication setting "digest" (Basic is not offered).
    expect((await curl(url('/ISAPI/System/deviceInfo'), ACCOUNT, { basic: true })).code).toBe(401);
    expect(site.requests(NVR).at(-1)).toMatchObject({
      protocol: 'http',
      status: 401,
      detail: 'scheme basic not offered',
    });
  });

  it('deviceInfo tells what GetDeviceInformation tells', async () => {
    const onvif = await client.deviceInformation(NVR);
    expect(onvif['Manufacturer']).toBe('HIKVISION');
    expect(onvif['Model']).toMatch(/^DS-7604NI-K3$/);
    const info = await isapi('/ISAPI/System/deviceInfo');
    expect(info.name).toBe('DeviceInfo');
    expect(info.ns).toBe('http://www.hikvision.com/ver20/XMLSchema');
    expect(textAt(info, 'model')).toBe(onvif['Model']);
    expect(textAt(info, 'serialNumber')).toBe(onvif['SerialNumber']);
    expect(textAt(info, 'serialNumber')).toMatch(/^DS-7604NI-K3\d{8}CCRR\d{9}WCVU$/);
    expect(`${textAt(info, 'firmwareVersion')} ${textAt(info, 'firmwareReleasedDate')}`).toBe(
      onvif['FirmwareVersion'],
    );
    expect(textAt(info, 'deviceType')).toBe('NVR');
    // CR LF line ends, as the recorded answers of Hikvision firmware
    // (test/fixtures/vendor/hikvision/recorded-*): no bare LF.
    const raw = (await curl(url('/ISAPI/System/deviceInfo'), ACCOUNT)).body;
    expect(raw.startsWith('<?xml version="1.0" encoding="UTF-8"?>\r\n<DeviceInfo ')).toBe(true);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(site.requests(NVR).at(-1)).toMatchObject({
      protocol: 'http',
      path: '/ISAPI/System/deviceInfo',
      status: 200,
      authenticated: true,
    });
    // A new firmware shows in both at once.
    await site.setFault(NVR, { kind: 'firmware-changed' });
    const changed = await client.deviceInformation(NVR);
    const after = await isapi('/ISAPI/System/deviceInfo');
    expect(`${textAt(after, 'firmwareVersion')} ${textAt(after, 'firmwareReleasedDate')}`).toBe(
      changed['FirmwareVersion'],
    );
    expect(changed['FirmwareVersion']).not.toBe(onvif['FirmwareVersion']);
  });

  it('Storage: each bay (4 TB is 3815447 MiB, an empty bay notexist), space used as channels record', async () => {
    const first = await disks();
    expect(first.map((d) => [d.id, d.status, d.capacity])).toEqual([
      ['1', 'ok', 3815447],
      ['2', 'ok', 3815447],
      ['3', 'notexist', 0],
    ]);
    expect(first[2]?.freeSpace).toBe(0);
    expect(first[0]?.freeSpace).toBeGreaterThan(0);
    expect(first[0]?.freeSpace).toBeLessThan(3815447);
    // Four channels of 4 Mbit/s write 2 MB a second onto the first disk with room.
    await sleep(1500);
    const second = await disks();
    expect(second[0]?.freeSpace).toBeLessThan(first[0]?.freeSpace ?? 0);
    expect(second[1]?.freeSpace).toBe(first[1]?.freeSpace);
    const hdd = await isapi('/ISAPI/ContentMgmt/Storage/hdd');
    expect(childrenNamed(hdd, 'hdd')).toHaveLength(3);
  });

  it('a disk fault changes exactly that bay', async () => {
    await site.setFault(NVR, { kind: 'disk-error', disk: 2, state: 'smartFailed' });
    expect((await disks()).map((d) => d.status)).toEqual(['ok', 'smartFailed', 'notexist']);
    await site.setFault(NVR, { kind: 'disk-unformatted', disk: 1 });
    const both = await disks();
    expect(both.map((d) => d.status)).toEqual(['unformatted', 'smartFailed', 'notexist']);
    expect(both[0]).toMatchObject({ capacity: 3815447, freeSpace: 0 });
    await site.clearFaults(NVR);
    await site.setFault(NVR, { kind: 'disk-error', disk: 1 });
    await site.setFault(NVR, { kind: 'disk-removed', disk: 2 });
    const removed = await disks();
    expect(removed.map((d) => d.status)).toEqual(['error', 'notexist', 'notexist']);
    expect(removed[1]).toMatchObject({ capacity: 0, freeSpace: 0 });
    await site.clearFaults(NVR);
    expect((await disks()).map((d) => d.status)).toEqual(['ok', 'ok', 'notexist']);
  });

  it('InputProxy: as many IP channels as ONVIF has; channel-offline shows online=false on that one', async () => {
    const list = await isapi('/ISAPI/ContentMgmt/InputProxy/channels');
    const channels = childrenNamed(list, 'InputProxyChannel');
    expect(channels).toHaveLength(site.device(NVR)?.channels ?? 0);
    expect(textAt(channels[0]!, 'sourceInputPortDescriptor', 'ipAddress')).toBe('192.168.254.2');
    await site.setFault(NVR, { kind: 'channel-offline', channel: 3 });
    const status = await isapi('/ISAPI/ContentMgmt/InputProxy/channels/status');
    const states = childrenNamed(status, 'InputProxyChannelStatus').map((c) => [
      textAt(c, 'id'),
      textAt(c, 'online'),
      textAt(c, 'chanDetectResult'),
    ]);
    expect(states).toEqual([
      ['1', 'true', 'connect'],
      ['2', 'true', 'connect'],
      ['3', 'false', 'netUnreachable'],
      ['4', 'true', 'connect'],
    ]);
  });

  it('System/status: uptime since the boot, CPU and memory', async () => {
    const status = await isapi('/ISAPI/System/status');
    expect(status.name).toBe('DeviceStatus');
    expect(Number(textAt(status, 'deviceUpTime'))).toBeGreaterThanOrEqual(0);
    expect(Number(textAt(status, 'CPUList', 'CPU', 'cpuUtilization'))).toBeGreaterThan(0);
    expect(Number(textAt(status, 'MemoryList', 'Memory', 'memoryAvailable'))).toBeGreaterThan(0);
  });

  it('an unknown path or a write: 403 with the firmware ResponseStatus (Invalid Operation)', async () => {
    const unknown = await curl(url('/ISAPI/No/Such/Thing'), ACCOUNT);
    expect(unknown.code).toBe(403);
    const status = xmlOf(unknown);
    expect(status.name).toBe('ResponseStatus');
    expect(textAt(status, 'statusCode')).toBe('4');
    expect(textAt(status, 'statusString')).toBe('Invalid Operation');
    expect(textAt(status, 'subStatusCode')).toBe('notSupport');
    const put = await curl(url('/ISAPI/ContentMgmt/Storage'), ACCOUNT, { method: 'PUT' });
    expect(put.code).toBe(403);
    expect(textAt(xmlOf(put), 'subStatusCode')).toBe('methodNotAllowed');
    // Outside /ISAPI/ the device is as before: ONVIF still answers, snapshots still work.
    expect((await client.deviceInformation(NVR))['Manufacturer']).toBe('HIKVISION');
    expect((await client.snapshot(NVR, 'ch01_main')).status).toBe(200);
    // A device without the personality has no ISAPI.
    expect((await curl(url('/ISAPI/System/deviceInfo', 'cam-01'), ACCOUNT)).code).toBe(404);
  });

  it('a wrong password is 401 and counts toward the lockout shared with ONVIF', async () => {
    for (let n = 1; n <= 4; n++) {
      expect(
        (await curl(url('/ISAPI/System/deviceInfo'), { ...ACCOUNT, password: 'x' })).code,
      ).toBe(401);
    }
    expect(site.device(NVR)?.lockouts).toEqual([]);
    expect(site.requests(NVR).at(-1)?.detail).toBe('wrong username or password (Digest)');
    // The fifth, on ONVIF, locks the user for ISAPI too.
    await client.soap(NVR, '/onvif/device_service', '<tds:GetDeviceInformation/>', {
      password: 'x',
    });
    expect(site.device(NVR)?.lockouts).toMatchObject([{ username: 'admin' }]);
    expect((await curl(url('/ISAPI/System/deviceInfo'), ACCOUNT)).code).toBe(401);
    expect(site.requests(NVR).at(-1)?.detail).toMatch(/account lockout/);
    // The auth-changed fault refuses the old password here as everywhere.
    await site.reset();
    await site.setFault(NVR, { kind: 'auth-changed', password: 'rotated' });
    expect((await curl(url('/ISAPI/System/deviceInfo'), ACCOUNT)).code).toBe(401);
    const rotated = { ...ACCOUNT, password: 'rotated' };
    expect((await curl(url('/ISAPI/System/deviceInfo'), rotated)).code).toBe(200);
  });
});
