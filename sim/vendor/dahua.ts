/**
 * Dahua's HTTP API (CGI) on a simulated NVR (personality `dahua-nvr`): the read-only
 * calls a monitoring client needs, answered from the device's own state.
 *
 *   GET /cgi-bin/magicBox.cgi?action=getSystemInfo      deviceType, serialNumber, ...
 *   GET /cgi-bin/magicBox.cgi?action=getSoftwareVersion version=...,build:YYYY-MM-DD
 *   GET /cgi-bin/magicBox.cgi?action=getDeviceType      type=<model>
 *   GET /cgi-bin/magicBox.cgi?action=getMachineName     name=<device name>
 *   GET /cgi-bin/magicBox.cgi?action=getVendor          vendor=Dahua
 *   GET /cgi-bin/storageDevice.cgi?action=getDeviceAllInfo      every disk present
 *   GET /cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1
 *                                                       each channel Connected / Unconnect
 *
 * Answers are `key=value` lines ending in CRLF, text/plain, as Dahua's HTTP API
 * specification for IPC and NVR writes them and real units answer:
 * - getSystemInfo, getSoftwareVersion, getVendor of an NVR in rroller/dahua issue 9
 *   (`serialNumber=4F07335PAZEEA9B`, `version=4.001.0000005.0,build:2020-11-17`).
 * - getDeviceAllInfo: keys in alphabetical order per disk, byte counts written as
 *   decimals with six places, `Name=/dev/sda`, `Detail[0].Path=/mnt/dvr/sda0`,
 *   `State=Success`, `IsError=false` (the SD card answer in Skinah/IpCamera issue 20; an
 *   NVR's in other projects' tests). A bay without a disk is not listed, as an NVR lists
 *   only the disks it sees. State takes the values Dahua's NetSDK names for the same field
 *   (dhnetsdk.h EM_STORAGE_DEVICE_STATUS: Unknown, Error, Initializing, Success): a failed
 *   disk is `State=Error` with its partition `IsError=true` (a SMART warning too: the CGI
 *   has no SMART state of its own); a new, unformatted disk is `State=Success` without a
 *   partition (no `Detail` lines), nowhere to record. How real firmware words these two
 *   is not in the documents we could read: this is our reading, the same as the Dahua
 *   driver's (agent/drivers/dahua/storage.ts).
 * - getCameraState: `states[i].channel` (0-based) and `connectionState` Connected or
 *   Unconnect.
 * - Errors: an unknown action or CGI gets `400 Error\r\nBad Request!\r\n` (units of
 *   2019-2022; newer ones answer 501 "Not Implemented!"). The 401's challenge is
 *   `Digest realm="Login to <serial number>", qop="auth", nonce="...", opaque="..."`.
 * Every answer here is written for the simulator from those formats; none is a recording.
 */
import type { HttpAuthPolicy } from '../http-auth.js';
import type { DeviceIdentity } from '../identity.js';
import type {
  VendorAnswer,
  VendorApi,
  VendorIdentitySource,
  VendorRequest,
  VendorState,
} from './api.js';

const TEXT_TYPE = 'text/plain;charset=utf-8';
const BAD_REQUEST = 'Error\r\nBad Request!\r\n';
const pad2 = (n: number): string => String(n).padStart(2, '0');

function lines(pairs: [string, string | number][]): string {
  return pairs.map(([key, value]) => `${key}=${value}\r\n`).join('');
}

function ok(operation: string, body: string): VendorAnswer {
  return { status: 200, contentType: TEXT_TYPE, body, operation };
}

function badRequest(operation: string): VendorAnswer {
  return { status: 400, contentType: TEXT_TYPE, body: BAD_REQUEST, operation };
}

/** "4.001.0000005.0.R, Build Date 2024-03-15" -> version and build date apart. */
export function splitDahuaFirmware(firmware: string): { version: string; build: string } {
  const match = /^(.*?),\s*Build Date\s+(.*)$/.exec(firmware);
  return match
    ? { version: match[1] ?? '', build: match[2] ?? '' }
    : { version: firmware, build: '' };
}

/** "DHI-NVR4216-4KS2" -> "NVR4216-4KS2", the hardware line getSystemInfo names. */
function updateSerial(model: string): string {
  return model.replace(/^DHI-/, '');
}

function systemInfo(state: VendorState): string {
  const { identity } = state;
  return lines([
    ['deviceType', identity.model],
    ['hardwareVersion', identity.hardwareId],
    ['processor', 'Hi3536'],
    ['serialNumber', identity.serialNumber],
    ['updateSerial', updateSerial(identity.model)],
  ]);
}

function bytes(value: number): string {
  return `${value}.000000`;
}

