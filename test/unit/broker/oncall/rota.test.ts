/**
 * Who is on call at an instant (broker/oncall/rota.ts): daily and weekly hand-overs at a
 * local time, the daylight-saving days of Europe/Berlin and America/New_York beside
 * Asia/Shanghai (no DST), overrides for leave and swaps, an empty rota, no rota at all.
 * The DST dates are those of the EU (last Sunday of March / October, 01:00 UTC) and the US
 * (second Sunday of March, first Sunday of November, 02:00 local) for 2026.
 */
import { describe, expect, it } from 'vitest';
import type { Override, Rotation } from '../../../../shared/api/oncall.js';
import {
  isTimeZone,
  onCallAt,
  personAt,
  shiftAt,
  turnsBetween,
  zonedInstant,
  dayNumber,
  type RotaInput,
} from '../../../../broker/oncall/rota.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

function rotation(fields: Partial<Rotation> = {}): Rotation {
  return {
    id: 1,
    teamId: 'east',
    name: '',
    personIds: ['a', 'b', 'c'],
    handover: 'daily',
    handoverTime: '09:00',
    handoverWeekday: null,
    startDate: '2026-12-01',
    ...fields,
  };
}

let overrideId = 0;
function override(
  fields: Partial<Override> & Pick<Override, 'personId' | 'from' | 'to'>,
): Override {
  overrideId += 1;
  return {
    id: overrideId,
    teamId: 'east',
    replacesId: null,
    reason: '',
    createdAt: `2026-11-01T00:00:${String(overrideId).padStart(2, '0')}.000Z`,
    ...fields,
  };
}

function answer(input: RotaInput, when: string) {
  const result = onCallAt(input, at(when));
  return {
    personId: result.personId,
    until: iso(result.until),
    next: result.next && { personId: result.next.personId, from: iso(result.next.from) },
  };
}

describe('local time', () => {
  it('knows IANA zones and refuses made-up ones', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('takes the earlier of a doubled reading and moves one in the spring gap past it', () => {
    const z = 'Europe/Berlin';
    // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST; 02:30 never happens.
    expect(iso(zonedInstant(z, dayNumber('2026-03-29'), 150))).toBe('2026-03-29T01:30:00.000Z');
    // 2026-10-25: clocks go back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
    expect(iso(zonedInstant(z, dayNumber('2026-10-25'), 150))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(zonedInstant('Asia/Shanghai', dayNumber('2026-03-29'), 150))).toBe(
      '2026-03-28T18:30:00.000Z',
    );
  });
});

describe('daily rota', () => {
  const input: RotaInput = { timeZone: 'Asia/Shanghai', rotations: [rotation()], overrides: [] };

  it('hands over every day at 09:00 Beijing time, in turn', () => {
    expect(answer(input, '2026-12-01T01:00:00Z')).toEqual({
      personId: 'a',
      until: '2026-12-02T01:00:00.000Z',
      next: { personId: 'b', from: '2026-12-02T01:00:00.000Z' },
    });
    // 08:59 on the third day is still b's turn; 09:00 is c's.
    expect(answer(input, '2026-12-03T00:59:59Z').personId).toBe('b');
    expect(answer(input, '2026-12-03T01:00:00Z').personId).toBe('c');
    // Day 4 is a's again.
    expect(answer(input, '2026-12-04T12:00:00Z')).toEqual({
      personId: 'a',
      until: '2026-12-05T01:00:00.000Z',
      next: { personId: 'b', from: '2026-12-05T01:00:00.000Z' },
    });
  });

  it('has nobody before the rota starts, and names the first as next', () => {
    expect(answer(input, '2026-12-01T00:59:00Z')).toEqual({
      personId: null,
      until: '2026-12-01T01:00:00.000Z',
      next: { personId: 'a', from: '2026-12-01T01:00:00.000Z' },
    });
  });

  it('keeps 09:00 local across both daylight-saving days in Berlin (23 h and 25 h turns)', () => {
    const berlin: RotaInput = {
      timeZone: 'Europe/Berlin',
      rotations: [rotation({ startDate: '2026-03-27', personIds: ['a', 'b'] })],
      overrides: [],
    };
    const spring = shiftAt(berlin.rotations[0]!, berlin.timeZone, at('2026-03-28T12:00:00Z'))!;
    expect([iso(spring.start), iso(spring.end)]).toEqual([
      '2026-03-28T08:00:00.000Z', // 09:00 CET
      '2026-03-29T07:00:00.000Z', // 09:00 CEST
    ]);
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
    const autumn = shiftAt(berlin.rotations[0]!, berlin.timeZone, at('2026-10-24T12:00:00Z'))!;
    expect([iso(autumn.start), iso(autumn.end)]).toEqual([
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
    ]);
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000);
    // 08:30 UTC on the spring day is 10:30 CEST: already the next turn.
    expect(personAt(berlin, at('2026-03-29T06:59:59Z'))).toBe('b');
    expect(personAt(berlin, at('2026-03-29T07:00:00Z'))).toBe('a');
  });

  it('hands over in the spring gap at the first instant after it', () => {
    const berlin: RotaInput = {
      timeZone: 'Europe/Berlin',
      rotations: [
        rotation({ startDate: '2026-03-27', handoverTime: '02:30', personIds: ['a', 'b'] }),
      ],
      overrides: [],
    };
    expect(answer(berlin, '2026-03-29T01:00:00Z')).toMatchObject({
      until: '2026-03-29T01:30:00.000Z', // 03:30 CEST: 02:30 did not happen that night
    });
    expect(answer(berlin, '2026-03-29T01:30:00Z')).toMatchObject({
      until: '2026-03-30T00:30:00.000Z', // 02:30 CEST
    });
  });
});

