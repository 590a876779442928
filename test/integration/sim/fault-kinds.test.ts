/**
 * Every fault kind as a client on the network sees it: one test per kind (hang and
 * offline are in faults.test.ts), each through real sockets.
 */
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeJpeg } from '../../../sim/jpeg.js';
import { SimSite } from '../../../sim/site.js';
import { parseXml, textAt, childrenNamed } from '../../../sim/soap/xml.js';
import { eventually } from '../../helpers/eventually.js';
import { bodyOf, rtsp, SimClient } from './client.js';

const PASSWORD = 'fault kinds pw';
const site = new SimSite({
  siteId: 'it-fault-kinds',
  cameras: 3,
  nvrs: 1,
  nvrChannels: 3,
  credentials: { username: 'admin', password: PASSWORD },
});
const client = new SimClient(site);
const DEVICE = '/onvif/device_service';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => site.start());
afterEach(async () => {
  await site.reset();
});
afterAll(() => site.stop());

function dateAndTime(id: string, timeoutMs = 3000) {
  return client.soap(id, DEVICE, '<tds:GetSystemDateAndTime/>', { password: null, timeoutMs });
}

function luma(bytes: Buffer) {
  const { data } = decodeJpeg(bytes);
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < data.length; i += 4) {
    const y = ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) / 3;
    sum += y;
    sumSq += y * y;
  }
  const n = data.length / 4;
  return { mean: sum / n, spread: Math.sqrt(sumSq / n - (sum / n) ** 2) };
}

async function searchResults(id: string) {
  const find = await client.soap(
    id,
    '/onvif/search_service',
    '<tse:FindRecordings><tse:Scope/><tse:KeepAliveTime>PT60S</tse:KeepAliveTime></tse:FindRecordings>',
  );
  const token = textAt(bodyOf(find.body), 'SearchToken') ?? '';
  const answer = await client.soap(
    id,
    '/onvif/search_service',
    `<tse:GetRecordingSearchResults><tse:SearchToken>${token}</tse:SearchToken><tse:WaitTime>PT1S</tse:WaitTime></tse:GetRecordingSearchResults>`,
  );
  await client.soap(
    id,
    '/onvif/search_service',
    `<tse:EndSearch><tse:SearchToken>${token}</tse:SearchToken></tse:EndSearch>`,
  );
  const list = bodyOf(answer.body).children[0];
  return childrenNamed(list ?? bodyOf(answer.body), 'RecordingInformation').map((r) => ({
    token: textAt(r, 'RecordingToken'),
    latest: textAt(r, 'LatestRecording'),
    status: textAt(r, 'RecordingStatus'),
  }));
}

async function jobState(id: string, job: string) {
  const answer = await client.soap(
    id,
    '/onvif/recording_service',
    `<trc:GetRecordingJobState><trc:JobToken>${job}</trc:JobToken></trc:GetRecordingJobState>`,
  );
  return textAt(bodyOf(answer.body), 'State', 'State');
}

