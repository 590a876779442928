/**
 * Media credentials against a simulator as strict as real cameras (sim/http-auth.ts):
 * RTSP DESCRIBE and snapshot GETs answer 401 with a challenge, and one personality wants
 * HTTP Digest on SOAP. The agent's client answers every challenge with the device's
 * credentials: streams described, pictures read; a wrong password is auth-failed that
 * names the URI and never the password.
 */
import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { main } from '../../../agent/main.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { httpGet, rtspDescribe } from '../../../agent/onvif/media-probe.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { runChecks, type PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import { SimSite } from '../../../sim/site.js';
import { ONVIF, SITE } from './harness.js';

let site: SimSite;

beforeAll(async () => {
  site = new SimSite({
    siteId: `${SITE}-media-auth`,
    credentials: ONVIF,
    devices: [
      // RTSP Digest without qop (Hikvision-like), snapshots Digest MD5 qop=auth.
      { kind: 'camera', channels: 1 },
      // RTSP and snapshots Basic only.
      { kind: 'camera', channels: 1, personality: 'legacy-camera' },
      // Basic and Digest offered together.
      { kind: 'nvr', channels: 2, personality: 'budget-nvr' },
      // Snapshots Digest SHA-256 (and MD5) with qop=auth.
      { kind: 'camera', channels: 1, personality: 'odd-encoder' },
      // HTTP Digest required on SOAP beside the UsernameToken.
      { kind: 'camera', channels: 1, personality: 'digest-only' },
    ],
  });
  await site.start();
});

afterAll(async () => {
  await site.stop();
});

// Every case starts from devices as at start: no fault, and no account locked by the
// wrong passwords an earlier case tried on purpose (sim/lockout.ts, as cameras do).
afterEach(() => site.reset());

function client(id: string, password = ONVIF.password): OnvifDeviceClient {
  const info = site.device(id)!;
  return new OnvifDeviceClient(
    { xaddr: info.xaddr, username: ONVIF.username, password: new Secret(password) },
    { timeoutMs: 2000 },
  );
}

function poller(id: string, password = ONVIF.password): () => Promise<PollResult> {
  const info = site.device(id)!;
  const onvif = client(id, password);
  const memory = new DeviceMemory();
  return () =>
    runChecks(checks, {
      device: { id, name: info.name, kind: info.kind, xaddr: info.xaddr },
      client: onvif,
      signal: new AbortController().signal,
      settings: { ...checkDefaults },
      memory,
      now: Date.now,
      intervalS: 5,
    });
}

function codes(result: PollResult): string[] {
  return result.ok ? result.degraded.map((r) => r.code) : [`down:${result.failure.code}`];
}

async function failure(promise: Promise<unknown>): Promise<OnvifError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OnvifError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('every personality, with the right credentials', () => {
  it('describes every stream and reads every picture: no stream-down, no snapshot-failed', async () => {
    for (const device of site.devices()) {
      const result = await poller(device.id)();
      expect(codes(result), `${device.id} ${device.personality}`).toEqual([]);
      expect(result.values.channels, device.id).toBe(device.channels);
      expect(result.values.streamsUp, device.id).toBe(device.channels);
      expect(result.values.picturesOk, device.id).toBe(device.channels);
      // Each media request was refused once without credentials and then answered.
      const media = site.requests(device.id).filter((r) => r.protocol !== 'soap');
      expect(media.some((r) => r.status === 401)).toBe(true);
      expect(media.filter((r) => r.status === 200).every((r) => r.authenticated)).toBe(true);
    }
  });

  it('digest-only: SOAP answers the 401 with HTTP Digest, then sends it at once', async () => {
    const id = site.devices().find((d) => d.personality === 'digest-only')!.id;
    const poll = poller(id);
    expect(codes(await poll())).toEqual([]);
    const first = site.requests(id);
    expect(first.some((r) => r.protocol === 'soap' && r.status === 401)).toBe(true);
    const before = first.length;
    expect(codes(await poll())).toEqual([]);
    const second = site.requests(id).slice(before);
    // The second poll's SOAP requests carry the remembered Digest: not one 401.
    expect(second.filter((r) => r.protocol === 'soap').length).toBeGreaterThan(0);
    expect(second.filter((r) => r.protocol === 'soap' && r.status === 401)).toEqual([]);
  });
});

describe('refused credentials', () => {
  it('a wrong password: auth-failed, named as a credentials problem, without the password', async () => {
    for (const device of site.devices()) {
      const result = await poller(device.id, 'not-the-password')();
      expect(codes(result), `${device.id} ${device.personality}`).toEqual(['auth-failed']);
      const said = result.ok ? (result.degraded[0]?.message ?? '') : '';
      expect(said).toMatch(/credentials/);
      expect(said).not.toContain('not-the-password');
    }
  });

  it('RTSP and snapshots refused after credentials: auth-failed naming the URI and what to do', async () => {
    const device = site.devices()[0]!;
    const uri = Object.values(device.streams)[0]!;
    const wrong = { username: ONVIF.username, password: new Secret('not-the-password') };
    const rtsp = await failure(rtspDescribe(uri, { timeoutMs: 2000, credentials: wrong }));
    expect(rtsp.kind).toBe('auth-failed');
    expect(rtsp.message).toContain(uri);
    expect(rtsp.message).toMatch(/password was changed on the device|live view/);
    expect(rtsp.message).not.toContain('not-the-password');
    const snapshotUri = new URL('/snapshot/main.jpg', device.xaddr).toString();
    const picture = await failure(httpGet(snapshotUri, { timeoutMs: 2000, credentials: wrong }));
    expect(picture.kind).toBe('auth-failed');
    expect(picture.message).toContain(snapshotUri);
    expect(picture.message).not.toContain('not-the-password');
    // Without credentials at all: still auth-failed, saying that none are configured.
    const bare = await failure(rtspDescribe(uri, { timeoutMs: 2000 }));
    expect(bare.message).toMatch(/none in the agent config/);
  });

  it('auth-changed on the simulator refuses media with the old password too', async () => {
    const device = site.devices()[0]!;
    await site.setFault(device.id, { kind: 'auth-changed', password: 'rotated' });
    const onvif = client(device.id);
    const uri = Object.values(device.streams)[0]!;
    expect((await failure(onvif.describe(uri))).kind).toBe('auth-failed');
    const snapshotUri = new URL('/snapshot/main.jpg', device.xaddr).toString();
    expect((await failure(onvif.snapshot(snapshotUri))).kind).toBe('auth-failed');
    // With the new password the same device is described and pictured.
    const rotated = client(device.id, 'rotated');
    expect(await rotated.describe(uri)).toBe(200);
    expect((await rotated.snapshot(snapshotUri)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });
});

describe('vigil agent check against strictly authenticating cameras', () => {
  async function check(xaddr: string, password: string): Promise<string[]> {
    const out: string[] = [];
    process.exitCode = undefined;
    await main(['check', xaddr, '--user', ONVIF.username, '--password', password, '--json'], {
      log: new MemoryLogger(),
      signals: new EventEmitter(),
      exit: () => undefined,
      print: (text) => out.push(text),
      printError: (text) => out.push(text),
    });
    return out;
  }

  it('counts the described streams and read pictures; a wrong password is a credentials problem', async () => {
    for (const personality of ['standard', 'digest-only', 'legacy-camera']) {
      const camera = site.devices().find((d) => d.personality === personality)!;
      const report = JSON.parse((await check(camera.xaddr, ONVIF.password)).join('\n')) as {
        status: string;
        values: Record<string, number>;
        degraded?: { code: string }[];
      };
      expect(report.status, personality).toBe('up');
      expect(report.degraded, personality).toEqual([]);
      expect(report.values, personality).toMatchObject({ streamsUp: 1, picturesOk: 1 });
      expect(process.exitCode).toBe(0);

      const refused = (await check(camera.xaddr, 'not-the-password')).join('\n');
      // The camera answers, so it is degraded (not down), and the reason names the credentials.
      const wrong = JSON.parse(refused) as {
        status: string;
        degraded?: { code: string; message: string }[];
      };
      expect(wrong.status, personality).toBe('degraded');
      expect(
        wrong.degraded?.map((r) => r.code),
        personality,
      ).toEqual(['auth-failed']);
      expect(wrong.degraded?.[0]?.message).toMatch(/credentials/);
      expect(refused).not.toContain('not-the-password');
      process.exitCode = undefined;
    }
  });
});
