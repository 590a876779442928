/**
 * The recorder disks behind the vendor APIs (sim/vendor/storage.ts): sizes as drive
 * makers count them, used space that grows where a recorder writes, full disks that stay
 * full (overwrite), and a bay's fault that only hides or stops that bay.
 */
import { describe, expect, it } from 'vitest';
import type { DiskState } from '../../../sim/faults.js';
import { diskBytes, DiskStore, toMiB } from '../../../sim/vendor/storage.js';

const allOk = (): DiskState => 'ok';

describe('recorder disks', () => {
  it('sizes a labelled disk as IDEMA LBA1-03 does: 4 TB is the 3815447 MiB ISAPI shows', () => {
    expect(diskBytes(4000)).toBe(4_000_787_030_016);
    expect(toMiB(diskBytes(4000))).toBe(3_815_447);
    expect(diskBytes(2000)).toBe(2_000_398_934_016);
    expect(diskBytes(0)).toBe(0);
  });

  it('fills the first writable disk with room, then the next, then stays full', () => {
    const store = new DiskStore(
      [
        { bay: 1, sizeGB: 100 },
        { bay: 2, sizeGB: 100 },
      ],
      0,
    );
    const size = diskBytes(100);
    const [first, second] = store.read(allOk);
    expect(first?.usedBytes).toBe(Math.floor(size * 0.6));
    // Enough to fill the first disk and 1000 bytes of the second.
    const rest = size - (first?.usedBytes ?? 0);
    store.advance(1000, rest + 1000, allOk);
    const after = store.read(allOk);
    expect(after[0]?.usedBytes).toBe(size);
    expect(after[1]?.usedBytes).toBe((second?.usedBytes ?? 0) + 1000);
    store.advance(1_000_000, size, allOk);
    expect(store.read(allOk).map((d) => d.usedBytes)).toEqual([size, size]);
  });

  it('writes nothing to a failed, unformatted or removed disk; an empty bay is notexist', () => {
    const store = new DiskStore(
      [
        { bay: 1, sizeGB: 100 },
        { bay: 2, sizeGB: 100 },
        { bay: 3, sizeGB: 0 },
      ],
      0,
    );
    const before = store.read(allOk).map((d) => d.usedBytes);
    const states: Record<number, DiskState> = { 1: 'error', 2: 'unformatted', 3: 'ok' };
    store.advance(1000, 1_000_000, (bay) => states[bay] ?? 'ok');
    const read = store.read((bay) => states[bay] ?? 'ok');
    expect(read.map((d) => d.usedBytes)).toEqual(before);
    expect(read[2]).toEqual({ bay: 3, state: 'notexist', capacityBytes: 0, usedBytes: 0 });
    // Taken out, then put back: its data is still there.
    expect(store.read(() => 'notexist')[0]).toMatchObject({ capacityBytes: 0, usedBytes: 0 });
    expect(store.read(allOk)[0]?.usedBytes).toBe(before[0]);
  });
});
