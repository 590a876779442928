/**
 * A segment log: numbered records appended to files, durable once `append` resolved, read
 * back by number, recovered after a crash, deleted a whole file at a time. The broker's
 * ingest journal (broker/journal/) and the agent's disk spool (agent/spool/disk.ts) both
 * keep their records in one; each adds its own rules (checkpoint, acknowledgements,
 * bounds, a full disk) on top. Every rule of the files is here and tested by
 * test/suites/segment-log.ts.
 *
 * Layout of the folder:
 *   seg-<first number, 16 digits>.log   records [u32 LE body length][u32 LE crc32(body)][body]
 * The record numbered `first + i` is the i-th record of its segment: numbers follow each
 * other within a segment, and a number that does not follow the last one (the user
 * skipped some) starts a new segment. The body is the user's; the log only checks that it
 * arrived whole. CRC-32 is IEEE 802.3's (zlib's, PNG's), so files written before this
 * module (the journal had a hand-written table of the same polynomial) read the same.
 *
 * - `append` writes where the last whole record ends, then fdatasync (POSIX: the data is
 *   on the device when it returns); a new segment's folder is synced too, or its name may
 *   be lost in a power cut with the data in it (POSIX fsync on a directory).
 * - A write that fails (a full disk: ENOSPC; a failing one: EIO) may leave part of a
 *   record behind: the segment is cut back to its last whole record and written no more
 *   (recovery stops at a torn record, so nothing may follow one in its file); the next
 *   append starts a new segment. A segment left with no record goes entirely.
 * - At start, each segment is read to its first torn or corrupt record (length past the
 *   end of the file, CRC mismatch, or a body `accept` refuses) and cut back there: what
 *   follows was never acknowledged, since an append resolves only after its fdatasync.
 *   Cutting frees blocks, so it works on a full disk too.
 */
import { close, fdatasync, fsync, ftruncate, open, read, writev, type OpenMode } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** Bytes before each record's body: its length and its CRC. */
export const RECORD_HEADER = 8;

const SEGMENT_NAME = /^seg-\d{16}\.log$/;

export function segmentName(first: number): string {
  return `seg-${String(first).padStart(16, '0')}.log`;
}

/**
 * Fills in the header of a record whose body is already in place after RECORD_HEADER
 * bytes: the user builds the whole record in one buffer, with no copy.
 */
export function frameInPlace(record: Buffer): Buffer {
  record.writeUInt32LE(record.length - RECORD_HEADER, 0);
  record.writeUInt32LE(crc32(record.subarray(RECORD_HEADER)), 4);
  return record;
}

/** A record of `body`: header and body in one buffer, ready for `append`. */
export function frame(body: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER + body.length);
  body.copy(record, RECORD_HEADER);
  return frameInPlace(record);
}

/** A record to append: the framed bytes and when it was made (ms), for the log's age. */
export interface SegmentRecord {
  buffer: Buffer;
  at: number;
}

/** What the user sees of a segment. */
export interface SegmentInfo {
  readonly name: string;
  readonly first: number;
  /** The number of its last whole record; first - 1 when it has none. */
  readonly last: number;
  /** Bytes of its whole records (the file's size). */
  readonly bytes: number;
}

export interface ReadLimit {
  records: number;
  bytes: number;
}

export interface ReadResult {
  /** The bodies, oldest first. */
  bodies: Buffer[];
  /** Their framed size in all. */
  bytes: number;
  /** The number after the last body given, or `from` when none. */
  next: number;
  /** A limit stopped the read: records from `next` on are on disk and not given. */
  more: boolean;
}

export interface SegmentLogOptions {
  dir: string;
  /** A segment takes no more records once it holds this many bytes. */
  segmentBytes: number;
  /**
   * Called at start for every whole record (length and CRC right), in order: returns when
   * the record was made (ms), or null when `body` is not record `number`, which ends its
   * segment as a torn record would. The user may keep what it decodes (the journal's replay).
   */
  accept(body: Buffer, number: number): number | null;
  /**
   * Keep each record's offset and time, which `read`, `span` and `firstFrom` need;
   * default true. The journal, which reads only at start, does without.
   */
  index?: boolean;
}

/** Growable columns of a segment's record offsets and times: 12 bytes a record. */
class Index {
  offsets = new Uint32Array(0);
  ats = new Float64Array(0);
  count = 0;

  /** `keep` false: only the count (a user that never reads back saves the 12 bytes). */
  constructor(private readonly keep: boolean) {}

