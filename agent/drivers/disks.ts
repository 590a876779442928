/**
 * What a recorder's disks mean, the same for every vendor (the drivers read the states,
 * this file judges them): a failed disk is a `storage-failure` (an emergency by the
 * contract, broker/tickets/priorities.ts), one reason per disk naming it and saying what to
 * do; an empty bay is nothing; the working disks' used space over their capacity, together,
 * is `storageUsedPct` (the inspection report's storage trend; read-write disks only, see
 * recordsOnto), and the disks present are `storages`. Together, not the fullest disk:
 * Hikvision and Dahua recorders fill their disks one after the other by default, so the
 * first disk reads 100 % within weeks of installation while most of the storage is still
 * empty (review-b #6).
 *
 * A recorder that overwrites its oldest recordings (the default on Hikvision and Dahua)
 * keeps its disks full: free space 0 and `storageUsedPct` 100 are normal there, so a full
 * disk is a reading, never a fault. Whether the recorder still records is the recording
 * check's question (recording lag, Profile G).
 */
import type { DeviceMetricValues } from '../../shared/messages/device-metrics.js';
import type { Reason } from '../../shared/messages/device-state.js';
import type { Disk } from './types.js';

/** The readings and reasons of a recorder's disks. */
export interface DiskVerdict {
  values: Pick<DeviceMetricValues, 'storages' | 'storageUsedPct'>;
  degraded: Reason[];
}

/** The used share of a disk, percent to a tenth; null without a usable capacity. */
export function usedPct(disk: Disk): number | null {
  if (disk.capacityMiB === null || disk.capacityMiB <= 0 || disk.freeMiB === null) return null;
  const free = Math.min(Math.max(disk.freeMiB, 0), disk.capacityMiB);
  return Math.round(((disk.capacityMiB - free) / disk.capacityMiB) * 1000) / 10;
}

/**
 * The disks' readings and reasons. `advice(disk)` is the driver's words for a failed disk
 * (what its state means and what to do), since the states are the vendor's.
 */
export function judgeDisks(disks: readonly Disk[], advice: (disk: Disk) => string): DiskVerdict {
  const present = disks.filter((disk) => disk.health !== 'empty');
  const degraded: Reason[] = present
    .filter((disk) => disk.health === 'failed')
    .map((disk): Reason => ({
      code: 'storage-failure',
      message: `disk ${label(disk)} is ${disk.state}: ${advice(disk)}`.slice(0, 1000),
    }));
  let capacityMiB = 0;
  let usedMiB = 0;
  for (const disk of present) {
    if (disk.health !== 'ok' || !recordsOnto(disk) || usedPct(disk) === null) continue;
    const capacity = disk.capacityMiB ?? 0;
    capacityMiB += capacity;
    usedMiB += capacity - Math.min(Math.max(disk.freeMiB ?? 0, 0), capacity);
  }
  const pooled = capacityMiB > 0 ? Math.round((usedMiB / capacityMiB) * 1000) / 10 : null;
  return {
    values: { storages: present.length, ...(pooled !== null ? { storageUsedPct: pooled } : {}) },
    degraded,
  };
}

/** Read-write as the vendors write it: ISAPI `RW`, Dahua's partition Type `ReadWrite`. */
const READ_WRITE = /^(rw|read[-_ ]?write)$/i;

/**
 * Whether the recorder writes (and overwrites) its recordings onto the disk: read-write,
 * or not said. A read-only disk (ISAPI property `RO`, Dahua `ReadOnly`) keeps what it
 * holds; a redundant one (`Redund`, `Redundant`) holds copies of the channels set to
 * redundant recording, and nothing at all when none is. A real DS-7608NI-K2/8P (V4.40.015)
 * with one `RW` and one `Redund` 2.8 TB disk had the one full and the other idle
 * (techmarkai/hikvision-nvr-ha, docs/HANDOVER.md, "Verified device behaviour" and
 * "Troubleshooting"): pooled together, that recorder, full and overwriting, would read 50 %.
 * Such a disk is still a disk present (`storages`) and still judged for failure.
 */
function recordsOnto(disk: Disk): boolean {
  const property = disk.property?.trim() ?? '';
  return property === '' || READ_WRITE.test(property);
}

/** The disk as the recorder shows it: its name, with its id when the name does not end in it. */
function label(disk: Disk): string {
  return disk.name.endsWith(disk.id) ? disk.name : `${disk.name} (id ${disk.id})`;
}