describe('network faults', () => {
  it('slow: every answer waits delayMs', async () => {
    await site.setFault('cam-01', { kind: 'slow', delayMs: 2000 });
    const started = Date.now();
    let slowAnswered = false;
    const slow = dateAndTime('cam-01').finally(() => (slowAnswered = true));
    expect((await dateAndTime('cam-02')).status).toBe(200);
    // The other device answered while this one still waits: the delay holds only its own
    // device (a simulator serving one request at a time would answer cam-02 after it).
    expect(slowAnswered).toBe(false);
    expect((await slow).status).toBe(200);
    // setTimeout never fires early; 10 ms for the clocks' rounding.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1990);
  });

  it('flapping: refused and answering in turn, on the same address', async () => {
    await site.setFault('cam-01', { kind: 'flapping', periodS: 0.6 });
    const seen: string[] = [];
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      const state = await dateAndTime('cam-01', 1000).then(
        (a) => String(a.status),
        (e: NodeJS.ErrnoException) => e.code ?? 'error',
      );
      if (seen.at(-1) !== state) seen.push(state);
      await sleep(50);
    }
    // Up, down, up again (a request caught by the switch may also see a reset).
    expect(seen).toContain('ECONNREFUSED');
    expect(seen.filter((s) => s === '200').length).toBeGreaterThanOrEqual(2);
  });

  it('a fault with durationS clears itself', async () => {
    // Long enough that the first request lands inside it on a busy machine.
    const setAt = Date.now();
    const device = await site.setFault('cam-02', { kind: 'offline', durationS: 2 });
    expect(device.faults).toEqual([{ kind: 'offline', durationS: 2 }]);
    await expect(dateAndTime('cam-02')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await eventually(
      'cam-02 answering again',
      async () => (await dateAndTime('cam-02').catch(() => null))?.status === 200,
    );
    // It lasted its duration, and then went by itself.
    expect(Date.now() - setAt).toBeGreaterThanOrEqual(1990);
    expect(site.device('cam-02')?.faults).toEqual([]);
  });

  it('offline: the RTSP stream drops the connection too', async () => {
    const uri = site.device('cam-03')?.streams['main'] ?? '';
    expect(await rtsp(uri, 'OPTIONS')).toMatchObject({ status: 200 });
    await site.setFault('cam-03', { kind: 'offline' });
    expect(await rtsp(uri, 'DESCRIBE')).toEqual({ error: 'reset' });
  });

  it('reboot: down for downS, then back with a new LastReboot', async () => {
    const before = await client.subscribe('cam-01');
    const initial = await client.pull('cam-01', before, 'PT0S');
    const bootBefore = initial.find((m) => m.topic.endsWith('LastReboot'))?.data['Status'];
    expect(bootBefore).toBeDefined();
    await sleep(1100);
    // Down long enough that the next request lands inside it on a busy machine.
    const device = await site.setFault('cam-01', { kind: 'reboot', downS: 2 });
    expect(device.faults).toEqual([{ kind: 'reboot', downS: 2 }]);
    await expect(dateAndTime('cam-01')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await eventually(
      'cam-01 back from its reboot',
      async () => (await dateAndTime('cam-01').catch(() => null))?.status === 200,
    );
    expect(site.device('cam-01')?.faults).toEqual([]);
    // The old subscription died with the reboot; a new one reports the new boot time.
    await expect(client.pull('cam-01', before, 'PT0S')).rejects.toThrow(/no subscription/);
    const after = await client.pull('cam-01', await client.subscribe('cam-01'), 'PT0S');
    const bootAfter = after.find((m) => m.topic.endsWith('LastReboot'))?.data['Status'] ?? '';
    expect(Date.parse(bootAfter)).toBeGreaterThan(Date.parse(bootBefore ?? ''));
  });
});

describe('SOAP faults', () => {
  it('auth-changed: the old password gets NotAuthorized, the listed one works', async () => {
    const changed = await site.setFault('cam-02', { kind: 'auth-changed' });
    expect(changed.credentials.password).not.toBe(PASSWORD);
    const old = await client.soap('cam-02', DEVICE, '<tds:GetDeviceInformation/>', {
      password: PASSWORD,
    });
    expect(old.status).toBe(400);
    expect(old.body).toContain('ter:NotAuthorized');
    expect((await dateAndTime('cam-02')).status).toBe(200);
    const info = await client.deviceInformation('cam-02');
    expect(info['SerialNumber']).toBe(changed.serialNumber);
  });

  it('clock-drift: the device clock is off; a token dated by the wall clock is refused', async () => {
    await site.setFault('cam-01', { kind: 'clock-drift', offsetS: 3600 });
    const result = bodyOf((await dateAndTime('cam-01')).body);
    const utc = (name: string, part: string) =>
      Number(textAt(result, 'SystemDateAndTime', 'UTCDateTime', part, name));
    const device = Date.UTC(
      utc('Year', 'Date'),
      utc('Month', 'Date') - 1,
      utc('Day', 'Date'),
      utc('Hour', 'Time'),
      utc('Minute', 'Time'),
      utc('Second', 'Time'),
    );
    expect(Math.abs(device - Date.now() - 3_600_000)).toBeLessThan(5000);
    const wall = await client.soap('cam-01', DEVICE, '<tds:GetDeviceInformation/>');
    expect(wall.status).toBe(400);
    expect(wall.body).toContain('from the device clock');
    const created = new Date(device).toISOString();
    const synced = await client.soap('cam-01', DEVICE, '<tds:GetDeviceInformation/>', { created });
    expect(synced.status).toBe(200);
  });

  it('malformed: HTTP 200 with XML that does not parse', async () => {
    await site.setFault('cam-03', { kind: 'malformed' });
    const answer = await dateAndTime('cam-03');
    expect(answer.status).toBe(200);
    expect(() => parseXml(answer.body)).toThrow();
  });

  it('soap-fault: HTTP 500 with env:Receiver', async () => {
    await site.setFault('cam-03', { kind: 'soap-fault' });
    const answer = await dateAndTime('cam-03');
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('env:Receiver');
  });

  it('http-500: HTTP 500 with an HTML page, no SOAP', async () => {
    await site.setFault('cam-03', { kind: 'http-500' });
    const answer = await dateAndTime('cam-03');
    expect(answer.status).toBe(500);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.body).not.toContain('Envelope');
  });

  it('replaced: same address, a new serial number', async () => {
    const before = site.device('cam-02');
    const after = await site.setFault('cam-02', { kind: 'replaced' });
    expect(after.xaddr).toBe(before?.xaddr);
    const info = await client.deviceInformation('cam-02');
    expect(info['SerialNumber']).toBe(after.serialNumber);
    expect(info['SerialNumber']).not.toBe(before?.serialNumber);
    expect(info['Model']).toBe(before?.model);
  });

  it('firmware-changed: another FirmwareVersion', async () => {
    const before = site.device('cam-01')?.firmwareVersion;
    await site.setFault('cam-01', { kind: 'firmware-changed', firmwareVersion: '9.9.9 build 1' });
    expect((await client.deviceInformation('cam-01'))['FirmwareVersion']).toBe('9.9.9 build 1');
    await site.clearFaults('cam-01', 'firmware-changed');
    expect((await client.deviceInformation('cam-01'))['FirmwareVersion']).toBe(before);
  });
});

