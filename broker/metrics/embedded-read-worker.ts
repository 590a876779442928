/**
 * The embedded store's reader thread: answers query() and trend() on a read-only
 * connection of its own, so that a month's report never holds up the broker's event loop
 * (and with it every agent's PUBACK). Started by embedded.ts through embedded-thread.ts.
 */
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { openReadOnly } from '../db.js';
import { Reader, type ReadRequest } from './embedded-read.js';
import { serve } from './embedded-thread.js';

const { file } = workerData as { file: string };

/**
 * The reader yields the CPU to the event loop: on Linux the nice value is a thread's own
 * (setpriority(2), "Bugs": per thread under NPTL, and os.setPriority() without a pid is
 * this thread), so only this thread is lowered. On a 2-core gateway-sized server a report
 * reading 8.8 GB of readings competed with the event loop for a core, and PUBACK p99 rose
 * to 66 ms while a month's report of 500 devices ran (bench:report at 15 s). A report
 * takes a little longer when the machine is busy; an agent's PUBACK does not.
 */
const READER_NICE = 10;
try {
  setPriority(READER_NICE);
} catch {
  // Not allowed (a container without CAP_SYS_NICE may refuse raising it back, never
  // lowering it) or not supported: the reader still works, at the broker's priority.
}

serve((): ((request: ReadRequest) => object) => {
  const reader = new Reader(openReadOnly(file));
  return (request) =>
    request.op === 'query'
      ? { points: reader.points(request.query, request.maxPoints) }
      : { groups: reader.trend(request.query) };
});
