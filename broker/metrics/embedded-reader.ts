/**
 * The thread that runs the embedded store's reads (embedded-worker.ts), and what happens
 * when it misbehaves: a read that takes longer than the timeout, or a thread that dies,
 * rejects every read waiting on it with an error that says what to do, and the next read
 * starts a new thread.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReadReply, ReadRequest } from './embedded-read.js';

/** A request before it has an id: Omit over each member of the union. */
type Request = ReadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface Waiting {
  resolve(reply: ReadReply): void;
  reject(error: Error): void;
  /** Armed once the thread is ready: its start (tsx under vitest) is not the read's time. */
  timer: NodeJS.Timeout | null;
}

/**
 * Under vitest this module is TypeScript source and Node 20 cannot run a .ts worker by
 * itself: the worker then registers tsx (a devDependency) before importing the .ts entry.
 * Built code (dist/) starts the compiled .js entry directly.
 */
function startWorker(file: string, memoryMb: number | undefined): Worker {
  const data = {
    workerData: { file },
    ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}),
  };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./embedded-worker.js', import.meta.url), data);
  const tsx = pathToFileURL(tsxEsmApi()).href;
  const entry = new URL('./embedded-worker.ts', import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`,
    { ...data, eval: true },
  );
}

/**
 * The ESM build of tsx's API: require.resolve gives its CommonJS build, which in tsx 4.23
 * fails to find its own ESM half from a worker; the package's exports name the ESM one.
 */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const entry = exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx no longer exports ./esm/api: update embedded-reader.ts');
  return join(dirname(manifest), entry);
}

export class ReaderThread {
  private worker: Worker | null = null;
  private ready = false;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(
    private readonly file: string,
    private readonly timeoutMs: number,
    private readonly memoryMb?: number,
  ) {}

  ask(request: Request): Promise<ReadReply> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<ReadReply>((resolve, reject) => {
      const waiting: Waiting = { resolve, reject, timer: null };
      if (this.ready) this.arm(worker, waiting);
      this.waiting.set(id, waiting);
      worker.ref(); // a read keeps the process alive until it is answered
      worker.postMessage({ ...request, id });
    });
  }

  private arm(worker: Worker, waiting: Waiting): void {
    waiting.timer = setTimeout(() => {
      this.fail(
        worker,
        new Error(
          `the embedded metrics store gave no answer within ${this.timeoutMs / 1000} s, and its reader was restarted: ask for a shorter range or a wider bucket, or move to InfluxDB (docs/METRICS.md)`,
        ),
      );
    }, this.timeoutMs);
  }

  /** Ends the thread; reads still waiting are rejected, the next read starts a new one. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.fail(worker, new Error('the embedded metrics store was stopped before it answered'));
  }

  private start(): Worker {
    const worker = startWorker(this.file, this.memoryMb);
    worker.unref();
    let cause = '';
    worker.on('message', (reply: ReadReply | 'ready') => {
      if (reply === 'ready') {
        this.ready = true;
        for (const waiting of this.waiting.values()) this.arm(worker, waiting);
        return;
      }
      const waiting = this.waiting.get(reply.id);
      if (!waiting) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (waiting.timer) clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(new Error(reply.error));
    });
    worker.on('error', (error) => {
      cause = `: ${error.message}`;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.fail(
        worker,
        new Error(
          `the embedded metrics store's reader thread stopped (exit code ${code}${cause}) before it answered: ask again; if it keeps stopping, look at the broker's log and the free memory and disk`,
        ),
      );
    });
    this.worker = worker;
    this.ready = false;
    return worker;
  }

  /** Every read waits on the one thread: when it fails, all of them do. */
  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    void worker.terminate();
    for (const [id, waiting] of this.waiting) {
      if (waiting.timer) clearTimeout(waiting.timer);
      this.waiting.delete(id);
      waiting.reject(error);
    }
  }
}
