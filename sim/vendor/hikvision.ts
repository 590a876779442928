/**
 * Hikvision ISAPI on a simulated NVR (personality `hikvision-nvr`): the read-only resources
 * a monitoring client needs, answered from the device's own state.
 *
 *   GET /ISAPI/System/deviceInfo                     DeviceInfo (model, serial, firmware)
 *   GET /ISAPI/System/status                         DeviceStatus (uptime, CPU, memory)
 *   GET /ISAPI/ContentMgmt/Storage                   storage: hddList (each bay), nasList
 *   GET /ISAPI/ContentMgmt/Storage/hdd               hddList alone
 *   GET /ISAPI/ContentMgmt/InputProxy/channels       InputProxyChannelList (the IP channels)
 *   GET /ISAPI/ContentMgmt/InputProxy/channels/status InputProxyChannelStatusList (online)
 *
 * Shapes, element names and values follow Hikvision's ISAPI documents (open.hikvision.com,
 * "ISAPI" protocol pages) and answers of real recorders quoted in public projects:
 * - DeviceInfo: a DS-7616NI-K2 (V4.74.210, build 240108) and a DS-7608NXI-I2 (V4.62.210)
 *   in maciej-or/hikvision_next tests/fixtures (firmwareVersion and firmwareReleasedDate
 *   apart; GetDeviceInformation joins them as "V4.74.210 build 240108").
 * - storage: the same project's fixture hdd1.xml and issue 156 (a DS-7616NI-M2 with one
 *   disk `ok` and an empty bay `notexist`, capacity 0), CamioCam/rtsp issue 123 (a 4 TB disk,
 *   capacity 3815447 MiB, freeSpace 0 on a recorder that overwrites).
 * - DeviceStatus: a DS-7608NI-K2 in centreon/centreon-plugins issue 3211 (no temperature).
 * - InputProxyChannelStatus: `<online>` and `<chanDetectResult>connect</chanDetectResult>`
 *   as a DS-7708N-I4 answers; `netUnreachable` for a camera whose cable or port is gone is
 *   our choice among the detection results firmware gives (netUnreachable, notExist,
 *   offline, errorUserNameOrPasswd): a client must read `<online>`.
 * - Errors: a resource the firmware does not have is HTTP 403 with ResponseStatus
 *   statusCode 4 "Invalid Operation", subStatusCode notSupport (mezz64/pyHik issue 16,
 *   hikvision_next issue 176); a 401 carries `<userCheck>` and the challenge a DNVRS-Webs
 *   NVR sends: `Digest realm="...", domain="::", qop="auth", nonce="...", opaque="",
 *   algorithm="MD5", stale="FALSE"` (hikvision_next issue 50). Digest only, as with the
 *   web authentication setting "digest" (the default of current firmware); Basic is not
 *   offered.
 * - Line ends: CR LF, as the recorded answers of a Hikvision camera (crlf below).
 * Every answer here is written for the simulator from those formats; none is a recording.
 */
import { createHash } from 'node:crypto';
import type { HttpAuthPolicy } from '../http-auth.js';
import type { DeviceIdentity } from '../identity.js';
import { escapeXml } from '../soap/xml.js';
import type {
  VendorAnswer,
  VendorApi,
  VendorIdentitySource,
  VendorRequest,
  VendorState,
} from './api.js';
import { toMiB, type DiskReading } from './storage.js';

/** The namespace of current firmware (hikvision_next's DS-7616NI-K2 fixture). */
const NS = 'http://www.hikvision.com/ver20/XMLSchema';
const XML_TYPE = 'application/xml; charset="UTF-8"';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** The subnet a Hikvision NVR gives the cameras on its PoE ports (192.168.254.x). */
const POE_SUBNET = '192.168.254';

const pad2 = (n: number): string => String(n).padStart(2, '0');

function xml(root: string, inner: string): string {
  return `${DECLARATION}<${root} version="2.0" xmlns="${NS}">\n${inner}</${root}>\n`;
}

function element(name: string, value: string | number): string {
  return `<${name}>${escapeXml(String(value))}</${name}>\n`;
}

/**
 * Lines end in CR LF, as every recorded answer of Hikvision firmware does (a DS-2CD2155FWD-I
 * camera's deviceInfo and status on V5.4.5 and V5.5.0, byte for byte in
 * test/fixtures/vendor/hikvision/recorded-*). No recorded answer of an NVR was found; its
 * web server is taken to write the same. A client that splits lines on LF alone keeps a CR.
 */
function crlf(body: string): string {
  return body.replace(/\r?\n/g, '\r\n');
}

function ok(operation: string, body: string): VendorAnswer {
  return { status: 200, contentType: XML_TYPE, body: crlf(body), operation };
}

/** ISAPI's error document (ResponseStatus) with the HTTP status the firmware pairs it with. */
function responseStatus(
  status: number,
  request: VendorRequest,
  statusCode: number,
  statusString: string,
  subStatusCode: string,
): VendorAnswer {
  return {
    status,
    contentType: XML_TYPE,
    operation: `${request.method} ${request.path}`,
    body: crlf(
      xml(
        'ResponseStatus',
        element('requestURL', request.path) +
          element('statusCode', statusCode) +
          element('statusString', statusString) +
          element('subStatusCode', subStatusCode),
      ),
    ),
  };
}

