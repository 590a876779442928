/**
 * The answers of Dahua's HTTP API (CGI), read as pure functions: no I/O here, so every
 * parser is tested against recorded answers and the vendor's documented format alone.
 *
 * Dahua HTTP API (DAHUA_HTTP_API_V2.x, "HTTP API Transaction" and every getConfig / get*
 * action): a successful answer is `200 OK` with a text body of `key=value` lines, one per
 * line (CRLF on real firmware, LF in some examples), the key a dotted path with array
 * indices (`list.info[0].Detail[1].TotalBytes`, `table.ChannelTitle[3].Name`,
 * `states[0].connectionState`), the value everything after the FIRST `=` (a name may hold
 * `=` itself). A refused or unknown action answers `400` (some firmware `200`) with the body
 * `Error\r\nBad Request!`; an action the firmware lacks `501` (or `404`). Keys the firmware
 * adds in later versions must not break a reader, nor keys it leaves out.
 */

/** The `key=value` lines of an answer, in order; a later line of the same key wins. */
export type CgiValues = ReadonlyMap<string, string>;

/**
 * Reads an answer body. Lines end in CRLF, LF or CR; blank lines, a UTF-8 byte-order mark
 * and lines without `=` (the `Error` / `Bad Request!` lines, or `OK`) are skipped; keys and
 * values are trimmed of surrounding white space.
 */
export function parseCgi(body: string): CgiValues {
  const values = new Map<string, string>();
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  for (const line of text.split(/\r\n|\n|\r/)) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    if (key === '') continue;
    values.set(key, line.slice(at + 1).trim());
  }
  return values;
}

/**
 * The answer is Dahua's error text (`Error` on its first line, then a reason such as
 * `Bad Request!` or `Invalid Authority!`) rather than data: some firmware sends it with
 * `200 OK`, so the status alone does not tell.
 */
export function isCgiError(body: string): boolean {
  const first =
    body
      .replace(/^\ufeff/, '')
      .trimStart()
      .split(/\r\n|\n|\r/, 1)[0] ?? '';
  return /^error\b/i.test(first.trim());
}

/** The reason after an `Error` line (`Bad Request!`), for a message; empty when none. */
export function cgiErrorText(body: string): string {
  const lines = body
    .replace(/^\ufeff/, '')
    .split(/\r\n|\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.slice(1).join(' ').slice(0, 200);
}

/** One element of an indexed list (`prefix[index].…`): its index and its own keys. */
export interface CgiGroup {
  index: number;
  /** The keys below the element, without the `prefix[index].` part (`Detail[0].Path`). */
  values: CgiValues;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The elements of the indexed list `prefix` (`list.info`, `states`, `Detail`), in index
 * order. Matching is case-insensitive (firmware versions differ: `states[0].Channel` and
 * `states[0].channel` both exist in the wild); indices need not be contiguous.
 */
export function groups(values: CgiValues, prefix: string): CgiGroup[] {
  const pattern = new RegExp(`^${escapeRegExp(prefix)}\\[(\\d{1,6})\\](?:\\.(.+))?$`, 'i');
  const byIndex = new Map<number, Map<string, string>>();
  for (const [key, value] of values) {
    const match = pattern.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    let own = byIndex.get(index);
    if (!own) {
      own = new Map();
      byIndex.set(index, own);
    }
    own.set(match[2] ?? '', value);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, own]) => ({ index, values: own }));
}

/** A field of a group or an answer, by name, case-insensitively; undefined when absent. */
export function field(values: CgiValues, name: string): string | undefined {
  const exact = values.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of values) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/**
 * A number as Dahua writes it: sizes are bytes printed as floats (`1495797858304.000000`),
 * counts as integers. Null for an absent, empty or unreadable value.
 */
export function numberOf(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}

