/**
 * The embedded store's writer thread: owns the one read-write connection and runs
 * write() and the retention on it, so that a batch's commit never holds up the broker's
 * event loop (and with it every agent's PUBACK). Started by embedded.ts through
 * embedded-thread.ts, after start() migrated the file on the event loop.
 */
import { workerData } from 'node:worker_threads';
import { openDatabase } from '../db.js';
import type { WirePoint } from './embedded-read.js';
import { serve } from './embedded-thread.js';
import { Writer, type WriteRequest } from './embedded-write.js';

const { file } = workerData as { file: string };

serve((): ((request: WriteRequest) => object) => {
  const writer = new Writer(openDatabase(file));
  return (request) => {
    switch (request.op) {
      case 'write':
        writer.write(JSON.parse(request.points) as WirePoint[]);
        return {};
      case 'retain':
        return writer.retain(request);
      case 'ping':
        writer.ping();
        return {};
      case 'close':
        writer.close();
        return {};
    }
  };
});
