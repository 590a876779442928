/**
 * Hikvision ISAPI answers, read as pure functions (no I/O but `isapiGet`), so every reader
 * is tested against the documented formats and the answers real devices gave
 * (test/fixtures/vendor/hikvision/SOURCE.md). The XML goes through the agent's one XML
 * parser (../../onvif/soap.ts: fast-xml-parser, namespace prefixes removed, every value a
 * string).
 *
 * What the formats are (Hikvision "ISAPI Developer Guide" / Intelligent Security API, the
 * XML_DeviceInfo, XML_DeviceStatus, XML_storage / XML_hdd, XML_InputProxyChannel(Status)List
 * and XML_ResponseStatus schemas), and what real firmware does beside them:
 * - The default namespace is `http://www.hikvision.com/ver20/XMLSchema` or, on newer
 *   firmware, `http://www.isapi.org/ver20/XMLSchema`; a list may carry a `ver10` namespace
 *   of its own and a `size` attribute. Namespaces are therefore ignored, and element names
 *   are matched without regard to case (`storage`, and `Storage` in some answers).
 * - An element the firmware does not fill is empty (`<hddPath></hddPath>`), an empty list is
 *   `<nasList>\n</nasList>`; elements unknown to us are ignored.
 * - A refusal is a `ResponseStatus` (statusCode 4 "Invalid Operation" with a
 *   subStatusCode: `notSupport` for a path the device lacks, `lowPrivilege` for an account
 *   without the right), most often with HTTP 403, and on some firmware with 200.
 */
import { parseXml, textOf, type XmlNode } from '../../onvif/soap.js';
import { OnvifError } from '../../onvif/types.js';
import type { CheckContext } from '../../checks/types.js';
import {
  askVendor,
  markLacking,
  type Disk,
  type DiskHealth,
  type NvrChannel,
  type SystemStatus,
  type VendorDeviceInfo,
} from '../types.js';

export const PATHS = {
  deviceInfo: '/ISAPI/System/deviceInfo',
  status: '/ISAPI/System/status',
  storage: '/ISAPI/ContentMgmt/Storage',
  channels: '/ISAPI/ContentMgmt/InputProxy/channels',
  channelStatus: '/ISAPI/ContentMgmt/InputProxy/channels/status',
} as const;

// ---- reading the tree --------------------------------------------------------------------

function isElementKey(key: string): boolean {
  return !key.startsWith('@_') && key !== '#text';
}

/** The child elements called `name` (case-insensitive), as an array. */
function all(node: unknown, name: string): unknown[] {
  if (!node || typeof node !== 'object') return [];
  const wanted = name.toLowerCase();
  const out: unknown[] = [];
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (!isElementKey(key) || key.toLowerCase() !== wanted) continue;
    if (Array.isArray(value)) out.push(...(value as unknown[]));
    else out.push(value);
  }
  return out;
}

/** The first child element `name` (case-insensitive). */
function one(node: unknown, name: string): unknown {
  return all(node, name)[0];
}

/** The text of the child `name`, trimmed; undefined when absent or empty. */
function text(node: unknown, name: string): string | undefined {
  const value = textOf(one(node, name));
  return value === undefined || value === '' ? undefined : value;
}

