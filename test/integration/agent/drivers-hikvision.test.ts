/**
 * The Hikvision driver against the simulator's hikvision-nvr personality over real
 * sockets (sim/vendor/hikvision.ts: ISAPI behind HTTP Digest as DNVRS-Webs firmware asks
 * for it, a realm of its own beside ONVIF's): the driver chosen from the manufacturer
 * GetDeviceInformation gives, each disk's state as the simulator's faults set it (error,
 * smartFailed, unformatted: storage-failure; an empty bay: nothing), storage use, an NVR
 * channel whose camera is gone, `vigil agent check --json` showing the disks, and over
 * HTTPS only through the certificate the engineer confirmed (nothing to another). Then the
 * vendor request itself against a local server: a path the device lacks, a refused
 * password, and no request to another host.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../agent/log.js';
import { main } from '../../../agent/main.js';
import { vendorGet } from '../../../agent/onvif/vendor-http.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import type { PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import type { SimFault } from '../../../shared/api/sim.js';
import type { SimSite } from '../../../sim/site.js';
import { ONVIF } from './harness.js';
import { fakeClockSite, simPoller } from './sim-poller.js';

let site: SimSite;
let stopSite: () => Promise<void>;

beforeAll(async () => {
  ({ site, stop: stopSite } = await fakeClockSite('drivers-hik', [
    // Two 4 TB disks and an empty third bay, as a three-bay recorder often runs.
    { kind: 'nvr', channels: 4, personality: 'hikvision-nvr', disks: [4000, 4000, 0] },
    { kind: 'nvr', channels: 2 },
    // ISAPI over HTTPS, on the device's one web server (self-signed, as cameras make it).
    { kind: 'nvr', channels: 2, personality: 'hikvision-nvr', https: true, disks: [2000] },
  ]));
});

afterAll(async () => {
  await stopSite();
});

afterEach(async () => {
  for (const device of site.devices()) await site.clearFaults(device.id);
});

const hikvisionNvr = (): string =>
  site.devices().find((d) => d.personality === 'hikvision-nvr' && d.xaddr.startsWith('http:'))!.id;
const httpsNvr = (): string =>
  site.devices().find((d) => d.personality === 'hikvision-nvr' && d.xaddr.startsWith('https:'))!.id;
const otherNvr = (): string => site.devices().find((d) => d.personality !== 'hikvision-nvr')!.id;

async function poll(id: string): Promise<PollResult> {
  return (await simPoller(site, id, 15).poll()).result;
}

/** `vigil agent check URL --user U --password P --json`, as the field engineer runs it. */
async function check(xaddr: string, extra: string[] = []): Promise<unknown> {
  const out: string[] = [];
  process.exitCode = undefined;
  await main(
    ['check', xaddr, '--user', ONVIF.username, '--password', ONVIF.password, '--json', ...extra],
    {
      log: new MemoryLogger(),
      signals: new EventEmitter(),
      exit: () => undefined,
      print: (text) => out.push(text),
      printError: (text) => out.push(text),
    },
  );
  return JSON.parse(out.join('\n'));
}

async function withFault(fault: SimFault): Promise<PollResult> {
  await site.setFault(hikvisionNvr(), fault);
  return poll(hikvisionNvr());
}

const storageReasons = (result: PollResult): string[] =>
  (result.ok ? result.degraded : [result.failure])
    .filter((r) => r.code === 'storage-failure')
    .map((r) => r.message);

