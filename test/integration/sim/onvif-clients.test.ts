/**
 * The simulator against a real ONVIF client (node-onvif, the library the agent uses) and
 * raw SOAP over real sockets.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';
import { send } from './http.js';

/** The part of node-onvif 0.1.7 (untyped, CommonJS) these tests use. */
interface OnvifProfile {
  token: string;
  name: string;
  snapshot: string;
  stream: { rtsp: string };
  video: { source: { token: string } | null; encoder: { resolution: { width: number } } | null };
}
interface OnvifDevice {
  init(): Promise<Record<string, string>>;
  getProfileList(): OnvifProfile[];
}
interface NodeOnvif {
  OnvifDevice: new (params: { xaddr: string; user?: string; pass?: string }) => OnvifDevice;
}
const requireCjs = createRequire(import.meta.url);
const onvif = requireCjs('node-onvif') as NodeOnvif;

const credentials = { username: 'admin', password: 'correct horse' };
const site = new SimSite({
  siteId: 'it-clients',
  cameras: 2,
  nvrs: 1,
  nvrChannels: 4,
  credentials,
});

function xaddrOf(id: string): string {
  const device = site.device(id);
  if (!device) throw new Error(`no ${id}`);
  return device.xaddr;
}

beforeAll(() => site.start());
afterAll(() => site.stop());

describe('node-onvif against the simulator', () => {
  it('init() of a camera returns its identity and two profiles', async () => {
    const camera = new onvif.OnvifDevice({ xaddr: xaddrOf('cam-01'), ...userPass() });
    const info = await camera.init();
    const expected = site.device('cam-01');
    expect(info).toEqual({
      Manufacturer: expected?.manufacturer,
      Model: expected?.model,
      FirmwareVersion: expected?.firmwareVersion,
      SerialNumber: expected?.serialNumber,
      HardwareId: expected?.hardwareId,
    });
    const profiles = camera.getProfileList();
    expect(profiles.map((p) => p.token)).toEqual(['main', 'sub']);
    const port = new URL(xaddrOf('cam-01')).port;
    expect(profiles[0]?.stream.rtsp).toBe(`rtsp://127.0.0.1:${site.rtspPort}/cam-01/main`);
    expect(profiles[0]?.snapshot).toBe(`http://127.0.0.1:${port}/snapshot/main.jpg`);
    expect(profiles[0]?.video.encoder?.resolution.width).toBeGreaterThan(0);
  });

  it('init() of an NVR returns two profiles per channel, one source per channel', async () => {
    const nvr = new onvif.OnvifDevice({ xaddr: xaddrOf('nvr-01'), ...userPass() });
    const info = await nvr.init();
    expect(info['SerialNumber']).toBe(site.device('nvr-01')?.serialNumber);
    const profiles = nvr.getProfileList();
    expect(profiles).toHaveLength(8);
    expect(new Set(profiles.map((p) => p.video.source?.token)).size).toBe(4);
    const prefix = `rtsp://127.0.0.1:${site.rtspPort}/nvr-01/`;
    expect(profiles.every((p) => p.stream.rtsp.startsWith(prefix))).toBe(true);
  });

  it('init() with a wrong password fails with the device refusing it', async () => {
    const camera = new onvif.OnvifDevice({ xaddr: xaddrOf('cam-02'), user: 'admin', pass: 'nope' });
    await expect(camera.init()).rejects.toThrow(/400 Bad Request - Sender not authorized/);
  });
});

describe('raw SOAP', () => {
  it('GetSystemDateAndTime answers without credentials, with Content-Length', async () => {
    const body = soapRequest('<tds:GetSystemDateAndTime/>');
    const answer = await send(xaddrOf('cam-01'), { method: 'POST', body });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/soap+xml; charset=utf-8');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
    expect(answer.body).toContain('<tt:Year>');
  });

  it('a wrong password gets HTTP 400 with env:Sender / ter:NotAuthorized', async () => {
    const header = securityHeader({ password: 'wrong' });
    const body = soapRequest('<tds:GetDeviceInformation/>', header);
    const answer = await send(xaddrOf('cam-01'), { method: 'POST', body });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(
      /<env:Code><env:Value>env:Sender<\/env:Value><env:Subcode><env:Value>ter:NotAuthorized<\/env:Value>/,
    );
    expect(answer.body).not.toContain('SerialNumber');
  });

  it('no credentials at all for an operation that needs them: 400 NotAuthorized', async () => {
    const body = soapRequest('<trt:GetProfiles/>');
    const answer = await send(xaddrOf('nvr-01').replace('device_service', 'media_service'), {
      method: 'POST',
      body,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('ter:NotAuthorized');
  });

  it('the same token sent twice is refused the second time (replay)', async () => {
    const body = soapRequest('<tds:GetDeviceInformation/>', securityHeader(credentials));
    expect((await send(xaddrOf('cam-02'), { method: 'POST', body })).status).toBe(200);
    const replay = await send(xaddrOf('cam-02'), { method: 'POST', body });
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('replay');
  });

  it('malformed XML gets a WellFormed fault and the device keeps answering', async () => {
    const broken = await send(xaddrOf('cam-01'), { method: 'POST', body: '<s:Envelope><oops' });
    expect(broken.status).toBe(400);
    expect(broken.body).toContain('ter:WellFormed');
    const body = soapRequest('<tds:GetSystemDateAndTime/>');
    expect((await send(xaddrOf('cam-01'), { method: 'POST', body })).status).toBe(200);
  });

  it('an unknown operation gets ActionNotSupported', async () => {
    const body = soapRequest('<tds:GetBogus/>', securityHeader(credentials));
    const answer = await send(xaddrOf('cam-01'), { method: 'POST', body });
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('ter:ActionNotSupported');
  });
});

function userPass() {
  return { user: credentials.username, pass: credentials.password };
}