describe('weekly rota', () => {
  it('hands over on Mondays at 09:00, the first turn from a midweek start to the first Monday', () => {
    const input: RotaInput = {
      timeZone: 'Asia/Shanghai',
      // 2026-12-02 is a Wednesday.
      rotations: [
        rotation({
          handover: 'weekly',
          handoverWeekday: 1,
          startDate: '2026-12-02',
          personIds: ['a', 'b'],
        }),
      ],
      overrides: [],
    };
    expect(answer(input, '2026-12-02T01:00:00Z')).toEqual({
      personId: 'a',
      until: '2026-12-07T01:00:00.000Z',
      next: { personId: 'b', from: '2026-12-07T01:00:00.000Z' },
    });
    expect(answer(input, '2026-12-13T15:59:00Z')).toEqual({
      personId: 'b',
      until: '2026-12-14T01:00:00.000Z',
      next: { personId: 'a', from: '2026-12-14T01:00:00.000Z' },
    });
    expect(personAt(input, at('2026-12-21T01:00:00Z'))).toBe('b');
  });

  it('keeps Sunday 09:00 in New York across the US spring change (a 167 h turn)', () => {
    const rota = rotation({
      handover: 'weekly',
      handoverWeekday: 7,
      startDate: '2026-03-01', // a Sunday
      personIds: ['a', 'b'],
    });
    const shift = shiftAt(rota, 'America/New_York', at('2026-03-05T12:00:00Z'))!;
    expect([iso(shift.start), iso(shift.end), shift.personId]).toEqual([
      '2026-03-01T14:00:00.000Z', // 09:00 EST
      '2026-03-08T13:00:00.000Z', // 09:00 EDT
      'a',
    ]);
    expect(shift.end - shift.start).toBe(167 * 3_600_000);
  });
});

describe('rotations of a team', () => {
  it('a later rotation replaces the earlier one from its start', () => {
    const input: RotaInput = {
      timeZone: 'Asia/Shanghai',
      rotations: [
        rotation({ id: 1, personIds: ['a', 'b'] }),
        rotation({ id: 2, personIds: ['x'], startDate: '2026-12-10' }),
      ],
      overrides: [],
    };
    expect(answer(input, '2026-12-09T12:00:00Z')).toEqual({
      personId: 'a',
      until: '2026-12-10T01:00:00.000Z',
      next: { personId: 'x', from: '2026-12-10T01:00:00.000Z' },
    });
    // One person from then on: no change of hands ahead.
    expect(answer(input, '2026-12-11T12:00:00Z')).toEqual({
      personId: 'x',
      until: null,
      next: null,
    });
  });

  it('an empty rota and a team without a rota have nobody on call', () => {
    const empty: RotaInput = {
      timeZone: 'Asia/Shanghai',
      rotations: [rotation({ personIds: [] })],
      overrides: [],
    };
    expect(answer(empty, '2026-12-05T00:00:00Z')).toEqual({
      personId: null,
      until: null,
      next: null,
    });
    const none: RotaInput = { timeZone: 'Asia/Shanghai', rotations: [], overrides: [] };
    expect(answer(none, '2026-12-05T00:00:00Z')).toEqual({
      personId: null,
      until: null,
      next: null,
    });
  });

  it('a team without a rota still has the people of its overrides', () => {
    const input: RotaInput = {
      timeZone: 'Asia/Shanghai',
      rotations: [],
      overrides: [
        override({ personId: 'z', from: '2026-12-24T10:00:00Z', to: '2026-12-26T10:00:00Z' }),
      ],
    };
    expect(answer(input, '2026-12-20T00:00:00Z')).toEqual({
      personId: null,
      until: '2026-12-24T10:00:00.000Z',
      next: { personId: 'z', from: '2026-12-24T10:00:00.000Z' },
    });
    expect(answer(input, '2026-12-25T00:00:00Z')).toEqual({
      personId: 'z',
      until: '2026-12-26T10:00:00.000Z',
      next: { personId: null, from: '2026-12-26T10:00:00.000Z' },
    });
  });
});

