/**
 * The conformance suite of the segment log (lib/segment-log.ts, STYLE habit 8): what the
 * broker's journal and the agent's disk spool rely on, checked on the files themselves.
 * A record's body here is "<number, 6 digits>:<text>", so `accept` can tell a record from garbage
 * that happens to pass the CRC, as both users do with their own bodies.
 *
 * `make` builds an unstarted log; `folder` gives a fresh folder and how to dispose of it.
 * A crash is a log dropped without stop(): only what is on disk counts.
 */
import {
  symlink,
  readdir,
  readFile,
  stat,
  truncate,
  writeFile,
  appendFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  frame,
  segmentName,
  type SegmentLog,
  type SegmentLogOptions,
  type SegmentRecord,
} from '../../lib/segment-log.js';

export interface SegmentLogUnderTest {
  make(options: SegmentLogOptions): SegmentLog;
  folder(): Promise<{ dir: string; dispose(): Promise<void> }>;
}

const T0 = 1_700_000_000_000;
/** Numbers of six digits, so that every record of the same text has the same size. */
const body = (number: number, text = 'x'.repeat(40)): Buffer =>
  Buffer.from(`${String(number).padStart(6, '0')}:${text}`);
const record = (number: number, text?: string): SegmentRecord => ({
  buffer: frame(body(number, text)),
  at: T0 + number,
});
const records = (first: number, count: number, text?: string): SegmentRecord[] =>
  Array.from({ length: count }, (_, i) => record(first + i, text));
/** Each record of `body(n)`: 8 bytes of header and the body. */
const size = (number: number, text = 'x'.repeat(40)): number => 8 + body(number, text).length;
const all = { records: 1_000_000, bytes: 1e12 };
const text = (bodies: Buffer[]): string[] => bodies.map((b) => b.toString());