function deviceAllInfo(state: VendorState): string {
  const pairs: [string, string | number][] = [];
  let index = 0;
  for (const disk of state.disks) {
    if (disk.state === 'notexist') continue;
    const drive = `sd${String.fromCharCode(96 + disk.bay)}`;
    const failed = disk.state === 'error' || disk.state === 'smartFailed';
    const at = `list.info[${index}]`;
    if (disk.state !== 'unformatted') {
      // One partition over the whole disk; a failed one is read as nothing used.
      pairs.push(
        [`${at}.Detail[0].IsError`, String(failed)],
        [`${at}.Detail[0].Path`, `/mnt/dvr/${drive}0`],
        [`${at}.Detail[0].TotalBytes`, bytes(disk.capacityBytes)],
        [`${at}.Detail[0].Type`, 'ReadWrite'],
        [`${at}.Detail[0].UsedBytes`, bytes(failed ? 0 : disk.usedBytes)],
      );
    }
    pairs.push([`${at}.Name`, `/dev/${drive}`], [`${at}.State`, failed ? 'Error' : 'Success']);
    index++;
  }
  return lines(pairs);
}

function cameraState(state: VendorState): string {
  const pairs: [string, string | number][] = [];
  for (let n = 1; n <= state.model.channels; n++) {
    pairs.push(
      [`states[${n - 1}].channel`, n - 1],
      [
        `states[${n - 1}].connectionState`,
        state.effects.channel(n).offline ? 'Unconnect' : 'Connected',
      ],
    );
  }
  return lines(pairs);
}

type Action = (state: VendorState) => string;

const magicBox: Record<string, Action> = {
  getSystemInfo: systemInfo,
  getSoftwareVersion: ({ identity }) => {
    const { version, build } = splitDahuaFirmware(identity.firmwareVersion);
    return lines([['version', build ? `${version},build:${build}` : version]]);
  },
  getDeviceType: ({ identity }) => lines([['type', identity.model]]),
  getMachineName: ({ model }) => lines([['name', model.name]]),
  getVendor: () => lines([['vendor', 'Dahua']]),
};

const cgis: Record<string, Record<string, Action>> = {
  '/cgi-bin/magicBox.cgi': magicBox,
  '/cgi-bin/storageDevice.cgi': { getDeviceAllInfo: deviceAllInfo },
  '/cgi-bin/LogicDeviceManager.cgi': { getCameraState: cameraState },
};

const authPolicy: HttpAuthPolicy = {
  offer: ['digest'],
  algorithm: 'MD5',
  qop: true,
  digestChallenge: ({ realm, nonce, opaque }) =>
    `Digest realm="${realm}", qop="auth", nonce="${nonce}", opaque="${opaque}"`,
};

/** A Dahua NVR's model: 4 series up to 2 bays, 5 series beyond ("DHI-NVR4216-4KS2"). */
function modelName(channels: number, bays: number): string {
  const disks = Math.max(1, bays);
  return `DHI-NVR${disks > 2 ? 5 : 4}${disks}${pad2(channels)}-4KS2`;
}

const FIRMWARE = [
  '4.001.0000005.0.R, Build Date 2024-03-15',
  '4.001.0000004.2.R, Build Date 2023-10-12',
] as const;
const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

export const dahuaCgi: VendorApi = {
  name: 'dahua-cgi',
  owns: (path) => path.startsWith('/cgi-bin/'),
  authPolicy,
  realm: (identity) => `Login to ${identity.serialNumber}`,
  headers: {},
  // What body Dahua's web server sends with its 401 is not in what we could read: none.
  unauthorized: { contentType: TEXT_TYPE, body: '' },
  identity(source: VendorIdentitySource): DeviceIdentity {
    const { hash } = source;
    const letter = (byte: number) => LETTERS[hash[byte]! % LETTERS.length]!;
    const digits = (BigInt(`0x${hash.subarray(16, 24).toString('hex')}`) % 10n ** 5n)
      .toString()
      .padStart(5, '0');
    const tail = hash.subarray(24, 27).toString('hex').toUpperCase().slice(0, 5);
    return {
      // Dahua firmware says "Dahua" in GetDeviceInformation; its serial numbers are 15
      // characters such as 4F07335PAZEEA9B.
      manufacturer: 'Dahua',
      model:
        source.kind === 'nvr' ? modelName(source.channels, source.bays) : 'DH-IPC-HFW2431S-S-S2',
      firmwareVersion: FIRMWARE[hash[3]! % FIRMWARE.length]!,
      serialNumber: `${hash[4]! % 10}${letter(5)}${digits}PA${letter(6)}${tail}`,
      hardwareId: '1.00',
    };
  },
  answer(request: VendorRequest, state: VendorState): VendorAnswer {
    const action = request.query.get('action') ?? '';
    const handler = cgis[request.path]?.[action];
    if (!handler || request.method !== 'GET') return badRequest(action || request.path);
    return ok(action, handler(state));
  },
};
