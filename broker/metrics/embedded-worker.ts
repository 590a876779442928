/**
 * The embedded store's reader thread: answers query() and trend() on a read-only
 * connection of its own, so that a month's report never holds up the broker's event loop
 * (and with it every agent's PUBACK). Started by embedded-reader.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openReadOnly } from '../db.js';
import { Reader, type ReadReply, type ReadRequest } from './embedded-read.js';

const { file } = workerData as { file: string };
const port = parentPort;
if (!port) throw new Error('embedded-worker.ts runs as a worker thread (embedded-reader.ts)');
const reader = new Reader(openReadOnly(file));

port.on('message', (request: ReadRequest) => {
  let reply: ReadReply;
  try {
    reply =
      request.op === 'query'
        ? { id: request.id, ok: true, points: reader.points(request.query, request.maxPoints) }
        : { id: request.id, ok: true, groups: reader.trend(request.query) };
  } catch (error) {
    reply = { id: request.id, ok: false, error: (error as Error).message };
  }
  port.postMessage(reply);
});
port.postMessage('ready');