/** "V4.74.210 build 240108" -> ["V4.74.210", "build 240108"]. */
export function splitFirmware(version: string): { version: string; released: string } {
  const at = version.indexOf(' build ');
  if (at < 0) return { version, released: '' };
  return { version: version.slice(0, at), released: version.slice(at + 1) };
}

function hashOf(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function deviceInfo(state: VendorState): string {
  const { identity, model } = state;
  const h = hashOf(`hik:${identity.serialNumber}`).toString('hex');
  const firmware = splitFirmware(identity.firmwareVersion);
  const mac = `44:19:b6:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
  const deviceId = `${h.slice(8, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}-${h.slice(24, 28)}-${h.slice(28, 40)}`;
  return xml(
    'DeviceInfo',
    element('deviceName', model.name) +
      element('deviceID', deviceId) +
      element('model', identity.model) +
      element('serialNumber', identity.serialNumber) +
      element('macAddress', mac) +
      element('firmwareVersion', firmware.version) +
      element('firmwareReleasedDate', firmware.released) +
      element('encoderVersion', 'V5.0') +
      element('encoderReleasedDate', 'build 231018') +
      element('deviceType', model.kind === 'nvr' ? 'NVR' : 'IPCamera') +
      element('telecontrolID', 255) +
      element('hardwareVersion', identity.hardwareId) +
      element('manufacturer', 'hikvision'),
  );
}

/** The device's recording channels now: what CPU load and written bytes follow. */
function recordingChannels(state: VendorState): number {
  let count = 0;
  for (let n = 1; n <= state.model.channels; n++) {
    if (!state.effects.channel(n).recordingStopped) count++;
  }
  return count;
}

/** Local time with its offset, as DeviceStatus writes it (the device runs on UTC). */
function deviceTime(ms: number): string {
  return `${new Date(ms).toISOString().replace(/\.\d{3}Z$/, '')}+00:00`;
}

function deviceStatus(state: VendorState): string {
  const upS = Math.max(0, Math.floor((Date.now() - state.bootTime) / 1000));
  const recording = recordingChannels(state);
  // A plausible load: a few percent idle, a little more per recording channel.
  const cpu = Math.min(95, 4 + 2 * recording);
  const usedMb = 180 + 4 * recording;
  return xml(
    'DeviceStatus',
    element('currentDeviceTime', deviceTime(state.deviceNow)) +
      element('deviceUpTime', upS) +
      '<CPUList>\n<CPU>\n' +
      element('cpuDescription', 'ARM Cortex-A7') +
      element('cpuUtilization', cpu) +
      '</CPU>\n</CPUList>\n<MemoryList>\n<Memory>\n' +
      element('memoryDescription', 'DDR Memory') +
      element('memoryUsage', usedMb.toFixed(6)) +
      element('memoryAvailable', (512 - usedMb).toFixed(6)) +
      '</Memory>\n</MemoryList>\n',
  );
}

/**
 * One bay: an empty one is `notexist` with capacity 0 (as the DS-7616NI-M2 answers); a
 * disk that failed or is not formatted has no free space to offer; a SMART warning keeps
 * its figures (the disk still works, it is predicted to fail).
 */
function hdd(disk: DiskReading): string {
  const capacity = toMiB(disk.capacityBytes);
  const usable = disk.state === 'ok' || disk.state === 'smartFailed';
  const free = usable ? toMiB(disk.capacityBytes - disk.usedBytes) : 0;
  return (
    `<hdd version="2.0" xmlns="${NS}">\n` +
    element('id', disk.bay) +
    element('hddName', `hdd${disk.bay}`) +
    '<hddPath></hddPath>\n' +
    element('hddType', 'SATA') +
    element('status', disk.state) +
    element('capacity', capacity) +
    element('freeSpace', free) +
    element('property', 'RW') +
    element('group', 1) +
    '</hdd>\n'
  );
}

function hddList(state: VendorState): string {
  return state.disks.map(hdd).join('');
}

function storage(state: VendorState): string {
  return xml(
    'storage',
    `<hddList>\n${hddList(state)}</hddList>\n<nasList>\n</nasList>\n` +
      element('workMode', 'quota'),
  );
}

function sourceDescriptor(channel: number, state: VendorState): string {
  return (
    '<sourceInputPortDescriptor>\n' +
    element('proxyProtocol', 'HIKVISION') +
    element('addressingFormatType', 'ipaddress') +
    element('ipAddress', `${POE_SUBNET}.${channel + 1}`) +
    element('managePortNo', 8000) +
    element('srcInputPort', 1) +
    element('userName', state.username) +
    element('streamType', 'auto') +
    '</sourceInputPortDescriptor>\n'
  );
}

function channels(state: VendorState): string {
  let inner = '';
  for (let n = 1; n <= state.model.channels; n++) {
    inner +=
      `<InputProxyChannel version="2.0" xmlns="${NS}">\n` +
      element('id', n) +
      element('name', `IPCamera ${pad2(n)}`) +
      sourceDescriptor(n, state) +
      element('enableAnr', 'false') +
      element('enableTiming', 'true') +
      '</InputProxyChannel>\n';
  }
  return xml('InputProxyChannelList', inner);
}

function channelStatus(state: VendorState): string {
  let inner = '';
  for (let n = 1; n <= state.model.channels; n++) {
    const online = !state.effects.channel(n).offline;
    inner +=
      `<InputProxyChannelStatus version="2.0" xmlns="${NS}">\n` +
      element('id', n) +
      sourceDescriptor(n, state) +
      element('online', String(online)) +
      '<streamingProxyChannelIdList>\n' +
      element('streamingProxyChannelId', n * 100 + 1) +
      element('streamingProxyChannelId', n * 100 + 2) +
      '</streamingProxyChannelIdList>\n' +
      element('chanDetectResult', online ? 'connect' : 'netUnreachable') +
      '</InputProxyChannelStatus>\n';
  }
  return xml('InputProxyChannelStatusList', inner);
}

const routes: Record<string, (state: VendorState) => string> = {
  '/ISAPI/System/deviceInfo': deviceInfo,
  '/ISAPI/System/status': deviceStatus,
  '/ISAPI/ContentMgmt/Storage': storage,
  '/ISAPI/ContentMgmt/Storage/hdd': (state) => xml('hddList', hddList(state)),
  '/ISAPI/ContentMgmt/InputProxy/channels': channels,
  '/ISAPI/ContentMgmt/InputProxy/channels/status': channelStatus,
};

/** Only an NVR proxies IP channels; a camera's firmware has no InputProxy. */
const NVR_ONLY = new Set([
  '/ISAPI/ContentMgmt/InputProxy/channels',
  '/ISAPI/ContentMgmt/InputProxy/channels/status',
]);

const authPolicy: HttpAuthPolicy = {
  offer: ['digest'],
  algorithm: 'MD5',
  qop: true,
  opaque: '',
  digestChallenge: ({ realm, nonce, opaque, stale }) =>
    `Digest realm="${realm}", domain="::", qop="auth", nonce="${nonce}", ` +
    `opaque="${opaque}", algorithm="MD5", stale="${stale ? 'TRUE' : 'FALSE'}"`,
};

/**
 * A Hikvision NVR's model for its channel count and bays ("DS-7616NI-K2": 76 series, 16
 * channels, 2 bays; 32 channels and more are the 77 series).
 */
function modelName(channels: number, bays: number): string {
  return `DS-7${channels > 16 ? 7 : 6}${pad2(channels)}NI-K${Math.max(1, bays)}`;
}

/** Firmware of the recorded NVRs above: ONVIF joins version and build date. */
const FIRMWARE = ['V4.74.210 build 240108', 'V4.62.210 build 230612'] as const;

export const hikvisionIsapi: VendorApi = {
  name: 'isapi',
  owns: (path) => path === '/ISAPI' || path.startsWith('/ISAPI/'),
  authPolicy,
  // Current NVR firmware sends a hex string of its own as realm (hikvision_next issue 50).
  realm: (identity) => hashOf(`realm:${identity.serialNumber}`).toString('hex').slice(0, 24),
  headers: { Server: 'DNVRS-Webs', 'Cache-Control': 'no-cache' },
  unauthorized: {
    contentType: XML_TYPE,
    body:
      '<?xml version="1.0" encoding="UTF-8" ?>\n<userCheck>\n<statusValue>401</statusValue>\n' +
      '<statusString>Unauthorized</statusString>\n</userCheck>\n',
  },
  identity(source: VendorIdentitySource): DeviceIdentity {
    const { hash } = source;
    const model =
      source.kind === 'nvr' ? modelName(source.channels, source.bays) : 'DS-2CD2143G2-I';
    const date = `20${22 + (hash[0]! % 3)}${pad2((hash[1]! % 12) + 1)}${pad2((hash[2]! % 28) + 1)}`;
    const digits = (BigInt(`0x${hash.subarray(16, 24).toString('hex')}`) % 10n ** 9n)
      .toString()
      .padStart(9, '0');
    return {
      // GetDeviceInformation on Hikvision firmware says "HIKVISION"; the serial number is
      // the long one ISAPI gives too: model, production date, a code, the unit's digits.
      manufacturer: 'HIKVISION',
      model,
      firmwareVersion: FIRMWARE[hash[3]! % FIRMWARE.length]!,
      serialNumber: `${model}${date}CCRR${digits}WCVU`,
      hardwareId: '88',
    };
  },
  answer(request, state) {
    const route = routes[request.path];
    if (!route || (NVR_ONLY.has(request.path) && state.model.kind !== 'nvr')) {
      return responseStatus(403, request, 4, 'Invalid Operation', 'notSupport');
    }
    if (request.method !== 'GET') {
      return responseStatus(403, request, 4, 'Invalid Operation', 'methodNotAllowed');
    }
    return ok(`GET ${request.path}`, route(state));
  },
};
