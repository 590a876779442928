/**
 * The spool in memory: for tests and for running without a data folder. Same rules as the
 * disk spool (bounded, oldest dropped first), but nothing survives the process.
 */
import {
  DEFAULT_SPOOL_BYTES,
  type ReadLimit,
  type Spool,
  type SpoolRecord,
  type SpoolStats,
} from './types.js';

export class MemorySpool implements Spool {
  readonly #maxBytes: number;
  readonly #records: SpoolRecord[] = [];
  #bytes = 0;
  #nextSeq = 0;
  #dropped = 0;

  constructor(options: { maxBytes?: number } = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_SPOOL_BYTES;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  get headSeq(): number {
    return this.#records[0]?.seq ?? this.#nextSeq;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  get durableSeq(): number {
    return this.#nextSeq - 1;
  }

  append(topic: string, retain: boolean, make: (seq: number) => string): Promise<SpoolRecord> {
    const seq = this.#nextSeq++;
    const record: SpoolRecord = { seq, topic, payload: make(seq), retain, at: Date.now() };
    this.#records.push(record);
    this.#bytes += size(record);
    while (this.#bytes > this.#maxBytes && this.#records.length > 1) {
      const oldest = this.#records.shift() as SpoolRecord;
      this.#bytes -= size(oldest);
      this.#dropped += 1;
    }
    return Promise.resolve(record);
  }

  read(fromSeq: number, limit: ReadLimit): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    let bytes = 0;
    for (const record of this.#records) {
      if (record.seq < fromSeq) continue;
      if (out.length >= limit.records) break;
      if (out.length > 0 && bytes + size(record) > limit.bytes) break;
      out.push(record);
      bytes += size(record);
    }
    return Promise.resolve(out);
  }

  ack(seq: number): void {
    while (this.#records.length > 0 && (this.#records[0] as SpoolRecord).seq <= seq) {
      this.#bytes -= size(this.#records.shift() as SpoolRecord);
    }
  }

  stats(): SpoolStats {
    return {
      depth: this.#records.length,
      bytes: this.#bytes,
      oldestAt: this.#records[0]?.at ?? null,
      dropped: this.#dropped,
      held: 0,
      writeError: null,
    };
  }
}

function size(record: SpoolRecord): number {
  return record.payload.length + record.topic.length + 32;
}
