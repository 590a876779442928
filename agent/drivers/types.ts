/**
 * What a vendor driver is. ONVIF has no disk states, no storage use and no per-channel
 * online state of an NVR; Hikvision and Dahua give them through their own HTTP APIs
 * (ISAPI, CGI) with the same account. A driver reads them after the ONVIF checks of the
 * same poll. docs/DRIVERS.md says what each vendor API gives.
 *
 * The interface, for every driver (drivers-dahua plugs in here):
 *
 * - A driver is a `Driver`: its `name` (a DriverName of ./names.ts other than `onvif`),
 *   `recognises(manufacturer)` (GetDeviceInformation's Manufacturer, as the identity check
 *   learned it) and its `checks`, in the order a poll runs them. It lives in a folder of
 *   its own (`agent/drivers/<name>/`, its `index.ts` exports the Driver) and is listed in
 *   ./index.ts, which also chooses the driver of a device: the device's `driver:` in the
 *   agent config, else the first driver that recognises the manufacturer, else `onvif`
 *   (ONVIF checks only).
 * - A driver check is a `DriverCheck`: the Check of ../checks/types.ts (one per file, same
 *   `name`, `appliesTo`, `run(context)`) with `driver` set to its driver's name. ../poll.ts
 *   runs the checks of the device's driver after every ONVIF check, with the same context:
 *   the same deadline (`context.signal`), the same client, the same memory.
 * - A driver check asks the device with `askVendor(context, path)` below, around
 *   `context.client.vendorGet(path, signal)` (../onvif/vendor-http.ts): a GET at the
 *   origin of the device's service address, HTTP Digest or Basic with an AuthMemory of its
 *   own, the device's HTTPS pin, the request deadline and a size limit. It resolves with
 *   `{status, body}` for any answer but a 401 (auth-failed, thrown), and null when the
 *   device lacks the path (404, 405, 501: not asked again for an hour); a vendor's own
 *   "not supported" (ISAPI's 403 notSupport, Dahua's 400) is the driver's to read, and
 *   `markLacking` remembers it. A client without `vendorGet` (a test's fake) means no
 *   vendor API: null, report nothing.
 * - Failures: a driver check never takes a device down (ONVIF already said it answers).
 *   Run requests through `vendorAttempt`: refused credentials (401 after them, or a
 *   vendor's "low privilege") become the result's `failure` with code auth-failed (a
 *   CredentialsRefused thrown by the check is taken the same way), which
 *   ../poll.ts turns into one degraded reason "vendor API refused" and spaces out like every
 *   refusal (account lockouts: Hikvision and Dahua lock after 5 failed logins), skipping
 *   only the driver's checks meanwhile; an HTTPS certificate refused is rethrown (the
 *   device is refused whole); anything else (no answer in time, malformed XML, a vendor
 *   error) is a `problem` among the findings, with what was asked, and no reason (see
 *   vendorAttempt: the codes for those mean "down"). A path the device lacks reports
 *   nothing and is not asked again for an hour (`DriverMemory.lacking`).
 * - Readings go in `values` (shared/messages/device-metrics.ts: `storages`,
 *   `storageUsedPct`), reasons in `degraded` (a failed disk: `storage-failure`, judged
 *   the same for every vendor by ./disks.ts), and what the vendor API told in `findings`
 *   (disks, NVR channels, system status, device info): ../poll.ts gathers them into
 *   `PollResult.vendor`, which `vigil agent check --json` prints, and which the cameras
 *   behind an NVR (issue 14 item 2) will read.
 * - What a driver keeps between polls is in `driverMemory(context.memory)`.
 */
import {
  isCertificateRefusal,
  reasonOf,
  type Check,
  type CheckContext,
  type CheckResult,
  type DeviceMemory,
  type Refusal,
} from '../checks/types.js';
import { OnvifError, type VendorAnswer } from '../onvif/types.js';
import type { DriverName } from './names.js';

export { DRIVER_NAMES, isDriverName, type DriverName } from './names.js';

/** The name of a vendor driver: every DriverName but `onvif` (ONVIF checks only). */
export type VendorName = Exclude<DriverName, 'onvif'>;

export interface Driver {
  readonly name: VendorName;
  /**
   * Does a device of this manufacturer (tds:GetDeviceInformation's Manufacturer, as the
   * device sends it) speak this driver's API? OEM rebrands that report another name are
   * not guessed at: they are set with `driver:` in the agent config (docs/DRIVERS.md).
   */
  recognises(manufacturer: string): boolean;
  /** In the order a poll runs them. */
  readonly checks: readonly DriverCheck[];
}

