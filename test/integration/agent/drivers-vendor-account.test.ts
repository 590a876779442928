/**
 * The vendor API's own account, against the simulator's separate account lists (site file
 * `vendorCredentials`, as Hikvision and Dahua firmware keep their ONVIF users apart from
 * the web users that ISAPI and the CGI accept). The device entries go through the agent's
 * config (buildConfig, a password file) to the client the agent builds from them, then
 * one poll over real sockets: without `vendor:` the recorder is degraded auth-failed with
 * the refusal that names `vendor:` (ONVIF still watched); with it, its disks and channels
 * are read. `vigil agent check --vendor-user --vendor-password-file` the same, and no
 * password in anything printed.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type DeviceConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { main } from '../../../agent/main.js';
import type { PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import type { SimSite } from '../../../sim/site.js';
import { ONVIF } from './harness.js';
import { fakeClockSite, simPoller } from './sim-poller.js';

/** The recorders' web account: not an ONVIF user, and the ONVIF user is not one of these. */
const WEB = { username: 'admin', password: 'web-secret-4711' };

let site: SimSite;
let stopSite: () => Promise<void>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-vendor-account-'));
  await writeFile(join(dir, 'nvr-web-password'), `${WEB.password}\n`);
  ({ site, stop: stopSite } = await fakeClockSite('vendor-account', [
    {
      kind: 'nvr',
      channels: 2,
      personality: 'hikvision-nvr',
      disks: [4000, 0],
      vendorCredentials: WEB,
    },
    { kind: 'nvr', channels: 2, personality: 'dahua-nvr', disks: [2000], vendorCredentials: WEB },
  ]));
});

afterAll(async () => {
  await stopSite();
  await rm(dir, { recursive: true, force: true });
});

/** The device entry as the agent config gives it, `vendor:` as an installer writes it. */
async function configured(id: string, vendor: boolean): Promise<DeviceConfig> {
  const info = site.device(id)!;
  const config = await buildConfig(
    {
      siteId: 'demo-site',
      agentId: 'gw-01',
      mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'gw', password: 'x' },
      onvif: { username: ONVIF.username, password: ONVIF.password },
      devices: [
        {
          id,
          name: info.name,
          kind: 'nvr',
          xaddr: info.xaddr,
          ...(vendor
            ? { vendor: { username: WEB.username, passwordFile: 'nvr-web-password' } }
            : {}),
        },
      ],
    },
    dir,
  );
  return config.devices[0]!;
}

/** A vendor account with a wrong password: the refusal names the configured account. */
async function wrongVendor(id: string): Promise<DeviceConfig> {
  const device = await configured(id, false);
  return { ...device, vendor: { username: WEB.username, password: new Secret('not-it') } };
}

/** One poll of the device with the accounts its entry gives the agent's client (agent.ts). */
async function poll(device: DeviceConfig): Promise<PollResult> {
  const { username, password, vendor } = device;
  const account = { username, password, ...(vendor ? { vendor: { ...vendor } } : {}) };
  return (await simPoller(site, device.id, 15, account).poll()).result;
}

const RECORDERS = [
  ['hikvision', 'nvr-01', '/ISAPI/'],
  ['dahua', 'nvr-02', '/cgi-bin/'],
] as const;

