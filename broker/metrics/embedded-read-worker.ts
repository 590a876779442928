/**
 * The embedded store's reader thread: answers query() and trend() on a read-only
 * connection of its own, so that a month's report never holds up the broker's event loop
 * (and with it every agent's PUBACK). Started by embedded.ts through embedded-thread.ts.
 */
import { workerData } from 'node:worker_threads';
import { openReadOnly } from '../db.js';
import { Reader, type ReadRequest } from './embedded-read.js';
import { serve } from './embedded-thread.js';

const { file } = workerData as { file: string };

serve((): ((request: ReadRequest) => object) => {
  const reader = new Reader(openReadOnly(file));
  return (request) =>
    request.op === 'query'
      ? { points: reader.points(request.query, request.maxPoints) }
      : { groups: reader.trend(request.query) };
});