describe('picture and stream faults', () => {
  it('a live snapshot is a JPEG that changes every second', async () => {
    const first = await client.snapshot('cam-01', 'main');
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('image/jpeg');
    expect(luma(first.bytes).spread).toBeGreaterThan(40);
    await sleep(1100);
    expect((await client.snapshot('cam-01', 'main')).bytes.equals(first.bytes)).toBe(false);
  });

  it('snapshot-black: a black picture', async () => {
    await site.setFault('cam-01', { kind: 'snapshot-black' });
    expect(luma((await client.snapshot('cam-01', 'main')).bytes).mean).toBeLessThan(5);
  });

  it('snapshot-frozen: the same picture a second later', async () => {
    await site.setFault('cam-01', { kind: 'snapshot-frozen' });
    const first = await client.snapshot('cam-01', 'main');
    await sleep(1100);
    expect((await client.snapshot('cam-01', 'main')).bytes.equals(first.bytes)).toBe(true);
  });

  it('snapshot-covered: near uniform grey', async () => {
    await site.setFault('cam-02', { kind: 'snapshot-covered' });
    const { mean, spread } = luma((await client.snapshot('cam-02', 'sub')).bytes);
    expect(mean).toBeGreaterThan(80);
    expect(spread).toBeLessThan(6);
  });

  it('stream-down: RTSP answers 503 for that channel, 200 for the others', async () => {
    const streams = site.device('nvr-01')?.streams ?? {};
    await site.setFault('nvr-01', { kind: 'stream-down', channel: 2 });
    const account = { username: 'admin', password: PASSWORD };
    expect(await rtsp(streams['ch02_main'] ?? '', 'DESCRIBE', 2000, account)).toMatchObject({
      status: 503,
    });
    expect(await rtsp(streams['ch01_main'] ?? '', 'DESCRIBE', 2000, account)).toMatchObject({
      status: 200,
    });
  });
});