describe.each(RECORDERS)('a %s recorder whose ONVIF user is not a web user', (driver, id, api) => {
  it('without vendor: is degraded auth-failed, naming vendor:, and ONVIF still watched', async () => {
    await site.reset();
    const result = await poll(await configured(id, false));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.values.up).toBe(true);
    expect(result.identity?.serialNumber).toBe(site.device(id)?.serialNumber);
    const refused = result.degraded.filter((r) => r.code === 'auth-failed');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.message).toMatch(
      /^the device's own API refused the agent \(.*\(401\): .*"vendor:" in the device's entry of the agent config.*ONVIF still answers the monitoring account/,
    );
    expect(result.vendor?.disks).toBeUndefined();
    // The simulator refused the ONVIF user on its vendor API, and only there.
    const log = site.requests(id);
    expect(log.filter((r) => r.path.startsWith(api) && r.authenticated)).toEqual([]);
    expect(log.some((r) => r.protocol === 'soap' && r.authenticated)).toBe(true);
    expect(JSON.stringify(result)).not.toContain(ONVIF.password);
  });

  it('with a wrong vendor: password says to check that account, not to add one', async () => {
    await site.reset();
    const result = await poll(await wrongVendor(id));
    const refused = result.ok ? result.degraded.filter((r) => r.code === 'auth-failed') : [];
    expect(refused.map((r) => r.message)).toEqual([
      expect.stringMatching(
        /refused the account set under "vendor:" for this device in the agent config \(401\): check its username and password/,
      ),
    ]);
    expect(JSON.stringify(result)).not.toContain('not-it');
  });

  it('with vendor: reads its disks and channels with the web account', async () => {
    await site.reset();
    const device = await configured(id, true);
    expect(device.vendor?.username).toBe(WEB.username);
    const result = await poll(device);
    expect(result.ok && result.degraded).toEqual([]);
    expect(result.vendor?.driver).toBe(driver);
    expect(result.vendor?.problems).toBeUndefined();
    expect(result.vendor?.disks?.filter((d) => d.health === 'ok')).toHaveLength(1);
    expect(result.vendor?.channels?.map((c) => c.online)).toEqual([true, true]);
    expect(result.values.storages).toBe(1);
    expect(site.requests(id).filter((r) => r.path.startsWith(api) && !r.authenticated)).toEqual(
      // Only the challenges the first request of each server meets, never a refused login.
      site
        .requests(id)
        .filter((r) => r.path.startsWith(api) && r.status === 401 && r.detail === 'no credentials'),
    );
    expect(site.device(id)?.lockouts).toEqual([]);
    expect(JSON.stringify(result)).not.toContain(WEB.password);
  });
});

describe('vigil agent check with the vendor account', () => {
  const run = async (args: string[]): Promise<string> => {
    const out: string[] = [];
    process.exitCode = undefined;
    await main(args, {
      log: new MemoryLogger(),
      signals: new EventEmitter(),
      exit: () => undefined,
      print: (text) => out.push(text),
      printError: (text) => out.push(text),
    });
    return out.join('\n');
  };
  const base = (id: string): string[] => [
    'check',
    site.device(id)!.xaddr,
    '--user',
    ONVIF.username,
    '--password',
    ONVIF.password,
    '--kind',
    'nvr',
    '--json',
  ];

  it('reads the disks with --vendor-user and --vendor-password-file, and prints no password', async () => {
    await site.reset();
    const without = await run(base('nvr-01'));
    expect(JSON.parse(without)).toMatchObject({
      status: 'degraded',
      degraded: [{ code: 'auth-failed', message: expect.stringContaining('"vendor:"') }],
    });
    await site.reset();
    const printed = await run([
      ...base('nvr-01'),
      '--vendor-user',
      WEB.username,
      '--vendor-password-file',
      join(dir, 'nvr-web-password'),
    ]);
    const report = JSON.parse(printed) as {
      status: string;
      vendor: { disks: { name: string; state: string }[] };
    };
    expect(report.status).toBe('up');
    expect(report.vendor.disks.map((d) => `${d.name} ${d.state}`)).toEqual([
      'hdd1 ok',
      'hdd2 notexist',
    ]);
    expect(printed).not.toContain(WEB.password);
    expect(printed).not.toContain(ONVIF.password);
    process.exitCode = undefined;
  });

  it('refuses a vendor password without --vendor-user, and a user without a password', async () => {
    const lone = await run([...base('nvr-01'), '--vendor-password-file', 'x']);
    expect(lone).toMatch(/--vendor-password and --vendor-password-file need --vendor-user/);
    expect(process.exitCode).toBe(2);
    const user = await run([...base('nvr-01'), '--vendor-user', 'admin']);
    expect(user).toMatch(/--vendor-user needs a name and a password/);
    expect(process.exitCode).toBe(2);
    process.exitCode = undefined;
  });
});