export interface DriverCheck extends Check {
  readonly driver: VendorName;
  run(context: CheckContext): Promise<DriverCheckResult>;
}

export interface DriverCheckResult extends CheckResult {
  findings?: DriverFindings;
}

export function isDriverCheck(check: Check): check is DriverCheck {
  return typeof (check as Partial<DriverCheck>).driver === 'string';
}

// ---- what the vendor APIs tell (vendor-neutral) -----------------------------------------

/**
 * What a disk's state means for watching it: `ok` (records, or idles/sleeps ready to),
 * `failed` (a storage-failure: nothing is recorded on it, or it is about to fail), `empty`
 * (an empty bay: real recorders list their bays, and an empty one is no fault), `other`
 * (being formatted or repaired, or a word we do not know: shown, never a fault).
 */
export type DiskHealth = 'ok' | 'failed' | 'empty' | 'other';

/** One disk, memory card or network disk of a recorder, as its vendor API lists it. */
export interface Disk {
  /** The vendor's id of the disk or bay. */
  id: string;
  /** The name the recorder shows (`hdd1`, `SATA 1`, a NAS's address). */
  name: string;
  /** The state word as the device says it (`ok`, `smartFailed`, `Error` ...). */
  state: string;
  health: DiskHealth;
  /** MiB (ISAPI counts capacity and free space in MiB); null when not given. */
  capacityMiB: number | null;
  /**
   * MiB; null when not given. 0 is normal on a recorder that overwrites its oldest
   * recordings: its disks are full by design.
   */
  freeMiB: number | null;
  /** Local disk, network disk (NAS, IP SAN), memory card: the vendor's word. */
  type?: string;
  /** Read-write, read-only, redundancy (ISAPI `property`: RW, RO, Redund). */
  property?: string;
}

/** One IP channel of an NVR: the camera it records, and whether the NVR reaches it. */
export interface NvrChannel {
  /** The NVR's channel id (ISAPI InputProxy channel id: 1, 2 ...). */
  id: string;
  name?: string;
  /** The camera's address as the NVR connects to it. */
  address?: string;
  /** The NVR's own word: online, or not; null when it does not say. */
  online: boolean | null;
  /** Why, as the NVR says it (ISAPI chanDetectResult: connect, netUnreachable ...). */
  detail?: string;
}

/** The device's own view of itself (ISAPI /System/status); each reading only when given. */
export interface SystemStatus {
  /** The busiest processor's utilisation, percent. */
  cpuPct?: number;
  /** A temperature the device reports, degrees Celsius. */
  temperatureC?: number;
  /** Seconds since the device started. */
  uptimeS?: number;
}

/** The device's identity as its own API tells it (ISAPI /System/deviceInfo). */
export interface VendorDeviceInfo {
  model?: string;
  serialNumber?: string;
  firmwareVersion?: string;
  /** IPCamera, NVR, DVR ... (ISAPI deviceType). */
  deviceType?: string;
  macAddress?: string;
}

/** What the driver checks of one poll learned. */
export interface DriverFindings {
  disks?: Disk[];
  channels?: NvrChannel[];
  system?: SystemStatus;
  device?: VendorDeviceInfo;
  /**
   * What the vendor API failed to answer this poll (no answer in time, a malformed or
   * refused answer), with what was asked: no reason of the device (see vendorAttempt).
   */
  problems?: string[];
}

/** PollResult.vendor (../poll.ts): the findings of a poll, with the driver that made them. */
export type VendorFindings = DriverFindings & { driver: VendorName };

// ---- what a driver keeps between polls -----------------------------------------------------

/**
 * How often a driver asks again what seldom changes (device info, system status, an NVR's
 * list of cameras): every 10 minutes, not every poll. One value for every driver.
 */
export const SLOW_MS = 10 * 60 * 1000;

/** A path the device lacks is asked again after this long (a firmware update may add it). */
export const LACKING_RECHECK_MS = 60 * 60 * 1000;

