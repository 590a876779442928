/**
 * The conformance suite of the dead letters (broker/pipeline/dead-letters.ts), run on
 * SQLite and on PostgreSQL (test/suites/stores/backends.ts): what the pipeline refused,
 * kept byte for byte so someone can see what an agent really sent.
 */
import { beforeEach, expect, it } from 'vitest';
import { DeadLetterStore, type DeadLetter } from '../../../broker/pipeline/dead-letters.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

function letter(payload: Buffer, over: Partial<DeadLetter> = {}): DeadLetter {
  return {
    topic: 'vigil/v1/site-a/devices/cam-01/state',
    clientId: 'gw-01-client',
    stage: 'validate',
    reason: 'deviceState does not match its schema: status',
    payload,
    receivedAt: new Date('2026-12-07T06:00:00.123Z'),
    ...over,
  };
}

export function deadLetterSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let letters: DeadLetterStore;

  beforeEach(async () => {
    db = await backend.open();
    letters = new DeadLetterStore(db);
    await letters.start();
  });

  it('keeps a payload byte for byte, bytes that are no UTF-8 included, with where and why', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80, 0x00, 0xc3, 0x28, 0x0a]);
    await letters.add(letter(bytes));
    const [stored] = await letters.list();
    expect(stored).toMatchObject({
      topic: 'vigil/v1/site-a/devices/cam-01/state',
      clientId: 'gw-01-client',
      stage: 'validate',
      reason: 'deviceState does not match its schema: status',
      receivedAt: '2026-12-07T06:00:00.123Z',
      truncated: false,
      id: expect.any(Number),
    });
    expect(Buffer.isBuffer(stored!.payload)).toBe(true);
    expect(stored!.payload.equals(bytes)).toBe(true);
  });

  it('keeps the first 64 KiB of a larger payload and says it was cut', async () => {
    const big = Buffer.alloc(100_000, 0xab);
    big[0] = 0;
    await letters.add(letter(big));
    const [stored] = await letters.list();
    expect(stored!.truncated).toBe(true);
    expect(stored!.payload.equals(big.subarray(0, 64 * 1024))).toBe(true);
  });

  it('stores a flood of letters refused in one turn, in order, newest first in the list', async () => {
    const added = Array.from({ length: 1200 }, (_, i) =>
      letters.add(letter(Buffer.from(`{"i":${i}}`))),
    );
    await Promise.all(added);
    expect(await letters.count()).toBe(1200);
    const newest = await letters.list(3);
    expect(newest.map((l) => l.payload.toString())).toEqual([
      '{"i":1199}',
      '{"i":1198}',
      '{"i":1197}',
    ]);
  });

  it('a list right after add() sees the letter (read your own writes)', async () => {
    void letters.add(letter(Buffer.from('x')));
    expect(await letters.count()).toBe(1);
  });

  it('keeps only the newest letters', async () => {
    const small = new DeadLetterStore(db, 50);
    for (let i = 0; i < 200; i++) await small.add(letter(Buffer.from(`{"i":${i}}`)));
    expect(await small.count()).toBe(50);
    expect((await small.list(1))[0]?.payload.toString()).toBe('{"i":199}');
  });

  it('another connection (the other node, a restart) reads what one wrote', async () => {
    await letters.add(letter(Buffer.from([1, 2, 3, 0, 255])));
    const other = new DeadLetterStore(await backend.reopen(db));
    await other.start();
    const [stored] = await other.list();
    expect(stored!.payload.equals(Buffer.from([1, 2, 3, 0, 255]))).toBe(true);
    await other.add(letter(Buffer.from('second')));
    expect(await letters.count()).toBe(2);
  });
}