/** A number the firmware wrote as text (`1907729`, `36.400002`); undefined otherwise. */
function number(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+(\.\d+)?$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** The root element of a document: its name and content. */
export function rootOf(doc: XmlNode): { name: string; node: unknown } {
  const name = Object.keys(doc).find(isElementKey) ?? '';
  return { name, node: doc[name] };
}

/** The root element, which must be `expected` (case-insensitive), else a protocol error. */
function expectRoot(doc: XmlNode, expected: string): unknown {
  const { name, node } = rootOf(doc);
  if (name.toLowerCase() !== expected.toLowerCase()) {
    throw new OnvifError(
      'protocol-error',
      `not an ISAPI ${expected} answer: its root element is <${name.slice(0, 80) || 'none'}>`,
    );
  }
  return node;
}

// ---- ResponseStatus: how ISAPI says no ---------------------------------------------------

/** XML_ResponseStatus: the outcome of a request, in the body. */
export interface ResponseStatus {
  /** 1 OK, 2 Device Busy, 3 Device Error, 4 Invalid Operation, 5 Invalid XML Format, ... */
  statusCode: string;
  statusString: string;
  /** notSupport, lowPrivilege, invalidOperation, ... */
  subStatusCode: string;
}

/** The ResponseStatus of a document, when that is what it is. */
export function responseStatusOf(doc: XmlNode): ResponseStatus | null {
  const { name, node } = rootOf(doc);
  if (name.toLowerCase() !== 'responsestatus') return null;
  return {
    statusCode: text(node, 'statusCode') ?? '',
    statusString: text(node, 'statusString') ?? '',
    subStatusCode: text(node, 'subStatusCode') ?? '',
  };
}

/** subStatusCodes that mean the device has no such resource: nothing to report. */
const LACKING = new Set(['notsupport', 'invalidoperation', 'methodnotallowed']);

/**
 * GET an ISAPI path and parse its XML. Null when the device lacks it (404, 405, 501, or a
 * ResponseStatus `notSupport`; remembered for an hour). An account without the right
 * (`lowPrivilege`) is auth-failed: ../../poll.ts reports the vendor API refused and spaces
 * out the next tries. Any other refusal, an empty or malformed answer is a protocol error
 * (its message says what the device did; the caller names the request).
 */
export async function isapiGet(context: CheckContext, path: string): Promise<XmlNode | null> {
  const answer = await askVendor(context, path);
  if (!answer) return null;
  const ok = answer.status >= 200 && answer.status < 300;
  let doc: XmlNode | null = null;
  if (answer.body.trim() !== '') {
    try {
      doc = parseXml(answer.body);
    } catch (error) {
      // A refusal's body that is not XML still says what the status says.
      if (ok) throw error;
    }
  }
  const status = doc ? responseStatusOf(doc) : null;
  if (ok && doc && (!status || status.statusCode === '1')) return doc;
  if (ok && !doc) throw new OnvifError('protocol-error', 'the device answered an empty body');
  const sub = status?.subStatusCode.toLowerCase() ?? '';
  if (LACKING.has(sub)) {
    markLacking(context, path);
    return null;
  }
  const said = status
    ? ` (ISAPI statusCode ${status.statusCode} ${status.statusString}, ${status.subStatusCode || 'no subStatusCode'})`
    : '';
  if (sub === 'lowprivilege') {
    throw new OnvifError(
      'auth-failed',
      `GET ${path} refused the account the right to read it${said}: give the account the ` +
        `remote rights "Parameters Settings" and "Log Search / Interrogate Working Status" in the ` +
        `recorder's User Management, or give the agent an account that has them ("vendor:" in the ` +
        `device's entry of the agent config), or set "driver: onvif" for this device`,
    );
  }
  throw new OnvifError(
    'protocol-error',
    `the device answered HTTP ${answer.status}${said}`.slice(0, 600),
  );
}

// ---- /ISAPI/ContentMgmt/Storage ------------------------------------------------------------

/**
 * XML_hdd `status` (opt="ok,unformatted,error,idle,mismatch,offline,smartFailed,reparing,
 * formating,notexist,..."; the spellings are Hikvision's) and what each means to us.
 * `idle`: spun down between writes, ready. Not listed (formating, reparing, words of newer
 * firmware): `other`, shown and never a fault.
 */
const HEALTH: Record<string, DiskHealth> = {
  ok: 'ok',
  idle: 'ok',
  error: 'failed',
  smartfailed: 'failed',
  unformatted: 'failed',
  offline: 'failed',
  mismatch: 'failed',
  notexist: 'empty',
};

export function diskHealth(state: string): DiskHealth {
  return HEALTH[state.trim().toLowerCase()] ?? 'other';
}

/** What a failed disk's state means on a Hikvision recorder, and what to do about it. */
export function diskAdvice(disk: Disk): string {
  const network = disk.type === 'NAS' || disk.type === 'IPSAN';
  switch (disk.state.trim().toLowerCase()) {
    case 'smartfailed':
      return 'its S.M.A.R.T. self-test predicts that it fails soon; replace it while the recorder still records on it (Storage > HDD on the recorder shows it)';
    case 'unformatted':
      return 'nothing is recorded on it until it is initialised; initialise it on the recorder (Storage > Storage Device > Init), which erases it';
    case 'offline':
      return network
        ? 'the recorder cannot reach this network disk; check the NAS and the network path to it'
        : 'the recorder lost the disk; check its data and power cables, then replace it if it stays offline';
    case 'mismatch':
      return 'it was initialised by another recorder or belongs to another disk group, so nothing is recorded on it; initialise it on this recorder (which erases it) or return it where it belongs';
    default:
      return 'the recorder cannot use it, so nothing is recorded on it; check its data and power cables, then replace it';
  }
}

function disk(node: unknown, type: string | undefined, fallbackName: string): Disk {
  const id = text(node, 'id') ?? '';
  const state = text(node, 'status') ?? 'unknown';
  const out: Disk = {
    id,
    name: text(node, 'hddName') ?? fallbackName,
    state,
    health: diskHealth(state),
    capacityMiB: number(text(node, 'capacity')) ?? null,
    freeMiB: number(text(node, 'freeSpace')) ?? null,
  };
  const kind = type ?? text(node, 'hddType');
  if (kind !== undefined) out.type = kind;
  const property = text(node, 'property');
  if (property !== undefined) out.property = property;
  return out;
}

/**
 * The disks of a `storage` answer: every `hddList/hdd` (local disks, in bay order, empty
 * bays as `notexist`) and every `nasList/nas` (network disks, named by their address and
 * path). Sizes are MiB, as ISAPI counts them.
 */
export function parseStorage(doc: XmlNode): Disk[] {
  const storage = expectRoot(doc, 'storage');
  const disks: Disk[] = [];
  for (const list of all(storage, 'hddList')) {
    for (const hdd of all(list, 'hdd')) {
      disks.push(disk(hdd, undefined, `hdd${text(hdd, 'id') ?? ''}`));
    }
  }
  for (const list of all(storage, 'nasList')) {
    for (const nas of all(list, 'nas')) {
      const where = `${text(nas, 'ipAddress') ?? text(nas, 'hostName') ?? '?'}:${text(nas, 'path') ?? ''}`;
      disks.push(disk(nas, text(nas, 'nasType') === 'IPSAN' ? 'IPSAN' : 'NAS', `NAS ${where}`));
    }
  }
  return disks;
}

// ---- /ISAPI/System/deviceInfo --------------------------------------------------------------

export function parseDeviceInfo(doc: XmlNode): VendorDeviceInfo {
  const info = expectRoot(doc, 'DeviceInfo');
  const out: VendorDeviceInfo = {};
  const fields: [keyof VendorDeviceInfo, string][] = [
    ['model', 'model'],
    ['serialNumber', 'serialNumber'],
    ['firmwareVersion', 'firmwareVersion'],
    ['deviceType', 'deviceType'],
    ['macAddress', 'macAddress'],
  ];
  for (const [key, element] of fields) {
    const value = text(info, element);
    if (value !== undefined) out[key] = value.slice(0, 200);
  }
  return out;
}

// ---- /ISAPI/System/status ------------------------------------------------------------------

/**
 * `deviceUpTime` in seconds; some firmware writes it as Chinese words (`87天0时55分59秒`:
 * days, hours, minutes, seconds), which are read too.
 */
export function uptimeSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const plain = number(value);
  if (plain !== undefined) return plain >= 0 ? plain : undefined;
  const match = /^(?:(\d+)天)?(?:(\d+)(?:小时|时))?(?:(\d+)分)?(?:(\d+)秒)?$/.exec(value.trim());
  if (!match || match.slice(1).every((part) => part === undefined)) return undefined;
  const [d, h, m, s] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  return ((d * 24 + h) * 60 + m) * 60 + s;
}

