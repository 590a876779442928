/**
 * The spool on disk: what survives a SIGKILL of the agent and a power cut of the gateway.
 *
 * Layout of the folder:
 *   seg-<first seq>.log   append-only segments of records [u32 length][u32 crc32][JSON]
 *   state.json            { ackedSeq, nextSeq, dropped }, replaced atomically (rename)
 *
 * - Appends are group-committed: the records appended while a write is under way go out
 *   together in the next write, followed by one fdatasync. `append` resolves after it.
 * - A torn record at the end of a segment (the power went during a write) fails its
 *   length or CRC check and is cut off at start; the records before it are kept.
 * - Acknowledged records are forgotten by moving `ackedSeq` forward; a segment file is
 *   deleted only when every record in it is acknowledged and state.json says so on disk,
 *   so a crash can make the agent send a record twice (the broker drops it by seq) but
 *   never lose one.
 * - Bounded: when the segments exceed `maxBytes`, the oldest segment goes (oldest records
 *   dropped first); the records it held unsent are counted in `dropped`.
 */
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  DEFAULT_SPOOL_BYTES,
  type ReadLimit,
  type Spool,
  type SpoolRecord,
  type SpoolStats,
} from './types.js';

const HEADER = 8;
const STATE = 'state.json';

interface Segment {
  name: string;
  firstSeq: number;
  /** Byte offset of each record in the file; offsets[i] is record firstSeq + i. */
  offsets: number[];
  ats: number[];
  /** Bytes written so far (the end of the last complete record). */
  size: number;
  handle: FileHandle | null;
}

interface Pending {
  record: SpoolRecord;
  buffer: Buffer;
  resolve: (record: SpoolRecord) => void;
  reject: (error: Error) => void;
}

interface State {
  ackedSeq: number;
  nextSeq: number;
  dropped: number;
}

export interface DiskSpoolOptions {
  /** The folder of the spool; created when missing. */
  dir: string;
  maxBytes?: number;
  /** A segment file is closed and a new one begun beyond this size. */
  segmentBytes?: number;
  /** How long acknowledgements may wait before state.json is written (ms). */
  stateDelayMs?: number;
}

function encode(record: SpoolRecord): Buffer {
  const body = Buffer.from(
    JSON.stringify({
      s: record.seq,
      t: record.topic,
      r: record.retain ? 1 : 0,
      a: record.at,
      p: record.payload,
    }),
  );
  const buffer = Buffer.allocUnsafe(HEADER + body.length);
  buffer.writeUInt32LE(body.length, 0);
  buffer.writeUInt32LE(crc32(body), 4);
  body.copy(buffer, HEADER);
  return buffer;
}

function decode(body: Buffer): SpoolRecord {
  const raw = JSON.parse(body.toString('utf8')) as {
    s: number;
    t: string;
    r: number;
    a: number;
    p: string;
  };
  return { seq: raw.s, topic: raw.t, retain: raw.r === 1, at: raw.a, payload: raw.p };
}

