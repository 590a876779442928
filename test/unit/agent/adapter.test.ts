import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { parseXml } from '../../../agent/onvif/soap.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { Secret } from '../../../agent/secret.js';
import { eventually } from '../../helpers/eventually.js';
import { fixture, notAuthorizedFault, SoapServer } from './soap-server.js';

const TIMEOUT_MS = 300;

async function failure(promise: Promise<unknown>): Promise<OnvifError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OnvifError);
    return error as OnvifError;
  }
  throw new Error('expected the request to fail');
}

describe('ONVIF adapter against captured answers', () => {
  let server: SoapServer;
  let client: OnvifDeviceClient;

  beforeEach(async () => {
    server = new SoapServer();
    await server.start();
    client = new OnvifDeviceClient(
      { xaddr: server.xaddr, username: 'admin', password: new Secret('p<ss>wörd') },
      { timeoutMs: TIMEOUT_MS },
    );
  });

  afterEach(async () => {
    await server.stop();
  });

  it('reads the clock without credentials, with a response time', async () => {
    const clock = await client.clock();
    expect(clock.deviceUtc?.toISOString()).toBe('2014-12-24T19:14:37.000Z');
    expect(clock.responseMs).toBeGreaterThan(0);
    expect(clock.responseMs).toBeLessThan(TIMEOUT_MS);
    expect(server.seen).toEqual([expect.objectContaining({ authenticated: false })]);
  });

  it('reads the identity with credentials, keeping strings as written', async () => {
    const info = await client.deviceInformation();
    expect(info).toEqual({
      manufacturer: 'Mockup Manufacturer',
      model: 'Mockup Model',
      firmwareVersion: 'Mockup_15_14_13',
      serialNumber: '00000000',
      hardwareId: 'MOCKUP',
    });
    expect(server.seen[0]).toMatchObject({
      operation: 'GetDeviceInformation',
      authenticated: true,
    });
  });

  it('counts profiles on the advertised media path of the configured host', async () => {
    // The captured GetCapabilities advertises http://192.168.68.111/onvif/services: a
    // device behind NAT. Only the path is taken; the request stays on the configured host.
    const profiles = await client.profiles();
    expect(profiles.count).toBe(1);
    expect(server.seen.map((r) => `${r.operation} ${r.path}`)).toEqual([
      'GetServices /onvif/device_service',
      'GetProfiles /onvif/services',
    ]);
    await client.profiles();
    expect(server.seen.filter((r) => r.operation === 'GetServices')).toHaveLength(1);
  });

  it('counts the profiles of an NVR whose encoders lack Resolution', async () => {
    const one = /<trt:Profiles[\s\S]*<\/trt:Profiles>/.exec(fixture('GetProfiles'))![0];
    const bare = one
      .replace(/<tt:Resolution>[\s\S]*?<\/tt:Resolution>/g, '')
      .replace(/<tt:RateControl>[\s\S]*?<\/tt:RateControl>/g, '');
    const many = Array.from({ length: 36 }, () => bare).join('');
    server.answers.set('GetProfiles', { body: fixture('GetProfiles').replace(one, many) });
    expect((await client.profiles()).count).toBe(36);
  });

  it('maps a NotAuthorized fault (HTTP 400) to auth-failed', async () => {
    server.answers.set('GetDeviceInformation', { status: 400, body: notAuthorizedFault });
    const error = await failure(client.deviceInformation());
    expect(error.kind).toBe('auth-failed');
    expect(error.code).toBe('VIGIL_ONVIF_AUTH');
    expect(error.message).not.toContain('p<ss>wörd');
  });

  it('maps HTTP 401 without a body to auth-failed', async () => {
    server.answers.set('GetProfiles', {
      status: 401,
      body: '',
      headers: { 'WWW-Authenticate': 'Digest realm="x"' },
    });
    expect((await failure(client.profiles())).kind).toBe('auth-failed');
  });

  it('maps NotAuthorized on the clock request to auth-failed too', async () => {
    server.answers.set('GetSystemDateAndTime', { status: 400, body: notAuthorizedFault });
    expect((await failure(client.clock())).kind).toBe('auth-failed');
  });

  it('maps any other SOAP fault to protocol-error', async () => {
    const receiver = notAuthorizedFault
      .replace('env:Sender', 'env:Receiver')
      .replace('ter:NotAuthorized', 'ter:Busy')
      .replace('Sender not Authorized', 'device busy');
    server.answers.set('GetSystemDateAndTime', { status: 500, body: receiver });
    const error = await failure(client.clock());
    expect(error.kind).toBe('protocol-error');
    expect(error.message).toContain('Receiver/Busy');
  });

  it('maps malformed XML to protocol-error, on the clock and the identity requests', async () => {
    const broken =
      '<?xml version="1.0"?><s:Envelope><s:Body><tds:GetSystemDateAndTimeResponse></s:Body>';
    server.answers.set('GetSystemDateAndTime', { body: broken });
    server.answers.set('GetDeviceInformation', {
      body: broken.replace('GetSystemDateAndTime', 'GetDeviceInformation'),
    });
    expect((await failure(client.clock())).kind).toBe('protocol-error');
    expect((await failure(client.deviceInformation())).kind).toBe('protocol-error');
  });

  it('maps a well-formed answer without the expected element to protocol-error', async () => {
    server.answers.set('GetDeviceInformation', { body: fixture('GetHostname') });
    expect((await failure(client.deviceInformation())).kind).toBe('protocol-error');
  });

  it.each(['clock', 'deviceInformation', 'profiles'] as const)(
    'a device that never answers %s: timeout on our deadline, and its socket is closed',
    async (method) => {
      for (const op of ['GetSystemDateAndTime', 'GetDeviceInformation', 'GetServices']) {
        server.answers.set(op, 'hang');
      }
      const started = performance.now();
      const error = await failure(client[method]());
      const elapsed = performance.now() - started;
      expect(error.kind).toBe('timeout');
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 250);
      await eventually('the sockets closed', () => server.openSockets.size === 0, 2000);
    },
  );

  it('gives up at once when the poll is cancelled', async () => {
    server.answers.set('GetSystemDateAndTime', 'hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    expect((await failure(client.clock(controller.signal))).kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    await eventually('the sockets closed', () => server.openSockets.size === 0, 2000);
  });
});

describe('ONVIF adapter without a device', () => {
  it('maps a refused connection to unreachable, for both transports', async () => {
    const server = new SoapServer();
    await server.start();
    const xaddr = server.xaddr;
    await server.stop();
    const client = new OnvifDeviceClient(
      { xaddr, username: 'admin', password: new Secret('x') },
      { timeoutMs: 1000 },
    );
    expect((await failure(client.clock())).kind).toBe('unreachable');
    expect((await failure(client.deviceInformation())).kind).toBe('unreachable');
  });
});

describe('XML the devices really send', () => {
  it('parses an answer declared utf-16 whose bytes are UTF-8', () => {
    const xml = fixture('GetVideoSourcesEncoder');
    expect(xml).toMatch(/encoding="utf-16"/i);
    expect(() => parseXml(xml)).not.toThrow();
  });
});
