/**
 * Batches readings on their way to the metrics store: a write goes out when 5000 points
 * are waiting or 1 s after the first one, whichever comes first (InfluxDB's advice is
 * batches of 5000-10000 points). A failed write keeps its points in memory and is
 * retried with a growing delay (1 s, 2 s, 4 s ... at most 60 s), so a restarted InfluxDB
 * loses nothing. Memory is bounded by `maxBuffered`: past it the oldest points go and
 * are counted as dropped. Surviving a broker restart is the journal's job (a later issue).
 */
import type { Log } from '../log.js';
import type { MetricPoint, MetricsStore } from './store.js';

export interface MetricsWriterOptions {
  batchSize?: number;
  flushIntervalMs?: number;
  maxBuffered?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface MetricsWriterStats {
  /** Waiting to be written. */
  buffered: number;
  written: number;
  failedWrites: number;
  dropped: number;
  /** The error of the last failed write, until a write succeeds. */
  lastError: string | null;
}

export class MetricsWriter {
  private buffer: MetricPoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<number | null> | null = null;
  /** Points at the head of the buffer that a write in flight carries. */
  private inFlight = 0;
  private retryDelayMs = 0;
  /** A flush() is writing: the timer stays off so no batch goes out twice. */
  private flushing = false;
  private stopped = false;
  private readonly stats_: MetricsWriterStats = {
    buffered: 0,
    written: 0,
    failedWrites: 0,
    dropped: 0,
    lastError: null,
  };
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly store: MetricsStore,
    private readonly log: Log,
    options: MetricsWriterOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 5000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 1_000_000;
    this.retryMinMs = options.retryMinMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
  }

  get stats(): MetricsWriterStats {
    return { ...this.stats_, buffered: this.buffer.length };
  }

  add(points: MetricPoint[]): void {
    if (this.stopped || points.length === 0) return;
    this.buffer.push(...points);
    const excess = this.buffer.length - this.maxBuffered;
    if (excess > 0) {
      // The oldest points that are not part of a write in flight.
      this.buffer.splice(this.inFlight, excess);
      this.stats_.dropped += excess;
    }
    if (this.buffer.length >= this.batchSize && this.retryDelayMs === 0) this.kick(0);
    else this.kick(this.flushIntervalMs);
  }

  /**
   * Writes everything waiting, once per batch; resolves when done or when a write
   * failed (the points stay buffered). For shutdown and tests.
   */
  async flush(): Promise<void> {
    this.flushing = true;
    try {
      this.clearTimer();
      if (this.writing) await this.writing;
      this.clearTimer();
      while (this.buffer.length > 0) {
        if (!(await this.writeBatch())) break;
      }
    } finally {
      this.flushing = false;
    }
    if (this.buffer.length > 0) this.kick(this.retryDelayMs || this.retryMinMs);
  }

  /** Flushes what it can and stops the timers. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    this.clearTimer();
    if (this.buffer.length > 0) {
      this.log.warn(
        `${this.buffer.length} readings could not be written to the ${this.store.kind} metrics store and are lost`,
      );
    }
  }

  /** Schedules a write in `delayMs` unless one is scheduled or running already. */
  private kick(delayMs: number): void {
    if (this.stopped || this.writing || this.flushing) return;
    if (this.timer && delayMs > 0) return;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      const writing = this.drain();
      this.writing = writing;
      void writing.then((nextDelayMs) => {
        this.writing = null;
        if (nextDelayMs !== null) this.kick(nextDelayMs);
      });
    }, delayMs);
  }

  /** Writes full batches while there are; returns when to try again, or null if all is written. */
  private async drain(): Promise<number | null> {
    while (this.buffer.length > 0 && !this.stopped) {
      const ok = await this.writeBatch();
      if (!ok) {
        this.retryDelayMs = Math.min(
          this.retryDelayMs ? this.retryDelayMs * 2 : this.retryMinMs,
          this.retryMaxMs,
        );
        return this.retryDelayMs;
      }
      if (this.buffer.length < this.batchSize) break;
    }
    return this.buffer.length > 0 ? this.flushIntervalMs : null;
  }

  /** Writes the oldest batch; true on success. */
  private async writeBatch(): Promise<boolean> {
    const batch = this.buffer.slice(0, this.batchSize);
    this.inFlight = batch.length;
    try {
      await this.store.write(batch);
    } catch (error) {
      this.inFlight = 0;
      const message = error instanceof Error ? error.message : String(error);
      if (this.stats_.lastError === null) {
        this.log.warn(
          `cannot write to the ${this.store.kind} metrics store (${message}); ${this.buffer.length} readings wait and are retried`,
        );
      }
      this.stats_.failedWrites++;
      this.stats_.lastError = message;
      return false;
    }
    // Points added while the write was in flight stay behind the batch.
    this.buffer.splice(0, batch.length);
    this.inFlight = 0;
    this.stats_.written += batch.length;
    if (this.stats_.lastError !== null) {
      this.log.info(`the ${this.store.kind} metrics store accepts writes again`);
      this.stats_.lastError = null;
    }
    this.retryDelayMs = 0;
    return true;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
