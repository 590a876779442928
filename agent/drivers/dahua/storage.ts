/**
 * A Dahua recorder's disks: /cgi-bin/storageDevice.cgi?action=getDeviceAllInfo (Dahua HTTP
 * API, Storage, "GetDeviceAllInfo") every poll, what ONVIF cannot say (no disk state, no
 * space used). ../disks.ts judges the disks the same for every vendor: a failed disk is a
 * `storage-failure` naming it and what to do, an empty bay nothing, `storageUsedPct` the
 * working disks' used share together (100 is normal on a recorder that overwrites: Dahua
 * recorders do by default, UsedBytes == TotalBytes), `storages` the disks present.
 * Recorders only (configured as an NVR, or a recorder by its model): on a camera the list
 * is its memory card, which many sites leave empty or unused.
 *
 * What each disk of the answer means (`list.info[N]`, parsed in ./cgi.ts):
 * - `State`: Dahua's NetSDK names the values of the same field (dhnetsdk.h,
 *   EM_STORAGE_DEVICE_STATUS): Unknown, Error ("getting the device failed"), Initializing
 *   ("reading the device"), Success. Real recorders answer `Success` for a working disk.
 *   An error-like state (Error, Failure, Fault, Abnormal) is a failed disk; Initializing
 *   or Unknown is no verdict (shown, never a fault); a state that says unformatted or
 *   SMART-failed is read as that, should a firmware word it so.
 * - `Detail[M].IsError`: a partition the recorder cannot use; `true` on any partition
 *   fails the disk whatever its State.
 * - A disk in State Success without one partition that has space is unformatted: the
 *   recorder has nowhere to write on it (a new disk before Format in Storage > HDD).
 * - `HealthDataFlag` (NetSDK EM_STORAGE_HEALTH_TYPE: 0 health data not supported, 1 read,
 *   2 supported but reading it failed) says whether SMART data could be read, not that the
 *   disk is unhealthy: it fails nothing.
 * - An empty bay has no `list.info` entry at all (an NVR lists the disks it sees); a state
 *   that says the disk does not exist (notexist, NoDisk) is an empty bay too.
 * How real firmware words an unformatted disk or a SMART failure is not in the documents
 * we could read: the two readings above are ours, and docs/DRIVERS.md says so.
 */
import { judgeDisks } from '../disks.js';
import {
  isRecorder,
  vendorAttempt,
  type Disk,
  type DiskHealth,
  type DriverCheck,
} from '../types.js';
import { parseDeviceAllInfo, type DahuaDisk } from './cgi.js';
import { cgiGet } from './request.js';

/** Dahua HTTP API, Storage: every storage device present, its state, partitions and sizes. */
export const DEVICE_ALL_INFO = '/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo';

/** What a disk of getDeviceAllInfo is. */
export type DiskCondition =
  | 'ok'
  | 'error'
  | 'smartFailed'
  | 'unformatted'
  /** An empty bay: not a failure, not counted. */
  | 'absent'
  /** Initializing, or a state we do not know: no verdict. */
  | 'unknown';

export interface DiskVerdict {
  condition: DiskCondition;
  /** What the device said that led to the verdict (`State Error, IsError on /dev/sdb0`). */
  evidence: string;
}

const SUCCESS = /^(success|normal|ok|running|active|idle|sleep(ing)?)$/i;
const ABSENT = /not\s*exist|no\s*(disk|hdd)|^empty$|^absent$|^removed$/i;
const UNFORMATTED = /unformat|not\s*format|no\s*format/i;
const SMART = /smart/i;
const ERROR = /error|fail|fault|abnormal|broken|bad/i;

