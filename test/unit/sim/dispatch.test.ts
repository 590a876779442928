import { describe, expect, it } from 'vitest';
import { buildFleet, type DeviceModel } from '../../../sim/model.js';
import type { ServiceContext } from '../../../sim/services/context.js';
import { deviceService } from '../../../sim/services/device.js';
import { mediaService } from '../../../sim/services/media.js';
import { NonceCache } from '../../../sim/soap/auth.js';
import { answerSoap, type SoapService } from '../../../sim/soap/dispatch.js';
import { NS } from '../../../sim/soap/namespaces.js';
import { child, childrenNamed, parseXml, textAt, type XmlElement } from '../../../sim/soap/xml.js';
import { testContext } from './context.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';

const credentials = { username: 'admin', password: 'pw' };
const fleet = buildFleet({ siteId: 'unit', seed: '', cameras: 1, nvrs: 1, nvrChannels: 4 });
const camera = fleet[0] as DeviceModel;
const nvr = fleet[1] as DeviceModel;

async function ask(
  service: SoapService<ServiceContext>,
  device: DeviceModel,
  body: string,
  auth = true,
) {
  const now = Date.now();
  const header = auth ? securityHeader({ password: credentials.password }) : '';
  const answer = await answerSoap(
    soapRequest(body, header),
    service,
    { credentials, nonces: new NonceCache(), deviceNow: now },
    testContext(device, { deviceNow: now }),
  );
  const bodyElement = child(parseXml(answer.xml), 'Body', NS.env);
  return { status: answer.status, result: bodyElement?.children[0] as XmlElement };
}

/** Every element path under an element, by local names: "Capabilities/Device/XAddr". */
function paths(element: XmlElement, prefix = ''): string[] {
  return element.children.flatMap((c) => {
    const path = prefix ? `${prefix}/${c.name}` : c.name;
    return [path, ...paths(c, path)];
  });
}

describe('device service', () => {
  it('GetSystemDateAndTime needs no credentials and has the fixture shape', async () => {
    const { status, result } = await ask(
      deviceService,
      camera,
      '<tds:GetSystemDateAndTime/>',
      false,
    );
    expect(status).toBe(200);
    expect(result).toMatchObject({ name: 'GetSystemDateAndTimeResponse', ns: NS.tds });
    expect(paths(result)).toEqual(
      expect.arrayContaining([
        'SystemDateAndTime/DateTimeType',
        'SystemDateAndTime/DaylightSavings',
        'SystemDateAndTime/TimeZone/TZ',
        'SystemDateAndTime/UTCDateTime/Time/Hour',
        'SystemDateAndTime/UTCDateTime/Time/Minute',
        'SystemDateAndTime/UTCDateTime/Time/Second',
        'SystemDateAndTime/UTCDateTime/Date/Year',
        'SystemDateAndTime/UTCDateTime/Date/Month',
        'SystemDateAndTime/UTCDateTime/Date/Day',
      ]),
    );
    const year = Number(textAt(result, 'SystemDateAndTime', 'UTCDateTime', 'Date', 'Year'));
    expect(year).toBe(new Date().getUTCFullYear());
  });

  it('GetDeviceInformation needs credentials and answers the identity', async () => {
    expect((await ask(deviceService, camera, '<tds:GetDeviceInformation/>', false)).status).toBe(
      400,
    );
    const { status, result } = await ask(deviceService, camera, '<tds:GetDeviceInformation/>');
    expect(status).toBe(200);
    expect(result.children.map((c) => [c.name, c.text])).toEqual([
      ['Manufacturer', camera.identity.manufacturer],
      ['Model', camera.identity.model],
      ['FirmwareVersion', camera.identity.firmwareVersion],
      ['SerialNumber', camera.identity.serialNumber],
      ['HardwareId', camera.identity.hardwareId],
    ]);
  });

  it('GetCapabilities (no credentials) points at both services', async () => {
    const { status, result } = await ask(
      deviceService,
      camera,
      '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
      false,
    );
    expect(status).toBe(200);
    expect(textAt(result, 'Capabilities', 'Device', 'XAddr')).toBe(
      'http://127.0.0.1:40001/onvif/device_service',
    );
    expect(textAt(result, 'Capabilities', 'Media', 'XAddr')).toBe(
      'http://127.0.0.1:40001/onvif/media_service',
    );
    expect(paths(result)).toEqual(
      expect.arrayContaining([
        'Capabilities/Device/System/SupportedVersions/Major',
        'Capabilities/Media/StreamingCapabilities/RTP_RTSP_TCP',
      ]),
    );
  });

  it('GetCapabilities for a missing service is NoSuchService', async () => {
    const body = '<tds:GetCapabilities><tds:Category>PTZ</tds:Category></tds:GetCapabilities>';
    const { status, result } = await ask(deviceService, camera, body, false);
    expect(status).toBe(500);
    expect(result.name).toBe('Fault');
  });

  it('GetServices (no credentials) lists device, media, media2, events with versions', async () => {
    const body =
      '<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>';
    const { status, result } = await ask(deviceService, camera, body, false);
    expect(status).toBe(200);
    const services = childrenNamed(result, 'Service');
    expect(services.map((s) => textAt(s, 'Namespace'))).toEqual([NS.tds, NS.trt, NS.tr2, NS.tev]);
    const nvrAnswer = await ask(deviceService, nvr, body, false);
    expect(childrenNamed(nvrAnswer.result, 'Service').map((s) => textAt(s, 'Namespace'))).toEqual([
      NS.tds,
      NS.trt,
      NS.tr2,
      NS.tev,
      NS.trc,
      NS.tse,
    ]);
    for (const service of services) {
      expect(service.children.map((c) => c.name)).toEqual([
        'Namespace',
        'XAddr',
        'Capabilities',
        'Version',
      ]);
    }
  });

  it('an operation the service lacks is ActionNotSupported', async () => {
    const { status, result } = await ask(deviceService, camera, '<tds:SystemReboot/>');
    expect(status).toBe(500);
    expect(textAt(result, 'Code', 'Subcode', 'Value')).toBe('ter:ActionNotSupported');
  });

  it('a media operation sent to the device service is ActionNotSupported', async () => {
    const { status } = await ask(deviceService, camera, '<trt:GetProfiles/>');
    expect(status).toBe(500);
  });
});