function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, '0')}.log`;
}

export class DiskSpool implements Spool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #stateDelayMs: number;
  #segments: Segment[] = [];
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #state: State = { ackedSeq: -1, nextSeq: 0, dropped: 0 };
  #nextSeq = 0;
  #durableSeq = -1;
  #stateTimer: NodeJS.Timeout | null = null;
  #stateWrite: Promise<void> = Promise.resolve();
  #started = false;

  constructor(options: DiskSpoolOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes ?? DEFAULT_SPOOL_BYTES;
    this.#segmentBytes =
      options.segmentBytes ?? Math.max(64 * 1024, Math.min(8 * 1024 * 1024, this.#maxBytes / 8));
    this.#stateDelayMs = options.stateDelayMs ?? 200;
  }

  get headSeq(): number {
    const first = this.#segments[0];
    const firstSeq = first && first.offsets.length > 0 ? first.firstSeq : this.#nextSeq;
    return Math.min(this.#nextSeq, Math.max(this.#state.ackedSeq + 1, firstSeq));
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  get durableSeq(): number {
    return this.#durableSeq;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await mkdir(this.#dir, { recursive: true });
    try {
      const state = JSON.parse(await readFile(join(this.#dir, STATE), 'utf8')) as State;
      const int = (value: unknown, fallback: number): number =>
        Number.isInteger(value) ? (value as number) : fallback;
      this.#state = {
        ackedSeq: int(state.ackedSeq, -1),
        nextSeq: int(state.nextSeq, 0),
        dropped: int(state.dropped, 0),
      };
    } catch {
      // No state yet (a new spool) or a half-written one: the segments tell the rest.
    }
    const names = (await readdir(this.#dir)).filter((n) => /^seg-\d{16}\.log$/.test(n)).sort();
    let last = -1;
    for (const name of names) {
      const segment = await this.#recover(name);
      if (segment.offsets.length === 0) {
        await rm(join(this.#dir, name), { force: true });
        continue;
      }
      this.#segments.push(segment);
      last = segment.firstSeq + segment.offsets.length - 1;
    }
    this.#nextSeq = Math.max(last + 1, this.#state.ackedSeq + 1, this.#state.nextSeq);
    this.#durableSeq = this.#nextSeq - 1;
    this.#started = true;
    await this.#forgetAcknowledged();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    await this.#flush();
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    this.#stateTimer = null;
    await this.#writeState();
    for (const segment of this.#segments) {
      await segment.handle?.close();
      segment.handle = null;
    }
    this.#segments = [];
    this.#started = false;
  }

  append(topic: string, retain: boolean, make: (seq: number) => string): Promise<SpoolRecord> {
    if (!this.#started) return Promise.reject(new Error('the spool is not started'));
    const seq = this.#nextSeq++;
    const record: SpoolRecord = { seq, topic, payload: make(seq), retain, at: Date.now() };
    return new Promise((resolve, reject) => {
      this.#pending.push({ record, buffer: encode(record), resolve, reject });
      if (!this.#flushing) {
        // setImmediate: the appends of this turn of the event loop share one fdatasync.
        this.#flushing = new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
      }
    });
  }

  async read(fromSeq: number, limit: ReadLimit): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    let seq = Math.max(fromSeq, this.headSeq);
    let bytes = 0;
    for (const segment of [...this.#segments]) {
      const count = segment.offsets.length;
      const end = segment.firstSeq + count;
      if (seq >= end) continue;
      if (seq < segment.firstSeq) seq = segment.firstSeq;
      const from = seq - segment.firstSeq;
      let to = from;
      let span = 0;
      while (to < count && out.length + (to - from) < limit.records) {
        const next = (segment.offsets[to + 1] ?? segment.size) - (segment.offsets[to] as number);
        if (out.length + (to - from) > 0 && bytes + span + next > limit.bytes) break;
        span += next;
        to += 1;
      }
      if (to === from) break;
      const start = segment.offsets[from] as number;
      const buffer = Buffer.allocUnsafe(span);
      const handle = segment.handle ?? (await open(join(this.#dir, segment.name), 'r'));
      try {
        await handle.read(buffer, 0, span, start);
      } finally {
        if (handle !== segment.handle) await handle.close();
      }
      let at = 0;
      while (at < span) {
        const length = buffer.readUInt32LE(at);
        out.push(decode(buffer.subarray(at + HEADER, at + HEADER + length)));
        at += HEADER + length;
      }
      bytes += span;
      seq = segment.firstSeq + to;
      if (out.length >= limit.records || to < count) break;
    }
    return out;
  }

  ack(seq: number): void {
    if (seq <= this.#state.ackedSeq) return;
    this.#state.ackedSeq = Math.min(seq, this.#durableSeq);
    this.#stateTimer ??= setTimeout(() => {
      this.#stateTimer = null;
      // A failed write (disk full) only delays forgetting: acknowledged records may be
      // sent again after a restart, which the broker drops by seq.
      this.#forgetAcknowledged().catch(() => undefined);
    }, this.#stateDelayMs);
  }

  stats(): SpoolStats {
    const head = this.headSeq;
    let depth = this.#pending.length;
    let bytes = this.#pending.reduce((sum, p) => sum + p.buffer.length, 0);
    let oldestAt: number | null = this.#pending[0]?.record.at ?? null;
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const segment = this.#segments[i] as Segment;
      const from = Math.max(0, head - segment.firstSeq);
      if (from >= segment.offsets.length) continue;
      depth += segment.offsets.length - from;
      bytes += segment.size - (segment.offsets[from] as number);
      oldestAt = segment.ats[from] ?? oldestAt;
    }
    return { depth, bytes, oldestAt, dropped: this.#state.dropped };
  }

  /** Reads one segment, cuts off a torn tail, and indexes its records. */
  async #recover(name: string): Promise<Segment> {
    const path = join(this.#dir, name);
    const data = await readFile(path);
    const segment: Segment = {
      name,
      firstSeq: Number(name.slice(4, 20)),
      offsets: [],
      ats: [],
      size: 0,
      handle: null,
    };
    let at = 0;
    let expected = segment.firstSeq;
    while (at + HEADER <= data.length) {
      const length = data.readUInt32LE(at);
      const end = at + HEADER + length;
      if (end > data.length) break;
      const body = data.subarray(at + HEADER, end);
      if (crc32(body) !== data.readUInt32LE(at + 4)) break;
      let record: SpoolRecord;
      try {
        record = decode(body);
      } catch {
        break;
      }
      if (record.seq !== expected) break;
      segment.offsets.push(at);
      segment.ats.push(record.at);
      expected += 1;
      at = end;
    }
    segment.size = at;
    if (at < data.length) {
      const handle = await open(path, 'r+');
      await handle.truncate(at);
      await handle.sync();
      await handle.close();
    }
    return segment;
  }

  async #flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          await this.#write(batch);
          for (const p of batch) p.resolve(p.record);
        } catch (error) {
          // The records are not durable: say so to whoever appended them.
          for (const p of batch) p.reject(error as Error);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }

  /** Writes the records into as many segments as they need, then syncs each one. */
  async #write(batch: Pending[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      const segment = await this.#segmentFor((batch[i] as Pending).record.seq);
      let j = i;
      let bytes = 0;
      while (j < batch.length && (j === i || segment.size + bytes < this.#segmentBytes)) {
        bytes += (batch[j] as Pending).buffer.length;
        j += 1;
      }
      const chunk = batch.slice(i, j);
      const buffer = Buffer.concat(chunk.map((p) => p.buffer));
      const handle = (segment.handle ??= await open(join(this.#dir, segment.name), 'a+'));
      await handle.write(buffer, 0, buffer.length, segment.size);
      await handle.datasync();
      let at = segment.size;
      for (const p of chunk) {
        segment.offsets.push(at);
        segment.ats.push(p.record.at);
        at += p.buffer.length;
      }
      segment.size = at;
      this.#durableSeq = (chunk.at(-1) as Pending).record.seq;
      i = j;
    }
    await this.#bound();
  }

  /** The segment the record `seq` goes into: the last one, or a new one when it is full. */
  async #segmentFor(seq: number): Promise<Segment> {
    const last = this.#segments.at(-1);
    if (last && last.size < this.#segmentBytes && last.firstSeq + last.offsets.length === seq) {
      return last;
    }
    await last?.handle?.close();
    if (last) last.handle = null;
    const segment: Segment = {
      name: segmentName(seq),
      firstSeq: seq,
      offsets: [],
      ats: [],
      size: 0,
      handle: await open(join(this.#dir, segmentName(seq)), 'a+'),
    };
    this.#segments.push(segment);
    await this.#syncDir();
    return segment;
  }

  /** Drops the oldest segments while the spool is over its size. */
  async #bound(): Promise<void> {
    let total = this.#segments.reduce((sum, s) => sum + s.size, 0);
    let dropped = false;
    while (total > this.#maxBytes && this.#segments.length > 1) {
      const oldest = this.#segments.shift() as Segment;
      const last = oldest.firstSeq + oldest.offsets.length - 1;
      const unsent = last - Math.max(oldest.firstSeq, this.#state.ackedSeq + 1) + 1;
      if (unsent > 0) this.#state.dropped += unsent;
      this.#state.ackedSeq = Math.max(this.#state.ackedSeq, last);
      total -= oldest.size;
      await oldest.handle?.close();
      oldest.handle = null;
      dropped = true;
      // state.json first: a crash in between leaves a file that is already accounted for.
      await this.#writeState();
      await rm(join(this.#dir, oldest.name), { force: true });
    }
    if (dropped) await this.#syncDir();
  }

  /** Writes state.json, then deletes the segment files that hold only acknowledged records. */
  async #forgetAcknowledged(): Promise<void> {
    await this.#writeState();
    const acked = this.#state.ackedSeq;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0] as Segment;
      if (oldest.firstSeq + oldest.offsets.length - 1 > acked) break;
      this.#segments.shift();
      await oldest.handle?.close();
      oldest.handle = null;
      await rm(join(this.#dir, oldest.name), { force: true });
    }
  }

  #writeState(): Promise<void> {
    const write = async (): Promise<void> => {
      this.#state.nextSeq = this.#durableSeq + 1;
      const tmp = join(this.#dir, `${STATE}.tmp`);
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(JSON.stringify(this.#state));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, join(this.#dir, STATE));
      await this.#syncDir();
    };
    // One writer at a time: two renames of the same tmp file would race.
    this.#stateWrite = this.#stateWrite.then(write, write);
    return this.#stateWrite;
  }

  /** A new or removed file is durable only once its folder is synced (POSIX fsync). */
  async #syncDir(): Promise<void> {
    const handle = await open(this.#dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
