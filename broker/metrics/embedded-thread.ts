/**
 * The embedded store's worker threads, both of them: the reader (embedded-read-worker.ts)
 * and the writer (embedded-write-worker.ts). One request/answer client for either, and
 * what happens when a thread misbehaves: a request that takes longer than the timeout, or
 * a thread that dies, rejects every request waiting on it with an error that says what to
 * do, and the next request starts a new thread.
 *
 * serve() is the thread's side of the same protocol.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';

/** What every request and answer carries; an answer is ok or says why not. */
export type Answer<T> = ({ ok: true } & T) | { ok: false; error: string };

/** A request before it has an id: Omit over each member of the union. */
export type Unnumbered<R> = R extends unknown ? Omit<R, 'id'> : never;

export interface ThreadOptions {
  /** The worker's entry, next to this file, without its extension. */
  entry: 'embedded-read-worker' | 'embedded-write-worker';
  /** Handed to the entry as workerData. */
  data: unknown;
  timeoutMs: number;
  /** Heap of the thread (MB): a runaway request ends that thread, not the broker. */
  memoryMb?: number | undefined;
  /** The thread in the errors: "reader", "writer". */
  role: string;
  /** What to do after a timeout, said in its error. */
  onTimeout: string;
  /** What to do after the thread died, said in its error. */
  onExit: string;
  /**
   * A new thread starts only once the ended one is gone: the writer's, whose connection
   * may hold SQLite's write lock. A reader holds no lock and does not wait: an ended
   * reader may still be inside one long SQLite call, which terminate() cannot interrupt,
   * and the reads after it must not wait for that call to finish.
   */
  waitForEnded: boolean;
}

interface Waiting<T> {
  resolve(answer: T): void;
  reject(error: Error): void;
  /** Armed once the thread is ready: its start (tsx under vitest) is not the request's time. */
  timer: NodeJS.Timeout | null;
}

/**
 * Under vitest this module is TypeScript source and Node 20 cannot run a .ts worker by
 * itself: the worker then registers tsx (a devDependency) before importing the .ts entry.
 * Built code (dist/) starts the compiled .js entry directly.
 */
function startWorker(options: ThreadOptions): Worker {
  const data = {
    workerData: options.data,
    ...(options.memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: options.memoryMb } } : {}),
  };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL(`./${options.entry}.js`, import.meta.url), data);
  const tsx = pathToFileURL(tsxEsmApi()).href;
  const entry = new URL(`./${options.entry}.ts`, import.meta.url).href;
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
  if (!entry) throw new Error('tsx no longer exports ./esm/api: update embedded-thread.ts');
  return join(dirname(manifest), entry);
}

/**
 * Requests are answered in the order they were asked (one thread, one message queue):
 * the writer's batches commit in the order write() was called.
 */
export class WorkerThread<Req extends { id: number }, Reply extends { id: number; ok: boolean }> {
  private worker: Worker | null = null;
  private ready = false;
  /** A thread that was ended: the next one starts once it is gone (its connection closed). */
  private ending: Promise<unknown> = Promise.resolve();
  private readonly waiting = new Map<number, Waiting<Extract<Reply, { ok: true }>>>();
  private nextId = 1;

  constructor(private readonly options: ThreadOptions) {}

  get running(): boolean {
    return this.worker !== null;
  }

  /** The answer when it is ok; an answer that is not rejects with its error. */
  ask(request: Unnumbered<Req>): Promise<Extract<Reply, { ok: true }>> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<Extract<Reply, { ok: true }>>((resolve, reject) => {
      const waiting: Waiting<Extract<Reply, { ok: true }>> = { resolve, reject, timer: null };
      if (this.ready) this.arm(worker, waiting);
      this.waiting.set(id, waiting);
      worker.ref(); // a request keeps the process alive until it is answered
      worker.postMessage({ ...request, id });
    });
  }

  /** Ends the thread; requests still waiting are rejected, the next one starts a new thread. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker)
      this.fail(
        worker,
        new Error(
          `the embedded metrics store was stopped before its ${this.options.role} answered`,
        ),
      );
    await this.ending;
  }

  private arm(worker: Worker, waiting: Waiting<unknown>): void {
    waiting.timer = setTimeout(() => {
      this.fail(
        worker,
        new Error(
          `the embedded metrics store's ${this.options.role} gave no answer within ${this.options.timeoutMs / 1000} s, and was restarted: ${this.options.onTimeout}`,
        ),
      );
    }, this.options.timeoutMs);
  }

  private start(): Worker {
    // Until the previous thread is gone, a new writer waits: a writer that was ended
    // mid-transaction still holds SQLite's write lock until its connection is closed.
    const previous = this.options.waitForEnded ? this.ending : Promise.resolve();
    const worker = startWorker(this.options);
    worker.unref();
    let cause = '';
    worker.on('message', (reply: Reply | 'ready') => {
      if (reply === 'ready') {
        if (this.worker !== worker) return; // an ended thread's late word
        this.ready = true;
        for (const waiting of this.waiting.values()) this.arm(worker, waiting);
        return;
      }
      const waiting = this.waiting.get(reply.id);
      if (!waiting) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (waiting.timer) clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(reply as Extract<Reply, { ok: true }>);
      else waiting.reject(new Error((reply as unknown as { error: string }).error));
    });
    worker.on('error', (error) => {
      cause = `: ${error.message}`;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.fail(
        worker,
        new Error(
          `the embedded metrics store's ${this.options.role} thread stopped (exit code ${code}${cause}) before it answered: ${this.options.onExit}`,
        ),
      );
    });
    void previous.then(() => worker.postMessage('go'));
    this.worker = worker;
    this.ready = false;
    return worker;
  }

  /** Every request waits on the one thread: when it fails, all of them do. */
  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.ending = worker.terminate();
    for (const [id, waiting] of this.waiting) {
      if (waiting.timer) clearTimeout(waiting.timer);
      this.waiting.delete(id);
      waiting.reject(error);
    }
  }
}

/**
 * The thread's side: opens what it needs once the previous thread of its kind is gone
 * ("go"), says "ready", then answers each request in turn with handle()'s result, or
 * with the message of what it threw.
 */
export function serve<Req extends { id: number }, Result extends object>(
  open: () => (request: Req) => Result,
): void {
  const port = parentPort;
  if (!port) throw new Error('this module runs as a worker thread (embedded-thread.ts)');
  let handle: ((request: Req) => Result) | null = null;
  const early: Req[] = [];
  const answer = (request: Req): void => {
    let reply: { id: number } & Answer<object>;
    try {
      reply = { id: request.id, ok: true, ...(handle as (request: Req) => Result)(request) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: (error as Error).message };
    }
    port.postMessage(reply);
  };
  port.on('message', (message: Req | 'go') => {
    if (message !== 'go') {
      if (handle) answer(message);
      else early.push(message);
      return;
    }
    handle = open();
    port.postMessage('ready');
    for (const request of early.splice(0)) answer(request);
  });
}
