/**
 * The Dahua driver against the simulator's Dahua NVR (personality `dahua-nvr`,
 * sim/vendor/dahua.ts): the agent's own client asks the CGI beside ONVIF on the device's
 * port, answers its HTTP Digest challenge (realm "Login to <serial>", qop=auth, MD5) with
 * the device's account, and every fault of the disks and channels comes out as the NOC
 * needs it: a failed or unformatted disk is a storage-failure naming the disk, an empty
 * bay nothing, a PoE camera gone an offline channel.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { runChecks, type PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import { SimSite } from '../../../sim/site.js';
import { ONVIF, SITE } from './harness.js';

let site: SimSite;
let id: string;

beforeAll(async () => {
  site = new SimSite({
    siteId: `${SITE}-dahua`,
    credentials: ONVIF,
    // Three bays, the last one empty, as a real NVR with a free slot.
    devices: [{ kind: 'nvr', channels: 4, personality: 'dahua-nvr', disks: [4000, 2000, 0] }],
  });
  await site.start();
  id = site.devices()[0]!.id;
});

afterAll(async () => {
  await site.stop();
});

afterEach(async () => {
  await site.clearFaults(id);
});

/** One device's polls, with one client and one memory as the agent keeps them. */
function nvr() {
  const info = site.device(id)!;
  const client = new OnvifDeviceClient(
    { xaddr: info.xaddr, username: ONVIF.username, password: new Secret(ONVIF.password) },
    { timeoutMs: 3000 },
  );
  const memory = new DeviceMemory();
  return (): Promise<PollResult> =>
    runChecks(checks, {
      device: { id, name: info.name, kind: 'nvr', xaddr: info.xaddr },
      client,
      signal: new AbortController().signal,
      settings: { ...checkDefaults, picture: false },
      memory,
      now: Date.now,
      intervalS: 15,
    });
}

const storageReasons = (result: PollResult): string[] =>
  result.ok
    ? result.degraded.filter((r) => r.code === 'storage-failure').map((r) => r.message)
    : [];

describe('a Dahua NVR of the simulator', () => {
  it('is read through its CGI: model, disks (the empty bay left out), channels', async () => {
    const result = await nvr()();
    expect(result.ok).toBe(true);
    expect(storageReasons(result)).toEqual([]);
    expect(result.identity?.manufacturer).toBe('Dahua');
    expect(result.vendor).toMatchObject({
      driver: 'dahua',
      device: { model: result.identity?.model, serialNumber: result.identity?.serialNumber },
      disks: [
        { id: '1', name: '/dev/sda', state: 'Success', health: 'ok' },
        { id: '2', name: '/dev/sdb', state: 'Success', health: 'ok' },
      ],
      channels: [1, 2, 3, 4].map((n) => ({ id: String(n), online: true, detail: 'Connected' })),
    });
    expect(result.vendor?.problems).toBeUndefined();
    // The simulator starts its disks 60 % full.
    expect(result.values.storages).toBe(2);
    expect(result.values.storageUsedPct).toBeGreaterThanOrEqual(60);
    expect(result.values.storageUsedPct).toBeLessThan(61);
  });

  it('answers the Digest challenge once, then reuses the nonce: no failed login', async () => {
    const poll = nvr();
    const before = site.requests(id).length;
    await poll();
    await poll();
    const cgi = site
      .requests(id)
      .slice(before)
      .filter((r) => r.path.startsWith('/cgi-bin/'));
    expect(cgi.length).toBeGreaterThanOrEqual(8);
    // The first CGI request meets the challenge (401), every later one is let in at once.
    expect(cgi.filter((r) => r.status === 401)).toHaveLength(1);
    expect(cgi[0]!.status).toBe(401);
    expect(cgi.slice(1).every((r) => r.status === 200 || r.status === 400)).toBe(true);
    expect(site.device(id)!.lockouts).toEqual([]);
  });

  it('a disk in error: storage-failure naming it; the NVR degraded, not down', async () => {
    await site.setFault(id, { kind: 'disk-error', disk: 2 });
    const result = await nvr()();
    expect(result.ok).toBe(true);
    expect(storageReasons(result)).toEqual([
      expect.stringMatching(
        /^disk \/dev\/sdb \(id 2\) is Error: the recorder reports it failed \(State Error, IsError on /,
      ),
    ]);
    expect(result.values.storages).toBe(2);
  });

  it('a SMART failure, which the CGI reports as Error too', async () => {
    await site.setFault(id, { kind: 'disk-error', disk: 1, state: 'smartFailed' });
    expect(storageReasons(await nvr()())).toEqual([
      expect.stringMatching(/^disk \/dev\/sda \(id 1\) is Error/),
    ]);
  });

  it('an unformatted disk: storage-failure saying to format it', async () => {
    await site.setFault(id, { kind: 'disk-unformatted', disk: 1 });
    expect(storageReasons(await nvr()())).toEqual([
      expect.stringMatching(
        /^disk \/dev\/sda \(id 1\) is unformatted: .*format it on the recorder/,
      ),
    ]);
  });

  it('a disk taken out (empty bay): nothing wrong, one disk fewer', async () => {
    await site.setFault(id, { kind: 'disk-removed', disk: 2 });
    const result = await nvr()();
    expect(storageReasons(result)).toEqual([]);
    expect(result.values.storages).toBe(1);
    expect(result.vendor?.disks?.map((d) => d.name)).toEqual(['/dev/sda']);
  });

  it("a PoE camera gone: the NVR's channel offline in the findings", async () => {
    await site.setFault(id, { kind: 'channel-offline', channel: 2 });
    const result = await nvr()();
    expect(result.vendor?.channels?.map((c) => [c.id, c.online, c.detail])).toEqual([
      ['1', true, 'Connected'],
      ['2', false, 'Unconnect'],
      ['3', true, 'Connected'],
      ['4', true, 'Connected'],
    ]);
  });
});
