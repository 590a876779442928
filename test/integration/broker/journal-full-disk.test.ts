/**
 * The ingest journal on a disk that fills up: a real (tmpfs) file system of 64 KiB, so
 * the kernel answers ENOSPC part-way through a write as it would on a full gateway or
 * NOC disk. What was acknowledged must all come back after a restart, in order, and
 * what was refused must not; once there is room again, appends go on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { root, skipReason, titled } from '../../helpers/requires.js';
import { FileJournal } from '../../../broker/journal/journal.js';
import type { JournalEntry } from '../../../broker/journal/types.js';

const entry = (n: number): JournalEntry => ({
  topic: `vigil/v1/site-a/devices/cam-${n % 50}/metrics`,
  // About 1 KiB each: a 64 KiB file system fills within a few dozen.
  payload: Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(1000) })),
  clientId: 'site-a.gw-01',
  agent: { siteId: 'site-a', agentId: 'gw-01' },
  receivedAt: new Date(1_700_000_000_000 + n),
});

// Mounting a small tmpfs needs root (CI and this project's machines run as root).
const notRoot = skipReason(root);

describe.skipIf(notRoot !== null)(titled('ingest journal on a full disk', notRoot), () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-journal-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  });
  afterEach(async () => {
    // Lazy: detached even when a failed test left a file of the journal open.
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses with the reason once full, keeps every acknowledged record, and goes on when there is room', async () => {
    const journal = new FileJournal({ dir, checkpointIntervalMs: 60_000 });
    await journal.start();
    const acknowledged: number[] = [];
    const refused: string[] = [];
    // Appends in small groups, as several clients would, until the disk is full for a while.
    for (let n = 1; refused.length < 10 && n < 500; n += 3) {
      const results = await Promise.allSettled(
        [n, n + 1, n + 2].map((i) => journal.append(entry(i))),
      );
      for (const result of results) {
        if (result.status === 'fulfilled') acknowledged.push(result.value);
        else refused.push(String(result.reason));
      }
    }
    expect(acknowledged.length).toBeGreaterThan(20);
    expect(refused[0]).toMatch(/cannot write the ingest journal: .*ENOSPC/);

    // An operator frees space (here: the file system grows); appends are taken again.
    execFileSync('mount', ['-o', 'remount,size=1m', dir]);
    for (let n = 1000; n < 1010; n++) acknowledged.push(await journal.append(entry(n)));
    await journal.stop();

    const again = new FileJournal({ dir });
    const replayed = await again.start();
    // Nothing was finished: every acknowledged record comes back, once, in order.
    expect(replayed.map((record) => record.id)).toEqual(acknowledged);
    expect(replayed.at(-1)?.payload.toString()).toContain('"n":1009');
    await again.stop();
  });
});
