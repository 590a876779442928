/**
 * The conformance suite every spool backend passes (telegraf's buffer suite, STYLE habit 8):
 * what the uplink relies on, checked the same way against the memory and the disk spool.
 *
 * `open(maxBytes)` returns a fresh, unstarted spool; `reopen` returns a new spool on the
 * same storage, as after a restart of the agent. A backend says what it can do
 * (`capabilities`), and only the cases it can run are registered: a case that skips or
 * passes without checking anything would look like coverage.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Spool } from '../../agent/spool/types.js';

export interface SpoolUnderTest {
  spool: Spool;
  /** A new spool over the same storage; required with `capabilities.persistent`. */
  reopen?: () => Spool;
  dispose(): Promise<void>;
}

export interface SpoolCapabilities {
  /** Records, sequence and drop count outlive the process (the disk spool; not memory). */
  persistent: boolean;
}

const TOPIC = 'vigil/v1/s/devices/cam-01/metrics';
const payload = (seq: number): string => JSON.stringify({ seq, filler: 'x'.repeat(100) });

export function spoolSuite(
  name: string,
  open: (maxBytes?: number) => Promise<SpoolUnderTest>,
  capabilities: SpoolCapabilities,
): void {
  describe(`spool conformance: ${name}`, () => {
    const opened: SpoolUnderTest[] = [];
    const started: Spool[] = [];
    async function fresh(maxBytes?: number): Promise<SpoolUnderTest> {
      const under = await open(maxBytes);
      opened.push(under);
      await under.spool.start();
      started.push(under.spool);
      return under;
    }
    async function again(under: SpoolUnderTest): Promise<Spool> {
      if (!under.reopen) throw new Error(`${name}: persistent, but open() gave no reopen()`);
      const spool = under.reopen();
      await spool.start();
      started.push(spool);
      return spool;
    }
    afterEach(async () => {
      for (const spool of started.splice(0)) await spool.stop();
      for (const under of opened.splice(0)) await under.dispose();
    });

    it('numbers records from 0, one by one, and gives them back in order with their payload', async () => {
      const { spool } = await fresh();
      const records = await Promise.all(
        [0, 1, 2, 3, 4].map(() => spool.append(TOPIC, false, payload)),
      );
      expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
      const read = await spool.read(0, { records: 100, bytes: 1e9 });
      expect(read.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(read[3]).toMatchObject({ topic: TOPIC, retain: false, payload: payload(3) });
      // Nothing only in memory while the storage takes writes (a full disk: held, writeError).
      expect(spool.stats()).toMatchObject({ depth: 5, dropped: 0, held: 0, writeError: null });
      expect(spool.durableSeq).toBe(4);
    });

    it('keeps the retain flag and the append time', async () => {
      const { spool } = await fresh();
      const before = Date.now();
      await spool.append(TOPIC, true, payload);
      const [record] = await spool.read(0, { records: 1, bytes: 1e9 });
      expect(record?.retain).toBe(true);
      expect(record?.at).toBeGreaterThanOrEqual(before);
      expect(spool.stats().oldestAt).toBe(record?.at);
    });

    it('reads from a seq, at most the records and bytes asked, but always at least one', async () => {
      const { spool } = await fresh();
      for (let i = 0; i < 20; i++) void spool.append(TOPIC, false, payload);
      await spool.append(TOPIC, false, payload);
      expect((await spool.read(5, { records: 3, bytes: 1e9 })).map((r) => r.seq)).toEqual([
        5, 6, 7,
      ]);
      expect((await spool.read(5, { records: 100, bytes: 1 })).map((r) => r.seq)).toEqual([5]);
      const some = await spool.read(0, { records: 100, bytes: 1000 });
      expect(some.length).toBeGreaterThan(1);
      expect(some.length).toBeLessThan(21);
      expect(await spool.read(21, { records: 10, bytes: 1e9 })).toEqual([]);
    });

    it('forgets acknowledged records only', async () => {
      const { spool } = await fresh();
      for (let i = 0; i < 9; i++) void spool.append(TOPIC, false, payload);
      await spool.append(TOPIC, false, payload);
      spool.ack(3);
      expect(spool.headSeq).toBe(4);
      expect(spool.stats().depth).toBe(6);
      expect((await spool.read(0, { records: 100, bytes: 1e9 })).map((r) => r.seq)).toEqual([
        4, 5, 6, 7, 8, 9,
      ]);
      spool.ack(9);
      expect(spool.stats()).toMatchObject({ depth: 0, oldestAt: null });
      expect(spool.headSeq).toBe(10);
      expect((await spool.append(TOPIC, false, payload)).seq).toBe(10);
    });

    it('stays within its size: the oldest records go first and are counted', async () => {
      const { spool } = await fresh(64 * 1024);
      for (let i = 0; i < 1999; i++) void spool.append(TOPIC, false, payload);
      await spool.append(TOPIC, false, payload);
      const stats = spool.stats();
      expect(stats.bytes).toBeLessThanOrEqual(64 * 1024);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats.depth + stats.dropped).toBe(2000);
      const left = await spool.read(0, { records: 5000, bytes: 1e9 });
      expect(left.at(-1)?.seq).toBe(1999);
      expect(left[0]?.seq).toBe(stats.dropped);
      expect(spool.headSeq).toBe(stats.dropped);
    });

    // What only a persistent backend does: not registered at all for the others.
    if (!capabilities.persistent) return;

    it('keeps unacknowledged records and the sequence across a restart', async () => {
      const under = await fresh();
      for (let i = 0; i < 7; i++) void under.spool.append(TOPIC, i === 2, payload);
      await under.spool.append(TOPIC, false, payload);
      under.spool.ack(2);
      await under.spool.stop();
      const spool = await again(under);
      expect(spool.headSeq).toBe(3);
      const read = await spool.read(0, { records: 100, bytes: 1e9 });
      expect(read.map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
      expect(read[0]?.payload).toBe(payload(3));
      expect((await spool.append(TOPIC, false, payload)).seq).toBe(8);
    });

    it('continues the sequence after a restart even when everything was acknowledged', async () => {
      const under = await fresh();
      for (let i = 0; i < 4; i++) void under.spool.append(TOPIC, false, payload);
      await under.spool.append(TOPIC, false, payload);
      under.spool.ack(4);
      await under.spool.stop();
      const spool = await again(under);
      expect(spool.stats().depth).toBe(0);
      expect((await spool.append(TOPIC, false, payload)).seq).toBe(5);
    });

    it('keeps the drop count across a restart', async () => {
      const under = await fresh(64 * 1024);
      for (let i = 0; i < 1999; i++) void under.spool.append(TOPIC, false, payload);
      await under.spool.append(TOPIC, false, payload);
      const { dropped } = under.spool.stats();
      await under.spool.stop();
      const spool = await again(under);
      expect(spool.stats().dropped).toBe(dropped);
      expect(spool.stats().depth).toBe(2000 - dropped);
    });
  });
}