/**
 * A temperature in the status, if the firmware gives one: the first element whose name
 * ends in `temperature` with a plausible number (-40 to 150 degrees Celsius). Most
 * recorders' /ISAPI/System/status has none, and the ones that do differ in where they put
 * it, so it is looked for rather than expected at one place.
 */
function temperatureIn(node: unknown, depth = 0): number | undefined {
  if (!node || typeof node !== 'object' || depth > 4) return undefined;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (!isElementKey(key)) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (/temperature$/i.test(key)) {
        const reading = number(textOf(item));
        if (reading !== undefined && reading >= -40 && reading <= 150) return reading;
      }
      const deeper = temperatureIn(item, depth + 1);
      if (deeper !== undefined) return deeper;
    }
  }
  return undefined;
}

/**
 * XML_DeviceStatus: the busiest processor's `CPUList/CPU/cpuUtilization` (percent), the
 * uptime, and a temperature where given. Memory (`MemoryList/Memory/memoryUsage`,
 * `memoryAvailable`) is not read: firmware gives it in KiB, MiB or percent without saying
 * which.
 */
export function parseSystemStatus(doc: XmlNode): SystemStatus {
  const status = expectRoot(doc, 'DeviceStatus');
  const out: SystemStatus = {};
  let cpu: number | undefined;
  for (const list of all(status, 'CPUList')) {
    for (const processor of all(list, 'CPU')) {
      const used = number(text(processor, 'cpuUtilization'));
      if (used !== undefined && used >= 0 && used <= 100 && (cpu === undefined || used > cpu)) {
        cpu = used;
      }
    }
  }
  if (cpu !== undefined) out.cpuPct = Math.round(cpu * 10) / 10;
  const uptime = uptimeSeconds(text(status, 'deviceUpTime'));
  if (uptime !== undefined) out.uptimeS = uptime;
  const temperature = temperatureIn(status);
  if (temperature !== undefined) out.temperatureC = temperature;
  return out;
}