/** `true` / `false` (any case), `1` / `0`; null for anything else. */
export function booleanOf(value: string | undefined): boolean | null {
  if (value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return null;
}

// ---- storageDevice.cgi?action=getDeviceAllInfo -------------------------------------

/** One partition of a disk (`list.info[N].Detail[M]`). */
export interface DahuaPartition {
  index: number;
  /** `/dev/sda1`; empty when not given. */
  path: string;
  /** ReadWrite, ReadOnly, Redundant ...; empty when not given. */
  type: string;
  totalBytes: number | null;
  usedBytes: number | null;
  /** `IsError`; null when the firmware leaves it out. */
  isError: boolean | null;
}

/** One storage device of getDeviceAllInfo (`list.info[N]`): a disk, an SD card, a RAID. */
export interface DahuaDisk {
  /** N of `list.info[N]`. */
  index: number;
  /** `/dev/sda`, `/dev/md0`, `/dev/mmc0`; empty when not given. */
  name: string;
  /** `State` as the device wrote it (Success, Error ...); empty when not given. */
  state: string;
  /** `HealthDataFlag` (NetSDK EM_STORAGE_HEALTH_TYPE); null when not given. */
  healthDataFlag: number | null;
  partitions: DahuaPartition[];
}

/**
 * getDeviceAllInfo (Dahua HTTP API, Storage: "GetDeviceAllInfo"): one `list.info[N]` per
 * storage device present, each with `Name`, `State` and its partitions
 * `Detail[M].{Path, Type, TotalBytes, UsedBytes, IsError}`; later firmware adds
 * `HealthDataFlag`, `LifePercent`, `CantHotPlug`, `SDEncryptFlag` (ignored here but
 * HealthDataFlag). Some firmware answers without the `list.` prefix (`info[0].Name`): read
 * too. An empty bay has no entry at all.
 */
export function parseDeviceAllInfo(body: string): DahuaDisk[] {
  const values = parseCgi(body);
  let infos = groups(values, 'list.info');
  if (infos.length === 0) infos = groups(values, 'info');
  return infos.map(({ index, values: own }) => ({
    index,
    name: field(own, 'Name') ?? '',
    state: field(own, 'State') ?? '',
    healthDataFlag: numberOf(field(own, 'HealthDataFlag')),
    partitions: groups(own, 'Detail').map(({ index: at, values: part }) => ({
      index: at,
      path: field(part, 'Path') ?? '',
      type: field(part, 'Type') ?? '',
      totalBytes: numberOf(field(part, 'TotalBytes')),
      usedBytes: numberOf(field(part, 'UsedBytes')),
      isError: booleanOf(field(part, 'IsError')),
    })),
  }));
}

// ---- magicBox.cgi?action=getSystemInfo ----------------------------------------------

/** magicBox getSystemInfo (or getDeviceType) as the driver keeps it. */
export interface DahuaSystemInfo {
  /** `deviceType` (the model: `DHI-NVR4216-4KS2`, `IPC-HDW5231R-Z`); null when absent. */
  deviceType: string | null;
  serialNumber: string | null;
  hardwareVersion: string | null;
  processor: string | null;
  /** `updateSerial`: the firmware family the device upgrades within. */
  updateSerial: string | null;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

/**
 * getSystemInfo (Dahua HTTP API, MagicBox: "GetSystemInfo"): unprefixed `key=value` lines,
 * `deviceType`, `hardwareVersion`, `processor`, `serialNumber`, `updateSerial` and, on
 * newer firmware, `appAutoStart`, `updateSerialCloudUpgrade`. getDeviceType answers
 * `type=…` alone, which is read as the device type.
 */
export function parseSystemInfo(body: string): DahuaSystemInfo {
  const values = parseCgi(body);
  return {
    deviceType: nonEmpty(field(values, 'deviceType') ?? field(values, 'type')),
    serialNumber: nonEmpty(field(values, 'serialNumber') ?? field(values, 'sn')),
    hardwareVersion: nonEmpty(field(values, 'hardwareVersion')),
    processor: nonEmpty(field(values, 'processor')),
    updateSerial: nonEmpty(field(values, 'updateSerial')),
  };
}

/**
 * getSoftwareVersion: `version=<version>,build:<date>` (the HTTP API's own example:
 * `version=2.212.0000.0.R,build:2013-11-14`), returned as the device wrote it; null when
 * absent.
 */
export function parseSoftwareVersion(body: string): string | null {
  return nonEmpty(field(parseCgi(body), 'version'));
}

// ---- LogicDeviceManager.cgi?action=getCameraState -----------------------------------

/** The connection state of one of an NVR's remote (IP) channels. */
export interface DahuaCameraState {
  /** The channel, 0-based as the device numbers it (the web page shows it + 1). */
  channel: number;
  /** `Connected`, `Connecting`, `Unconnect` ... as the device wrote it. */
  connectionState: string;
}

/**
 * getCameraState (LogicDeviceManager, `uniqueChannels[0]=-1` for every channel): one
 * `states[N]` per remote channel with `channel` and `connectionState` (the same fields as
 * the web page's RPC2 `LogicDeviceManager.getCameraState`); firmware differs in case
 * (`Channel`, `ConnectionState`). An entry without a readable channel is left out.
 */
export function parseCameraStates(body: string): DahuaCameraState[] {
  const out: DahuaCameraState[] = [];
  for (const { values } of groups(parseCgi(body), 'states')) {
    const channel = numberOf(field(values, 'channel'));
    if (channel === null || !Number.isInteger(channel) || channel < 0) continue;
    out.push({ channel, connectionState: field(values, 'connectionState') ?? '' });
  }
  return out;
}

// ---- configManager.cgi?action=getConfig&name=ChannelTitle ----------------------------

/**
 * getConfig ChannelTitle (Dahua HTTP API, "GetConfig", config name ChannelTitle): one
 * `table.ChannelTitle[N].Name` per channel, N 0-based; the name as the recorder shows it.
 * Returned by N; an empty name is left out.
 */
export function parseChannelTitles(body: string): Map<number, string> {
  const titles = new Map<number, string>();
  for (const { index, values } of groups(parseCgi(body), 'table.ChannelTitle')) {
    const name = field(values, 'Name');
    if (name) titles.set(index, name);
  }
  return titles;
}

// ---- LogicDeviceManager.cgi?action=getCameraAll -------------------------------------

/** A camera bound to one of an NVR's channels (getCameraAll `camera[N]`). */
export interface DahuaCamera {
  /** `UniqueChannel`: the NVR's own channel, 0-based (the states' `channel`). */
  uniqueChannel: number;
  /** `Enable` (else `DeviceInfo.Enable`); null when neither is given. */
  enabled: boolean | null;
  /** `DeviceInfo.Address`, the camera's address as the NVR connects to it; null when none. */
  address: string | null;
  /** `DeviceInfo.VideoInputs[0].Name`, the camera's own name for its video; null when none. */
  name: string | null;
}

/**
 * getCameraAll: one `camera[N]` per channel the NVR keeps, with `UniqueChannel` (the NVR's
 * channel, 0-based; `Channel` is the camera's own channel on its side and is NOT the NVR's),
 * `Enable`, `Type` (Remote for an IP camera) and `DeviceInfo.{Address, Enable, VideoInputs}`
 * (the fields the recorder's own web page reads over RPC2, `LogicDeviceManager.getCameraAll`,
 * and public projects read over CGI; some answers say `table.camera[N]`). An entry without
 * a readable UniqueChannel is left out; `0.0.0.0` or an empty address is no address.
 */
export function parseCameraAll(body: string): DahuaCamera[] {
  const values = parseCgi(body);
  let cameras = groups(values, 'camera');
  if (cameras.length === 0) cameras = groups(values, 'table.camera');
  const out: DahuaCamera[] = [];
  for (const { values: own } of cameras) {
    const uniqueChannel = numberOf(field(own, 'UniqueChannel'));
    if (uniqueChannel === null || !Number.isInteger(uniqueChannel) || uniqueChannel < 0) continue;
    const address = field(own, 'DeviceInfo.Address')?.trim() ?? '';
    out.push({
      uniqueChannel,
      enabled: booleanOf(field(own, 'Enable')) ?? booleanOf(field(own, 'DeviceInfo.Enable')),
      address: address === '' || address === '0.0.0.0' || address === '::' ? null : address,
      name: nonEmpty(field(own, 'DeviceInfo.VideoInputs[0].Name')),
    });
  }
  return out;
}
