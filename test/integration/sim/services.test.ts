/**
 * Events, Profile G, RTSP and personalities over real sockets, as a strict client reads
 * them.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAuthorizer, parseChallenges, strongest } from '../../../agent/onvif/http-auth.js';
import { Secret } from '../../../agent/secret.js';
import { SimSite } from '../../../sim/site.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';
import { childrenNamed, textAt } from '../../../sim/soap/xml.js';
import { bodyOf, rtsp, rtspRaw, SimClient } from './client.js';
import { send } from './http.js';

const ACCOUNT = { username: 'admin', password: 'services pw' };
const site = new SimSite({
  siteId: 'it-services',
  devices: [
    { kind: 'camera', channels: 1 },
    { kind: 'nvr', channels: 2 },
    { kind: 'camera', channels: 1, personality: 'legacy-camera' },
    { kind: 'nvr', channels: 2, personality: 'budget-nvr' },
    { kind: 'camera', channels: 1, personality: 'odd-encoder' },
    { kind: 'camera', channels: 1, personality: 'digest-only' },
  ],
  credentials: ACCOUNT,
});
const client = new SimClient(site);
const EVENTS = '/onvif/events_service';

beforeAll(() => site.start());
afterAll(() => site.stop());

describe('events service', () => {
  it('GetEventProperties lists the topics of the issue', async () => {
    const answer = await client.soap('cam-01', EVENTS, '<tev:GetEventProperties/>');
    expect(answer.status).toBe(200);
    for (const topic of [
      '<tns1:VideoSource><SignalLoss wstop:topic="true">',
      '<Tamper wstop:topic="true">',
      '<GlobalSceneChange><ImagingService wstop:topic="true">',
      '<HardwareFailure><StorageFailure wstop:topic="true">',
      '<tns1:RecordingConfig><JobState wstop:topic="true">',
      '<OperatingTime><LastReboot wstop:topic="true">',
    ]) {
      expect(answer.body).toContain(topic);
    }
  });

  it('PullMessages waits for its Timeout when nothing happens, honours MessageLimit', async () => {
    const address = await client.subscribe('cam-01');
    const initial = await client.pull('cam-01', address, 'PT0S', 2);
    expect(initial).toHaveLength(2);
    expect(initial.every((m) => m.operation === 'Initialized')).toBe(true);
    await client.pull('cam-01', address, 'PT0S', 100);
    const started = Date.now();
    expect(await client.pull('cam-01', address, 'PT0.6S')).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('a long poll answers as soon as an event arrives', async () => {
    const address = await client.subscribe('nvr-01');
    await client.pull('nvr-01', address, 'PT0S', 100);
    const started = Date.now();
    const waiting = client.pull('nvr-01', address, 'PT20S');
    setTimeout(() => void site.setFault('nvr-01', { kind: 'video-loss', channel: 2 }), 200);
    const messages = await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(messages[0]).toMatchObject({
      topic: 'tns1:VideoSource/SignalLoss',
      data: { State: 'true' },
    });
    await site.clearFaults('nvr-01');
  });

  it('Renew extends the termination time; Unsubscribe ends the subscription', async () => {
    const address = await client.subscribe('cam-01');
    const renewed = await client.soapTo(
      address,
      'cam-01',
      '<wsnt:Renew><wsnt:TerminationTime>PT120S</wsnt:TerminationTime></wsnt:Renew>',
    );
    expect(renewed.status).toBe(200);
    const result = bodyOf(renewed.body);
    const span =
      Date.parse(textAt(result, 'TerminationTime') ?? '') -
      Date.parse(textAt(result, 'CurrentTime') ?? '');
    expect(span).toBeGreaterThan(110_000);
    const gone = await client.soapTo(address, 'cam-01', '<wsnt:Unsubscribe/>');
    expect(gone.status).toBe(200);
    await expect(client.pull('cam-01', address, 'PT0S')).rejects.toThrow(/no subscription/);
  });
});

describe('Profile G on an NVR', () => {
  it('GetRecordingSummary: DataUntil follows the clock while recording runs', async () => {
    const ask = async () => {
      const answer = await client.soap(
        'nvr-01',
        '/onvif/search_service',
        '<tse:GetRecordingSummary/>',
      );
      const summary = bodyOf(answer.body);
      return {
        from: Date.parse(textAt(summary, 'Summary', 'DataFrom') ?? ''),
        until: Date.parse(textAt(summary, 'Summary', 'DataUntil') ?? ''),
        count: Number(textAt(summary, 'Summary', 'NumberRecordings')),
      };
    };
    const first = await ask();
    expect(first.count).toBe(2);
    expect(Date.now() - first.from).toBeGreaterThan(29 * 86_400_000);
    expect(Math.abs(Date.now() - first.until)).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await ask()).until).toBeGreaterThan(first.until);
  });

  it('GetRecordings, GetRecordingJobs and GetStorageConfigurations describe each channel', async () => {
    const recordings = bodyOf(
      (await client.soap('nvr-01', '/onvif/recording_service', '<trc:GetRecordings/>')).body,
    );
    expect(
      childrenNamed(recordings, 'RecordingItem').map((r) => textAt(r, 'RecordingToken')),
    ).toEqual(['REC_CH01', 'REC_CH02']);
    const jobs = bodyOf(
      (await client.soap('nvr-01', '/onvif/recording_service', '<trc:GetRecordingJobs/>')).body,
    );
    expect(
      childrenNamed(jobs, 'JobItem').map((j) => textAt(j, 'JobConfiguration', 'Mode')),
    ).toEqual(['Active', 'Active']);
    const storage = await client.soap(
      'nvr-01',
      '/onvif/device_service',
      '<tds:GetStorageConfigurations/>',
    );
    expect(textAt(bodyOf(storage.body), 'StorageConfigurations', 'Data', 'LocalPath')).toBe(
      '/mnt/hdd0',
    );
  });

  it('a camera has no recording service', async () => {
    const answer = await client.soap('cam-01', '/onvif/recording_service', '<trc:GetRecordings/>');
    expect(answer.status).toBe(404);
  });
});

describe('RTSP', () => {
  it('OPTIONS lists the methods; DESCRIBE answers an RFC 4566 SDP for every profile', async () => {
    for (const uri of Object.values(site.device('nvr-01')?.streams ?? {})) {
      const options = await rtsp(uri, 'OPTIONS');
      expect(options).toMatchObject({ status: 200, headers: { cseq: '1' } });
      const describe = await rtsp(uri, 'DESCRIBE', 2000, ACCOUNT);
      if (!('status' in describe)) throw new Error(describe.error);
      expect(describe.headers['content-base']).toBe(`${uri}/`);
      const lines = describe.body.split('\r\n').filter(Boolean);
      // RFC 4566 section 5: v, o, s first; t before the media; each line "x=...".
      expect(lines.slice(0, 3).map((l) => l[0])).toEqual(['v', 'o', 's']);
      expect(lines.every((l) => /^[a-z]=/.test(l))).toBe(true);
      expect(lines.indexOf('t=0 0')).toBeLessThan(lines.findIndex((l) => l.startsWith('m=')));
      expect(lines).toEqual(
        expect.arrayContaining(['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000']),
      );
    }
  });

  it('DESCRIBE demands credentials: 401 with a Digest challenge without qop, 401 again for a wrong password', async () => {
    const uri = site.device('cam-01')?.streams['main'] ?? '';
    const bare = await rtsp(uri, 'DESCRIBE');
    expect(bare).toMatchObject({ status: 401 });
    if (!('status' in bare)) throw new Error(bare.error);
    expect(bare.headers['www-authenticate']).toMatch(/^Digest realm="[^"]+", nonce="[0-9a-f]+"$/);
    expect(await rtsp(uri, 'DESCRIBE', 2000, { ...ACCOUNT, password: 'wrong' })).toMatchObject({
      status: 401,
    });
    expect(await rtsp(uri, 'DESCRIBE', 2000, ACCOUNT)).toMatchObject({ status: 200 });
  });

  it('an unknown stream: 401 first, as cameras ask for credentials on any path; 404 with them', async () => {
    const uri = (site.device('cam-01')?.streams['main'] ?? '').replace('/main', '/nope');
    expect(await rtsp(uri, 'DESCRIBE')).toMatchObject({ status: 401 });
    expect(await rtsp(uri, 'DESCRIBE', 2000, ACCOUNT)).toMatchObject({ status: 404 });
  });

  it('a request without CSeq is 400 Bad Request (RFC 2326 section 12.17), with or without credentials', async () => {
    const uri = site.device('cam-01')?.streams['main'] ?? '';
    const bare = await rtspRaw(uri, `OPTIONS ${uri} RTSP/1.0\r\nUser-Agent: vigil-test\r\n\r\n`);
    expect(bare).toMatchObject({ status: 400 });
    if (!('status' in bare)) throw new Error(bare.error);
    expect(bare.headers['cseq']).toBeUndefined();
    const described = await rtspRaw(
      uri,
      `DESCRIBE ${uri} RTSP/1.0\r\nAccept: application/sdp\r\n\r\n`,
    );
    expect(described).toMatchObject({ status: 400 });
    // The same request with its CSeq is answered (the 401 of a protected method).
    const paired = await rtspRaw(uri, `DESCRIBE ${uri} RTSP/1.0\r\nCSeq: 7\r\n\r\n`);
    expect(paired).toMatchObject({ status: 401, headers: { cseq: '7' } });
    const log = site.requests('cam-01').filter((r) => r.protocol === 'rtsp' && r.status === 400);
    expect(log.map((r) => r.detail)).toContain('no CSeq header (RFC 2326 section 12.17)');
  });
});

interface NodeOnvifDevice {
  init(): Promise<Record<string, string>>;
  getProfileList(): unknown[];
}
const requireCjs = createRequire(import.meta.url);
const nodeOnvif = requireCjs('node-onvif') as {
  OnvifDevice: new (params: { xaddr: string; user: string; pass: string }) => NodeOnvifDevice;
};

describe('personalities', () => {
  it('legacy-camera: no GetServices, 401 NotAuthorized, xmlns on leaves', async () => {
    const services = await client.soap('cam-02', '/onvif/device_service', '<tds:GetServices/>', {
      password: null,
    });
    expect(services.body).toContain('ter:ActionNotSupported');
    const refused = await client.soap(
      'cam-02',
      '/onvif/device_service',
      '<tds:GetDeviceInformation/>',
      {
        password: 'wrong',
      },
    );
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Digest /);
    const info = await client.soap(
      'cam-02',
      '/onvif/device_service',
      '<tds:GetDeviceInformation/>',
    );
    expect(info.body).toMatch(
      /<tds:Model xmlns:tds="http:\/\/www\.onvif\.org\/ver10\/device\/wsdl">/,
    );
  });

  it('budget-nvr: encoders without Resolution, DataFrom 1970, hyphenated date-times', async () => {
    const profiles = await client.soap('nvr-02', '/onvif/media_service', '<trt:GetProfiles/>');
    expect(profiles.body).toContain('VideoEncoderConfiguration');
    expect(profiles.body).not.toContain('Resolution');
    const summary = await client.soap(
      'nvr-02',
      '/onvif/search_service',
      '<tse:GetRecordingSummary/>',
    );
    expect(textAt(bodyOf(summary.body), 'Summary', 'DataFrom')).toBe('1970-01-01-00:00:00Z');
    expect(textAt(bodyOf(summary.body), 'Summary', 'DataUntil')).toMatch(
      /^\d{4}-\d\d-\d\d-\d\d:\d\d:\d\dZ$/,
    );
  });

  it('odd-encoder: a utf-16 declaration and no Content-Length', async () => {
    const answer = await client.soap(
      'cam-03',
      '/onvif/device_service',
      '<tds:GetSystemDateAndTime/>',
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^<\?xml version="1.0" encoding="utf-16"\?>/);
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['transfer-encoding']).toBe('chunked');
  });

  it.each([
    ['cam-01', 'standard', ['digest'], 'MD5'],
    ['cam-02', 'legacy-camera', ['basic'], undefined],
    ['nvr-02', 'budget-nvr', ['basic', 'digest'], 'MD5'],
    ['cam-03', 'odd-encoder', ['digest', 'digest'], 'SHA-256'],
  ] as const)(
    'snapshots of %s (%s) demand credentials: %j offered; a wrong password and a replayed nc are refused',
    async (id, _personality, schemes, algorithm) => {
      const token = Object.keys(site.device(id)?.streams ?? {})[0] ?? '';
      const url = client.url(id, `/snapshot/${token}.jpg`);
      const bare = await send(url);
      expect(bare.status).toBe(401);
      const offered = parseChallenges(bare.headers['www-authenticate']);
      expect(offered.map((c) => c.scheme)).toEqual(schemes);
      const chosen = strongest(offered);
      expect(chosen?.params.algorithm ?? (chosen?.scheme === 'digest' ? 'MD5' : undefined)).toBe(
        algorithm,
      );
      expect((await client.snapshot(id, token, 'wrong')).status).toBe(401);
      const picture = await client.snapshot(id, token);
      expect(picture.status).toBe(200);
      expect(picture.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      if (chosen?.scheme === 'digest') {
        // RFC 7616 section 3.4: the same nc twice is a replay; a growing one is fine.
        const authorizer = new HttpAuthorizer(
          chosen,
          { username: ACCOUNT.username, password: new Secret(ACCOUNT.password) },
          () => 'fixed-cnonce',
        );
        const path = new URL(url).pathname;
        const first = authorizer.authorization('GET', path);
        expect((await send(url, { headers: { Authorization: first } })).status).toBe(200);
        expect((await send(url, { headers: { Authorization: first } })).status).toBe(401);
        const next = authorizer.authorization('GET', path);
        expect((await send(url, { headers: { Authorization: next } })).status).toBe(200);
        // The digest covers the request-target: another path with this answer is refused.
        const elsewhere = client.url(id, `/snapshot/${token}.jpg?x=1`);
        const moved = authorizer.authorization('GET', path);
        expect((await send(elsewhere, { headers: { Authorization: moved } })).status).toBe(401);
      }
    },
  );

  it('a snapshot of an unknown profile: 401 first, as cameras ask for credentials on any path; 404 with them', async () => {
    expect((await send(client.url('cam-01', '/snapshot/nope.jpg'))).status).toBe(401);
    expect((await client.snapshot('cam-01', 'nope')).status).toBe(404);
  });

  it('digest-only: a UsernameToken alone gets 401 and a challenge; HTTP Digest with it passes', async () => {
    const xaddr = site.device('cam-04')?.xaddr ?? '';
    const alone = await client.soap(
      'cam-04',
      '/onvif/device_service',
      '<tds:GetDeviceInformation/>',
    );
    expect(alone.status).toBe(401);
    const challenge = strongest(parseChallenges(alone.headers['www-authenticate']));
    expect(challenge).toMatchObject({ scheme: 'digest', params: { qop: 'auth' } });
    // Pre-auth operations stay open (ONVIF Core 5.12.1).
    const clock = await client.soap(
      'cam-04',
      '/onvif/device_service',
      '<tds:GetSystemDateAndTime/>',
      {
        password: null,
      },
    );
    expect(clock.status).toBe(200);
    const authorizer = new HttpAuthorizer(challenge!, {
      username: ACCOUNT.username,
      password: new Secret(ACCOUNT.password),
    });
    const withDigest = (header: string, password: string | null) =>
      send(xaddr, {
        method: 'POST',
        body: soapRequest(
          '<tds:GetDeviceInformation/>',
          password === null ? '' : securityHeader({ ...ACCOUNT, password }),
        ),
        headers: { Authorization: header },
      });
    expect(
      (
        await withDigest(
          authorizer.authorization('POST', '/onvif/device_service'),
          ACCOUNT.password,
        )
      ).status,
    ).toBe(200);
    // It wants both: HTTP Digest with a wrong UsernameToken is NotAuthorized.
    expect(
      (await withDigest(authorizer.authorization('POST', '/onvif/device_service'), 'wrong')).status,
    ).toBe(400);
  });

  it('node-onvif (the library the agent once used) against each personality', async () => {
    const outcome = async (id: string) => {
      const device = new nodeOnvif.OnvifDevice({
        xaddr: site.device(id)?.xaddr ?? '',
        user: 'admin',
        pass: 'services pw',
      });
      return device.init().then(
        (info) => `ok ${device.getProfileList().length} ${typeof info['SerialNumber']}`,
        (error: Error) => `error ${error.message}`,
      );
    };
    expect(await outcome('cam-01')).toBe('ok 2 string');
    expect(await outcome('cam-03')).toBe('ok 2 string');
    // Real-world breakage the agent must survive: node-onvif reads leaves with xmlns as
    // objects, and its init() throws on encoders without Resolution.
    expect(await outcome('cam-02')).toMatch(/^error .*xaddr/);
    expect(await outcome('nvr-02')).toMatch(/^error .*Width/);
  });
});
