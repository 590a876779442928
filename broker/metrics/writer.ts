/**
 * Batches readings on their way to the metrics store: a batch goes out when `batchSize`
 * points are waiting or 1 s after the first one, whichever comes first, with up to
 * `concurrency` batches in flight so one slow write does not hold the others back.
 *
 * Why 1000 points and not InfluxDB's advice of 5000-10000: a batch is turned into line
 * protocol on the event loop, in one piece, and every MQTT connection waits behind it.
 * In bench:broker at 10,000 msg/s, 5000-point batches stalled the loop for up to 65 ms
 * (serialisation plus the garbage it leaves) and PUBACK p99 was 140-333 ms; 1000-point
 * batches gave 75-95 ms at the same CPU per message. InfluxDB still takes 1000-point
 * batches at hundreds of thousands of points per second (the ceiling bench:broker prints).
 *
 * Nothing is dropped: `add()` resolves once the points are written, and a failed batch is
 * retried with a growing delay (1 s, 2 s, 4 s ... at most 30 s) while new batches wait,
 * so a store that is down receives one probe at a time, not a storm. The memory bound is
 * the ingest journal's (broker/journal/): it refuses new messages when full, and a
 * message is finished in the journal only when this writer resolved its points, so what
 * is still here at a crash or stop is replayed on the next start.
 */
import type { Log } from '../log.js';
import type { MetricPoint, MetricsStore } from './store.js';

export interface MetricsWriterOptions {
  /** Points per write; default 1000 (above). */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Batches written at the same time while the store answers; default 4. */
  concurrency?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Told of each batch once the store holds it (before its add() calls resolve): the
   * report cache drops the past periods a late reading falls in (broker/inspection/cache.ts).
   * Runs on the event loop for every batch: keep it quick; what it throws is logged.
   */
  onWritten?: (points: readonly MetricPoint[]) => void;
}

export interface MetricsWriterStats {
  /** Waiting to be written (queued and in flight). */
  buffered: number;
  /** Batches being written now. */
  inFlight: number;
  written: number;
  failedWrites: number;
  /** The error of the last failed write, until a write succeeds. */
  lastError: string | null;
  /** Milliseconds the last successful write took. */
  lastWriteMs: number;
}

interface Item {
  points: MetricPoint[];
  resolve: () => void;
}

export class MetricsWriter {
  private queue: Item[] = [];
  private queuedPoints = 0;
  private inFlightPoints = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** The oldest queued point has waited flushIntervalMs: send a partial batch. */
  private due = false;
  private retryDelayMs = 0;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly stats_ = {
    written: 0,
    failedWrites: 0,
    lastError: null as string | null,
    lastWriteMs: 0,
  };
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly concurrency: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly onWritten: ((points: readonly MetricPoint[]) => void) | undefined;
  private onWrittenError: string | null = null;

  constructor(
    private readonly store: MetricsStore,
    private readonly log: Log,
    options: MetricsWriterOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.concurrency = options.concurrency ?? 4;
    this.retryMinMs = options.retryMinMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.onWritten = options.onWritten;
  }

  get stats(): MetricsWriterStats {
    return {
      buffered: this.queuedPoints + this.inFlightPoints,
      inFlight: this.inFlight,
      ...this.stats_,
    };
  }

  /** Resolves once the points are in the store; stays pending if the writer stops first. */
  add(points: MetricPoint[]): Promise<void> {
    if (this.stopped) return new Promise(() => {});
    if (points.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.queue.push({ points, resolve });
      this.queuedPoints += points.length;
      if (!this.timer && !this.due) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.due = true;
          this.pump();
        }, this.flushIntervalMs);
      }
      this.pump();
    });
  }

  /**
   * Writes everything waiting; resolves when done, or when a write failed (the points
   * stay and are retried). For shutdown and tests.
   */
  async flush(): Promise<void> {
    const failuresBefore = this.stats_.failedWrites;
    this.due = true;
    this.pump();
    while (this.queuedPoints + this.inFlight > 0 && this.stats_.failedWrites === failuresBefore) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.due = true;
      this.pump();
    }
  }

  /** Writes what it can and stops the timers; what is left stays in the journal. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    const left = this.queuedPoints + this.inFlightPoints;
    if (left > 0) {
      this.log.warn(
        `${left} readings are not written to the ${this.store.kind} metrics store yet; the ingest journal keeps them for the next start`,
      );
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Starts batches while there are slots and something worth sending. */
  private pump(): void {
    while (
      !this.stopped &&
      this.retryDelayMs === 0 &&
      this.inFlight < this.concurrency &&
      (this.queuedPoints >= this.batchSize || (this.due && this.queuedPoints > 0))
    ) {
      let take = 0;
      let size = 0;
      while (take < this.queue.length && size < this.batchSize) {
        size += this.queue[take]!.points.length;
        take++;
      }
      // One splice, not a shift per item: the queue can hold hundreds of thousands.
      const items = this.queue.splice(0, take);
      this.queuedPoints -= size;
      this.inFlightPoints += size;
      this.inFlight++;
      void this.send(items, size);
    }
    if (this.queuedPoints === 0) this.due = false;
  }

  private async send(items: Item[], size: number): Promise<void> {
    const batch = items.length === 1 ? items[0]!.points : items.flatMap((item) => item.points);
    for (;;) {
      const started = performance.now();
      try {
        await this.store.write(batch);
        this.stats_.lastWriteMs = performance.now() - started;
        break;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (this.stats_.lastError === null) {
          this.log.warn(
            `cannot write to the ${this.store.kind} metrics store (${message}); ${this.queuedPoints + this.inFlightPoints} readings wait and are retried`,
          );
        }
        this.stats_.failedWrites++;
        this.stats_.lastError = message;
        this.retryDelayMs = Math.min(
          this.retryDelayMs ? this.retryDelayMs * 2 : this.retryMinMs,
          this.retryMaxMs,
        );
        this.wake();
        const delay = this.retryDelayMs;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.retryTimers.delete(timer);
            resolve();
          }, delay);
          this.retryTimers.add(timer);
        });
        if (this.stopped) return;
      }
    }
    this.inFlight--;
    this.inFlightPoints -= size;
    this.stats_.written += size;
    if (this.stats_.lastError !== null) {
      this.log.info(`the ${this.store.kind} metrics store accepts writes again`);
      this.stats_.lastError = null;
    }
    this.retryDelayMs = 0;
    if (this.onWritten) {
      try {
        this.onWritten(batch);
      } catch (error) {
        // A bug, not a cause that comes and goes: one line for each new message.
        const message = error instanceof Error ? error.message : String(error);
        if (message !== this.onWrittenError) this.log.error(`after a write: ${message}`);
        this.onWrittenError = message;
      }
    }
    for (const item of items) item.resolve();
    this.pump();
    this.wake();
  }
}
