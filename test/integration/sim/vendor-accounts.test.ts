/**
 * Separate account lists, as Hikvision and Dahua firmware keeps them: the ONVIF users are a
 * list of their own, apart from the web users that ISAPI and the CGI accept. A site file's
 * `vendorCredentials` gives a device its web account: then the vendor API refuses the
 * ONVIF user (401 after Digest, counted toward the lockout), accepts only the web account,
 * and ONVIF refuses the web account. Without it both accept the one account (installers
 * who use admin for both). curl's own Digest and a raw UsernameToken, over real sockets.
 */
import { describe, expect, it } from 'vitest';
import { SimDeviceList } from '../../../shared/api/sim.js';
import { validator } from '../../../shared/validate.js';
import { parseScenario } from '../../../sim/scenario.js';
import { SimSite } from '../../../sim/site.js';
import { curl as curlProgram, skipReason, titled } from '../../helpers/requires.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';
import { SimClient } from './client.js';
import { send } from './http.js';
import { curl, runSite } from './vendor-http.js';

const ONVIF = { username: 'onvif', password: 'onvif pw' };
const WEB = { username: 'admin', password: 'web pw' };

const parsed = parseScenario(`
site: it-vendor-accounts
credentials: { username: ${ONVIF.username}, password: "${ONVIF.password}" }
devices:
  - kind: nvr
    channels: 2
    personality: hikvision-nvr
    vendorCredentials: { username: ${WEB.username}, password: "${WEB.password}" }
  - kind: nvr
    channels: 2
    personality: dahua-nvr
    vendorCredentials: { username: ${WEB.username}, password: "${WEB.password}" }
  - kind: nvr
    channels: 2
    personality: hikvision-nvr
`);
if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
const site = new SimSite({
  siteId: parsed.scenario.siteId,
  devices: parsed.scenario.devices,
  credentials: ONVIF,
});
const client = new SimClient(site);
const reason = skipReason(curlProgram);
const checkList = validator(SimDeviceList);
const PATHS: Record<string, string> = {
  'nvr-01': '/ISAPI/System/deviceInfo',
  'nvr-02': '/cgi-bin/magicBox.cgi?action=getSystemInfo',
  'nvr-03': '/ISAPI/System/deviceInfo',
};

runSite(site, reason);

/** GetDeviceInformation signed by `account` (a UsernameToken, ONVIF Core 5.12.2). */
async function onvifStatus(id: string, account: { username: string; password: string }) {
  const answer = await send(client.url(id, '/onvif/device_service'), {
    method: 'POST',
    body: soapRequest('<tds:GetDeviceInformation/>', securityHeader(account)),
    timeoutMs: 3000,
  });
  return answer.status;
}

describe('site file vendorCredentials', () => {
  it('is refused on a personality without a vendor API, saying which to choose', () => {
    const result = parseScenario(
      'site: s\ndevices:\n  - kind: camera\n    vendorCredentials: { username: a, password: b }\n',
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      expect.stringMatching(
        /^devices\/0\/vendorCredentials: personality standard has no vendor API; set personality to .*hikvision-nvr.*dahua-nvr/,
      ),
    ]);
  });
});

describe.skipIf(reason)(titled('separate ONVIF and web accounts', reason), () => {
  it('the device list shows the web account beside the ONVIF one', async () => {
    // The control API's listing, checked against its contract (shared/api/sim.ts).
    const listed = (await (await fetch(`${site.controlUrl}/sim/devices`)).json()) as unknown;
    expect(checkList(listed).ok).toBe(true);
    expect(listed).toMatchObject([
      { id: 'nvr-01', credentials: ONVIF, vendorCredentials: WEB },
      { id: 'nvr-02', credentials: ONVIF, vendorCredentials: WEB },
      { id: 'nvr-03', credentials: ONVIF },
    ]);
    expect(site.device('nvr-01')).toMatchObject({ credentials: ONVIF, vendorCredentials: WEB });
    expect(site.device('nvr-02')).toMatchObject({ credentials: ONVIF, vendorCredentials: WEB });
    expect(site.device('nvr-03')?.vendorCredentials).toBeUndefined();
  });

  for (const id of ['nvr-01', 'nvr-02']) {
    it(`${id}: the vendor API refuses the ONVIF user after Digest and accepts the web account`, async () => {
      const path = PATHS[id] ?? '';
      expect((await curl(client.url(id, path), ONVIF)).code).toBe(401);
      expect(site.requests(id).at(-1)).toMatchObject({
        protocol: 'http',
        status: 401,
        detail: 'wrong username or password (Digest)',
      });
      expect((await curl(client.url(id, path), WEB)).code).toBe(200);
      expect(site.requests(id).at(-1)).toMatchObject({ status: 200, authenticated: true });
    });

    it(`${id}: ONVIF refuses the web account and accepts its own user`, async () => {
      expect(await onvifStatus(id, WEB)).toBe(400);
      expect(site.requests(id).at(-1)).toMatchObject({ protocol: 'soap', authenticated: false });
      expect(await onvifStatus(id, ONVIF)).toBe(200);
    });
  }

  it('the ONVIF user refused by ISAPI counts toward its lockout, on ONVIF too', async () => {
    const url = client.url('nvr-01', PATHS['nvr-01'] ?? '');
    for (let n = 1; n <= 5; n++) expect((await curl(url, ONVIF)).code).toBe(401);
    expect(site.device('nvr-01')?.lockouts).toMatchObject([{ username: ONVIF.username }]);
    // Locked for that address: ONVIF refuses even its right password now.
    expect(await onvifStatus('nvr-01', ONVIF)).toBe(400);
    expect(site.requests('nvr-01').at(-1)?.detail).toMatch(/account lockout/);
    // The web account is another user: not locked.
    expect((await curl(url, WEB)).code).toBe(200);
  });

  it('without vendorCredentials the vendor API takes the ONVIF account', async () => {
    expect((await curl(client.url('nvr-03', PATHS['nvr-03'] ?? ''), ONVIF)).code).toBe(200);
    expect((await curl(client.url('nvr-03', PATHS['nvr-03'] ?? ''), WEB)).code).toBe(401);
  });

  it('auth-changed rotates the ONVIF account only; the web account stays', async () => {
    await site.setFault('nvr-01', { kind: 'auth-changed', password: 'rotated' });
    expect(site.device('nvr-01')).toMatchObject({
      credentials: { username: ONVIF.username, password: 'rotated' },
      vendorCredentials: WEB,
    });
    expect((await curl(client.url('nvr-01', PATHS['nvr-01'] ?? ''), WEB)).code).toBe(200);
  });
});