describe('the Hikvision driver on a hikvision-nvr', () => {
  it('reads every bay with Digest, the empty one as nothing, and the channels', async () => {
    const { result, requests } = await simPoller(site, hikvisionNvr(), 15).poll();
    // The simulator's log holds the ISAPI requests too (the other recorder's test relies on it).
    expect(
      requests.filter((r) => JSON.stringify(r).includes('/ISAPI/ContentMgmt/Storage')).length,
    ).toBeGreaterThan(0);
    expect(result.ok && result.degraded).toEqual([]);
    expect(result.identity?.manufacturer).toBe('HIKVISION');
    expect(result.vendor?.driver).toBe('hikvision');
    expect(result.vendor?.problems).toBeUndefined();
    expect(result.vendor?.disks?.map((d) => [d.name, d.state, d.health])).toEqual([
      ['hdd1', 'ok', 'ok'],
      ['hdd2', 'ok', 'ok'],
      ['hdd3', 'notexist', 'empty'],
    ]);
    expect(result.values.storages).toBe(2);
    expect(result.values.storageUsedPct).toEqual(expect.any(Number));
    expect(result.vendor?.device).toMatchObject({ deviceType: 'NVR' });
    expect(result.vendor?.system?.cpuPct).toEqual(expect.any(Number));
    expect(result.vendor?.channels?.map((c) => [c.id, c.online])).toEqual([
      ['1', true],
      ['2', true],
      ['3', true],
      ['4', true],
    ]);
  });

  it('gives storage-failure for a disk in error, SMART failing or unformatted, on that disk', async () => {
    expect(storageReasons(await withFault({ kind: 'disk-error', disk: 2 }))).toEqual([
      expect.stringMatching(/^disk hdd2 is error: /),
    ]);
    await site.clearFaults(hikvisionNvr());
    expect(
      storageReasons(await withFault({ kind: 'disk-error', disk: 1, state: 'smartFailed' })),
    ).toEqual([expect.stringMatching(/^disk hdd1 is smartFailed: .*replace it/)]);
    await site.clearFaults(hikvisionNvr());
    const unformatted = await withFault({ kind: 'disk-unformatted', disk: 2 });
    expect(storageReasons(unformatted)).toEqual([
      expect.stringMatching(/^disk hdd2 is unformatted: .*initialise it/),
    ]);
    // A failed disk is degraded, never down: the recorder answers.
    expect(unformatted.ok).toBe(true);
    expect(unformatted.values.up).toBe(true);
  });

  it('gives nothing for a disk taken out of its bay', async () => {
    const result = await withFault({ kind: 'disk-removed', disk: 2 });
    expect(storageReasons(result)).toEqual([]);
    expect(result.vendor?.disks?.[1]).toMatchObject({ state: 'notexist', health: 'empty' });
    expect(result.values.storages).toBe(1);
  });

  it("sees the NVR's channel whose camera is gone", async () => {
    const result = await withFault({ kind: 'channel-offline', channel: 3 });
    expect(result.vendor?.channels?.find((c) => c.id === '3')).toMatchObject({ online: false });
    expect(result.vendor?.channels?.filter((c) => c.online).length).toBe(3);
  });

  it('asks nothing of a recorder whose manufacturer is not Hikvision', async () => {
    const { result, requests } = await simPoller(site, otherNvr(), 15).poll();
    expect(result.identity?.manufacturer).not.toMatch(/hikvision/i);
    expect(result.vendor).toBeUndefined();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => JSON.stringify(r).includes('/ISAPI/'))).toEqual([]);
  });

  it('vigil agent check over https reads the disks only through the confirmed certificate', async () => {
    const xaddr = site.device(httpsNvr())!.xaddr;
    const before = site.requests(httpsNvr()).length;
    // No certificate confirmed: the clock only, no credentials, no ISAPI.
    const look = (await check(xaddr)) as { status: string; tlsFingerprint: string };
    expect(look.status).toBe('not-checked');
    const isapi = () =>
      site
        .requests(httpsNvr())
        .slice(before)
        .filter((r) => JSON.stringify(r).includes('/ISAPI/'));
    expect(isapi()).toEqual([]);
    // Another fingerprint: refused at the handshake, nothing sent.
    const wrong = look.tlsFingerprint.replace(/^[0-9A-F]{2}/, (pair) =>
      pair === '00' ? '01' : '00',
    );
    const refused = (await check(xaddr, ['--fingerprint', wrong])) as { status: string };
    expect(refused.status).not.toBe('up');
    expect(isapi()).toEqual([]);
    // The one the device presents: its disks come over the same pinned path.
    const report = (await check(xaddr, ['--fingerprint', look.tlsFingerprint])) as {
      vendor: { disks: { name: string; state: string }[] };
    };
    expect(report.vendor.disks.map((d) => `${d.name} ${d.state}`)).toEqual(['hdd1 ok']);
    expect(isapi().length).toBeGreaterThan(0);
    process.exitCode = undefined;
  });

  it('vigil agent check --json shows the disks and a failed one', async () => {
    await site.setFault(hikvisionNvr(), { kind: 'disk-error', disk: 1 });
    const xaddr = site.device(hikvisionNvr())!.xaddr;
    const report = (await check(xaddr)) as {
      status: string;
      degraded: { code: string; message: string }[];
      vendor: { driver: string; disks: { name: string; state: string }[] };
    };
    expect(report.status).toBe('degraded');
    expect(report.vendor.driver).toBe('hikvision');
    expect(report.vendor.disks.map((d) => `${d.name} ${d.state}`)).toEqual([
      'hdd1 error',
      'hdd2 ok',
      'hdd3 notexist',
    ]);
    expect(report.degraded.filter((r) => r.code === 'storage-failure')).toHaveLength(1);
    expect(process.exitCode).toBe(3);
    process.exitCode = undefined;
  });
});

describe('the vendor request', () => {
  let server: Server;
  let origin: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ? 'auth' : 'none'}`);
      if (req.url === '/ISAPI/Nothing') {
        res.writeHead(404, { 'Content-Length': '0' }).end();
        return;
      }
      // Asks for credentials, and refuses every answer: a password that is wrong here.
      res
        .writeHead(401, {
          'WWW-Authenticate':
            'Digest realm="IP Camera(C6269)", qop="auth", nonce="6b63", stale="FALSE"',
          'Content-Length': '0',
        })
        .end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string) =>
    vendorGet({
      xaddr: `${origin}/onvif/device_service`,
      path,
      credentials: { username: 'admin', password: new Secret('wrong pw') },
      auth: { authorizer: null },
      timeoutMs: 2000,
    });

  it('is null for a path the device lacks', async () => {
    await expect(get('/ISAPI/Nothing')).resolves.toBeNull();
  });

  it('refuses with auth-failed naming the path and what to do, never the password', async () => {
    seen.length = 0;
    const error = await get('/ISAPI/System/status').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnvifError);
    expect((error as OnvifError).kind).toBe('auth-failed');
    expect((error as OnvifError).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/ISAPI\/System\/status \(the device's own HTTP API\) refused the device's credentials \(401\): .*driver: onvif/,
    );
    expect((error as OnvifError).message).not.toContain('wrong pw');
    // The challenge, then one answer to it: one failed login on the device's counter.
    expect(seen).toEqual(['GET /ISAPI/System/status none', 'GET /ISAPI/System/status auth']);
  });

  it('sends nothing anywhere but to the device', async () => {
    for (const path of ['//192.0.2.9/x', 'http://192.0.2.9/ISAPI', 'ISAPI/System', '/a b']) {
      await expect(get(path), path).rejects.toMatchObject({ kind: 'protocol-error' });
    }
  });
});
