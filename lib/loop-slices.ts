/**
 * Long work on the event loop in slices: a loop over many rows calls `await slices.pause()`
 * at each step, and once the slice has run `sliceMs` the loop gives way (setImmediate,
 * which runs after the I/O callbacks already waiting: Node's event loop phases, "check"
 * after "poll"), so a PUBACK or a health check waits at most one slice, not the whole
 * work. A pause inside the slice costs a clock read and nothing else.
 *
 * Why: the broker answers every agent on one thread. A month's inspection report of a
 * 500-device site reads 15,000 daily buckets per field from InfluxDB; merged in one piece
 * that held the loop ~70 ms on a quiet 2-core machine, and PUBACK p99 rose from 8 ms to
 * 72 ms while the report ran (bench:report, issue 12's goal is 50 ms).
 */
import { performance } from 'node:perf_hooks';

/** 5 ms: well under the PUBACK goal, yet thousands of rows between pauses. */
export const DEFAULT_SLICE_MS = 5;

export interface LoopSlices {
  /** Gives way to waiting I/O once the current slice has run its time; else resolves at once. */
  pause(): Promise<void> | undefined;
  /** How many times this work gave way so far. */
  readonly pauses: number;
}

export function loopSlices(sliceMs = DEFAULT_SLICE_MS): LoopSlices {
  let started = performance.now();
  let pauses = 0;
  return {
    pause() {
      if (performance.now() - started < sliceMs) return undefined;
      pauses += 1;
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          started = performance.now();
          resolve();
        }),
      );
    },
    get pauses() {
      return pauses;
    },
  };
}
