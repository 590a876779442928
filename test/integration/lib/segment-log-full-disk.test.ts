/**
 * The segment log on a disk that fills up: a real (tmpfs) file system of 64 KiB, so the
 * kernel answers ENOSPC, and short writes, part-way through a write. What an append
 * resolved for stays; nothing torn is left in the files (a full disk needs those blocks);
 * the refused segment takes no more records; once there is room, appends go on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { root, skipReason, titled } from '../../helpers/requires.js';
import { frame, SegmentLog } from '../../../lib/segment-log.js';

// Mounting a small tmpfs needs root (CI and this project's machines run as root).
const notRoot = skipReason(root);

const body = (n: number): Buffer =>
  Buffer.from(`${String(n).padStart(6, '0')}:${'x'.repeat(1000)}`);

describe.skipIf(notRoot !== null)(titled('segment log on a full disk', notRoot), () => {
  let dir: string;
  const logs: SegmentLog[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-segment-log-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  });
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.stop();
    // Lazy: detached even when a failed test left a file of the log open.
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  function make(): SegmentLog {
    const log = new SegmentLog({
      dir,
      segmentBytes: 1024 * 1024,
      accept: (bytes, number) => (Number(bytes.toString().split(':')[0]) === number ? 0 : null),
    });
    logs.push(log);
    return log;
  }
  const sizes = async (): Promise<number> => {
    let total = 0;
    for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
    return total;
  };

  it('cuts the refused write back, seals its segment, and keeps every record it resolved for', async () => {
    const log = make();
    await log.start();
    const durable: number[] = [];
    let refusal: unknown = null;
    // Three records per append (a group commit), until the disk refuses.
    for (let n = 1; refusal === null && n < 500; n += 3) {
      await log
        .append(
          n,
          [n, n + 1, n + 2].map((i) => ({ buffer: frame(body(i)), at: 0 })),
        )
        .then(
          () => durable.push(n, n + 1, n + 2),
          (error: unknown) => (refusal = error),
        );
    }
    expect(refusal).toMatchObject({ code: 'ENOSPC' });
    expect(durable.length).toBeGreaterThan(20);
    // A short write may have put whole records of the refused append on disk: they count.
    const last = log.last as number;
    expect(last).toBeGreaterThanOrEqual(durable.at(-1) as number);
    expect(last).toBeLessThan((durable.at(-1) as number) + 3);
    // Cut back: the files hold exactly the whole records, no torn tail.
    expect(await sizes()).toBe(log.bytes);
    expect(log.segments).toHaveLength(1);

    // Room again: the next record goes into a new segment, never after the cut.
    execFileSync('mount', ['-o', 'remount,size=1m', dir]);
    await log.append(last + 1, [{ buffer: frame(body(last + 1)), at: 0 }]);
    expect(log.segments.map((s) => s.first)).toEqual([1, last + 1]);
    await log.stop();

    const again = make();
    await again.start();
    const read = await again.read(1, { records: 1000, bytes: 1e9 });
    expect(read.bodies.map((b) => Number(b.toString().split(':')[0]))).toEqual(
      Array.from({ length: last + 1 }, (_, i) => i + 1),
    );
  });
});