describe('event and recording faults', () => {
  it('video-loss: a SignalLoss event and a black picture', async () => {
    const address = await client.subscribe('nvr-01');
    await client.pull('nvr-01', address, 'PT0S', 1000);
    await site.setFault('nvr-01', { kind: 'video-loss', channel: 3 });
    const event = await client.waitFor('nvr-01', address, (m) =>
      m.topic.endsWith('VideoSource/SignalLoss'),
    );
    expect(event).toMatchObject({
      operation: 'Changed',
      source: { VideoSource: 'vs3' },
      data: { State: 'true' },
    });
    expect(luma((await client.snapshot('nvr-01', 'ch03_main')).bytes).mean).toBeLessThan(5);
    expect(luma((await client.snapshot('nvr-01', 'ch01_main')).bytes).spread).toBeGreaterThan(40);
  });

  it('tamper: a TamperDetector event and a GlobalSceneChange event', async () => {
    const address = await client.subscribe('cam-03');
    await client.pull('cam-03', address, 'PT0S', 1000);
    await site.setFault('cam-03', { kind: 'tamper' });
    const messages = await client.pull('cam-03', address, 'PT2S');
    expect(messages.map((m) => [m.topic, m.data])).toEqual(
      expect.arrayContaining([
        ['tns1:RuleEngine/TamperDetector/Tamper', { IsTamper: 'true' }],
        ['tns1:VideoSource/GlobalSceneChange/ImagingService', { State: 'true' }],
      ]),
    );
  });

  it('recording-stopped: DataUntil stops for that channel, job Idle, JobState event', async () => {
    const address = await client.subscribe('nvr-01');
    await client.pull('nvr-01', address, 'PT0S', 1000);
    await site.setFault('nvr-01', { kind: 'recording-stopped', channel: 1 });
    const event = await client.waitFor('nvr-01', address, (m) => m.topic.endsWith('JobState'));
    expect(event).toMatchObject({
      source: { RecordingJobToken: 'JOB_CH01' },
      data: { State: 'Idle' },
    });
    expect(await jobState('nvr-01', 'JOB_CH01')).toBe('Idle');
    expect(await jobState('nvr-01', 'JOB_CH02')).toBe('Active');
    const first = await searchResults('nvr-01');
    await sleep(1100);
    const second = await searchResults('nvr-01');
    expect(second[0]).toEqual({ ...first[0], status: 'Stopped' });
    expect(second[1]?.status).toBe('Recording');
    expect(Date.parse(second[1]?.latest ?? '')).toBeGreaterThan(Date.parse(first[1]?.latest ?? ''));
  });

  it('storage-failure: a StorageFailure event and every job in Error', async () => {
    const address = await client.subscribe('nvr-01');
    await client.pull('nvr-01', address, 'PT0S', 1000);
    await site.setFault('nvr-01', { kind: 'storage-failure' });
    const event = await client.waitFor('nvr-01', address, (m) =>
      m.topic.endsWith('HardwareFailure/StorageFailure'),
    );
    expect(event.data).toEqual({ Failed: 'true' });
    expect(await jobState('nvr-01', 'JOB_CH03')).toBe('Error');
  });

  it('disk faults on every bay leave nothing to record on: every job in Error; one bay left, Active', async () => {
    await site.setFault('nvr-01', { kind: 'disk-error', disk: 1 });
    expect(await jobState('nvr-01', 'JOB_CH01')).toBe('Active');
    await site.setFault('nvr-01', { kind: 'disk-removed', disk: 2 });
    expect(await jobState('nvr-01', 'JOB_CH01')).toBe('Error');
    expect(await jobState('nvr-01', 'JOB_CH03')).toBe('Error');
    await site.clearFaults('nvr-01', 'disk-removed');
    expect(await jobState('nvr-01', 'JOB_CH01')).toBe('Active');
  });

  it('channel-offline: the PoE camera is gone: signal lost, black picture, that job stops', async () => {
    const address = await client.subscribe('nvr-01');
    await client.pull('nvr-01', address, 'PT0S', 1000);
    await site.setFault('nvr-01', { kind: 'channel-offline', channel: 2 });
    const event = await client.waitFor('nvr-01', address, (m) =>
      m.topic.endsWith('VideoSource/SignalLoss'),
    );
    expect(event).toMatchObject({ source: { VideoSource: 'vs2' }, data: { State: 'true' } });
    expect(luma((await client.snapshot('nvr-01', 'ch02_main')).bytes).mean).toBeLessThan(5);
    expect(await jobState('nvr-01', 'JOB_CH02')).toBe('Idle');
    expect(await jobState('nvr-01', 'JOB_CH01')).toBe('Active');
    // What the vendor APIs say of the channel (ISAPI online=false, Dahua Unconnect), and
    // the disk faults (disk-error, disk-unformatted, disk-removed), which only the vendor
    // APIs show: test/integration/sim/vendor*.test.ts.
  });

  it('cert-changed: an https device presents another certificate; cleared, the first again', async () => {
    const secure = new SimSite({
      siteId: 'it-cert-changed',
      devices: [{ kind: 'camera', channels: 1, https: true }],
      credentials: { username: 'admin', password: PASSWORD },
    });
    await secure.start();
    try {
      const [camera] = secure.devices();
      const url = new URL(camera?.xaddr ?? '');
      expect(url.protocol).toBe('https:');
      const presented = () =>
        new Promise<string>((resolve, reject) => {
          const socket = tls.connect(
            { host: url.hostname, port: Number(url.port), rejectUnauthorized: false },
            () => {
              resolve(socket.getPeerCertificate().fingerprint256);
              socket.destroy();
            },
          );
          socket.once('error', reject);
        });
      const first = await presented();
      expect(first).toBe(camera?.tlsFingerprint);
      const changed = await secure.setFault(camera?.id ?? '', { kind: 'cert-changed' });
      expect(changed.tlsFingerprint).not.toBe(first);
      expect(await presented()).toBe(changed.tlsFingerprint);
      await secure.clearFaults(camera?.id ?? '');
      expect(await presented()).toBe(first);
    } finally {
      await secure.stop();
    }
    // An http device has no certificate to change.
    const plain = await site.setFault('cam-01', { kind: 'cert-changed' });
    expect(plain.tlsFingerprint).toBeUndefined();
    expect(plain.xaddr).toMatch(/^http:/);
  });

  it('storage-full: every recording stops', async () => {
    await site.setFault('nvr-01', { kind: 'storage-full' });
    const results = await searchResults('nvr-01');
    expect(results.map((r) => r.status)).toEqual(['Stopped', 'Stopped', 'Stopped']);
    expect(await jobState('nvr-01', 'JOB_CH01')).toBe('Error');
  });
});