describe('overrides', () => {
  const base = { timeZone: 'Asia/Shanghai', rotations: [rotation()] };

  it('covers a leave: only the turns of the person away, then the rota again', () => {
    // b is away 2026-12-01 .. 2026-12-06; d covers b's turns (Dec 2 and Dec 5).
    const input: RotaInput = {
      ...base,
      overrides: [
        override({
          personId: 'd',
          replacesId: 'b',
          from: '2026-11-30T16:00:00Z',
          to: '2026-12-06T16:00:00Z',
        }),
      ],
    };
    expect(answer(input, '2026-12-01T12:00:00Z')).toEqual({
      personId: 'a',
      until: '2026-12-02T01:00:00.000Z',
      next: { personId: 'd', from: '2026-12-02T01:00:00.000Z' },
    });
    expect(personAt(input, at('2026-12-03T12:00:00Z'))).toBe('c');
    expect(personAt(input, at('2026-12-05T12:00:00Z'))).toBe('d');
    // The leave ends at midnight Beijing time, in the middle of b's next turn (Dec 8).
    expect(personAt(input, at('2026-12-08T12:00:00Z'))).toBe('b');
  });

  it('swaps two turns with two overrides', () => {
    // a takes b's Dec 2 turn and b takes a's Dec 4 turn.
    const input: RotaInput = {
      ...base,
      overrides: [
        override({ personId: 'a', from: '2026-12-02T01:00:00Z', to: '2026-12-03T01:00:00Z' }),
        override({ personId: 'b', from: '2026-12-04T01:00:00Z', to: '2026-12-05T01:00:00Z' }),
      ],
    };
    // a's own turn runs straight into the swapped one: until is when c takes over.
    expect(answer(input, '2026-12-01T12:00:00Z')).toEqual({
      personId: 'a',
      until: '2026-12-03T01:00:00.000Z',
      next: { personId: 'c', from: '2026-12-03T01:00:00.000Z' },
    });
    expect(answer(input, '2026-12-04T12:00:00Z')).toEqual({
      personId: 'b',
      // b's swapped turn runs into b's own turn of Dec 5.
      until: '2026-12-06T01:00:00.000Z',
      next: { personId: 'c', from: '2026-12-06T01:00:00.000Z' },
    });
  });

  it('the override created last wins where two overlap', () => {
    const first = override({
      personId: 'x',
      from: '2026-12-01T00:00:00Z',
      to: '2026-12-10T00:00:00Z',
    });
    const second = override({
      personId: 'y',
      from: '2026-12-03T00:00:00Z',
      to: '2026-12-04T00:00:00Z',
      createdAt: '2026-11-20T00:00:00.000Z',
    });
    const input: RotaInput = { ...base, overrides: [second, first] };
    expect(personAt(input, at('2026-12-02T12:00:00Z'))).toBe('x');
    expect(answer(input, '2026-12-03T12:00:00Z')).toEqual({
      personId: 'y',
      until: '2026-12-04T00:00:00.000Z',
      next: { personId: 'x', from: '2026-12-04T00:00:00.000Z' },
    });
    // Created earlier, the same span loses to the longer one.
    const older = { ...second, createdAt: '2026-10-01T00:00:00.000Z' };
    expect(personAt({ ...base, overrides: [older, first] }, at('2026-12-03T12:00:00Z'))).toBe('x');
  });
});

describe('turns between two instants', () => {
  it('lists who is on call when, merging a person who runs into their own turn', () => {
    const input: RotaInput = {
      timeZone: 'Asia/Shanghai',
      rotations: [rotation({ personIds: ['a', 'b'] })],
      overrides: [
        override({ personId: 'a', from: '2026-12-02T01:00:00Z', to: '2026-12-03T01:00:00Z' }),
      ],
    };
    const turns = turnsBetween(input, at('2026-11-30T12:00:00Z'), at('2026-12-05T01:00:00Z'));
    expect(turns.map((t) => [t.personId, iso(t.from), iso(t.to)])).toEqual([
      [null, '2026-11-30T12:00:00.000Z', '2026-12-01T01:00:00.000Z'],
      // a's own turn, then b's turn taken by a, then a's own again: one stretch.
      ['a', '2026-12-01T01:00:00.000Z', '2026-12-04T01:00:00.000Z'],
      ['b', '2026-12-04T01:00:00.000Z', '2026-12-05T01:00:00.000Z'],
    ]);
  });
});