describe('media service', () => {
  it('a camera has a main and a sub profile of one video source', async () => {
    const { status, result } = await ask(mediaService, camera, '<trt:GetProfiles/>');
    expect(status).toBe(200);
    const profiles = childrenNamed(result, 'Profiles');
    expect(profiles.map((p) => p.attributes['token'])).toEqual(['main', 'sub']);
    const first = profiles[0] as XmlElement;
    expect(paths(first)).toEqual(
      expect.arrayContaining([
        'Name',
        'VideoSourceConfiguration/SourceToken',
        'VideoSourceConfiguration/Bounds',
        'VideoEncoderConfiguration/Encoding',
        'VideoEncoderConfiguration/Resolution/Width',
        'VideoEncoderConfiguration/Resolution/Height',
        'VideoEncoderConfiguration/Quality',
        'VideoEncoderConfiguration/RateControl/FrameRateLimit',
        'VideoEncoderConfiguration/RateControl/BitrateLimit',
      ]),
    );
  });

  it('an NVR has a main and a sub profile per channel, each on its channel source', async () => {
    const { result } = await ask(mediaService, nvr, '<trt:GetProfiles/>');
    const profiles = childrenNamed(result, 'Profiles');
    expect(profiles).toHaveLength(8);
    const sources = profiles.map((p) => textAt(p, 'VideoSourceConfiguration', 'SourceToken'));
    expect(new Set(sources)).toEqual(new Set(['vs1', 'vs2', 'vs3', 'vs4']));
    expect(profiles.map((p) => p.attributes['token']).slice(0, 3)).toEqual([
      'ch01_main',
      'ch01_sub',
      'ch02_main',
    ]);
  });

  it('GetStreamUri gives a stable RTSP URI per profile', async () => {
    const body =
      '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>' +
      '<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>' +
      '<trt:ProfileToken>ch02_sub</trt:ProfileToken></trt:GetStreamUri>';
    const { result } = await ask(mediaService, nvr, body);
    expect(textAt(result, 'MediaUri', 'Uri')).toBe(`rtsp://127.0.0.1:8554/${nvr.id}/ch02_sub`);
    expect(textAt(result, 'MediaUri', 'Timeout')).toBe('PT0S');
  });

  it('GetSnapshotUri points at the device HTTP port', async () => {
    const body =
      '<trt:GetSnapshotUri><trt:ProfileToken>main</trt:ProfileToken></trt:GetSnapshotUri>';
    const { result } = await ask(mediaService, camera, body);
    expect(textAt(result, 'MediaUri', 'Uri')).toBe('http://127.0.0.1:40001/snapshot/main.jpg');
  });

  it('an unknown profile token is InvalidArgVal / NoProfile', async () => {
    const body =
      '<trt:GetSnapshotUri><trt:ProfileToken>nope</trt:ProfileToken></trt:GetSnapshotUri>';
    const { status, result } = await ask(mediaService, camera, body);
    expect(status).toBe(400);
    expect(textAt(result, 'Code', 'Subcode', 'Subcode', 'Value')).toBe('ter:NoProfile');
  });
});

describe('HTTP authentication missing on a user operation (digest-only, hardened-camera)', () => {
  /** The same envelope twice: first without HTTP authentication, then with it. */
  async function resent(tokenNonceUsedOn401: boolean) {
    const envelope = soapRequest(
      '<tds:GetDeviceInformation/>',
      securityHeader({ password: credentials.password }),
    );
    const nonces = new NonceCache();
    const deviceNow = Date.now();
    const context = testContext(camera, { deviceNow });
    const base = { credentials, nonces, deviceNow, tokenNonceUsedOn401 };
    const first = await answerSoap(
      envelope,
      deviceService,
      { ...base, httpAuthorized: false },
      context,
    );
    const again = await answerSoap(
      envelope,
      deviceService,
      { ...base, httpAuthorized: true },
      context,
    );
    return { first, again };
  }

  it('a web server in front (digest-only): the 401 leaves the token unread, the same envelope passes', async () => {
    const { first, again } = await resent(false);
    expect(first).toMatchObject({ status: 401, httpChallenge: true });
    expect(again).toMatchObject({ status: 200, authenticated: true });
  });

  it('the strictest (hardened-camera): the 401 spends the nonce, the same envelope is a replay', async () => {
    const { first, again } = await resent(true);
    expect(first).toMatchObject({ status: 401, httpChallenge: true });
    expect(again).toMatchObject({ status: 400, authenticated: false });
    expect(again.detail).toMatch(/replay/);
  });
});
