/**
 * The conformance suite of the maintenance windows (broker/maintenance/store.ts), run on
 * SQLite and on PostgreSQL (test/suites/stores/backends.ts). covers() answers from the
 * store's copy in memory on every fault the detector sees and every beat of the SLA
 * clocks: the copy must follow every write, and another node must see the windows.
 */
import { expect, it } from 'vitest';
import { MaintenanceStore } from '../../../broker/maintenance/store.js';
import type { StoreBackend } from './backends.js';

const MIN = 60_000;

export function maintenanceStoreSuite(backend: StoreBackend): void {
  const clock = { now: new Date('2026-11-26T08:00:00.000Z') };
  const now = () => clock.now;
  const at = (minutes: number) => new Date(clock.now.getTime() + minutes * MIN);

  it('a window covers its site or its device from start to end, and only then', async () => {
    clock.now = new Date('2026-11-26T08:00:00.000Z');
    const windows = new MaintenanceStore(await backend.open(), now);
    await windows.start();
    const site = await windows.create(
      { siteId: 'north', durationMin: 30, reason: 'switch upgrade' },
      'alice',
    );
    expect(site).toMatchObject({
      siteId: 'north',
      deviceId: null,
      startsAt: '2026-11-26T08:00:00.000Z',
      endsAt: '2026-11-26T08:30:00.000Z',
      createdBy: 'alice',
      state: 'active',
    });
    await windows.create(
      {
        siteId: 'south',
        deviceId: 'cam-01',
        startsAt: at(60).toISOString(),
        endsAt: at(120).toISOString(),
        reason: '更换镜头',
      },
      'bob',
    );
    expect(windows.covers('north', 'cam-09', at(0))).toBe(true);
    expect(windows.covers('north', null, at(29))).toBe(true);
    expect(windows.covers('north', null, at(30))).toBe(false);
    expect(windows.covers('south', 'cam-01', at(59))).toBe(false);
    expect(windows.covers('south', 'cam-01', at(60))).toBe(true);
    expect(windows.covers('south', 'cam-02', at(60))).toBe(false);
    // With no device only whole-site windows count.
    expect(windows.covers('south', null, at(60))).toBe(false);
    expect(windows.spans('south', at(0), at(90))).toEqual([
      { deviceId: 'cam-01', from: at(60).getTime(), to: at(90).getTime() },
    ]);
  });

  it('lists current windows by start, all of them on request, and changes and removes them', async () => {
    clock.now = new Date('2026-11-26T08:00:00.000Z');
    const windows = new MaintenanceStore(await backend.open(), now);
    await windows.start();
    const later = await windows.create(
      { siteId: 'north', startsAt: at(60).toISOString(), durationMin: 10, reason: 'later' },
      'alice',
    );
    const first = await windows.create({ siteId: 'north', durationMin: 5, reason: 'now' }, 'alice');
    const other = await windows.create({ siteId: 'south', durationMin: 5, reason: 'south' }, 'bob');
    expect(windows.list().map((w) => w.id)).toEqual([first.id, other.id, later.id]);
    expect(windows.list({ siteId: 'north' }).map((w) => w.reason)).toEqual(['now', 'later']);
    expect(later.state).toBe('planned');

    clock.now = at(6);
    expect(windows.list().map((w) => w.id)).toEqual([later.id]);
    expect(windows.list({ include: 'all' })).toHaveLength(3);
    expect(windows.get(first.id)?.state).toBe('over');
    await expect(windows.update(first.id, { reason: 'x' })).rejects.toMatchObject({
      code: 'VIGIL_CONFLICT',
    });
    await expect(
      windows.update(later.id, { endsAt: '2026-11-26T07:00:00.000Z' }),
    ).rejects.toMatchObject({ code: 'VIGIL_BAD_REQUEST' });

    const moved = await windows.update(later.id, { endsAt: at(120).toISOString(), reason: '延长' });
    expect(moved).toMatchObject({ endsAt: at(120).toISOString(), reason: '延长' });
    expect(windows.covers('north', null, at(100))).toBe(true);
    expect(await windows.remove(later.id)).toMatchObject({ id: later.id });
    expect(windows.covers('north', null, at(100))).toBe(false);
    expect(windows.get(later.id)).toBeUndefined();
    await expect(windows.remove(later.id)).rejects.toMatchObject({ code: 'VIGIL_NOT_FOUND' });
  });

  it('what one connection writes, another sees at start and after reload (the other node of a pair)', async () => {
    clock.now = new Date('2026-11-26T08:00:00.000Z');
    const db = await backend.open();
    const windows = new MaintenanceStore(db, now);
    await windows.start();
    const one = await windows.create({ siteId: 'north', durationMin: 30, reason: 'a' }, 'alice');

    const other = new MaintenanceStore(await backend.reopen(db), now);
    await other.start();
    expect(other.list({ include: 'all' })).toEqual(windows.list({ include: 'all' }));
    expect(other.covers('north', 'cam-01', at(1))).toBe(true);

    const two = await windows.create(
      { siteId: 'south', deviceId: 'cam-02', durationMin: 30, reason: 'b' },
      'alice',
    );
    await windows.remove(one.id);
    expect(other.covers('north', 'cam-01', at(1))).toBe(true);
    await other.reload();
    expect(other.covers('north', 'cam-01', at(1))).toBe(false);
    expect(other.covers('south', 'cam-02', at(1))).toBe(true);
    // Ids keep counting on the other node: no window gets the id of another.
    const three = await other.create({ siteId: 'east', durationMin: 5, reason: 'c' }, 'bob');
    expect(three.id).toBeGreaterThan(two.id);
    await windows.reload();
    expect(windows.list({ include: 'all' }).map((w) => w.id)).toEqual([two.id, three.id]);
  });
}
