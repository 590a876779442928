/**
 * /api/oncall/* through the whole broker (broker/app.ts) over real HTTP: an admin builds
 * people, a team, a rota, an override and coverage; an operator reads but may not write;
 * bad input gets 400 with every field to fix; "who is on call" for a site follows its
 * customer (the site store wired in app.ts); writes land in the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { UserStore } from '../../../../broker/api/users.js';
import { oncallApiRoutes as routes, oncallPath } from '../../../../shared/api/oncall.js';
import { sitePath } from '../../../../shared/api/sites.js';
import { loginToken, startTestBroker } from '../../../helpers/broker.js';

const OPERATOR = { username: 'olga', password: 'operator password 1' };

describe('on-call API', () => {
  let broker: RunningBroker;
  let admin: string;
  let operator: string;

  const call = async (token: string | null, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    };
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    await new UserStore(broker.store).setUser(OPERATOR.username, 'operator', OPERATOR.password);
    admin = await loginToken(broker);
    operator = await loginToken(broker, OPERATOR.password, OPERATOR.username);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('needs a login to read, and the admin role to write', async () => {
    expect((await call(null, 'GET', routes.people)).status).toBe(401);
    expect((await call(operator, 'GET', routes.people)).status).toBe(200);
    const refused = await call(operator, 'POST', routes.people, { id: 'x', name: 'X' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'VIGIL_FORBIDDEN',
      message: 'Adding a person needs the admin role; you are operator. Ask an admin.',
    });
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = await call(operator, 'GET', '/api/openapi.json');
    expect(Object.keys(doc.body!.paths as object)).toEqual(
      expect.arrayContaining([
        routes.now,
        routes.people,
        '/api/oncall/teams/{id}/rotations/{rotation}',
      ]),
    );
  });

  it('refuses bad people and teams with every field to fix', async () => {
    const person = await call(admin, 'POST', routes.people, {
      id: 'bad',
      name: 'Bad',
      phone: '1380013800',
      email: 'bad@',
    });
    expect(person.status).toBe(400);
    expect(person.body).toMatchObject({ code: 'VIGIL_BAD_REQUEST' });
    expect(person.body!.details).toEqual([
      expect.stringMatching(/^phone: "1380013800" is not a mainland mobile number; send 11 digits/),
      expect.stringMatching(/^email: "bad@" is not an email address/),
    ]);
    // The schema's own checks: an unknown field, a language we do not write in.
    const schema = await call(admin, 'POST', routes.teams, {
      id: 'w',
      name: 'W',
      language: 'fr',
      region: 'west',
    });
    expect(schema.status).toBe(400);
    expect(schema.body!.code).toBe('VIGIL_BAD_REQUEST');
    const zone = await call(admin, 'POST', routes.teams, { id: 'w', name: 'W', timeZone: 'CST' });
    expect(zone.status).toBe(400);
    expect(zone.body!.details).toEqual([
      'timeZone: "CST" is not an IANA time zone; send one like Asia/Shanghai or Europe/Berlin (abbreviations such as CST are ambiguous: to the tz database CST is Chicago)',
    ]);
    const at = await call(admin, 'GET', `${routes.now}?siteId=plant-7&at=yesterday`);
    expect(at.status).toBe(400);
    expect(at.body!.code).toBe('VIGIL_BAD_REQUEST');
    expect((await call(admin, 'PATCH', oncallPath('person', 'ghost'), { name: 'G' })).status).toBe(
      404,
    );
  });

  it('answers who is on call for a site, by its customer, and next', async () => {
    for (const [id, name, phone] of [
      ['zhang-wei', '张伟', '13800138000'],
      ['li-na', '李娜', '13900139000'],
      ['chen-jie', '陈杰', null],
    ] as const) {
      const created = await call(admin, 'POST', routes.people, { id, name, phone });
      expect(created.status).toBe(201);
    }
    expect(
      (await call(admin, 'POST', routes.teams, { id: 'east', name: '华东', leadId: 'chen-jie' }))
        .status,
    ).toBe(201);
    const rotation = await call(admin, 'POST', oncallPath('rotations', 'east'), {
      personIds: ['zhang-wei', 'li-na'],
      handover: 'weekly',
      handoverWeekday: 1,
      handoverTime: '09:00',
      startDate: '2026-11-30',
    });
    expect(rotation.status).toBe(201);
    expect(rotation.body).toMatchObject({ id: expect.any(Number), teamId: 'east' });

    // The site's customer decides the team (its free-text field, through the site store).
    expect(
      (await call(admin, 'PUT', sitePath('plant-7'), { customer: 'Example Logistics Ltd' })).status,
    ).toBe(200);
    const coverage = await call(admin, 'POST', routes.coverage, {
      scope: 'customer',
      key: 'Example Logistics Ltd',
      teamId: 'east',
    });
    expect(coverage.status).toBe(201);

    const at = '2026-12-03T04:00:00.000Z';
    const now = await call(
      operator,
      'GET',
      `${routes.now}?siteId=plant-7&at=${encodeURIComponent(at)}`,
    );
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({
      siteId: 'plant-7',
      team: { id: 'east', timeZone: 'Asia/Shanghai', language: 'zh-CN' },
      engineer: { id: 'zhang-wei', phone: '13800138000' },
      until: '2026-12-07T01:00:00.000Z',
      next: { engineer: { id: 'li-na' }, from: '2026-12-07T01:00:00.000Z' },
      lead: { id: 'chen-jie' },
      supervisor: null,
      manager: null,
    });

    // Leave: chen-jie covers zhang-wei's turn on those days.
    const override = await call(admin, 'POST', routes.overrides, {
      teamId: 'east',
      personId: 'chen-jie',
      replacesId: 'zhang-wei',
      from: '2026-12-02T16:00:00.000Z',
      to: '2026-12-04T16:00:00.000Z',
      reason: 'annual leave',
    });
    expect(override.status).toBe(201);
    const covered = await call(
      operator,
      'GET',
      `${oncallPath('teamNow', 'east')}?at=${encodeURIComponent(at)}`,
    );
    expect(covered.body).toMatchObject({
      engineer: { id: 'chen-jie' },
      until: '2026-12-04T16:00:00.000Z',
      next: { engineer: { id: 'zhang-wei' } },
    });

    // The rota as an admin checks it: a week from Monday, the leave cover inside.
    const turns = await call(
      operator,
      'GET',
      `${oncallPath('turns', 'east')}?from=${encodeURIComponent('2026-11-30T01:00:00.000Z')}&days=8`,
    );
    expect(
      (
        turns.body as unknown as { engineer: { id: string } | null; from: string; to: string }[]
      ).map((t) => [t.engineer?.id, t.from, t.to]),
    ).toEqual([
      ['zhang-wei', '2026-11-30T01:00:00.000Z', '2026-12-02T16:00:00.000Z'],
      ['chen-jie', '2026-12-02T16:00:00.000Z', '2026-12-04T16:00:00.000Z'],
      ['zhang-wei', '2026-12-04T16:00:00.000Z', '2026-12-07T01:00:00.000Z'],
      ['li-na', '2026-12-07T01:00:00.000Z', '2026-12-08T01:00:00.000Z'],
    ]);

    // A site nobody covers: an answer with no team, not an error.
    const uncovered = await call(operator, 'GET', `${routes.now}?siteId=elsewhere`);
    expect(uncovered.body).toMatchObject({ siteId: 'elsewhere', team: null, engineer: null });

    // Someone on a rota cannot be deleted until taken off it.
    const busy = await call(admin, 'DELETE', oncallPath('person', 'li-na'));
    expect(busy.status).toBe(409);
    expect(busy.body!.details).toEqual([`team east: rotation ${String(rotation.body!.id)}`]);

    const audit = await call(admin, 'GET', '/api/audit?actor=admin');
    const actions = (audit.body as unknown as { action: string }[]).map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'oncall.person.create',
        'oncall.team.create',
        'oncall.rotation.create',
        'oncall.coverage.set',
        'oncall.override.create',
      ]),
    );
  });

  it('changes and deletes rotations, overrides and coverage', async () => {
    const rotations = await call(operator, 'GET', oncallPath('rotations', 'east'));
    const [first] = rotations.body as unknown as { id: number }[];
    const patched = await call(admin, 'PATCH', oncallPath('rotation', 'east', first!.id), {
      handover: 'daily',
    });
    expect(patched.body).toMatchObject({ handover: 'daily', handoverWeekday: null });
    expect((await call(admin, 'DELETE', oncallPath('rotation', 'east', first!.id))).status).toBe(
      204,
    );
    expect((await call(admin, 'DELETE', oncallPath('rotation', 'east', first!.id))).status).toBe(
      404,
    );
    const entries = (await call(operator, 'GET', routes.coverage)).body as unknown as {
      id: number;
    }[];
    expect((await call(admin, 'DELETE', oncallPath('coverageEntry', entries[0]!.id))).status).toBe(
      204,
    );
    expect((await call(operator, 'GET', oncallPath('rotations', 'nowhere'))).status).toBe(404);
  });
});
