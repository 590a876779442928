/**
 * The dahua-nvr personality speaks Dahua's CGI over real sockets, to curl's own HTTP
 * Digest: realm "Login to <serial>", key=value answers with the same truth as the ONVIF
 * side, a disk fault on exactly its disk, a camera gone from its PoE port, "Bad Request!"
 * for what the firmware does not have, and wrong passwords counted toward the lockout.
 */
import { describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { curl as curlProgram, skipReason, titled } from '../../helpers/requires.js';
import { SimClient } from './client.js';
import { send } from './http.js';
import { curl, pairsOf, runSite, type CurlAnswer } from './vendor-http.js';

const ACCOUNT = { username: 'admin', password: 'cgi pw' };
const site = new SimSite({
  siteId: 'it-vendor-dahua',
  devices: [{ kind: 'nvr', channels: 4, personality: 'dahua-nvr', disks: [2000, 2000] }],
  credentials: ACCOUNT,
});
const client = new SimClient(site);
const NVR = 'nvr-01';
const reason = skipReason(curlProgram);
/** A 2 TB disk: 3,907,029,168 sectors of 512 bytes (IDEMA LBA1-03). */
const TWO_TB = '2000398934016.000000';

runSite(site, reason);

function url(path: string): string {
  return client.url(NVR, path);
}

async function cgi(path: string): Promise<Map<string, string>> {
  const answer: CurlAnswer = await curl(url(path), ACCOUNT);
  expect(answer.code, `${path}: ${answer.body}`).toBe(200);
  expect(answer.body.endsWith('\r\n')).toBe(true);
  return pairsOf(answer);
}

const ALL_INFO = '/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo';

describe.skipIf(reason)(titled("Dahua's CGI on the dahua-nvr personality", reason), () => {
  it('asks for Digest with realm "Login to <serial number>"', async () => {
    const serial = (await client.deviceInformation(NVR))['SerialNumber'] ?? '';
    expect(serial).toMatch(/^\d[A-Z]\d{5}PA[A-Z][0-9A-F]{5}$/);
    const answer = await send(url('/cgi-bin/magicBox.cgi?action=getSystemInfo'));
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(
      new RegExp(
        `^Digest realm="Login to ${serial}", qop="auth", nonce="[0-9a-f]+", opaque="[^"]+"$`,
      ),
    );
  });

  it('magicBox tells what GetDeviceInformation tells', async () => {
    const onvif = await client.deviceInformation(NVR);
    expect(onvif['Manufacturer']).toBe('Dahua');
    const info = await cgi('/cgi-bin/magicBox.cgi?action=getSystemInfo');
    expect(info.get('serialNumber')).toBe(onvif['SerialNumber']);
    expect(info.get('deviceType')).toBe(onvif['Model']);
    expect(info.get('deviceType')).toBe('DHI-NVR4204-4KS2');
    const [version, build] = (onvif['FirmwareVersion'] ?? '').split(', Build Date ');
    expect((await cgi('/cgi-bin/magicBox.cgi?action=getSoftwareVersion')).get('version')).toBe(
      `${version},build:${build}`,
    );
    expect((await cgi('/cgi-bin/magicBox.cgi?action=getVendor')).get('vendor')).toBe('Dahua');
    expect(site.requests(NVR).at(-1)).toMatchObject({
      protocol: 'http',
      operation: 'getVendor',
      status: 200,
      authenticated: true,
    });
  });

  it('getDeviceAllInfo: each disk, its bytes, used space growing; a fault changes exactly that disk', async () => {
    const all = await cgi(ALL_INFO);
    expect(all.get('list.info[0].Name')).toBe('/dev/sda');
    expect(all.get('list.info[0].State')).toBe('Success');
    expect(all.get('list.info[0].Detail[0].IsError')).toBe('false');
    expect(all.get('list.info[0].Detail[0].TotalBytes')).toBe(TWO_TB);
    expect(all.get('list.info[1].Name')).toBe('/dev/sdb');
    const used = Number(all.get('list.info[0].Detail[0].UsedBytes'));
    expect(used).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(Number((await cgi(ALL_INFO)).get('list.info[0].Detail[0].UsedBytes'))).toBeGreaterThan(
      used,
    );

    await site.setFault(NVR, { kind: 'disk-error', disk: 2 });
    const failed = await cgi(ALL_INFO);
    expect([failed.get('list.info[0].State'), failed.get('list.info[1].State')]).toEqual([
      'Success',
      'Error',
    ]);
    expect(failed.get('list.info[1].Detail[0].IsError')).toBe('true');
    // A new disk: present (State Success) without a partition to record on.
    await site.setFault(NVR, { kind: 'disk-unformatted', disk: 1 });
    const unformatted = await cgi(ALL_INFO);
    expect(unformatted.get('list.info[0].State')).toBe('Success');
    expect(unformatted.has('list.info[0].Detail[0].TotalBytes')).toBe(false);
    expect(unformatted.get('list.info[1].State')).toBe('Error');
    await site.clearFaults(NVR);
    // An empty bay is not listed: the recorder lists the disks it sees.
    await site.setFault(NVR, { kind: 'disk-removed', disk: 1 });
    const removed = await cgi(ALL_INFO);
    expect(removed.get('list.info[0].Name')).toBe('/dev/sdb');
    expect(removed.has('list.info[1].Name')).toBe(false);
  });

  it('getCameraState: channel-offline shows Unconnect on that channel only', async () => {
    await site.setFault(NVR, { kind: 'channel-offline', channel: 2 });
    const states = await cgi(
      '/cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1',
    );
    expect([0, 1, 2, 3].map((n) => states.get(`states[${n}].connectionState`))).toEqual([
      'Connected',
      'Unconnect',
      'Connected',
      'Connected',
    ]);
  });

  it('an unknown action or CGI: 400 "Error / Bad Request!"', async () => {
    for (const path of ['/cgi-bin/magicBox.cgi?action=reboot', '/cgi-bin/nothing.cgi?action=x']) {
      const answer = await curl(url(path), ACCOUNT);
      expect(answer.code, path).toBe(400);
      expect(answer.body).toBe('Error\r\nBad Request!\r\n');
    }
  });

  it('a wrong password is 401 and counts toward the lockout', async () => {
    const wrong = { ...ACCOUNT, password: 'x' };
    for (let n = 1; n <= 5; n++) {
      expect((await curl(url('/cgi-bin/magicBox.cgi?action=getSystemInfo'), wrong)).code).toBe(401);
    }
    expect(site.device(NVR)?.lockouts).toMatchObject([{ username: 'admin' }]);
    expect((await curl(url('/cgi-bin/magicBox.cgi?action=getSystemInfo'), ACCOUNT)).code).toBe(401);
  });
});
