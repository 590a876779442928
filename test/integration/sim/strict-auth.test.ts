/**
 * The agent's ONVIF client against the strictest simulated camera (hardened-camera): HTTP
 * Digest on SOAP, and the 401 for a missing Digest already spends the UsernameToken's
 * nonce, as the strictest devices do. The agent's retry must sign a fresh token: the
 * same envelope again is refused as a replay (shown first, so the test can fail). Its
 * nonces go stale after 10 s, and it offers qop="auth,auth-int".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { authorizerFor } from '../../../agent/onvif/http-auth.js';
import { Secret } from '../../../agent/secret.js';
import { SimSite } from '../../../sim/site.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';
import { send } from './http.js';

const ACCOUNT = { username: 'admin', password: 'strict pw' };
const site = new SimSite({
  siteId: 'it-strict-auth',
  devices: [{ kind: 'camera', channels: 1, personality: 'hardened-camera' }],
  credentials: ACCOUNT,
});
const DEVICE = '/onvif/device_service';

beforeAll(() => site.start());
afterAll(() => site.stop());

describe('a camera whose 401 uses up the UsernameToken nonce (hardened-camera)', () => {
  it('refuses the same envelope resent with HTTP Digest: a retry must sign anew', async () => {
    const xaddr = site.device('cam-01')?.xaddr ?? '';
    const envelope = soapRequest('<tds:GetDeviceInformation/>', securityHeader(ACCOUNT));
    const first = await send(xaddr, { method: 'POST', body: envelope });
    expect(first.status).toBe(401);
    const authorizer = authorizerFor(first.headers['www-authenticate'], {
      username: ACCOUNT.username,
      password: new Secret(ACCOUNT.password),
    });
    const headers = { Authorization: authorizer?.authorization('POST', DEVICE) ?? '' };
    const same = await send(xaddr, { method: 'POST', body: envelope, headers });
    expect(same.status).toBe(400);
    expect(site.requests('cam-01').at(-1)?.detail).toMatch(/replay/);
  });

  it("the agent's retry after the 401 signs a fresh token: the device information is read", async () => {
    const device = site.device('cam-01')!;
    const before = site.requests(device.id).length;
    const client = new OnvifDeviceClient(
      { xaddr: device.xaddr, username: ACCOUNT.username, password: new Secret(ACCOUNT.password) },
      { timeoutMs: 3000 },
    );
    const identity = await client.deviceInformation();
    expect(identity.serialNumber).toBe(device.serialNumber);
    const asked = site
      .requests(device.id)
      .slice(before)
      .filter((r) => r.operation === 'GetDeviceInformation');
    // A 401 (its token's nonce spent), then the retry accepted: its nonce was a new one.
    expect(asked.map((r) => r.status)).toEqual([401, 200]);
    expect(asked[1]?.authenticated).toBe(true);
  });

  it('offers qop="auth,auth-int"; a Digest kept past the 10 s nonce lifetime meets stale=true and the agent takes the fresh nonce', async () => {
    const device = site.device('cam-01')!;
    const snapshot = new URL('/snapshot/main.jpg', device.xaddr).toString();
    const bare = await send(snapshot);
    expect(bare.status).toBe(401);
    expect(String(bare.headers['www-authenticate'])).toContain('qop="auth,auth-int"');
    const client = new OnvifDeviceClient(
      { xaddr: device.xaddr, username: ACCOUNT.username, password: new Secret(ACCOUNT.password) },
      { timeoutMs: 3000 },
    );
    const stream = device.streams['main'] ?? '';
    await client.deviceInformation();
    expect((await client.snapshot(snapshot)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(await client.describe(stream)).toBe(200);
    // The nonces the client keeps are now older than the personality's 10 s.
    await new Promise((resolve) => setTimeout(resolve, 10_500));
    const before = site.requests(device.id).length;
    expect((await client.deviceInformation()).serialNumber).toBe(device.serialNumber);
    expect((await client.snapshot(snapshot)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(await client.describe(stream)).toBe(200);
    const later = site.requests(device.id).slice(before);
    const stale = later.filter((r) => r.status === 401 && r.detail === 'the nonce expired');
    // Both kept answers were refused as stale (a right digest, an old nonce), then renewed.
    expect(stale.map((r) => r.protocol)).toEqual(expect.arrayContaining(['snapshot', 'soap']));
    expect(later.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3);
  }, 20_000);
});
