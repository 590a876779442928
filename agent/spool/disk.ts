/**
 * The spool on disk: what survives a SIGKILL of the agent and a power cut of the gateway.
 *
 * Layout of the folder:
 *   seg-<first seq>.log   a segment log (lib/segment-log.ts): record number = seq, body =
 *                         JSON { s: seq, t: topic, r: retain 0/1, a: at, p: payload }
 *   state.json            { ackedSeq, nextSeq, dropped }, replaced atomically (rename)
 *
 * - Appends are group-committed: the records appended while a write is under way go out
 *   together in the next write, followed by one fdatasync. `append` resolves after it.
 * - A torn record at the end of a segment (the power went during a write) fails its
 *   length or CRC check and is cut off at start; the records before it are kept (the
 *   segment log's rule).
 * - Acknowledged records are forgotten by moving `ackedSeq` forward; a segment file is
 *   deleted only when every record in it is acknowledged, so a crash can make the agent
 *   send a record twice (the broker drops it by seq) but never lose one.
 * - Bounded: when the segments exceed `maxBytes`, the oldest segment goes (oldest records
 *   dropped first); the records it held unsent are counted in `dropped`.
 * - A disk that refuses a write (full: ENOSPC, EDQUOT; or failing: EIO, EROFS) stops
 *   nothing. The segment log cuts the segment written to back to its last whole record
 *   and closes it for good, and the records are kept in memory instead: `append`
 *   resolves, `read` serves them, the broker gets them. Every `retryMs` the spool tries
 *   the disk again, in a new segment; once a write succeeds, what was kept in memory and
 *   not yet acknowledged is written first, in seq order. Memory is bounded by
 *   `memoryBytes` (oldest dropped first, counted in `dropped`). One log line when it
 *   starts, one when it ends: a gateway with a full disk must not also fill its journal.
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { frame, RECORD_HEADER, SegmentLog, syncDirectory } from '../../lib/segment-log.js';
import type { Logger } from '../log.js';
import {
  DEFAULT_SPOOL_BYTES,
  type ReadLimit,
  type Spool,
  type SpoolRecord,
  type SpoolStats,
} from './types.js';

const STATE = 'state.json';
/** state.json is padded to this size (JSON allows trailing blanks). */
const STATE_BYTES = 256;
/** What a gateway may give to messages its disk refused (the agent's goal is 150 MiB in all). */
const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
/** Error codes that mean "no room" (POSIX write(2)): the operator frees space. */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT']);

/** A record not yet on disk. */
interface Pending {
  seq: number;
  at: number;
  /** The encoded record; `read` decodes it while the record is held in memory. */
  buffer: Buffer;
  /** The append waiting for the disk; null once it resolved with the record held in memory. */
  resolve: (() => void) | null;
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
  /** While the disk refuses writes, records kept in memory at most (bytes); min(maxBytes, 64 MiB). */
  memoryBytes?: number;
  /** While the disk refuses writes, the pause between two tries (ms); 5000. */
  retryMs?: number;
  /** Where a refusing disk and its end are reported (one line each). */
  log?: Logger;
}

function encode(record: SpoolRecord): Buffer {
  return frame(
    Buffer.from(
      JSON.stringify({
        s: record.seq,
        t: record.topic,
        r: record.retain ? 1 : 0,
        a: record.at,
        p: record.payload,
      }),
    ),
  );
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

/** Record `seq`'s time if `body` is record `seq`; null when it is not (ends its segment). */
function accept(body: Buffer, seq: number): number | null {
  try {
    const record = decode(body);
    return record.seq === seq ? record.at : null;
  } catch {
    return null;
  }
}

/**
 * Writes the whole buffer at `position`. write(2) may write less than asked (the last
 * blocks of a full disk) without an error; the rest is written on, and the next call
 * reports why it cannot.
 */
async function writeAll(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(
      buffer,
      done,
      buffer.length - done,
      position + done,
    );
    if (bytesWritten <= 0) throw new Error('the disk took no bytes (write returned 0)');
    done += bytesWritten;
  }
}

