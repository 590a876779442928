/**
 * Both spool backends through the one conformance suite, and what only the disk spool
 * does: cut off a record torn by a power cut.
 */
import { appendFile, copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../../../agent/spool/disk.js';
import { MemorySpool } from '../../../../agent/spool/memory.js';
import { spoolSuite } from '../../../suites/spool.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/segment-log/', import.meta.url));

spoolSuite(
  'memory',
  (maxBytes) =>
    Promise.resolve({
      spool: new MemorySpool(maxBytes !== undefined ? { maxBytes } : {}),
      dispose: () => Promise.resolve(),
    }),
  { persistent: false },
);

spoolSuite(
  'disk',
  async (maxBytes) => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-spool-'));
    const make = (): DiskSpool =>
      new DiskSpool({
        dir,
        stateDelayMs: 5,
        ...(maxBytes !== undefined ? { maxBytes, segmentBytes: 8 * 1024 } : {}),
      });
    return {
      spool: make(),
      reopen: make,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { persistent: true },
);

describe('disk spool', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the records before a torn write and numbers on from there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-spool-'));
    dirs.push(dir);
    const first = new DiskSpool({ dir });
    await first.start();
    for (let i = 0; i < 3; i++) await first.append('t', false, (seq) => `{"seq":${seq}}`);
    await first.stop();
    const [segment] = (await readdir(dir)).filter((name) => name.startsWith('seg-'));
    // Half a record: a length that promises more bytes than the file holds.
    await appendFile(join(dir, segment as string), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const second = new DiskSpool({ dir });
    await second.start();
    expect((await second.read(0, { records: 10, bytes: 1e6 })).map((r) => r.payload)).toEqual([
      '{"seq":0}',
      '{"seq":1}',
      '{"seq":2}',
    ]);
    expect((await second.append('t', false, (seq) => `{"seq":${seq}}`)).seq).toBe(3);
    expect((await second.read(3, { records: 10, bytes: 1e6 }))[0]?.payload).toBe('{"seq":3}');
    await second.stop();
  });

  it('deletes segment files once every record in them is acknowledged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-spool-'));
    dirs.push(dir);
    const spool = new DiskSpool({ dir, segmentBytes: 64 * 1024, stateDelayMs: 1 });
    await spool.start();
    for (let i = 0; i < 3000; i++) void spool.append('t', false, () => 'x'.repeat(200));
    await spool.append('t', false, () => 'x'.repeat(200));
    const before = (await readdir(dir)).filter((name) => name.startsWith('seg-')).length;
    expect(before).toBeGreaterThan(3);
    spool.ack(3000);
    await new Promise((r) => setTimeout(r, 100));
    expect((await readdir(dir)).filter((name) => name.startsWith('seg-')).length).toBe(1);
    await spool.stop();
  });

  it('reads the spool an earlier version wrote (an agent upgraded in place)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-spool-'));
    dirs.push(dir);
    await copyFile(
      join(FIXTURES, 'spool-seg-0000000000000000.log.bin'),
      join(dir, 'seg-0000000000000000.log'),
    );
    await copyFile(join(FIXTURES, 'spool-state.json'), join(dir, 'state.json'));
    const spool = new DiskSpool({ dir });
    await spool.start();
    expect(spool.headSeq).toBe(1);
    expect(await spool.read(0, { records: 10, bytes: 1e6 })).toEqual([
      {
        seq: 1,
        topic: 'vigil/v1/site-a/devices/cam-01/metrics',
        payload: '{"seq":1}',
        retain: true,
        at: 1_700_000_000_000,
      },
      {
        seq: 2,
        topic: 'vigil/v1/site-a/devices/cam-01/metrics',
        payload: '{"seq":2}',
        retain: false,
        at: 1_700_000_000_000,
      },
    ]);
    expect(spool.stats()).toMatchObject({ depth: 2, oldestAt: 1_700_000_000_000, dropped: 0 });
    expect((await spool.append('t', false, (seq) => `{"seq":${seq}}`)).seq).toBe(3);
    await spool.stop();
  });
});
