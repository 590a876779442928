import { performance } from 'node:perf_hooks';
import { createServer, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loopSlices } from '../../../lib/loop-slices.js';

/** Keeps the thread busy for `ms`, as merging rows does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('loopSlices', () => {
  it('lets a socket answered during long work be served before the work ends', async () => {
    // What the broker needs: an agent's packet arriving while a report is being merged is
    // handled between slices, not after the whole merge.
    const server = createServer((socket) => socket.end('puback'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    let answeredAtStep: number | null = null;
    let step = 0;
    const client = connect(port, '127.0.0.1');
    client.on('data', () => (answeredAtStep ??= step));
    await new Promise((resolve) => client.once('connect', resolve));

    const slices = loopSlices(5);
    for (step = 0; step < 100; step++) {
      busy(1);
      await slices.pause();
    }
    client.destroy();
    server.close();
    expect(answeredAtStep).not.toBeNull();
    expect(answeredAtStep!).toBeLessThan(100);
    expect(slices.pauses).toBeGreaterThan(0);
  });

  it('does not give way while the slice has time left', async () => {
    const slices = loopSlices(60_000);
    let ranBetween = false;
    setImmediate(() => (ranBetween = true));
    for (let i = 0; i < 1000; i++) await slices.pause();
    expect(ranBetween).toBe(false);
    expect(slices.pauses).toBe(0);
  });
});