/** A size for a person: "64 MiB", "0.004 MiB". */
function mebibytes(bytes: number): string {
  return `${Number((bytes / 1024 / 1024).toPrecision(2))} MiB`;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

export class DiskSpool implements Spool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #stateDelayMs: number;
  readonly #memoryBytes: number;
  readonly #retryMs: number;
  readonly #log: Logger | undefined;
  /** The records on disk. */
  readonly #disk: SegmentLog;
  /** Records not on disk yet, in seq order: being written, or held while the disk refuses. */
  #pending: Pending[] = [];
  /** The bytes of #pending. */
  #pendingBytes = 0;
  #flushing: Promise<void> | null = null;
  #state: State = { ackedSeq: -1, nextSeq: 0, dropped: 0 };
  #nextSeq = 0;
  /** At start, the last seq handed out before; `durableSeq` adds what the segment log wrote since. */
  #durableSeq = -1;
  #stateTimer: NodeJS.Timeout | null = null;
  #stateWrite: Promise<void> = Promise.resolve();
  #started = false;
  /** The code of the write the disk refused (ENOSPC...), null while it takes writes. */
  #writeError: string | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  /** The last seq of the batch being written: held records up to it are not dropped. */
  #writingTo = -1;
  #droppedInMemory = false;
  #stopping = false;

  constructor(options: DiskSpoolOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes ?? DEFAULT_SPOOL_BYTES;
    this.#segmentBytes =
      options.segmentBytes ?? Math.max(64 * 1024, Math.min(8 * 1024 * 1024, this.#maxBytes / 8));
    this.#stateDelayMs = options.stateDelayMs ?? 200;
    this.#memoryBytes = options.memoryBytes ?? Math.min(this.#maxBytes, DEFAULT_MEMORY_BYTES);
    this.#retryMs = options.retryMs ?? 5000;
    this.#log = options.log;
    this.#disk = new SegmentLog({ dir: this.#dir, segmentBytes: this.#segmentBytes, accept });
  }

  get headSeq(): number {
    const after = this.#state.ackedSeq + 1;
    const onDisk = this.#disk.firstFrom(after);
    if (onDisk !== null) return onDisk;
    for (const p of this.#pending) if (p.seq >= after) return p.seq;
    return this.#nextSeq;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  get durableSeq(): number {
    // The segment log's own figure: it moves the moment a write is synced, before the
    // batch's records leave #pending (#drain), so nothing is counted twice meanwhile.
    return Math.max(this.#durableSeq, this.#disk.last ?? -1);
  }

  async start(): Promise<void> {
    if (this.#started) return;
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
    await this.#disk.start();
    const last = this.#disk.last ?? -1;
    this.#nextSeq = Math.max(last + 1, this.#state.ackedSeq + 1, this.#state.nextSeq);
    this.#durableSeq = this.#nextSeq - 1;
    this.#writeError = null;
    this.#droppedInMemory = false;
    this.#stopping = false;
    this.#started = true;
    // On a full disk state.json may not be written: the agent starts all the same.
    await this.#forgetAcknowledged();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#stopping = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await this.#flush();
    // A last try for what the disk refused: the space may be back.
    if (this.#pending.length > 0) {
      this.#kick();
      await this.#flush();
    }
    const lost = this.#pending.filter((p) => p.seq > this.#state.ackedSeq).length;
    if (lost > 0) {
      this.#log?.error(
        `${this.#code()}: ${lost} message(s) kept in memory because ${this.#dir} refused writes (${this.#writeError ?? 'error'}) are lost with this stop; ${this.#advice()}`,
      );
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    this.#stateTimer = null;
    await this.#writeState().catch(() => undefined);
    await this.#disk.stop();
    this.#started = false;
  }

  append(topic: string, retain: boolean, make: (seq: number) => string): Promise<SpoolRecord> {
    if (!this.#started) return Promise.reject(new Error('the spool is not started'));
    const seq = this.#nextSeq++;
    const record: SpoolRecord = { seq, topic, payload: make(seq), retain, at: Date.now() };
    const pending: Pending = { seq, at: record.at, buffer: encode(record), resolve: null };
    this.#pending.push(pending);
    this.#pendingBytes += pending.buffer.length;
    if (this.#writeError !== null) {
      // The disk refuses writes: kept in memory until it takes them again (#retry).
      this.#boundMemory();
      return Promise.resolve(record);
    }
    return new Promise((resolve) => {
      pending.resolve = () => resolve(record);
      // setImmediate: the appends of this turn of the event loop share one fdatasync.
      this.#flushing ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
    });
  }

  async read(fromSeq: number, limit: ReadLimit): Promise<SpoolRecord[]> {
    const disk = await this.#disk.read(Math.max(fromSeq, this.headSeq), limit);
    const out = disk.bodies.map(decode);
    const seq = disk.next;
    let bytes = disk.bytes;
    const full = disk.more;
    // Then what only memory holds (the disk refused it): sent like the rest.
    for (const p of full ? [] : this.#pending) {
      if (p.resolve !== null) break;
      if (p.seq < seq || this.#onDisk(p.seq)) continue;
      if (out.length >= limit.records) break;
      if (out.length > 0 && bytes + p.buffer.length > limit.bytes) break;
      out.push(decode(p.buffer.subarray(RECORD_HEADER)));
      bytes += p.buffer.length;
    }
    return out;
  }

  ack(seq: number): void {
    if (seq <= this.#state.ackedSeq) return;
    const held = this.#pending.findLast((p) => p.resolve === null)?.seq ?? -1;
    this.#state.ackedSeq = Math.min(seq, Math.max(this.durableSeq, held));
    // What the broker has need not reach the disk any more.
    for (let first = this.#pending[0]; first; first = this.#pending[0]) {
      if (first.resolve !== null || first.seq > this.#state.ackedSeq) break;
      this.#pending.shift();
      this.#pendingBytes -= first.buffer.length;
    }
    this.#stateTimer ??= setTimeout(() => {
      this.#stateTimer = null;
      void this.#forgetAcknowledged();
    }, this.#stateDelayMs);
  }

  stats(): SpoolStats {
    const head = this.headSeq;
    let depth = 0;
    let bytes = 0;
    let held = 0;
    let oldestAt: number | null = null;
    for (const p of this.#pending) {
      if (p.seq < head || this.#onDisk(p.seq)) continue;
      depth += 1;
      bytes += p.buffer.length;
      oldestAt ??= p.at;
      if (p.resolve === null) held += 1;
    }
    // What is on disk is older than what only memory holds.
    const disk = this.#disk.span(head);
    depth += disk.records;
    bytes += disk.bytes;
    oldestAt = disk.oldestAt ?? oldestAt;
    return {
      depth,
      bytes,
      oldestAt,
      dropped: this.#state.dropped,
      held,
      writeError: this.#writeError,
    };
  }

  /** A pending record the batch in flight already put on disk (not yet taken off #pending). */
  #onDisk(seq: number): boolean {
    return seq <= this.durableSeq;
  }

  async #flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** Starts a write of everything pending unless one runs. */
  #kick(): void {
    // Through a microtask: a drain with nothing to do would clear #flushing before it is set.
    this.#flushing ??= Promise.resolve().then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = [...this.#pending];
        const held = batch.filter((p) => p.resolve === null).length;
        this.#writingTo = (batch.at(-1) as Pending).seq;
        let failure: unknown = null;
        try {
          await this.#disk.append((batch[0] as Pending).seq, batch);
        } catch (error) {
          failure = error;
        }
        this.#writingTo = -1;
        if (failure === null) await this.#bound();
        // What reached the disk leaves memory (a failed batch may have put a part there).
        for (let first = this.#pending[0]; first; first = this.#pending[0]) {
          if (first.seq > this.durableSeq) break;
          this.#pending.shift();
          this.#pendingBytes -= first.buffer.length;
          first.resolve?.();
        }
        if (failure !== null) {
          this.#refused(failure);
          return;
        }
        if (this.#writeError !== null) this.#recovered(held);
      }
    } finally {
      this.#flushing = null;
    }
  }

  /** The disk refused a write: keep the records in memory, say so once, try again later. */
  #refused(error: unknown): void {
    const first = this.#writeError === null;
    this.#writeError = codeOf(error);
    for (const p of this.#pending) {
      p.resolve?.();
      p.resolve = null;
    }
    this.#boundMemory();
    if (first) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#log?.error(
        `${this.#code()}: cannot write the spool in ${this.#dir} (${reason}). ` +
          `Messages are kept in memory (up to ${mebibytes(this.#memoryBytes)}, oldest dropped first) ` +
          `and sent while the broker is reachable; they go to disk again once it takes writes. ${this.#advice()}`,
      );
    }
    this.#retryLater();
  }

  /**
   * Tries the disk again later, with what memory holds. Nothing held (the broker took it
   * all): nothing to try with, so later again; an append meanwhile is held too, which
   * keeps one log line per spell of a full disk.
   */
  #retryLater(): void {
    if (this.#stopping || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#stopping) return;
      if (this.#pending.length === 0) this.#retryLater();
      else this.#kick();
    }, this.#retryMs);
    this.#retryTimer.unref();
  }

  #recovered(written: number): void {
    this.#log?.info(
      `the spool in ${this.#dir} takes writes again; ${written} message(s) kept in memory meanwhile were written first`,
    );
    this.#writeError = null;
    this.#droppedInMemory = false;
  }

  #code(): string {
    return this.#writeError !== null && NO_ROOM.has(this.#writeError)
      ? 'VIGIL_SPOOL_DISK_FULL'
      : 'VIGIL_SPOOL_WRITE';
  }

  #advice(): string {
    return this.#writeError !== null && NO_ROOM.has(this.#writeError)
      ? `Free space on the gateway's file system that holds ${this.#dir} (df -h ${this.#dir}); the agent notices by itself.`
      : `Check that the agent may write ${this.#dir} and that its disk works (dmesg; a file system remounted read-only after errors).`;
  }

  /** Held records beyond the memory budget go, oldest first, counted as dropped. */
  #boundMemory(): void {
    let dropped = 0;
    while (this.#pendingBytes > this.#memoryBytes) {
      // Not the batch a write is carrying to disk: it may land there.
      const index = this.#pending.findIndex((p) => p.seq > this.#writingTo);
      if (index === -1 || index === this.#pending.length - 1) break;
      const [oldest] = this.#pending.splice(index, 1) as [Pending];
      this.#pendingBytes -= oldest.buffer.length;
      if (oldest.seq > this.#state.ackedSeq) dropped += 1;
    }
    if (dropped === 0) return;
    this.#state.dropped += dropped;
    if (!this.#droppedInMemory) {
      this.#droppedInMemory = true;
      this.#log?.warn(
        `${this.#code()}: the memory kept for the spool (${mebibytes(this.#memoryBytes)}) is used up; the oldest messages are dropped and counted (AgentHealth spool.dropped). ${this.#advice()}`,
      );
    }
  }

  /** Drops the oldest segments while the spool is over its size. */
  async #bound(): Promise<void> {
    await this.#disk.dropWhile(() => this.#disk.bytes > this.#maxBytes, {
      beforeDelete: (oldest) => {
        const unsent = oldest.last - Math.max(oldest.first, this.#state.ackedSeq + 1) + 1;
        if (unsent > 0) this.#state.dropped += unsent;
        this.#state.ackedSeq = Math.max(this.#state.ackedSeq, oldest.last);
        // state.json first: a crash in between leaves a file that is already accounted for.
        // Refused (full disk): the file goes anyway; a restart starts at the next segment
        // and only the drop count falls short.
        return this.#writeState().catch(() => undefined);
      },
    });
  }

  /**
   * Writes state.json, then deletes the segment files that hold only acknowledged records.
   * They go even when state.json cannot be written (full disk: that is when their room
   * counts): the last segment stays, and a restart starts at the first segment left, so
   * at worst an acknowledged record is sent again. Never throws.
   */
  async #forgetAcknowledged(): Promise<void> {
    await this.#writeState().catch(() => undefined);
    const acked = this.#state.ackedSeq;
    await this.#disk.dropWhile((segment) => segment.last <= acked);
  }

  #writeState(): Promise<void> {
    const write = async (): Promise<void> => {
      // Every seq handed out, also to records that only memory held (the broker may have them).
      this.#state.nextSeq = this.#nextSeq;
      // Always the same size, so that a full disk can take it in place (below).
      const text = Buffer.from(JSON.stringify(this.#state).padEnd(STATE_BYTES));
      const tmp = join(this.#dir, `${STATE}.tmp`);
      try {
        const handle = await open(tmp, 'w');
        try {
          await writeAll(handle, text, 0);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, join(this.#dir, STATE));
        await syncDirectory(this.#dir);
      } catch (error) {
        if (!NO_ROOM.has(codeOf(error))) throw error;
        await rm(tmp, { force: true }).catch(() => undefined);
        // No room for a new file: overwrite the blocks the old one has. Not atomic, but a
        // torn state.json is ignored at start (the segments tell the rest), and without
        // it a restart would hand out again the seqs of records memory held and sent.
        const handle = await open(join(this.#dir, STATE), 'r+');
        try {
          await writeAll(handle, text, 0);
          await handle.datasync();
        } finally {
          await handle.close();
        }
      }
    };
    // One writer at a time: two renames of the same tmp file would race.
    this.#stateWrite = this.#stateWrite.then(write, write);
    return this.#stateWrite;
  }
}
