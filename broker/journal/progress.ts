/**
 * The bookkeeping every ingest journal keeps alike, whatever its storage (the file
 * journal, journal.ts; PostgreSQL, pg-journal.ts): ids given in order, the checkpoint
 * `done` (every id at or below it is finished) moved over out-of-order finishes, the
 * counters that survive restarts, and the figures of JournalStats. One copy, so the two
 * journals cannot drift apart in what the conformance suite (test/suites/journal.ts)
 * checks.
 */
import { VigilError } from '../../shared/errors.js';
import type { JournalRecord, JournalStats } from './types.js';

export class JournalProgress {
  /** The last id given; the next append gets lastId + 1. */
  lastId = 0;
  /** Every id <= done is finished. */
  done = 0;
  /** The checkpoint (done, counters) changed since it was last written. */
  dirty = false;
  /** Counters that survive restarts (kept with the checkpoint): duplicates dropped, ... */
  readonly counters: Record<string, number> = {};
  readonly figures = { appended: 0, finished: 0, refused: 0, commits: 0, lastCommitMs: 0 };
  /** Finished ids above `done`, waiting for the ones below them. */
  private readonly finishedAbove = new Set<number>();

  /** Counters as the storage kept them (non-numbers ignored). */
  loadCounters(saved: Record<string, unknown> | undefined): void {
    for (const name of Object.keys(this.counters)) delete this.counters[name];
    for (const [name, value] of Object.entries(saved ?? {})) {
      if (typeof value === 'number') this.counters[name] = value;
    }
  }

  /**
   * At start: the checkpoint, the highest id the storage holds, and the unfinished records
   * found. Ids in between that were never stored whole (a torn tail, a failed commit) count
   * as finished: nobody was told they were stored.
   */
  resume(done: number, last: number, unfinished: readonly JournalRecord[]): void {
    this.done = done;
    this.lastId = Math.max(done, last);
    this.finishedAbove.clear();
    const replayed = new Set(unfinished.map((record) => record.id));
    for (let id = done + 1; id <= this.lastId; id++) {
      if (!replayed.has(id)) this.finishedAbove.add(id);
    }
    this.advance();
  }

  /** A commit runs or is scheduled; appends meanwhile wait for the next one. */
  committing = false;

  /**
   * Starts `commitLoop` unless a commit runs. It waits `groupCommitMs` (0: the next turn
   * of the event loop), so the rest of this socket's read and other clients join it;
   * `commitLoop` sets `committing` back to false when nothing is pending.
   */
  schedule(groupCommitMs: number, commitLoop: () => Promise<void>): void {
    if (this.committing) return;
    this.committing = true;
    if (groupCommitMs > 0) setTimeout(() => void commitLoop(), groupCommitMs);
    else setImmediate(() => void commitLoop());
  }

  /** The id of a new append. */
  next(): number {
    this.figures.appended++;
    return ++this.lastId;
  }

  finish(id: number): void {
    if (id <= this.done) return;
    this.finishedAbove.add(id);
    this.figures.finished++;
    this.advance();
  }

  /** An append that was never acknowledged: nothing to replay, so finished. */
  abandon(id: number): void {
    this.finishedAbove.add(id);
  }

  count(name: string, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by;
    this.dirty = true;
  }

  committed(startedAt: number): void {
    this.figures.commits++;
    this.figures.lastCommitMs = performance.now() - startedAt;
  }

  /** The refusal while full (counted), saying what to do. */
  refuseFull(bytes: number, maxBytes: number): VigilError {
    this.figures.refused++;
    return new VigilError(
      'VIGIL_JOURNAL_FULL',
      `the ingest journal holds ${bytes} bytes of unfinished messages (limit ${maxBytes}); the metrics store is probably down`,
    );
  }

  stats(bytes: number, maxBytes: number, full: boolean): JournalStats {
    return { depth: this.lastId - this.done, bytes, maxBytes, full, ...this.figures };
  }

  /** Moves the checkpoint over every contiguous finished id. */
  advance(): void {
    const before = this.done;
    while (this.finishedAbove.delete(this.done + 1)) this.done++;
    if (this.done !== before) this.dirty = true;
  }
}