export function segmentLogSuite(name: string, under: SegmentLogUnderTest): void {
  describe(`segment log conformance: ${name}`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const step of cleanup.splice(0).reverse()) await step();
    });

    /** A started log in `dir` (a fresh folder unless given), stopped after the test. */
    async function open(
      options: { dir?: string; segmentBytes?: number; offered?: number[] } = {},
    ): Promise<{ log: SegmentLog; dir: string }> {
      let dir = options.dir;
      if (dir === undefined) {
        const folder = await under.folder();
        cleanup.push(folder.dispose);
        dir = folder.dir;
      }
      const log = under.make({
        dir,
        segmentBytes: options.segmentBytes ?? 1024 * 1024,
        accept: (bytes, number) => {
          // Every record the log offers: whole by its length and CRC, else never offered.
          options.offered?.push(number);
          const [head] = bytes.toString().split(':');
          return Number(head) === number ? T0 + number : null;
        },
      });
      await log.start();
      cleanup.push(() => log.stop());
      return { log, dir };
    }
    const segmentFiles = async (dir: string): Promise<string[]> =>
      (await readdir(dir)).filter((file) => file.startsWith('seg-')).sort();

    it('writes [u32 LE length][u32 LE CRC-32 (IEEE, as zlib)][body], the format already on disk', async () => {
      const { log, dir } = await open();
      await log.append(7, [{ buffer: frame(Buffer.from('123456789')), at: T0 }]);
      expect(segmentName(7)).toBe('seg-0000000000000007.log');
      const file = await readFile(join(dir, segmentName(7)));
      // 0xcbf43926: the published check value of CRC-32/ISO-HDLC (zlib's) over "123456789".
      expect(file.toString('hex')).toBe(
        '09000000' + '2639f4cb' + Buffer.from('123456789').toString('hex'),
      );
    });

    it('gives back what was appended, by number, within the limits asked but at least one', async () => {
      const { log, dir } = await open();
      expect(log.last).toBeNull();
      await log.append(0, records(0, 5));
      await log.append(5, records(5, 5));
      expect(log.last).toBe(9);
      expect(log.bytes).toBe((await stat(join(dir, segmentName(0)))).size);
      const read = await log.read(0, all);
      expect(text(read.bodies)).toEqual(records(0, 10).map((r) => r.buffer.subarray(8).toString()));
      expect(read).toMatchObject({ bytes: log.bytes, next: 10, more: false });
      expect(text((await log.read(3, { records: 2, bytes: 1e9 })).bodies)).toEqual([
        body(3).toString(),
        body(4).toString(),
      ]);
      // A byte limit smaller than one record still gives one.
      const one = await log.read(4, { records: 100, bytes: 1 });
      expect(one).toMatchObject({ next: 5, more: true, bytes: size(4) });
      expect(text(one.bodies)).toEqual([body(4).toString()]);
      const some = await log.read(0, { records: 100, bytes: 3 * size(0) });
      expect(some.bodies).toHaveLength(3);
      expect(some.more).toBe(true);
      expect(await log.read(10, all)).toEqual({ bodies: [], bytes: 0, next: 10, more: false });
      expect(log.firstFrom(0)).toBe(0);
      expect(log.firstFrom(7)).toBe(7);
      expect(log.firstFrom(10)).toBeNull();
      expect(log.span(6)).toEqual({ records: 4, bytes: 4 * size(6), oldestAt: T0 + 6 });
      expect(log.span(10)).toEqual({ records: 0, bytes: 0, oldestAt: null });
    });

    it('spreads records over segments named after their first number, batches split at the size', async () => {
      const { log, dir } = await open({ segmentBytes: 5 * size(0) });
      // One batch of 12 (the spool after an outage), then one by one (the journal at low rates).
      await log.append(1, records(1, 12));
      for (let n = 13; n <= 20; n++) await log.append(n, [record(n)]);
      expect(await segmentFiles(dir)).toEqual([
        segmentName(1),
        segmentName(6),
        segmentName(11),
        segmentName(16),
      ]);
      expect(log.segments.map((s) => [s.first, s.last])).toEqual([
        [1, 5],
        [6, 10],
        [11, 15],
        [16, 20],
      ]);
      const read = await log.read(4, { records: 9, bytes: 1e9 });
      expect(read.bodies.map((b) => Number(b.toString().split(':')[0]))).toEqual([
        4, 5, 6, 7, 8, 9, 10, 11, 12,
      ]);
      expect(read).toMatchObject({ next: 13, more: true });
      expect(log.span(4)).toEqual({ records: 17, bytes: 17 * size(4), oldestAt: T0 + 4 });
      expect(log.bytes).toBe(20 * size(1));
    });

    it('starts a new segment where the numbers skip, and reads over the gap', async () => {
      const { log, dir } = await open();
      await log.append(1, records(1, 3));
      await log.append(10, records(10, 2));
      expect(await segmentFiles(dir)).toEqual([segmentName(1), segmentName(10)]);
      const read = await log.read(2, all);
      expect(read.bodies.map((b) => Number(b.toString().split(':')[0]))).toEqual([2, 3, 10, 11]);
      expect(log.firstFrom(4)).toBe(10);
      expect(log.span(4).records).toBe(2);
    });

    it('keeps everything an append resolved for across a crash, and numbers on in the same file', async () => {
      const { log, dir } = await open({ segmentBytes: 10 * size(0) });
      await log.append(0, records(0, 14));
      // No stop(): killed here.
      const offered: number[] = [];
      const { log: again } = await open({ dir, segmentBytes: 10 * size(0), offered });
      expect(offered).toEqual(Array.from({ length: 14 }, (_, i) => i));
      expect(again.last).toBe(13);
      expect(again.span(0)).toEqual({ records: 14, bytes: 14 * size(0), oldestAt: T0 });
      await again.append(14, [record(14)]);
      expect(await segmentFiles(dir)).toEqual([segmentName(0), segmentName(10)]);
      expect(text((await again.read(12, all)).bodies)).toEqual([
        body(12).toString(),
        body(13).toString(),
        body(14).toString(),
      ]);
      await log.stop();
    });

    const tears: [string, (file: string, whole: number) => Promise<void>, number][] = [
      ['cut short in the middle of a record', (file, whole) => truncate(file, whole - 5), 3],
      [
        'a length that promises more than the file holds',
        (file) => appendFile(file, Buffer.from([200, 0, 0, 0, 1, 2, 3])),
        4,
      ],
      [
        'a tail of zeros (blocks allocated, never written)',
        (file) => appendFile(file, Buffer.alloc(64)),
        4,
      ],
    ];
    it.each(tears)(
      'cuts a torn tail back at start (%s), keeps what is before it, and appends after it',
      async (_, tear, kept) => {
        const { log, dir } = await open();
        await log.append(1, records(1, 4));
        await log.stop();
        const file = join(dir, segmentName(1));
        await tear(file, (await stat(file)).size);
        const offered: number[] = [];
        const { log: again } = await open({ dir, offered });
        expect(offered).toEqual([1, 2, 3, 4].slice(0, kept));
        expect((await stat(file)).size).toBe(kept * size(1));
        expect(again.last).toBe(kept);
        await again.append(kept + 1, [record(kept + 1, 'after the tear')]);
        const read = await again.read(1, all);
        expect(read.bodies).toHaveLength(kept + 1);
        expect(read.bodies.at(-1)?.toString()).toBe(body(kept + 1, 'after the tear').toString());
        await again.stop();
        // And it reads the same once more: nothing torn is left in the file.
        const { log: third } = await open({ dir });
        expect(third.last).toBe(kept + 1);
      },
    );

    it('ends a segment at a record whose CRC does not match; other segments are not affected', async () => {
      const { log, dir } = await open({ segmentBytes: 5 * size(0) });
      await log.append(0, records(0, 10));
      await log.stop();
      const file = join(dir, segmentName(0));
      const data = await readFile(file);
      // One bit of record 2's text flipped (bit rot, a write the disk lost half of): its
      // number still reads right, so only the CRC can tell.
      data[2 * size(0) + 8 + 20]! ^= 0x01;
      await writeFile(file, data);
      const offered: number[] = [];
      const { log: again } = await open({ dir, segmentBytes: 5 * size(0), offered });
      expect(offered).toEqual([0, 1, 5, 6, 7, 8, 9]);
      expect((await stat(file)).size).toBe(2 * size(0));
      expect(text((await again.read(0, all)).bodies)).toEqual(
        [0, 1, 5, 6, 7, 8, 9].map((n) => body(n).toString()),
      );
    });

    it('ends a segment at a whole record its user does not recognise as the next number', async () => {
      const { log, dir } = await open();
      await log.append(1, records(1, 2));
      // A whole record with a good CRC but the wrong number (written by something else).
      await log.append(3, [{ buffer: frame(body(7)), at: T0 }]);
      await log.stop();
      const offered: number[] = [];
      const { log: again } = await open({ dir, offered });
      // Offered (length and CRC are right), refused, and nothing after it is read.
      expect(offered).toEqual([1, 2, 3]);
      expect(again.last).toBe(2);
    });

    it('deletes at start a segment with no whole record', async () => {
      const { log, dir } = await open();
      await log.append(1, records(1, 3));
      await log.stop();
      await writeFile(join(dir, segmentName(4)), Buffer.from([50, 0, 0, 0, 9]));
      await writeFile(join(dir, segmentName(9)), Buffer.alloc(0));
      const { log: again } = await open({ dir });
      expect(await segmentFiles(dir)).toEqual([segmentName(1)]);
      expect(again.last).toBe(3);
    });

    it('deletes whole segments below a point, oldest first, never the last one unless asked', async () => {
      const { log, dir } = await open({ segmentBytes: 5 * size(0) });
      await log.append(1, records(1, 15));
      const before = log.bytes;
      const seenBefore: [number, boolean][] = [];
      const dropped = await log.dropWhile((segment) => segment.last <= 12, {
        beforeDelete: async (segment) => {
          // The log has let go of it, the file is still there.
          const there = (await segmentFiles(dir)).includes(segment.name);
          seenBefore.push([segment.first, there && !log.segments.includes(segment)]);
        },
      });
      expect(dropped).toBe(2);
      expect(seenBefore).toEqual([
        [1, true],
        [6, true],
      ]);
      expect(await segmentFiles(dir)).toEqual([segmentName(11)]);
      expect(log.bytes).toBe(before - 10 * size(1));
      expect(log.firstFrom(0)).toBe(11);
      expect(text((await log.read(0, all)).bodies)[0]).toBe(body(11).toString());
      // The last segment stays (an append may be writing it) ...
      expect(await log.dropWhile(() => true)).toBe(0);
      expect(await segmentFiles(dir)).toEqual([segmentName(11)]);
      // ... unless the caller says nothing is.
      expect(await log.dropWhile((segment) => segment.last <= 15, { last: true })).toBe(1);
      expect(await segmentFiles(dir)).toEqual([]);
      expect(log.last).toBeNull();
      await log.append(16, [record(16)]);
      expect(await segmentFiles(dir)).toEqual([segmentName(16)]);
      expect(log.bytes).toBe(size(16));
    });

    it('rejects with the system error when the disk refuses, loses nothing durable, and goes on in a new segment', async () => {
      const { log, dir } = await open();
      await log.append(1, records(1, 3));
      // The next segment's name points at /dev/full: every write there is ENOSPC.
      await symlink('/dev/full', join(dir, segmentName(10)));
      await expect(log.append(10, records(10, 2))).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(log.last).toBe(3);
      // The refused segment (no whole record) is gone, so nothing torn is left behind.
      expect(await segmentFiles(dir)).toEqual([segmentName(1)]);
      await log.append(10, records(10, 2));
      expect(log.last).toBe(11);
      await log.stop();
      const offered: number[] = [];
      await open({ dir, offered });
      expect(offered).toEqual([1, 2, 3, 10, 11]);
    });
  });
}
