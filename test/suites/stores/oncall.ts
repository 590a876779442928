/**
 * The conformance suite of the on-call store (broker/oncall/store.ts), run on SQLite and
 * on PostgreSQL: validation lines, coverage by site, customer and default, the answer for
 * a site, everything kept across a restart, and, for a pair, the copy the answers come
 * from read again from what the other node wrote. The sites' customers come from a map:
 * the site store has its own suite.
 */
import { beforeEach, expect, it } from 'vitest';
import { OnCallStore } from '../../../broker/oncall/index.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import { VigilError } from '../../../shared/errors.js';
import type { StoreBackend } from './backends.js';

export function onCallStoreSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let store: OnCallStore;
  const customers = new Map<string, string>();
  const clock = { now: new Date('2026-12-06T12:00:00.000Z') };

  const open = async (on: SqlDatabase) => {
    db = on;
    store = new OnCallStore(
      db,
      { customerOf: (siteId) => customers.get(siteId) ?? null },
      {
        now: () => clock.now,
      },
    );
    await store.start();
  };

  beforeEach(async () => {
    customers.clear();
    await open(await backend.open());
  });

  const errorOf = async (fn: () => unknown): Promise<VigilError> => {
    try {
      await fn();
    } catch (error) {
      if (error instanceof VigilError) return error;
      throw error;
    }
    throw new Error('expected a VigilError');
  };

  async function seed(): Promise<void> {
    await store.createPerson({ id: 'zhang-wei', name: '张伟', phone: '+86 138-0013-8000' });
    await store.createPerson({
      id: 'li-na',
      name: '李娜',
      email: 'li.na@example.com',
      userName: 'lina',
    });
    await store.createPerson({ id: 'wang-fang', name: '王芳', language: 'en' });
    await store.createTeam({ id: 'east', name: '华东', leadId: 'li-na', managerId: 'wang-fang' });
    await store.createRotation('east', {
      personIds: ['zhang-wei', 'li-na'],
      startDate: '2026-12-01',
    });
  }

  it('keeps the phone as the robots want it, and says what to fix in a bad one', async () => {
    await seed();
    expect(store.person('zhang-wei')?.phone).toBe('13800138000');
    const error = await errorOf(() =>
      store.createPerson({
        id: 'bad',
        name: 'Bad',
        phone: '2345678',
        email: 'no-at-sign',
        feishuOpenId: 'on_1234',
      }),
    );
    expect(error.code).toBe('VIGIL_BAD_REQUEST');
    expect(error.details).toEqual([
      'phone: "2345678" is not a mainland mobile number; send 11 digits starting with 1, e.g. 13800138000 (a leading +86, spaces and dashes are allowed)',
      'email: "no-at-sign" is not an email address; send one like zhang.wei@example.com',
      'feishuOpenId: "on_1234" is not an open_id; send the one starting with ou_ (not the user_id or the union_id on_...)',
    ]);
    expect(store.person('bad')).toBeUndefined();
    // One console account per person.
    expect(
      (await errorOf(() => store.updatePerson('zhang-wei', { userName: 'lina' }))).details[0],
    ).toMatch(/^userName: the console account "lina" belongs to li-na/);
    expect(store.personByUserName('lina')?.id).toBe('li-na');
  });

  it('checks a team: zone, people it names; defaults Asia/Shanghai and zh-CN', async () => {
    await seed();
    expect(store.team('east')).toMatchObject({
      timeZone: 'Asia/Shanghai',
      language: 'zh-CN',
      channelIds: [],
    });
    const error = await errorOf(() =>
      store.createTeam({ id: 'west', name: 'West', timeZone: 'Asia/Beijing', leadId: 'nobody' }),
    );
    expect(error.details).toEqual([
      'timeZone: "Asia/Beijing" is not an IANA time zone; send one like Asia/Shanghai or Europe/Berlin',
      'leadId: no person "nobody"; add them first (POST /api/oncall/people)',
    ]);
    // Intl's own spelling is kept; channel ids are the channels part's business.
    expect(
      await store.updateTeam('east', {
        timeZone: 'europe/berlin',
        channelIds: ['ding-1', 'ding-1', 'x'],
      }),
    ).toMatchObject({ timeZone: 'Europe/Berlin', channelIds: ['ding-1', 'x'] });
  });

  it('a weekly rota needs its weekday, and its people must exist', async () => {
    await seed();
    const error = await errorOf(() =>
      store.createRotation('east', {
        personIds: ['zhang-wei', 'ghost'],
        handover: 'weekly',
        startDate: '2026-02-30',
      }),
    );
    expect(error.details).toEqual([
      'personIds/1: no person "ghost"; add them first (POST /api/oncall/people)',
      'startDate: "2026-02-30" is not a calendar day; send YYYY-MM-DD',
      'handoverWeekday: a weekly hand-over needs its day, 1 (Monday) to 7 (Sunday)',
    ]);
  });

  it('finds the team of a site: its own entry, then its customer, then the default', async () => {
    await seed();
    await store.createTeam({ id: 'north', name: 'North' });
    await store.createTeam({ id: 'night', name: 'Night desk' });
    customers.set('plant-1', 'Example Logistics  Ltd');
    customers.set('plant-2', 'Other Co');
    expect(store.onCall('plant-1').team).toBeNull();

    await store.setCoverage({ scope: 'default', teamId: 'night' });
    expect(store.onCall('plant-1').team?.id).toBe('night');
    expect(store.onCall('never-described').team?.id).toBe('night');

    await store.setCoverage({ scope: 'customer', key: 'example logistics ltd', teamId: 'east' });
    expect(store.onCall('plant-1').team?.id).toBe('east');
    expect(store.onCall('plant-2').team?.id).toBe('night');

    await store.setCoverage({ scope: 'site', key: 'plant-1', teamId: 'north' });
    expect(store.onCall('plant-1').team?.id).toBe('north');
    // The same key again replaces the team, it adds no second entry.
    await store.setCoverage({ scope: 'site', key: 'plant-1', teamId: 'east' });
    expect(store.coverage().map((c) => [c.scope, c.key, c.teamId])).toEqual([
      ['site', 'plant-1', 'east'],
      ['customer', 'example logistics ltd', 'east'],
      ['default', '', 'night'],
    ]);
  });

  it('answers who is on call for a site, overrides applied, with lead and manager', async () => {
    await seed();
    await store.setCoverage({ scope: 'default', teamId: 'east' });
    // Dec 6 is day 5 of the rota from Dec 1 (index 5: li-na); 20:00 Beijing time.
    const now = store.onCall('plant-1');
    expect(now).toMatchObject({
      siteId: 'plant-1',
      engineer: { id: 'li-na' },
      until: '2026-12-07T01:00:00.000Z',
      next: { engineer: { id: 'zhang-wei' }, from: '2026-12-07T01:00:00.000Z' },
      lead: { id: 'li-na' },
      supervisor: null,
      manager: { id: 'wang-fang' },
    });
    await store.createOverride({
      teamId: 'east',
      personId: 'wang-fang',
      replacesId: 'li-na',
      from: '2026-12-06T00:00:00.000Z',
      to: '2026-12-10T00:00:00.000Z',
      reason: '李娜 on leave',
    });
    expect(store.onCall('plant-1')).toMatchObject({
      engineer: { id: 'wang-fang' },
      next: { engineer: { id: 'zhang-wei' } },
    });
    // A past instant can be asked about too.
    expect(store.onCall('plant-1', new Date('2026-12-01T02:00:00.000Z')).engineer?.id).toBe(
      'zhang-wei',
    );
  });

  it('refuses to delete a person still on call somewhere, and says where', async () => {
    await seed();
    const error = await errorOf(() => store.deletePerson('li-na'));
    expect(error.code).toBe('VIGIL_CONFLICT');
    expect(error.details).toEqual(['team east: lead', 'team east: rotation 1']);
    await store.createPerson({ id: 'temp', name: 'Temp' });
    await store.deletePerson('temp');
    expect(store.person('temp')).toBeUndefined();
  });

  it('keeps everything across a restart; deleting a team takes its rota and coverage', async () => {
    await seed();
    await store.setCoverage({ scope: 'site', key: 'plant-1', teamId: 'east' });
    await store.createOverride({
      teamId: 'east',
      personId: 'wang-fang',
      from: '2026-12-06T00:00:00.000Z',
      to: '2026-12-07T00:00:00.000Z',
    });
    const before = store.onCall('plant-1');
    // The other node (or a restart): its own connection, its own copy read from the tables.
    await open(await backend.reopen(db));
    expect(
      store
        .people()
        .map((p) => p.id)
        .sort(),
    ).toEqual(['li-na', 'wang-fang', 'zhang-wei']);
    expect(store.rotations('east')).toHaveLength(1);
    expect(store.overrides({ teamId: 'east' })).toHaveLength(1);
    expect(store.onCall('plant-1')).toEqual(before);
    expect(before.engineer?.id).toBe('wang-fang');

    await store.deleteTeam('east');
    expect(store.rotations('east')).toEqual([]);
    expect(store.overrides()).toEqual([]);
    expect(store.coverage()).toEqual([]);
    expect(store.onCall('plant-1').team).toBeNull();
  });

  it('answers from what another node wrote once it reloads (the new leader of a pair)', async () => {
    await seed();
    const other = new OnCallStore(
      await backend.reopen(db),
      { customerOf: () => null },
      {
        now: () => clock.now,
      },
    );
    await other.start();
    await other.setCoverage({ scope: 'default', teamId: 'east' });
    await other.createOverride({
      teamId: 'east',
      personId: 'wang-fang',
      replacesId: 'li-na',
      from: '2026-12-06T00:00:00.000Z',
      to: '2026-12-10T00:00:00.000Z',
    });
    // This node's copy is as it last read it until it reloads.
    expect(store.onCall('plant-1').team).toBeNull();
    await store.reload();
    expect(store.onCall('plant-1').engineer?.id).toBe('wang-fang');
    expect(store.overrides()[0]).toMatchObject({ id: 1, teamId: 'east', replacesId: 'li-na' });
  });

  it('keeps no copy of a write the database refused', async () => {
    await seed();
    await expect(store.createPerson({ id: 'li-na', name: 'Again' })).rejects.toThrow(
      /exists already/,
    );
    // Two people claiming one console account: the database's UNIQUE is the last word.
    await db.run("UPDATE oncall_people SET user_name = 'shared' WHERE id = 'zhang-wei'");
    await expect(
      db.run("UPDATE oncall_people SET user_name = 'shared' WHERE id = 'wang-fang'"),
    ).rejects.toThrow();
    await store.reload();
    expect(store.person('wang-fang')?.userName).toBeNull();
    expect(store.personByUserName('shared')?.id).toBe('zhang-wei');
  });
}
