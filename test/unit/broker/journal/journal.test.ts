import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, type JournalEntry } from '../../../../broker/journal/journal.js';

const entry = (n: number): JournalEntry => ({
  topic: `vigil/v1/site-a/devices/cam-${n}/metrics`,
  payload: Buffer.from(JSON.stringify({ n })),
  clientId: 'site-a.gw-01',
  agent: { siteId: 'site-a', agentId: 'gw-01' },
  receivedAt: new Date(1_700_000_000_000 + n),
});

describe('ingest journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives back, after a restart, exactly the appended records that were not finished, in order', async () => {
    const journal = new Journal({ dir });
    expect(await journal.start()).toEqual([]);
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => journal.append(entry(n))));
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    journal.finish(1);
    journal.finish(3); // out of order: 2 is still running
    await journal.stop();

    const again = new Journal({ dir });
    const unfinished = await again.start();
    // 3 finished but 2 did not: the checkpoint stays at 1, so 3 comes back too (dedupe drops it).
    expect(unfinished.map((record) => record.id)).toEqual([2, 3, 4, 5]);
    expect(unfinished[0]).toEqual({ id: 2, ...entry(2) });
    // New ids continue after the old ones.
    expect(await again.append(entry(6))).toBe(6);
    await again.stop();
  });

  it('replays from the checkpoint even when the process never stopped cleanly', async () => {
    const journal = new Journal({ dir, checkpointIntervalMs: 10 });
    await journal.start();
    for (let n = 1; n <= 10; n++) await journal.append(entry(n));
    for (let n = 1; n <= 7; n++) journal.finish(n);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // No stop(): as after a SIGKILL, only what is on disk counts.
    const again = new Journal({ dir });
    expect((await again.start()).map((record) => record.id)).toEqual([8, 9, 10]);
    await again.stop();
    await journal.stop();
  });

  it('ignores a torn record at the end (killed mid-write, never acknowledged)', async () => {
    const journal = new Journal({ dir });
    await journal.start();
    await journal.append(entry(1));
    await journal.append(entry(2));
    await journal.stop();
    const [segment] = (await readdir(dir)).filter((name) => name.startsWith('seg-'));
    const file = join(dir, segment!);
    await truncate(file, (await stat(file)).size - 3);
    const again = new Journal({ dir });
    expect((await again.start()).map((record) => record.id)).toEqual([1]);
    await again.stop();
  });

  it('keeps appending safely after a crash left an empty segment behind', async () => {
    const crashed: Journal[] = [];
    for (let run = 0; run < 3; run++) {
      const journal = new Journal({ dir, checkpointIntervalMs: 5 });
      crashed.push(journal);
      const unfinished = await journal.start();
      expect(unfinished.map((record) => record.id)).toEqual(run === 0 ? [] : [1]);
      if (run === 0) await journal.append(entry(1)); // never finished
      // No stop(): each run ends as a crash would, its new segment still empty.
    }
    const files = (await readdir(dir)).filter((name) => name.startsWith('seg-'));
    expect(files.length).toBeLessThanOrEqual(2);
    for (const journal of crashed) await journal.stop();
  });

  it('refuses appends while full and says what to do, then takes them again once drained', async () => {
    const journal = new Journal({ dir, maxBytes: 400, segmentBytes: 150 });
    await journal.start();
    const ids: number[] = [];
    let refusal: unknown = null;
    for (let n = 1; n <= 10 && refusal === null; n++) {
      await journal.append(entry(n)).then(
        (id) => ids.push(id),
        (error: unknown) => (refusal = error),
      );
    }
    expect(refusal).toMatchObject({ code: 'VIGIL_JOURNAL_FULL' });
    expect(journal.stats).toMatchObject({ full: true, refused: 1 });
    for (const id of ids) journal.finish(id);
    await journal.stop(); // writes the checkpoint, which deletes the finished segments
    const again = new Journal({ dir, maxBytes: 400, segmentBytes: 150 });
    expect(await again.start()).toEqual([]);
    expect(again.stats.full).toBe(false);
    await expect(again.append(entry(99))).resolves.toBeGreaterThan(ids.length);
    await again.stop();
  });

  it('commits many appends with few fsyncs (group commit)', async () => {
    const journal = new Journal({ dir });
    await journal.start();
    await Promise.all(Array.from({ length: 1000 }, (_, n) => journal.append(entry(n))));
    expect(journal.stats.appended).toBe(1000);
    expect(journal.stats.commits).toBeLessThan(50);
    await journal.stop();
  });
});
