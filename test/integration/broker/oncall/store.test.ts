/**
 * The on-call store on a real SQLite file, with the real site store giving the sites'
 * customers: validation lines, coverage by site, customer and default, the answer for a
 * site, and everything kept across a restart (the file closed and opened again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { OnCallStore } from '../../../../broker/oncall/index.js';
import { SiteStore } from '../../../../broker/sites/store.js';
import { VigilError } from '../../../../shared/errors.js';

describe('OnCallStore', () => {
  let dir: string;
  let db: Db;
  let sites: SiteStore;
  let store: OnCallStore;
  const clock = { now: new Date('2026-12-06T12:00:00.000Z') };

  const open = () => {
    db = openDatabase(join(dir, 'vigil.db'));
    sites = new SiteStore(db);
    sites.start();
    store = new OnCallStore(db, sites, { now: () => clock.now });
    store.start();
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-oncall-'));
    open();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const errorOf = (fn: () => unknown): VigilError => {
    try {
      fn();
    } catch (error) {
      if (error instanceof VigilError) return error;
      throw error;
    }
    throw new Error('expected a VigilError');
  };

  function seed(): void {
    store.createPerson({ id: 'zhang-wei', name: '张伟', phone: '+86 138-0013-8000' });
    store.createPerson({ id: 'li-na', name: '李娜', email: 'li.na@example.com', userName: 'lina' });
    store.createPerson({ id: 'wang-fang', name: '王芳', language: 'en' });
    store.createTeam({ id: 'east', name: '华东', leadId: 'li-na', managerId: 'wang-fang' });
    store.createRotation('east', { personIds: ['zhang-wei', 'li-na'], startDate: '2026-12-01' });
  }

  it('keeps the phone as the robots want it, and says what to fix in a bad one', () => {
    seed();
    expect(store.person('zhang-wei')?.phone).toBe('13800138000');
    const error = errorOf(() =>
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
    expect(errorOf(() => store.updatePerson('zhang-wei', { userName: 'lina' })).details[0]).toMatch(
      /^userName: the console account "lina" belongs to li-na/,
    );
    expect(store.personByUserName('lina')?.id).toBe('li-na');
  });

  it('checks a team: zone, people it names; defaults Asia/Shanghai and zh-CN', () => {
    seed();
    expect(store.team('east')).toMatchObject({
      timeZone: 'Asia/Shanghai',
      language: 'zh-CN',
      channelIds: [],
    });
    const error = errorOf(() =>
      store.createTeam({ id: 'west', name: 'West', timeZone: 'Asia/Beijing', leadId: 'nobody' }),
    );
    expect(error.details).toEqual([
      'timeZone: "Asia/Beijing" is not an IANA time zone; send one like Asia/Shanghai or Europe/Berlin',
      'leadId: no person "nobody"; add them first (POST /api/oncall/people)',
    ]);
    // Intl's own spelling is kept; channel ids are the channels part's business.
    expect(
      store.updateTeam('east', {
        timeZone: 'europe/berlin',
        channelIds: ['ding-1', 'ding-1', 'x'],
      }),
    ).toMatchObject({ timeZone: 'Europe/Berlin', channelIds: ['ding-1', 'x'] });
  });

  it('a weekly rota needs its weekday, and its people must exist', () => {
    seed();
    const error = errorOf(() =>
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

  it('finds the team of a site: its own entry, then its customer, then the default', () => {
    seed();
    store.createTeam({ id: 'north', name: 'North' });
    store.createTeam({ id: 'night', name: 'Night desk' });
    sites.put('plant-1', { customer: 'Example Logistics  Ltd' });
    sites.put('plant-2', { customer: 'Other Co' });
    expect(store.onCall('plant-1').team).toBeNull();

    store.setCoverage({ scope: 'default', teamId: 'night' });
    expect(store.onCall('plant-1').team?.id).toBe('night');
    expect(store.onCall('never-described').team?.id).toBe('night');

    store.setCoverage({ scope: 'customer', key: 'example logistics ltd', teamId: 'east' });
    expect(store.onCall('plant-1').team?.id).toBe('east');
    expect(store.onCall('plant-2').team?.id).toBe('night');

    store.setCoverage({ scope: 'site', key: 'plant-1', teamId: 'north' });
    expect(store.onCall('plant-1').team?.id).toBe('north');
    // The same key again replaces the team, it adds no second entry.
    store.setCoverage({ scope: 'site', key: 'plant-1', teamId: 'east' });
    expect(store.coverage().map((c) => [c.scope, c.key, c.teamId])).toEqual([
      ['site', 'plant-1', 'east'],
      ['customer', 'example logistics ltd', 'east'],
      ['default', '', 'night'],
    ]);
  });

  it('answers who is on call for a site, overrides applied, with lead and manager', () => {
    seed();
    store.setCoverage({ scope: 'default', teamId: 'east' });
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
    store.createOverride({
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

  it('refuses to delete a person still on call somewhere, and says where', () => {
    seed();
    const error = errorOf(() => store.deletePerson('li-na'));
    expect(error.code).toBe('VIGIL_CONFLICT');
    expect(error.details).toEqual(['team east: lead', 'team east: rotation 1']);
    store.createPerson({ id: 'temp', name: 'Temp' });
    store.deletePerson('temp');
    expect(store.person('temp')).toBeUndefined();
  });

  it('keeps everything across a restart; deleting a team takes its rota and coverage', () => {
    seed();
    store.setCoverage({ scope: 'site', key: 'plant-1', teamId: 'east' });
    store.createOverride({
      teamId: 'east',
      personId: 'wang-fang',
      from: '2026-12-06T00:00:00.000Z',
      to: '2026-12-07T00:00:00.000Z',
    });
    const before = store.onCall('plant-1');
    db.close();
    open();
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

    store.deleteTeam('east');
    expect(store.rotations('east')).toEqual([]);
    expect(store.overrides()).toEqual([]);
    expect(store.coverage()).toEqual([]);
    expect(store.onCall('plant-1').team).toBeNull();
  });
});
