/**
 * The segment log (lib/segment-log.ts) through its conformance suite, in a folder of the
 * machine's temporary file system; and its option for users that never read back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { frame, SegmentLog } from '../../../lib/segment-log.js';
import { segmentLogSuite } from '../../suites/segment-log.js';

segmentLogSuite('files', {
  make: (options) => new SegmentLog(options),
  folder: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-segment-log-'));
    return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
  },
});

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

it('without an index (the journal) still recovers, numbers and drops, and refuses to read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-segment-log-'));
  dirs.push(dir);
  const offered: number[] = [];
  const make = (): SegmentLog =>
    new SegmentLog({
      dir,
      segmentBytes: 30,
      index: false,
      accept: (body, number) => {
        offered.push(number);
        return body.toString() === String(number) ? 0 : null;
      },
    });
  const log = make();
  await log.start();
  for (let n = 1; n <= 6; n++) {
    await log.append(n, [{ buffer: frame(Buffer.from(String(n))), at: 0 }]);
  }
  // Four records of 9 bytes fill a segment of 30.
  expect(log.segments.map((s) => [s.first, s.last])).toEqual([
    [1, 4],
    [5, 6],
  ]);
  await log.stop();
  const again = make();
  await again.start();
  expect(offered).toEqual([1, 2, 3, 4, 5, 6]);
  expect(again.last).toBe(6);
  expect(again.bytes).toBe(54);
  await expect(again.read(1, { records: 1, bytes: 1 })).rejects.toThrow(/index: true/);
  expect(() => again.span(1)).toThrow(/index: true/);
  expect(() => again.firstFrom(1)).toThrow(/index: true/);
  await again.append(7, [{ buffer: frame(Buffer.from('7')), at: 0 }]);
  expect(await again.dropWhile((segment) => segment.last <= 4)).toBe(1);
  expect(again.bytes).toBe(27);
  await again.stop();
});
