/**
 * The file journal: the ingest journal conformance suite, and what only files do (a torn
 * record at the end, a segment left empty by a crash, the files earlier versions wrote).
 */
import fs from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileJournal } from '../../../../broker/journal/journal.js';
import { journalEntry as entry, journalSuite } from '../../../suites/journal.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/segment-log/', import.meta.url));

journalSuite('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-journal-'));
  return {
    // Small segments when a small limit is asked: a segment goes only once all of it is finished.
    make: (options = {}) =>
      new FileJournal({
        dir,
        ...options,
        ...(options.maxBytes !== undefined ? { segmentBytes: 150 } : {}),
      }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('file journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const segments = async (): Promise<string[]> =>
    (await readdir(dir)).filter((name) => name.startsWith('seg-')).sort();

  it('resolves an append (lets the PUBACK go) only once the fdatasync of its write returned', async () => {
    const journal = new FileJournal({ dir });
    await journal.start();
    // fdatasync held until the test lets it complete (node:fs's live ESM bindings follow
    // the CommonJS exports after syncBuiltinESMExports).
    const real = fs.fdatasync;
    const held: (() => void)[] = [];
    fs.fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => real(fd, callback));
    }) as typeof fs.fdatasync;
    syncBuiltinESMExports();
    try {
      let acknowledged = false;
      const appended = journal.append(entry(1)).then((id) => {
        acknowledged = true;
        return id;
      });
      const until = Date.now() + 5000;
      while (held.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(held).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 50));
      expect(acknowledged).toBe(false);
      held.shift()!();
      expect(await appended).toBe(1);
      expect(journal.stats.commits).toBe(1);
    } finally {
      fs.fdatasync = real;
      syncBuiltinESMExports();
    }
    await journal.stop();
  });

  it('ignores a torn record at the end (killed mid-write, never acknowledged)', async () => {
    const journal = new FileJournal({ dir });
    await journal.start();
    await journal.append(entry(1));
    await journal.append(entry(2));
    await journal.stop();
    const [segment] = await segments();
    const file = join(dir, segment!);
    await truncate(file, (await stat(file)).size - 3);
    const again = new FileJournal({ dir });
    expect((await again.start()).map((record) => record.id)).toEqual([1]);
    // Id 2 was never acknowledged: it is given again, and read back after the next restart.
    expect(await again.append(entry(3))).toBe(2);
    await again.stop();
    const third = new FileJournal({ dir });
    expect(await third.start()).toEqual([
      { id: 1, ...entry(1) },
      { id: 2, ...entry(3) },
    ]);
    await third.stop();
  });

  it('keeps appending safely after a crash left an empty segment behind', async () => {
    const crashed: FileJournal[] = [];
    for (let run = 0; run < 3; run++) {
      const journal = new FileJournal({ dir, checkpointIntervalMs: 5 });
      crashed.push(journal);
      const unfinished = await journal.start();
      expect(unfinished.map((record) => record.id)).toEqual(run === 0 ? [] : [1]);
      if (run === 0) await journal.append(entry(1)); // never finished
      // No stop(): each run ends as a crash would.
    }
    expect((await segments()).length).toBeLessThanOrEqual(2);
    for (const journal of crashed) await journal.stop();
  });

  it('deletes the segments whose every record is finished, at the checkpoint and at start', async () => {
    const journal = new FileJournal({ dir, segmentBytes: 150, checkpointIntervalMs: 60_000 });
    await journal.start();
    for (let n = 1; n <= 6; n++) await journal.append(entry(n));
    expect(await segments()).toHaveLength(3);
    for (let n = 1; n <= 4; n++) journal.finish(n);
    await journal.stop();
    // Records 1-4 are in the first two segments; the one still being written stays.
    expect(await segments()).toEqual(['seg-0000000000000005.log']);
    const again = new FileJournal({ dir, segmentBytes: 150 });
    expect((await again.start()).map((record) => record.id)).toEqual([5, 6]);
    again.finish(5);
    again.finish(6);
    await again.stop();
    // At start nothing writes yet, so the last segment goes too once all of it is finished.
    const third = new FileJournal({ dir, segmentBytes: 150 });
    expect(await third.start()).toEqual([]);
    expect(await segments()).toEqual([]);
    expect(third.stats.bytes).toBe(0);
    expect(await third.append(entry(7))).toBe(7);
    await third.stop();
  });

  it('reads the journal an earlier version wrote (a broker upgraded in place)', async () => {
    await mkdir(dir, { recursive: true });
    for (const name of [
      'seg-0000000000000001.log',
      'seg-0000000000000004.log',
      'checkpoint.json',
    ]) {
      await copyFile(
        join(FIXTURES, `journal-${name.replace(/\.log$/, '.log.bin')}`),
        join(dir, name),
      );
    }
    const journal = new FileJournal({ dir });
    expect(await journal.start()).toEqual([2, 3, 4].map((id) => ({ id, ...entry(id) })));
    expect(journal.counters).toEqual({ duplicates: 2 });
    expect(await journal.append(entry(5))).toBe(5);
    await journal.stop();
  });
});
