import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Log } from '../../../../broker/log.js';
import type { MetricPoint, MetricsStore } from '../../../../broker/metrics/store.js';
import { MetricsWriter } from '../../../../broker/metrics/writer.js';

/** A store that records batches and fails while `down` is set. */
class FakeStore implements MetricsStore {
  readonly kind = 'fake';
  batches: MetricPoint[][] = [];
  down = false;
  async start() {}
  async stop() {}
  async write(points: MetricPoint[]) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
    this.batches.push([...points]);
  }
  async query() {
    return [];
  }
  async trend() {
    return [];
  }
  async trendBy() {
    return new Map();
  }
  async ping() {
    return !this.down;
  }
  get written(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }
}

const point = (i: number): MetricPoint => ({
  measurement: 'device',
  tags: { device: `cam-${i}` },
  fields: { up: true },
  time: new Date(i),
});
const points = (n: number, from = 0) => Array.from({ length: n }, (_, i) => point(from + i));

describe('metrics writer', () => {
  let store: FakeStore;
  let lines: string[];
  let log: Log;

  beforeEach(() => {
    vi.useFakeTimers();
    store = new FakeStore();
    lines = [];
    log = { info: (l) => lines.push(l), warn: (l) => lines.push(l), error: (l) => lines.push(l) };
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a second after the first point when the batch is small', async () => {
    const writer = new MetricsWriter(store, log);
    void writer.add(points(3));
    await vi.advanceTimersByTimeAsync(999);
    expect(store.written).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.batches).toEqual([points(3)]);
  });

  it('writes at once in batches of 1000', async () => {
    const writer = new MetricsWriter(store, log);
    // One reading per message, as the pipeline adds them.
    for (let i = 0; i < 2_500; i++) void writer.add([point(i)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.batches.map((b) => b.length)).toEqual([1000, 1000]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(writer.stats).toMatchObject({ buffered: 0, written: 2_500, inFlight: 0 });
  });

  it('keeps the points of a failed write and retries with a growing delay until the store is back', async () => {
    const writer = new MetricsWriter(store, log);
    store.down = true;
    void writer.add(points(10));
    await vi.advanceTimersByTimeAsync(1000); // first try fails
    expect(writer.stats).toMatchObject({ buffered: 10, failedWrites: 1 });
    await vi.advanceTimersByTimeAsync(1000); // retry after 1 s fails
    await vi.advanceTimersByTimeAsync(2000); // retry after 2 s fails
    expect(writer.stats.failedWrites).toBe(3);
    void writer.add(points(5, 10));
    store.down = false;
    await vi.advanceTimersByTimeAsync(3999);
    expect(store.written).toBe(0); // the next retry is 4 s after the last failure
    await vi.advanceTimersByTimeAsync(1);
    // The failed batch as it was, then the points that waited behind it.
    expect(store.batches).toEqual([points(10), points(5, 10)]);
    expect(writer.stats).toMatchObject({ buffered: 0, written: 15, lastError: null });
    // One line when it broke and one when it came back, not one per retry.
    expect(lines).toEqual([
      expect.stringMatching(
        /^cannot write to the fake metrics store \(connect ECONNREFUSED.*\); 10 readings wait and are retried/,
      ),
      'the fake metrics store accepts writes again',
    ]);
  });

  it('resolves add() only once the points are written, so the journal can finish them', async () => {
    const writer = new MetricsWriter(store, log);
    store.down = true;
    let written = false;
    void writer.add(points(150)).then(() => (written = true));
    await vi.advanceTimersByTimeAsync(5000);
    expect(written).toBe(false);
    expect(writer.stats.buffered).toBe(150);
    store.down = false;
    await vi.advanceTimersByTimeAsync(8000);
    expect(written).toBe(true);
    expect(store.batches).toEqual([points(150)]);
  });

  it('keeps several batches in flight while the store is slow', async () => {
    let running = 0;
    let most = 0;
    store.write = async (batch: MetricPoint[]) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running--;
      store.batches.push([...batch]);
    };
    const writer = new MetricsWriter(store, log, { concurrency: 3 });
    for (let i = 0; i < 20; i++) void writer.add(points(1000, i * 1000));
    await vi.advanceTimersByTimeAsync(1000);
    expect(most).toBe(3);
    expect(store.written).toBe(20_000);
  });

  it('flushes everything on stop', async () => {
    const writer = new MetricsWriter(store, log);
    void writer.add(points(7));
    await writer.stop();
    expect(store.written).toBe(7);
    void writer.add(points(1));
    expect(writer.stats.buffered).toBe(0);
  });

  it('says how many readings are lost when the store is down at stop', async () => {
    const writer = new MetricsWriter(store, log);
    store.down = true;
    void writer.add(points(7));
    await writer.stop();
    expect(lines.at(-1)).toBe(
      '7 readings are not written to the fake metrics store yet; the ingest journal keeps them for the next start',
    );
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells onWritten of each batch once it is in the store, not of failed attempts', async () => {
    const told: number[][] = [];
    const writer = new MetricsWriter(store, log, {
      onWritten: (batch) => {
        told.push(batch.map((p) => p.time.getTime()));
        // The report cache hears of a batch before the journal may finish its messages.
        expect(resolved).toBe(false);
      },
    });
    let resolved = false;
    store.down = true;
    void writer.add(points(3)).then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(told).toEqual([]);
    store.down = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(told).toEqual([[0, 1, 2]]);
    expect(resolved).toBe(true);
  });

  it('logs a failing onWritten once per message and still resolves the points', async () => {
    const writer = new MetricsWriter(store, log, {
      onWritten: () => {
        throw new Error('cache broken');
      },
    });
    const first = writer.add(points(2));
    await vi.advanceTimersByTimeAsync(1000);
    await first;
    const second = writer.add(points(2, 10));
    await vi.advanceTimersByTimeAsync(1000);
    await second;
    expect(store.written).toBe(4);
    expect(lines.filter((l) => l.includes('cache broken'))).toEqual([
      'after a write: cache broken',
    ]);
  });
});
