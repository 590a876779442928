/**
 * The Dahua driver against the simulator's Dahua NVR (personality `dahua-nvr`,
 * sim/vendor/dahua.ts): the agent's own client asks the CGI beside ONVIF on the device's
 * port, answers its HTTP Digest challenge (realm "Login to <serial>", qop=auth, MD5) with
 * the device's account, and every fault of the disks and channels comes out as the NOC
 * needs it: a failed or unformatted disk is a storage-failure naming the disk, an empty
 * bay nothing, a PoE camera gone an offline channel.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { dahua } from '../../../agent/drivers/dahua/index.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { runChecks, type PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import { SimSite } from '../../../sim/site.js';
import { ONVIF, SITE } from './harness.js';

/** A Dahua answer of test/fixtures/vendor/dahua/ (SOURCE.md: recorded or documented). */
const dahuaAnswer = (name: string): string =>
  readFileSync(new URL(`../../fixtures/vendor/dahua/${name}`, import.meta.url), 'utf8');

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

/**
 * The challenge as Dahua firmware writes it, which the simulator does not copy byte for
 * byte: no space after the commas, an empty opaque, `stale="false"` quoted (the form
 * public projects quote from real units: `Digest realm="Login to 2J01018PAA00813",
 * qop="auth",nonce="b252aWYtZGlnZXN0OjQzMjYxNjc5MTQw",opaque="",stale="false"`). A small
 * server of the test answers so, checks each Authorization with its own MD5 (RFC 7616
 * section 3.4.1, qop=auth), and later calls the nonce stale as a unit does after a while.
 */
describe("Dahua firmware's own Digest challenge", () => {
  const USER = 'admin';
  const PASSWORD = 'unit-secret-7';
  const REALM = 'Login to 2J01018PAA00813';
  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
  const challenge = (nonce: string, stale: boolean): string =>
    `Digest realm="${REALM}",qop="auth",nonce="${nonce}",opaque="",stale="${stale}"`;

  interface Seen {
    url: string;
    status: number;
    authorization?: Record<string, string>;
  }
  let server: Server;
  let port = 0;
  let nonce = 'b252aWYtZGlnZXN0OjQzMjYxNjc5MTQw';
  /** Nonces the unit no longer takes: a digest with one is answered stale. */
  const expired = new Set<string>();
  const seen: Seen[] = [];
  const routes: Record<string, () => string> = {
    'magicBox.cgi?action=getSystemInfo': () => dahuaAnswer('documented-getSystemInfo-nvr.txt'),
    'magicBox.cgi?action=getSoftwareVersion': () => 'version=4.001.0000000.2,build:2023-05-18\r\n',
    'storageDevice.cgi?action=getDeviceAllInfo': () =>
      dahuaAnswer('documented-getDeviceAllInfo-disk-error.txt'),
    'LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1': () =>
      dahuaAnswer('documented-getCameraState-nvr.txt'),
  };

  function parameters(header: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of header.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
      out[m[1]!] = m[2] ?? m[3] ?? '';
    }
    return out;
  }

  /** The request carries a right digest for a nonce the unit issued: 'ok', 'stale' or 'no'. */
  function verdict(method: string, url: string, p: Record<string, string>): 'ok' | 'stale' | 'no' {
    if (p.username !== USER || p.realm !== REALM || p.uri !== url || p.qop !== 'auth') return 'no';
    if (p.opaque !== '' || (p.algorithm && p.algorithm.toUpperCase() !== 'MD5')) return 'no';
    const ha1 = md5(`${USER}:${REALM}:${PASSWORD}`);
    const ha2 = md5(`${method}:${url}`);
    const expected = md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    if (p.response !== expected) return 'no';
    if (expired.has(p.nonce ?? '')) return 'stale';
    return p.nonce === nonce ? 'ok' : 'no';
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? '';
      const header = req.headers.authorization;
      const p = header ? parameters(header) : undefined;
      const judged = p ? verdict(req.method ?? '', url, p) : 'no';
      if (judged !== 'ok') {
        seen.push({ url, status: 401, ...(p ? { authorization: p } : {}) });
        res.writeHead(401, { 'WWW-Authenticate': challenge(nonce, judged === 'stale') });
        res.end();
        return;
      }
      const route = routes[url.replace(/^\/cgi-bin\//, '')];
      const body = route ? route() : 'Error\r\nBad Request!\r\n';
      seen.push({ url, status: route ? 200 : 400, authorization: p! });
      res.writeHead(route ? 200 : 400, { 'Content-Type': 'text/plain;charset=utf-8' });
      res.end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()));
  });

  it('is answered once per nonce, nc counting up; a stale nonce costs one retry, no failed login', async () => {
    const client = new OnvifDeviceClient(
      {
        xaddr: `http://127.0.0.1:${port}/onvif/device_service`,
        username: USER,
        password: new Secret(PASSWORD),
      },
      { timeoutMs: 3000 },
    );
    const memory = new DeviceMemory();
    let now = Date.now();
    const poll = () =>
      runChecks(dahua.checks, {
        // The driver as configured: this server has no ONVIF identity to choose it by.
        device: {
          id: 'nvr-9',
          name: 'NVR 9',
          kind: 'nvr',
          xaddr: `http://127.0.0.1:${port}/`,
          driver: 'dahua',
        } as CheckContext['device'],
        client,
        signal: new AbortController().signal,
        settings: { ...checkDefaults },
        memory,
        now: () => now,
        intervalS: 15,
      });
    const first = await poll();
    expect(storageReasons(first)).toEqual([
      expect.stringMatching(/^disk \/dev\/sdb \(id 2\) is Error/),
    ]);
    expect(first.vendor?.channels?.map((c) => c.online)).toEqual([true, false, true, false]);
    // One 401 (the first request, without credentials), then every request let in with the
    // same nonce, nc 1, 2, 3 ..., each uri the request's own (brackets of the query kept).
    expect(seen.map((s) => s.status)).toEqual([401, 200, 200, 200, 400, 400, 200]);
    const authorized = seen.slice(1);
    expect(authorized.map((s) => s.authorization!.nc)).toEqual([
      '00000001',
      '00000002',
      '00000003',
      '00000004',
      '00000005',
      '00000006',
    ]);
    expect(authorized.every((s) => s.authorization!.uri === s.url)).toBe(true);

    // The unit calls the nonce stale: one 401 with stale="true", then the fresh nonce.
    seen.length = 0;
    expired.add(nonce);
    nonce = 'b252aWYtZGlnZXN0OjQzMjYxNjc5MTQx';
    now += 15_000;
    const second = await poll();
    expect(storageReasons(second)).toHaveLength(1);
    expect(seen.map((s) => s.status)).toEqual([401, 200, 200]);
    expect(seen[2]!.authorization!.nonce).toBe(nonce);
  });
});