  push(offset: number, at: number): void {
    if (!this.keep) {
      this.count += 1;
      return;
    }
    if (this.count === this.offsets.length) {
      const length = Math.max(64, this.count * 2);
      const offsets = new Uint32Array(length);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const ats = new Float64Array(length);
      ats.set(this.ats);
      this.ats = ats;
    }
    this.offsets[this.count] = offset;
    this.ats[this.count] = at;
    this.count += 1;
  }
}

interface Segment extends SegmentInfo {
  name: string;
  first: number;
  last: number;
  bytes: number;
  index: Index;
  fd: number | null;
  /** A write into it failed: nothing more goes into it (see the module comment). */
  sealed: boolean;
  /** Reads running on `fd`: it is closed only once they are done. */
  reads: Set<Promise<unknown>>;
}

// The callback forms of fs, wrapped by hand: fs/promises' FileHandle costs several times
// more main-thread time per call, and the journal writes on every group commit (measured
// with --cpu-prof under bench:broker: FileHandle.write alone was 6 % of the broker's busy
// time at 10,000 msg/s).
function openFile(path: string, flags: OpenMode): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))),
  );
}

function closeFile(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) =>
    fdatasync(fd, (error) => (error ? reject(error) : resolve())),
  );
}

function truncateFile(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) =>
    ftruncate(fd, length, (error) => (error ? reject(error) : resolve())),
  );
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, 0, buffer.length, position, (error, count) =>
      error
        ? reject(error)
        : count < buffer.length
          ? reject(new Error(`short read: ${count} of ${buffer.length} bytes at ${position}`))
          : resolve(),
    ),
  );
}

/**
 * Writes every buffer, in order, at `position`. write(2) may write less than asked (the
 * last blocks of a full disk, a signal) without an error: the rest is written on, and the
 * next call reports why it cannot.
 */
async function writeAll(
  fd: number,
  buffers: Buffer[],
  bytes: number,
  position: number,
): Promise<void> {
  let done = 0;
  let rest = buffers;
  while (done < bytes) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, rest, position + done, (error, count) => (error ? reject(error) : resolve(count))),
    );
    if (written <= 0) throw new Error('the disk took no bytes (write returned 0)');
    done += written;
    if (done === bytes) return;
    let skip = written;
    const remaining: Buffer[] = [];
    for (const buffer of rest) {
      if (skip >= buffer.length) skip -= buffer.length;
      else {
        remaining.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
    }
    rest = remaining;
  }
}

/** A new or removed file is durable only once its folder is synced (POSIX fsync). */
export async function syncDirectory(dir: string): Promise<void> {
  const fd = await openFile(dir, 'r');
  try {
    await new Promise<void>((resolve, reject) =>
      fsync(fd, (error) => (error ? reject(error) : resolve())),
    );
  } finally {
    await closeFile(fd);
  }
}

export class SegmentLog {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #accept: (body: Buffer, number: number) => number | null;
  readonly #index: boolean;
  #segments: Segment[] = [];
  #bytes = 0;
  #appending = false;

  constructor(options: SegmentLogOptions) {
    this.#dir = options.dir;
    this.#segmentBytes = options.segmentBytes;
    this.#accept = options.accept;
    this.#index = options.index ?? true;
  }

  /** The segments, oldest first. */
  get segments(): readonly SegmentInfo[] {
    return this.#segments;
  }

