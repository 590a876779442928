/**
 * The conformance suite every ingest journal passes (broker/journal/types.ts, STYLE
 * habit 8): what broker/app.ts relies on, so that the file journal and a database-backed
 * one cannot be told apart by the broker.
 *
 * `open()` returns a fresh storage; `make(options)` an unstarted journal over it, as many
 * times as asked (a restart). A crash is a journal dropped without stop(): only what its
 * storage holds counts. `maxBytes` asks for a journal that is full after a few of the
 * suite's ~150-byte entries (well under 10).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestJournal, JournalEntry } from '../../broker/journal/types.js';

export interface JournalUnderTest {
  make(options?: { maxBytes?: number; checkpointIntervalMs?: number }): IngestJournal;
  dispose(): Promise<void>;
}

export const journalEntry = (n: number): JournalEntry => ({
  topic: `vigil/v1/site-a/devices/cam-${n}/metrics`,
  payload: Buffer.from(JSON.stringify({ n })),
  clientId: 'site-a.gw-01',
  agent: { siteId: 'site-a', agentId: 'gw-01' },
  receivedAt: new Date(1_700_000_000_000 + n),
});

export function journalSuite(name: string, open: () => Promise<JournalUnderTest>): void {
  describe(`ingest journal conformance: ${name}`, () => {
    const opened: JournalUnderTest[] = [];
    const journals: IngestJournal[] = [];
    async function storage(): Promise<JournalUnderTest> {
      const under = await open();
      opened.push(under);
      return under;
    }
    function journal(
      under: JournalUnderTest,
      options?: Parameters<JournalUnderTest['make']>[0],
    ): IngestJournal {
      const made = under.make(options);
      journals.push(made);
      return made;
    }
    afterEach(async () => {
      for (const made of journals.splice(0)) await made.stop();
      for (const under of opened.splice(0)) await under.dispose();
    });

    it('gives back, after a restart, exactly the appended records that were not finished, in order', async () => {
      const under = await storage();
      const first = journal(under);
      expect(await first.start()).toEqual([]);
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => first.append(journalEntry(n))));
      expect(ids).toEqual([1, 2, 3, 4, 5]);
      first.finish(1);
      first.finish(3); // out of order: 2 is still running
      await first.stop();

      const again = journal(under);
      const unfinished = await again.start();
      // 3 finished but 2 did not: the checkpoint stays at 1, so 3 comes back too (dedupe drops it).
      expect(unfinished.map((record) => record.id)).toEqual([2, 3, 4, 5]);
      expect(unfinished[0]).toEqual({ id: 2, ...journalEntry(2) });
      // New ids continue after the old ones.
      expect(await again.append(journalEntry(6))).toBe(6);
    });

    it('keeps a message without an agent as it was', async () => {
      const under = await storage();
      const first = journal(under);
      await first.start();
      const { agent: _, ...anonymous } = journalEntry(1);
      await first.append({ ...anonymous, payload: Buffer.from([0, 255, 10]) });
      await first.stop();
      const again = journal(under);
      expect(await again.start()).toEqual([
        { id: 1, ...anonymous, payload: Buffer.from([0, 255, 10]) },
      ]);
    });

    it('has every append that resolved (the PUBACK went out) after a crash, and nothing finished before it', async () => {
      const under = await storage();
      const first = journal(under, { checkpointIntervalMs: 10 });
      await first.start();
      for (let n = 1; n <= 10; n++) await first.append(journalEntry(n));
      for (let n = 1; n <= 7; n++) first.finish(n);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // No stop(): as after a SIGKILL, only what is stored counts.
      const again = journal(under);
      expect((await again.start()).map((record) => record.id)).toEqual([8, 9, 10]);
    });

    it('replays an unfinished record after every crash until it is finished', async () => {
      const under = await storage();
      const first = journal(under, { checkpointIntervalMs: 5 });
      expect(await first.start()).toEqual([]);
      await first.append(journalEntry(1));
      for (let run = 0; run < 2; run++) {
        const again = journal(under, { checkpointIntervalMs: 5 });
        expect((await again.start()).map((record) => record.id)).toEqual([1]);
      }
      const last = journal(under, { checkpointIntervalMs: 5 });
      expect((await last.start()).map((record) => record.id)).toEqual([1]);
      last.finish(1);
      await last.stop();
      expect(await journal(under).start()).toEqual([]);
    });

    it('refuses appends while full and says what to do, then takes them again once drained', async () => {
      const under = await storage();
      const first = journal(under, { maxBytes: 400 });
      await first.start();
      const ids: number[] = [];
      let refusal: unknown = null;
      for (let n = 1; n <= 10 && refusal === null; n++) {
        await first.append(journalEntry(n)).then(
          (id) => ids.push(id),
          (error: unknown) => (refusal = error),
        );
      }
      expect(ids.length).toBeGreaterThan(0);
      expect(refusal).toMatchObject({
        code: 'VIGIL_JOURNAL_FULL',
        message: expect.stringMatching(/limit 400.*metrics store/),
      });
      expect(first.full).toBe(true);
      expect(first.stats).toMatchObject({ full: true, refused: 1, appended: ids.length });
      for (const id of ids) first.finish(id);
      await first.stop(); // lets go of what is finished
      const again = journal(under, { maxBytes: 400 });
      expect(await again.start()).toEqual([]);
      expect(again.stats.full).toBe(false);
      await expect(again.append(journalEntry(99))).resolves.toBeGreaterThan(ids.length);
    });

    it('commits many appends with few fsyncs (group commit)', async () => {
      const under = await storage();
      const first = journal(under);
      await first.start();
      await Promise.all(Array.from({ length: 1000 }, (_, n) => first.append(journalEntry(n))));
      expect(first.stats.appended).toBe(1000);
      expect(first.stats.commits).toBeGreaterThan(0);
      expect(first.stats.commits).toBeLessThan(50);
    });

    it('counts depth and finished, and keeps its counters across a restart', async () => {
      const under = await storage();
      const first = journal(under);
      await first.start();
      for (let n = 1; n <= 4; n++) await first.append(journalEntry(n));
      first.finish(2);
      first.count('duplicates');
      first.count('duplicates', 2);
      expect(first.stats).toMatchObject({ depth: 4, appended: 4, finished: 1, full: false });
      first.finish(1);
      expect(first.stats).toMatchObject({ depth: 2, finished: 2 });
      first.finish(1); // already below the checkpoint: nothing
      expect(first.stats.finished).toBe(2);
      expect(first.counters).toEqual({ duplicates: 3 });
      await first.stop();
      const again = journal(under);
      await again.start();
      expect(again.counters).toEqual({ duplicates: 3 });
      expect(again.stats.depth).toBe(2);
    });

    it('refuses appends once stopped', async () => {
      const under = await storage();
      const first = journal(under);
      await first.start();
      await first.stop();
      await expect(first.append(journalEntry(1))).rejects.toThrow(/stopped/);
    });
  });
}
