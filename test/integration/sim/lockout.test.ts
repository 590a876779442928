/**
 * Account lockout over real sockets, as a Hikvision camera does it by default: five wrong
 * passwords in a row, on any protocol (SOAP, RTSP, snapshots), lock the user for that
 * client address; then even the right password is refused everywhere, the device list
 * shows the lock, and a reset (or a reboot) lifts it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimDevice, simRoutes } from '../../../shared/api/sim.js';
import { authorizerFor } from '../../../agent/onvif/http-auth.js';
import { Secret } from '../../../agent/secret.js';
import { validator } from '../../../shared/validate.js';
import { SimSite } from '../../../sim/site.js';
import { rtsp, SimClient } from './client.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';
import { send } from './http.js';

const ACCOUNT = { username: 'admin', password: 'lockout pw' };
const site = new SimSite({
  siteId: 'it-lockout',
  devices: [
    { kind: 'camera', channels: 1 },
    { kind: 'camera', channels: 1, personality: 'digest-only' },
  ],
  credentials: ACCOUNT,
});
const client = new SimClient(site);
const INFO = '<tds:GetDeviceInformation/>';
const DEVICE = '/onvif/device_service';

beforeAll(() => site.start());
afterAll(() => site.stop());
afterEach(() => site.reset());

async function listed(id: string): Promise<SimDevice> {
  const answer = await send(`${site.controlUrl}${simRoutes.device(id)}`);
  const json = JSON.parse(answer.body) as unknown;
  expect(validator(SimDevice)(json).ok).toBe(true);
  return json as SimDevice;
}

/** Five wrong passwords, spread over the three protocols a monitoring client uses. */
async function fiveWrong(id: string): Promise<void> {
  const wrong = { ...ACCOUNT, password: 'wrong' };
  const stream = site.device(id)?.streams['main'] ?? '';
  expect((await client.soap(id, DEVICE, INFO, { password: 'wrong' })).status).toBe(400);
  expect(await rtsp(stream, 'DESCRIBE', 2000, wrong)).toMatchObject({ status: 401 });
  expect((await client.snapshot(id, 'main', 'wrong')).status).toBe(401);
  expect((await client.soap(id, DEVICE, INFO, { password: 'wrong' })).status).toBe(400);
  expect((await listed(id)).lockouts).toEqual([]);
  expect((await client.snapshot(id, 'main', 'wrong')).status).toBe(401);
}

describe('account lockout (default: 5 wrong passwords lock the user for 30 min)', () => {
  it('locks the user after the fifth wrong password: the right one is refused everywhere, the list shows it', async () => {
    const started = Date.now();
    await fiveWrong('cam-01');
    const [lock] = (await listed('cam-01')).lockouts;
    expect(lock).toMatchObject({ username: 'admin', from: '127.0.0.1' });
    const until = Date.parse(lock?.until ?? '');
    expect(until - started).toBeGreaterThanOrEqual(30 * 60_000 - 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(30 * 60_000);

    const refused = await client.soap('cam-01', DEVICE, INFO);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('ter:NotAuthorized');
    const stream = site.device('cam-01')?.streams['main'] ?? '';
    expect(await rtsp(stream, 'DESCRIBE', 2000, ACCOUNT)).toMatchObject({ status: 401 });
    expect((await client.snapshot('cam-01', 'main')).status).toBe(401);
    const locked = site.requests('cam-01').filter((r) => /account lockout/.test(r.detail ?? ''));
    expect(new Set(locked.map((r) => r.protocol))).toEqual(new Set(['soap', 'rtsp', 'snapshot']));
    // What needs no login still answers (ONVIF Core 5.12.1), and other devices are not locked.
    const clock = await client.soap('cam-01', DEVICE, '<tds:GetSystemDateAndTime/>');
    expect(clock.status).toBe(200);
    expect((await client.soap('cam-02', DEVICE, '<tds:GetSystemDateAndTime/>')).status).toBe(200);
    expect((await listed('cam-02')).lockouts).toEqual([]);
  });

  it('the right password in between starts the count again', async () => {
    for (let round = 0; round < 2; round++) {
      for (let n = 0; n < 4; n++) {
        expect((await client.soap('cam-01', DEVICE, INFO, { password: 'wrong' })).status).toBe(400);
      }
      expect((await client.soap('cam-01', DEVICE, INFO)).status).toBe(200);
    }
    expect((await listed('cam-01')).lockouts).toEqual([]);
  });

  it('HTTP Digest on SOAP counts too (digest-only); a reboot lifts the lock', async () => {
    const xaddr = site.device('cam-02')?.xaddr ?? '';
    /** A SOAP request answering the device's challenge with HTTP Digest for `password`. */
    const withDigest = async (password: string): Promise<number> => {
      const challenge = await client.soap('cam-02', DEVICE, INFO);
      expect(challenge.status).toBe(401);
      const authorizer = authorizerFor(challenge.headers['www-authenticate'], {
        username: ACCOUNT.username,
        password: new Secret(password),
      });
      const answer = await send(xaddr, {
        method: 'POST',
        body: soapRequest(INFO, securityHeader(ACCOUNT)),
        headers: { Authorization: authorizer?.authorization('POST', DEVICE) ?? '' },
      });
      return answer.status;
    };
    for (let n = 0; n < 5; n++) expect(await withDigest('wrong')).toBe(401);
    expect((await listed('cam-02')).lockouts).toMatchObject([{ username: 'admin' }]);
    expect(await withDigest(ACCOUNT.password)).toBe(401);
    expect(site.requests('cam-02').at(-1)?.detail).toMatch(/account lockout/);

    await site.setFault('cam-02', { kind: 'reboot', downS: 0.2 });
    const answers = () =>
      client.soap('cam-02', DEVICE, '<tds:GetSystemDateAndTime/>', { password: null }).then(
        (answer) => answer.status === 200,
        () => false,
      );
    for (let waited = 0; !(await answers()) && waited < 5000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await listed('cam-02')).lockouts).toEqual([]);
    expect(await withDigest(ACCOUNT.password)).toBe(200);
  });

  it('a site without lockout never locks', async () => {
    const open = new SimSite({
      siteId: 'it-lockout-off',
      cameras: 1,
      nvrs: 0,
      credentials: ACCOUNT,
      lockout: false,
    });
    await open.start();
    try {
      const other = new SimClient(open);
      for (let n = 0; n < 8; n++) {
        expect((await other.soap('cam-01', DEVICE, INFO, { password: 'wrong' })).status).toBe(400);
      }
      expect((await other.soap('cam-01', DEVICE, INFO)).status).toBe(200);
      expect(open.device('cam-01')?.lockouts).toEqual([]);
    } finally {
      await open.stop();
    }
  });
});
