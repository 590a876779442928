/**
 * The conformance suite of the spare parts (broker/parts/store.ts), run on SQLite and on
 * PostgreSQL (test/suites/stores/backends.ts): stock that two engineers, or two nodes,
 * take from at once never goes below zero; replacements and serial numbers come back as
 * written through another connection.
 */
import { expect, it } from 'vitest';
import { PartStore, type NewReplacement } from '../../../broker/parts/store.js';
import type { StoreBackend } from './backends.js';

const AT = '2026-11-26T08:00:00.000Z';

function replacement(patch: Partial<NewReplacement> = {}): NewReplacement {
  return {
    ticketId: 7,
    siteId: 'north',
    deviceId: 'cam-01',
    partModel: 'DS-2CD2143G2-I',
    oldSerial: 'SN-OLD',
    newSerial: 'SN-NEW',
    depotId: 'sh-1',
    warrantyRepair: false,
    note: '更换镜头',
    source: 'recorded',
    at: AT,
    by: 'olga',
    ...patch,
  };
}

export function partStoreSuite(backend: StoreBackend): void {
  it('keeps depots and their stock; a rename keeps the region unless one is sent', async () => {
    const parts = new PartStore(await backend.open());
    await parts.start();
    expect(await parts.putDepot({ id: 'sh-1', name: 'Shanghai', region: '华东' })).toEqual({
      id: 'sh-1',
      name: 'Shanghai',
      region: '华东',
    });
    expect(await parts.putDepot({ id: 'sh-1', name: '上海仓' })).toEqual({
      id: 'sh-1',
      name: '上海仓',
      region: '华东',
    });
    expect(await parts.putDepot({ id: 'sh-1', name: '上海仓', region: null })).toMatchObject({
      region: null,
    });
    await parts.putDepot({ id: 'bj-1', name: 'Beijing' });
    expect((await parts.depots()).map((d) => d.id)).toEqual(['bj-1', 'sh-1']);
    await parts.setStock('sh-1', 'lens', 2, AT);
    await parts.setStock('bj-1', 'lens', 5, AT);
    await parts.setStock('bj-1', 'psu', 0, AT);
    expect(await parts.stock('bj-1')).toEqual([
      { depotId: 'bj-1', partModel: 'lens', count: 5, updatedAt: AT },
      { depotId: 'bj-1', partModel: 'psu', count: 0, updatedAt: AT },
    ]);
    expect(await parts.depotsWith('lens')).toEqual([
      { depotId: 'bj-1', count: 5 },
      { depotId: 'sh-1', count: 2 },
    ]);
    expect(await parts.depotsWith('psu')).toEqual([]);
  });

  it('records a replacement with its part taken off the shelf, or neither when none is left', async () => {
    const parts = new PartStore(await backend.open());
    await parts.start();
    await parts.putDepot({ id: 'sh-1', name: 'Shanghai' });
    await parts.setStock('sh-1', 'DS-2CD2143G2-I', 1, AT);
    const first = await parts.takeAndRecord(replacement());
    expect(first).toMatchObject({
      ticketId: 7,
      depotId: 'sh-1',
      warrantyRepair: false,
      note: '更换镜头',
      warrantyStartsOn: null,
    });
    expect(await parts.takeAndRecord(replacement())).toBeUndefined();
    expect(await parts.replacements(7)).toHaveLength(1);
    expect((await parts.stock('sh-1'))[0]?.count).toBe(0);
    // A part from elsewhere (no depot) takes nothing.
    const detected = await parts.takeAndRecord(
      replacement({ depotId: null, source: 'detected', by: 'system', note: null }),
    );
    expect(detected?.id).toBeGreaterThan(first!.id);

    const fixed = await parts.update(7, first!.id, { warrantyRepair: true, note: 'lens cracked' });
    expect(fixed).toMatchObject({
      warrantyRepair: true,
      note: 'lens cracked',
      partModel: first!.partModel,
    });
    await parts.setWarranty(first!.id, '2026-11-26', '2029-11-26');
    expect(await parts.replacement(7, first!.id)).toMatchObject({
      warrantyStartsOn: '2026-11-26',
      warrantyEndsOn: '2029-11-26',
    });
    expect(await parts.replacement(8, first!.id)).toBeUndefined();
  });

  it('two takers of the last part at once (two connections on PostgreSQL): one gets it, the other is refused, the count stays at 0', async () => {
    const db = await backend.open();
    const here = new PartStore(db);
    await here.start();
    // PostgreSQL: the other node's own connection. SQLite: the broker's one connection
    // (a pair needs PostgreSQL); a second connection in this process would block the event
    // loop in its busy wait while the first holds the write lock across an await, so the
    // first could never commit (better-sqlite3 is synchronous).
    const there = new PartStore(backend.dialect === 'sqlite' ? db : await backend.reopen(db));
    await there.start();
    await here.putDepot({ id: 'sh-1', name: 'Shanghai' });
    for (let round = 0; round < 5; round++) {
      await here.setStock('sh-1', 'lens', 1, AT);
      const taken = await Promise.all([
        here.takeAndRecord(replacement({ partModel: 'lens', ticketId: round, by: 'olga' })),
        there.takeAndRecord(replacement({ partModel: 'lens', ticketId: round, by: 'li' })),
      ]);
      expect(taken.filter((r) => r !== undefined)).toHaveLength(1);
      expect((await there.stock('sh-1'))[0]?.count).toBe(0);
      expect(await here.replacements(round)).toHaveLength(1);
    }
  });

  it('remembers serial numbers; another connection sees them at start and after reload', async () => {
    const db = await backend.open();
    const parts = new PartStore(db);
    await parts.start();
    expect(parts.serialOf('north', 'cam-01')).toBeUndefined();
    await parts.setSerial('north', 'cam-01', 'SN-1', AT);
    await parts.setSerial('north', 'cam-01', 'SN-2', AT);
    expect(parts.serialOf('north', 'cam-01')).toBe('SN-2');

    const other = new PartStore(await backend.reopen(db));
    await other.start();
    expect(other.serialOf('north', 'cam-01')).toBe('SN-2');
    await parts.setSerial('north', 'cam-02', 'SN-9', AT);
    expect(other.serialOf('north', 'cam-02')).toBeUndefined();
    await other.reload();
    expect(other.serialOf('north', 'cam-02')).toBe('SN-9');
  });
}