/** The verdict on one disk of getDeviceAllInfo. */
export function diskCondition(disk: DahuaDisk): DiskVerdict {
  const state = disk.state.trim();
  const said = state ? `State ${state}` : 'no State';
  if (ABSENT.test(state)) return { condition: 'absent', evidence: said };
  if (UNFORMATTED.test(state)) return { condition: 'unformatted', evidence: said };
  if (SMART.test(state) && ERROR.test(state)) return { condition: 'smartFailed', evidence: said };
  const broken = disk.partitions.filter((p) => p.isError === true);
  if (broken.length > 0) {
    const names = broken.map((p) => p.path || `partition ${p.index + 1}`).join(', ');
    return { condition: 'error', evidence: `${said}, IsError on ${names}` };
  }
  if (ERROR.test(state)) return { condition: 'error', evidence: said };
  if (SUCCESS.test(state)) {
    if (disk.partitions.some((p) => (p.totalBytes ?? 0) > 0)) {
      return { condition: 'ok', evidence: said };
    }
    const why = disk.partitions.length === 0 ? 'no partition' : 'no partition with space';
    return { condition: 'unformatted', evidence: `${said} but ${why}` };
  }
  return { condition: 'unknown', evidence: said };
}

const HEALTH: Record<DiskCondition, DiskHealth> = {
  ok: 'ok',
  error: 'failed',
  smartFailed: 'failed',
  unformatted: 'failed',
  absent: 'empty',
  unknown: 'other',
};

/** A getDeviceAllInfo disk as every driver's disks are (../types.ts Disk). */
export interface DahuaDiskView extends Disk {
  /** Why it is judged so, for the advice and the findings. */
  evidence: string;
  condition: DiskCondition;
}

const MIB = 1024 * 1024;

/**
 * The state word of a disk: the device's own, but the verdict when the partitions decided
 * it under a State that says Success (or nothing), so a reason never reads "is Success".
 */
function stateWord(deviceState: string, condition: DiskCondition): string {
  const unsaid = deviceState === '' || SUCCESS.test(deviceState);
  if (unsaid && (condition === 'unformatted' || condition === 'error')) return condition;
  return deviceState || 'unknown';
}

/**
 * The vendor-neutral disk: `id` its place in the answer (1-based), `name` the device's
 * (`/dev/sda`; `#` and the place without one), capacity and free space summed over its
 * partitions in MiB (Dahua counts bytes), `state` as stateWord says.
 */
export function toDisk(disk: DahuaDisk): DahuaDiskView {
  const { condition, evidence } = diskCondition(disk);
  let total = 0;
  let free = 0;
  let sized = false;
  for (const p of disk.partitions) {
    if (p.totalBytes === null || p.totalBytes < 0) continue;
    sized = true;
    total += p.totalBytes;
    free += p.totalBytes - Math.min(Math.max(p.usedBytes ?? 0, 0), p.totalBytes);
  }
  const type = disk.partitions.find((p) => p.type)?.type;
  return {
    id: String(disk.index + 1),
    name: disk.name || `#${disk.index + 1}`,
    state: stateWord(disk.state.trim(), condition),
    health: HEALTH[condition],
    capacityMiB: sized ? Math.floor(total / MIB) : null,
    freeMiB: sized ? Math.floor(free / MIB) : null,
    ...(type ? { property: type } : {}),
    evidence,
    condition,
  };
}

/** What a failed disk means on a Dahua recorder, with what the recorder said, and what to do. */
export function diskAdvice(disk: Disk): string {
  const view = disk as Partial<DahuaDiskView>;
  const said = view.evidence ? ` (${view.evidence})` : '';
  switch (view.condition) {
    case 'smartFailed':
      return `its SMART data predicts that it fails soon${said}; replace it while the recorder still records on it (Storage > HDD on the recorder shows it)`;
    case 'unformatted':
      return `the recorder has nowhere to record on it${said}: format it on the recorder (Storage > HDD > Format), which erases it, or replace it if formatting fails`;
    default:
      return `the recorder reports it failed${said}: nothing new is recorded on it and what it held may be lost; check its data and power cables, then replace it and check the recordings of its channels`;
  }
}

export const storage: DriverCheck = {
  name: 'dahua-storage',
  driver: 'dahua',
  async run(context) {
    if (!isRecorder(context)) return {};
    return vendorAttempt(
      `GET ${DEVICE_ALL_INFO}`,
      () => cgiGet(context, DEVICE_ALL_INFO),
      (body) => {
        if (body === null) return {};
        const disks = parseDeviceAllInfo(body).map(toDisk);
        const verdict = judgeDisks(disks, diskAdvice);
        return {
          values: verdict.values,
          degraded: verdict.degraded,
          findings: { disks: disks.map(({ evidence: _e, condition: _c, ...disk }) => disk) },
        };
      },
    );
  },
};