// ---- /ISAPI/ContentMgmt/InputProxy/channels(/status) ---------------------------------------

/** `true` / `false` as ISAPI writes booleans; null for anything else. */
function bool(value: string | undefined): boolean | null {
  if (value === undefined) return null;
  const v = value.toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : null;
}

/**
 * XML_InputProxyChannelStatusList: each IP channel's `online` and `chanDetectResult`
 * (`connect` when online; otherwise why, in the NVR's word: `netUnreachable`,
 * `notExist`, `offline`, `errorUserNameOrPasswd`, ...), and the camera's address
 * (`sourceInputPortDescriptor/ipAddress`) where given.
 */
export function parseChannelStatus(doc: XmlNode): NvrChannel[] {
  const list = expectRoot(doc, 'InputProxyChannelStatusList');
  return all(list, 'InputProxyChannelStatus').map((node) => {
    const channel: NvrChannel = {
      id: text(node, 'id') ?? '',
      online: bool(text(node, 'online')),
    };
    const address = text(one(node, 'sourceInputPortDescriptor'), 'ipAddress');
    if (address !== undefined) channel.address = address;
    const detail = text(node, 'chanDetectResult');
    if (detail !== undefined) channel.detail = detail;
    return channel;
  });
}

/**
 * XML_InputProxyChannelList: each IP channel's name and camera address. Only those are
 * kept: the descriptor also holds the account the NVR logs in to the camera with (its
 * `userName`, and on some firmware its `password`), which never leaves this function.
 */
export function parseChannelList(doc: XmlNode): NvrChannel[] {
  const list = expectRoot(doc, 'InputProxyChannelList');
  return all(list, 'InputProxyChannel').map((node) => {
    const channel: NvrChannel = { id: text(node, 'id') ?? '', online: null };
    const name = text(node, 'name');
    if (name !== undefined) channel.name = name.slice(0, 200);
    const address = text(one(node, 'sourceInputPortDescriptor'), 'ipAddress');
    if (address !== undefined) channel.address = address;
    return channel;
  });
}

/**
 * The channels of an NVR: every channel of the status, with its name (and address, when
 * the status lacks it) from the list; a channel only in the list is there with its state
 * unknown (online null).
 */
export function mergeChannels(
  status: readonly NvrChannel[],
  list: readonly NvrChannel[] | null,
): NvrChannel[] {
  const listed = new Map((list ?? []).map((c) => [c.id, c]));
  const out = status.map((c) => {
    const named = listed.get(c.id);
    listed.delete(c.id);
    const merged: NvrChannel = { ...c };
    if (named?.name !== undefined) merged.name = named.name;
    if (merged.address === undefined && named?.address !== undefined) {
      merged.address = named.address;
    }
    return merged;
  });
  out.push(...listed.values());
  return out.sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
}
