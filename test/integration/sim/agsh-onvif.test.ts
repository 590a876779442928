/**
 * An independent client believes the simulator: the public `onvif` npm package
 * (agsh/onvif 0.8.x), as third-party software would use it, against simulated cameras
 * and NVRs: connect, device information, profiles, stream and snapshot URIs, pull-point
 * events, right and wrong passwords.
 */
import { Cam } from 'onvif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { rtsp, SimClient } from './client.js';
import { send } from './http.js';

const credentials = { username: 'admin', password: 'agsh pw' };
const site = new SimSite({ siteId: 'it-agsh', cameras: 2, nvrs: 1, nvrChannels: 4, credentials });

beforeAll(() => site.start());
afterAll(() => site.stop());

function connect(id: string, password = credentials.password): Promise<Cam> {
  const { hostname, port } = new URL(site.device(id)?.xaddr ?? '');
  return new Promise((resolve, reject) => {
    const cam: Cam = new Cam(
      {
        hostname,
        port: Number(port),
        username: credentials.username,
        password,
        timeout: 5000,
      },
      (error) => (error ? reject(error) : resolve(cam)),
    );
  });
}

/** agsh/onvif's callbacks as promises. */
function call<T>(start: (done: (error: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    start((error, data) => (error ? reject(error) : resolve(data as T))),
  );
}

interface Profile {
  $: { token: string };
  name: string;
  videoEncoderConfiguration?: { resolution?: { width: number } };
}

describe('onvif (agsh) against a simulated camera', () => {
  it('connects, reads device information, profiles, stream and snapshot URIs', async () => {
    const cam = await connect('cam-01');
    const expected = site.device('cam-01');
    const info = await call<Record<string, string>>((done) => cam.getDeviceInformation(done));
    expect(info).toMatchObject({
      manufacturer: expected?.manufacturer,
      model: expected?.model,
      firmwareVersion: expected?.firmwareVersion,
      serialNumber: expected?.serialNumber,
      hardwareId: expected?.hardwareId,
    });
    const profiles = (cam as unknown as { profiles: Profile[] }).profiles;
    expect(profiles.map((p) => p.$.token)).toEqual(['main', 'sub']);
    // GetServices lists media2 (Profile T), so agsh reads the profiles through it.
    expect(
      site
        .requests('cam-01')
        .some(
          (r) =>
            r.path === '/onvif/media2_service' && r.operation === 'GetProfiles' && r.status === 200,
        ),
    ).toBe(true);
    expect(profiles[0]?.videoEncoderConfiguration?.resolution?.width).toBeGreaterThan(0);
    const stream = await call<{ uri: string }>((done) =>
      cam.getStreamUri({ protocol: 'RTSP', profileToken: 'main' }, done),
    );
    expect(stream.uri).toBe(expected?.streams['main']);
    // The stream and the snapshot demand the device's credentials, as on real cameras.
    expect(await rtsp(stream.uri, 'DESCRIBE')).toMatchObject({ status: 401 });
    expect(await rtsp(stream.uri, 'DESCRIBE', 2000, credentials)).toMatchObject({
      status: 200,
      headers: { 'content-type': 'application/sdp' },
    });
    const snapshot = await call<{ uri: string }>((done) =>
      cam.getSnapshotUri({ profileToken: 'sub' }, done),
    );
    expect((await send(snapshot.uri)).status).toBe(401);
    const picture = await new SimClient(site).snapshot('cam-01', 'sub');
    expect(picture.status).toBe(200);
    expect(picture.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('a wrong password: the pre-auth steps pass, every authenticated call is refused', async () => {
    // ONVIF Core 5.12: GetSystemDateAndTime and GetServices need no credentials, so
    // agsh's connect() succeeds, its GetProfiles fails and it keeps no profiles.
    const cam = await connect('cam-02', 'wrong');
    expect((cam as unknown as { profiles: Profile[] }).profiles).toEqual([]);
    await expect(call((done) => cam.getDeviceInformation(done))).rejects.toThrow(
      /Sender not authorized: wrong username or password/,
    );
  });

  it('pull-point events: the initial state, then a fault as it happens', async () => {
    const cam = await connect('cam-02');
    await call((done) => cam.createPullPointSubscription(done));
    const first = await call<{ notificationMessage?: unknown[] | unknown }>((done) =>
      cam.pullMessages({ messageLimit: 50 }, done),
    );
    const initial = JSON.stringify(first);
    expect(initial).toContain('tns1:VideoSource/SignalLoss');
    expect(initial).toContain('Initialized');
    // The next pull waits (PT1M long poll) until the fault raises its event.
    const next = call<unknown>((done) => cam.pullMessages({ messageLimit: 50 }, done));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await site.setFault('cam-02', { kind: 'tamper' });
    const changed = JSON.stringify(await next);
    expect(changed).toContain('tns1:RuleEngine/TamperDetector/Tamper');
    expect(changed).toContain('Changed');
    await call((done) => cam.unsubscribe(done));
    await site.clearFaults('cam-02');
  });
});

describe('onvif (agsh) against a simulated NVR', () => {
  it('connects and sees two profiles per channel and one video source per channel', async () => {
    const nvr = await connect('nvr-01');
    const state = nvr as unknown as { profiles: Profile[]; videoSources: unknown[] };
    expect(state.profiles).toHaveLength(8);
    expect(state.videoSources).toHaveLength(4);
    const info = await call<Record<string, string>>((done) => nvr.getDeviceInformation(done));
    expect(info['serialNumber']).toBe(site.device('nvr-01')?.serialNumber);
    const stream = await call<{ uri: string }>((done) =>
      nvr.getStreamUri({ protocol: 'RTSP', profileToken: 'ch03_main' }, done),
    );
    expect(stream.uri).toBe(site.device('nvr-01')?.streams['ch03_main']);
  });

  it('a wrong password on the NVR is refused too', async () => {
    const nvr = await connect('nvr-01', 'wrong');
    await expect(call((done) => nvr.getProfiles(done))).rejects.toThrow(/not authorized/);
  });
});

describe('onvif (agsh) against a camera that wants HTTP Digest on SOAP (digest-only)', () => {
  const strict = new SimSite({
    siteId: 'it-agsh-digest',
    devices: [{ kind: 'camera', channels: 1, personality: 'digest-only' }],
    credentials,
  });
  beforeAll(() => strict.start());
  afterAll(() => strict.stop());

  function connectTo(password: string): Promise<Cam> {
    const { hostname, port } = new URL(strict.devices()[0]?.xaddr ?? '');
    return new Promise((resolve, reject) => {
      const cam: Cam = new Cam(
        { hostname, port: Number(port), username: credentials.username, password, timeout: 5000 },
        (error) => (error ? reject(error) : resolve(cam)),
      );
    });
  }

  it('answers the 401 with its own Digest and reads the device information', async () => {
    const cam = await connectTo(credentials.password);
    const info = await call<Record<string, string>>((done) => cam.getDeviceInformation(done));
    expect(info.serialNumber).toBe(strict.devices()[0]?.serialNumber);
    const requests = strict.requests(strict.devices()[0]?.id ?? '');
    expect(requests.some((r) => r.status === 401)).toBe(true);
  });

  it('a wrong password: its Digest is refused', async () => {
    const cam = await connectTo('wrong');
    await expect(call((done) => cam.getDeviceInformation(done))).rejects.toThrow(
      /Digest authentication failed 401/,
    );
  });
});