  /** Bytes of every segment. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The number of the last durable record; null when the log holds none. */
  get last(): number | null {
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const segment = this.#segments[i] as Segment;
      if (segment.index.count > 0) return segment.last;
    }
    return null;
  }

  /** Creates the folder, or reads what it holds and cuts back each segment's torn tail. */
  async start(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const names = (await readdir(this.#dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
    for (const name of names) {
      const segment = await this.#recover(name);
      if (segment.index.count === 0) {
        // Opened just before a crash, or only a torn record: nothing in it was acknowledged.
        await rm(join(this.#dir, name), { force: true });
        continue;
      }
      this.#segments.push(segment);
      this.#bytes += segment.bytes;
    }
  }

  /** Closes the files; the records stay for the next start. */
  async stop(): Promise<void> {
    for (const segment of this.#segments) await this.#close(segment);
    this.#segments = [];
    this.#bytes = 0;
  }

  /**
   * Appends `records`, numbered `first`, `first + 1`, ..., and resolves once they are
   * durable (write and fdatasync; one round per segment they go into). One append at a
   * time. On failure it rejects with the system's error (`code` ENOSPC...) after cutting
   * the segment back; `last` then says which of them are durable all the same.
   */
  async append(first: number, records: readonly SegmentRecord[]): Promise<void> {
    if (this.#appending) throw new Error('SegmentLog.append: one append at a time');
    this.#appending = true;
    try {
      let i = 0;
      while (i < records.length) {
        const segment = await this.#segmentFor(first + i);
        let j = i;
        let bytes = 0;
        while (j < records.length && (j === i || segment.bytes + bytes < this.#segmentBytes)) {
          bytes += (records[j] as SegmentRecord).buffer.length;
          j += 1;
        }
        const chunk = records.slice(i, j);
        try {
          // No O_APPEND: the record goes where the last whole one ends, over any torn tail.
          segment.fd ??= await openFile(join(this.#dir, segment.name), 'r+');
          await writeAll(
            segment.fd,
            chunk.map((record) => record.buffer),
            bytes,
            segment.bytes,
          );
          await syncData(segment.fd);
        } catch (error) {
          await this.#seal(segment);
          throw error;
        }
        let at = segment.bytes;
        for (const record of chunk) {
          segment.index.push(at, record.at);
          at += record.buffer.length;
        }
        segment.bytes = at;
        segment.last = first + j - 1;
        this.#bytes += bytes;
        i = j;
      }
    } finally {
      this.#appending = false;
    }
  }

  /**
   * The bodies of the records numbered `from` on, oldest first, at most `limit.records`
   * and `limit.bytes` (framed), but at least one.
   */
  async read(from: number, limit: ReadLimit): Promise<ReadResult> {
    this.#indexed('read');
    const bodies: Buffer[] = [];
    let next = from;
    let bytes = 0;
    for (const segment of [...this.#segments]) {
      const { index } = segment;
      const count = index.count;
      if (next > segment.last) continue;
      if (next < segment.first) next = segment.first;
      const start = next - segment.first;
      let end = start;
      let span = 0;
      while (end < count && bodies.length + (end - start) < limit.records) {
        const size =
          (end + 1 < count ? (index.offsets[end + 1] as number) : segment.bytes) -
          (index.offsets[end] as number);
        if (bodies.length + (end - start) > 0 && bytes + span + size > limit.bytes) break;
        span += size;
        end += 1;
      }
      if (end === start) return { bodies, bytes, next, more: true };
      const buffer = Buffer.allocUnsafe(span);
      await this.#readInto(segment, buffer, index.offsets[start] as number);
      let at = 0;
      while (at < span) {
        const length = buffer.readUInt32LE(at);
        bodies.push(buffer.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length));
        at += RECORD_HEADER + length;
      }
      bytes += span;
      next = segment.first + end;
      if (end < count) return { bodies, bytes, next, more: true };
      if (bodies.length >= limit.records) {
        const more = this.#segments.some((s) => s.index.count > 0 && s.last >= next);
        return { bodies, bytes, next, more };
      }
    }
    return { bodies, bytes, next, more: false };
  }

  /** The first record numbered `from` or later; null when there is none. */
  firstFrom(from: number): number | null {
    this.#indexed('firstFrom');
    for (const segment of this.#segments) {
      if (segment.index.count > 0 && segment.last >= from) return Math.max(from, segment.first);
    }
    return null;
  }

  /** The records numbered `from` on: how many, their bytes, and when the oldest was made. */
  span(from: number): { records: number; bytes: number; oldestAt: number | null } {
    this.#indexed('span');
    let records = 0;
    let bytes = 0;
    let oldestAt: number | null = null;
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const segment = this.#segments[i] as Segment;
      const start = Math.max(0, from - segment.first);
      if (start >= segment.index.count) continue;
      records += segment.index.count - start;
      bytes += segment.bytes - (segment.index.offsets[start] as number);
      oldestAt = segment.index.ats[start] as number;
    }
    return { records, bytes, oldestAt };
  }

  /**
   * Deletes whole segments, oldest first, while `test` says so: the point below which
   * the user needs nothing (`segment.last <= done`), or a size to get under. Never the
   * last segment unless `options.last` (and never one an append is writing). Each goes
   * from the log first, then `beforeDelete` runs (the user records what it lost), then
   * its file goes; the folder is synced once at the end. Never throws: a file that
   * cannot be deleted is found again at the next start and its records ignored there.
   */
  async dropWhile(
    test: (segment: SegmentInfo) => boolean,
    options: { last?: boolean; beforeDelete?: (segment: SegmentInfo) => Promise<void> } = {},
  ): Promise<number> {
    let dropped = 0;
    for (;;) {
      const oldest = this.#segments[0];
      if (!oldest) break;
      const isLast = this.#segments.length === 1;
      if (isLast && (!options.last || this.#appending)) break;
      if (!test(oldest)) break;
      this.#segments.shift();
      this.#bytes -= oldest.bytes;
      dropped += 1;
      // Called at once, so the user's own figures change together with the log's.
      const recorded = options.beforeDelete?.(oldest).catch(() => undefined);
      await this.#close(oldest);
      await recorded;
      await rm(join(this.#dir, oldest.name), { force: true }).catch(() => undefined);
    }
    if (dropped > 0) await syncDirectory(this.#dir).catch(() => undefined);
    return dropped;
  }

  #indexed(method: string): void {
    if (!this.#index) throw new Error(`SegmentLog.${method} needs the option index: true`);
  }

  /** Reads one segment, cuts off a torn tail, and indexes its records. */
  async #recover(name: string): Promise<Segment> {
    const path = join(this.#dir, name);
    const data = await readFile(path);
    const first = Number(name.slice(4, 20));
    const segment = this.#segment(name, first);
    let at = 0;
    while (at + RECORD_HEADER <= data.length) {
      const length = data.readUInt32LE(at);
      const end = at + RECORD_HEADER + length;
      // A zero length is what a tail of zeros looks like (blocks allocated, data never
      // written: ext4 after a power cut); no record has an empty body.
      if (length === 0 || end > data.length) break;
      const body = data.subarray(at + RECORD_HEADER, end);
      if (crc32(body) !== data.readUInt32LE(at + 4)) break;
      const made = this.#accept(body, first + segment.index.count);
      if (made === null) break;
      segment.index.push(at, made);
      at = end;
    }
    segment.bytes = at;
    segment.last = first + segment.index.count - 1;
    if (at < data.length && segment.index.count > 0) {
      const fd = await openFile(path, 'r+');
      try {
        await truncateFile(fd, at);
        await syncData(fd);
      } finally {
        await closeFile(fd);
      }
    }
    return segment;
  }

  #segment(name: string, first: number): Segment {
    return {
      name,
      first,
      last: first - 1,
      bytes: 0,
      index: new Index(this.#index),
      fd: null,
      sealed: false,
      reads: new Set(),
    };
  }

  /** The segment record `number` goes into: the last one, or a new one. */
  async #segmentFor(number: number): Promise<Segment> {
    const last = this.#segments.at(-1);
    if (
      last &&
      !last.sealed &&
      last.bytes < this.#segmentBytes &&
      last.first + last.index.count === number
    ) {
      return last;
    }
    if (last) await this.#close(last);
    const name = segmentName(number);
    const segment = this.#segment(name, number);
    // 'w+': a file of that name can only be a leftover of a refused write; start it empty.
    segment.fd = await openFile(join(this.#dir, name), 'w+');
    this.#segments.push(segment);
    try {
      await syncDirectory(this.#dir);
    } catch (error) {
      await this.#seal(segment);
      throw error;
    }
    return segment;
  }

  /** After a failed write: cut back to the last whole record, write no more into it. */
  async #seal(segment: Segment): Promise<void> {
    segment.sealed = true;
    const fd = segment.fd;
    if (fd !== null) await truncateFile(fd, segment.bytes).catch(() => undefined);
    await this.#close(segment);
    if (segment.index.count === 0) {
      this.#segments = this.#segments.filter((s) => s !== segment);
      await rm(join(this.#dir, segment.name), { force: true }).catch(() => undefined);
    }
  }

  async #readInto(segment: Segment, buffer: Buffer, position: number): Promise<void> {
    if (segment.fd === null) {
      const fd = await openFile(join(this.#dir, segment.name), 'r');
      try {
        await readAt(fd, buffer, position);
      } finally {
        await closeFile(fd);
      }
      return;
    }
    // The open segment's descriptor, kept open until this read is done (#close).
    const reading = readAt(segment.fd, buffer, position);
    segment.reads.add(reading);
    try {
      await reading;
    } finally {
      segment.reads.delete(reading);
    }
  }

  async #close(segment: Segment): Promise<void> {
    const fd = segment.fd;
    if (fd === null) return;
    segment.fd = null;
    // A descriptor closed under a running read could be reused by the next open.
    await Promise.allSettled([...segment.reads]);
    await closeFile(fd);
  }
}