export class DriverMemory {
  /**
   * The vendor API refuses the account that ONVIF accepts (../poll.ts): when its
   * credentials may be tried again. Null once they work.
   */
  refused: Refusal | null = null;
  /** Paths the device lacks, and when to ask again (gateway ms). */
  readonly lacking = new Map<string, number>();
  /** When each slow question (keyed by the check) was last asked (gateway ms). */
  readonly asked = new Map<string, number>();
  /** The answers of slow questions as last read, reported again until asked anew. */
  device: VendorDeviceInfo | null = null;
  system: SystemStatus | null = null;
  /** An NVR's channels as last listed (names, addresses; their state is read every poll). */
  channelList: NvrChannel[] | null = null;

  /** The device lacks `path` and it is not yet time to ask again. */
  lacks(path: string, now: number): boolean {
    const until = this.lacking.get(path);
    if (until === undefined) return false;
    if (now < until) return true;
    this.lacking.delete(path);
    return false;
  }

  /**
   * Is a question asked every `everyMs` due (never asked, or long enough ago)? When it is,
   * it counts as asked now, answered or not: a device that fails it is not asked again at
   * every poll.
   */
  due(key: string, everyMs: number, now: number): boolean {
    const last = this.asked.get(key);
    if (last !== undefined && now - last < everyMs) return false;
    this.asked.set(key, now);
    return true;
  }
}

/**
 * Is the device a recorder (its disks and IP channels are worth asking)? Configured as an
 * NVR, or its own API says so (ISAPI deviceType NVR, DVR, HybirdNVR ...): `vigil agent check`
 * treats a device as a camera unless told `--kind nvr`, and a recorder listed as a camera
 * is still a recorder.
 */
export function isRecorder(context: CheckContext): boolean {
  if (context.device.kind === 'nvr') return true;
  const type = driverMemory(context.memory).device?.deviceType ?? '';
  // ISAPI deviceType: NVR, DVR, HybirdNVR (Hikvision's spelling), ...; IPCamera, IPDome ...
  return /nvr|dvr|hvr|xvr|recorder/i.test(type);
}

const memories = new WeakMap<DeviceMemory, DriverMemory>();

/**
 * The driver's memory of a device, beside the checks' DeviceMemory (one per device and
 * credentials, ../agent.ts): gone with it when the device is removed or its config changes.
 */
export function driverMemory(memory: DeviceMemory): DriverMemory {
  let own = memories.get(memory);
  if (!own) {
    own = new DriverMemory();
    memories.set(memory, own);
  }
  return own;
}

// ---- asking ------------------------------------------------------------------------------

/**
 * GETs `path` on the device's own API, minding what the device lacks: null without a
 * vendor API (a client without vendorGet), for a path the device lacked within the hour,
 * and when the device says now that it lacks it (then remembered).
 */
export async function askVendor(context: CheckContext, path: string): Promise<VendorAnswer | null> {
  const { client, signal, now } = context;
  const memory = driverMemory(context.memory);
  if (!client.vendorGet || memory.lacks(path, now())) return null;
  const answer = await client.vendorGet(path, signal);
  if (!answer) memory.lacking.set(path, now() + LACKING_RECHECK_MS);
  return answer;
}

/** Remembers that the device lacks `path` (a vendor's own way of saying it). */
export function markLacking(context: CheckContext, path: string): void {
  driverMemory(context.memory).lacking.set(path, context.now() + LACKING_RECHECK_MS);
}

/**
 * Runs a driver check's requests and reads their answers (`use`). A refusal of the
 * credentials becomes the result's auth-failed `failure` (../poll.ts: "vendor API
 * refused", the driver's checks wait for the next try); an HTTPS certificate refused is
 * rethrown (../poll.ts refuses the device whole). Any other device failure (no answer in
 * time, a malformed answer, a vendor error) is a `problem` among the findings, not a
 * reason: its codes (timeout, protocol-error) are the codes of a device that is down, and
 * a degraded device carrying them would be counted down in its outage history and paint a
 * gap over every recording channel of an NVR (broker/api/outages.ts) while ONVIF says it
 * answers and records. Anything else thrown is an agent bug and goes up.
 */
export async function vendorAttempt<T>(
  what: string,
  request: () => Promise<T>,
  use: (value: T) => DriverCheckResult,
): Promise<DriverCheckResult> {
  try {
    // `use` reads the answer, and a malformed one is the device's failure too.
    return use(await request());
  } catch (error) {
    if (isCertificateRefusal(error)) throw error;
    if (error instanceof OnvifError) {
      if (error.kind === 'auth-failed') return { failure: reasonOf(error) };
      return { findings: { problems: [`${what}: ${error.message}`.slice(0, 1000)] } };
    }
    throw error;
  }
}
