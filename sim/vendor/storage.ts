/**
 * A recorder's disks as its own HTTP API reports them (Hikvision ISAPI
 * /ISAPI/ContentMgmt/Storage, Dahua storageDevice.cgi): bays with a disk of a labelled
 * size or empty, each disk's state (a fault in sim/faults.ts can override it), and the
 * used space, which grows while channels record and stays full once the disks are full
 * (a recorder overwrites its oldest footage: Hikvision's `freeSpace` 0 is normal then).
 *
 * The byte count of a disk comes from its label as drive makers count it (IDEMA LBA1-03:
 * LBA count = 97,696,368 + 1,953,504 x (GB - 50), 512-byte sectors), so a "4000 GB" bay
 * reports the 3,815,447 MiB a real 4 TB disk shows in ISAPI (a DS-7608NI answer quoted in
 * CamioCam/rtsp issue 123 says `<capacity>3815447</capacity>`).
 */
import type { DiskState } from '../faults.js';

/** One bay of a recorder: the labelled size of its disk in GB, 0 for an empty bay. */
export interface DiskBay {
  /** 1-based, as the vendors number their disks. */
  bay: number;
  /** Decimal gigabytes as printed on the disk; 0: no disk in the bay. */
  sizeGB: number;
}

/** A bay as the vendor API answers it at one moment. */
export interface DiskReading {
  bay: number;
  /** `notexist` for an empty bay, else the configured or faulted state. */
  state: DiskState;
  capacityBytes: number;
  usedBytes: number;
}

/** Share of each disk already written when the simulator starts. */
const INITIAL_FILL = 0.6;
const MIB = 1024 * 1024;

/** Bytes of a disk labelled `gb` decimal gigabytes (IDEMA LBA1-03, see the file's comment). */
export function diskBytes(gb: number): number {
  if (gb <= 0) return 0;
  if (gb < 50) return gb * 1e9;
  return (97_696_368 + 1_953_504 * (gb - 50)) * 512;
}

export function toMiB(bytes: number): number {
  return Math.floor(bytes / MIB);
}

/**
 * The used space of every bay over time. `advance` is told, at every change of what is
 * recorded and before every reading, how many bytes per second were written since the
 * last call; it fills the first writable disk with room, then the next (recorders fill
 * disks in turn by default), and writes nothing more once all are full (overwrite).
 */
export class DiskStore {
  readonly #bays: readonly DiskBay[];
  readonly #used: number[];
  #at: number;

  constructor(bays: readonly DiskBay[], startedAt: number) {
    this.#bays = bays;
    this.#used = bays.map((b) => Math.floor(diskBytes(b.sizeGB) * INITIAL_FILL));
    this.#at = startedAt;
  }

  get bays(): readonly DiskBay[] {
    return this.#bays;
  }

  /** Writes `bytesPerS` from the last call until `now` onto the disks `state` calls ok. */
  advance(now: number, bytesPerS: number, state: (bay: number) => DiskState): void {
    let bytes = Math.max(0, ((now - this.#at) / 1000) * bytesPerS);
    this.#at = Math.max(this.#at, now);
    this.#bays.forEach((bay, n) => {
      if (bytes <= 0 || bay.sizeGB <= 0 || state(bay.bay) !== 'ok') return;
      const room = diskBytes(bay.sizeGB) - (this.#used[n] ?? 0);
      const written = Math.min(room, bytes);
      this.#used[n] = (this.#used[n] ?? 0) + written;
      bytes -= written;
    });
  }

  /** Every bay now: an empty bay is `notexist` whatever a fault says. */
  read(state: (bay: number) => DiskState): DiskReading[] {
    return this.#bays.map((bay, n) => {
      if (bay.sizeGB <= 0)
        return { bay: bay.bay, state: 'notexist', capacityBytes: 0, usedBytes: 0 };
      const current = state(bay.bay);
      const capacityBytes = current === 'notexist' ? 0 : diskBytes(bay.sizeGB);
      return {
        bay: bay.bay,
        state: current,
        capacityBytes,
        usedBytes: current === 'notexist' ? 0 : Math.floor(this.#used[n] ?? 0),
      };
    });
  }
}
