/**
 * Who is on call at an instant: pure functions over a team's rotations and overrides, no
 * I/O. Hand-overs happen at a local wall-clock time in the team's time zone ("09:00 every
 * Monday, Europe/Berlin"), so a shift across a daylight-saving change is an hour shorter or
 * longer in UTC; the zone rules come from the ICU data of Node's Intl (no date library).
 */
import type { Override, Rotation } from '../../shared/api/oncall.js';
import {
  dayNumber,
  isTimeZone,
  localDay,
  zonedInstant,
  zoneOffsetMs,
} from '../../shared/zoned-time.js';

const DAY_MS = 86_400_000;
/** How far ahead "next" is looked for: past it a rota that never changes hands has no next. */
const HORIZON_MS = 400 * DAY_MS;

/** The rotations and overrides of one team, and its zone. */
export interface RotaInput {
  timeZone: string;
  rotations: readonly Rotation[];
  /** Only those that end after the instant asked about matter; older ones may be left out. */
  overrides: readonly Override[];
}

/** One turn of a rotation: `personId` from `start` to `end` (epoch ms, UTC). */
export interface Shift {
  rotationId: number;
  personId: string | null;
  /** Turns since the rotation's start, from 0. */
  index: number;
  start: number;
  end: number;
}

export interface OnCallAnswer {
  personId: string | null;
  /** The first later instant at which another person (or nobody) is on call; null: none ahead. */
  until: number | null;
  next: { personId: string | null; from: number } | null;
}

// The zone's clock (wall-clock readings, instants of a local time) is shared/zoned-time.ts,
// which the console's forms use too; re-exported for the broker's readers of the rota.
export { dayNumber, isTimeZone, localDay, zonedInstant, zoneOffsetMs };

/** ISO 8601 weekday of a day number: 1 = Monday ... 7 = Sunday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function minutesOf(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return h! * 60 + m!;
}

/** When the rotation begins: its start date at its hand-over time, local. */
export function rotationStart(rotation: Rotation, timeZone: string): number {
  return zonedInstant(timeZone, dayNumber(rotation.startDate), minutesOf(rotation.handoverTime));
}

/**
 * The turn of `rotation` at `at`; null before the rotation begins. The first person is on
 * call from the start date at the hand-over time to the next hand-over: the next day for a
 * daily rota, the next `handoverWeekday` for a weekly one (a first turn shorter than a week
 * when the start date is another weekday).
 */
export function shiftAt(rotation: Rotation, timeZone: string, at: number): Shift | null {
  const first = dayNumber(rotation.startDate);
  const minutes = minutesOf(rotation.handoverTime);
  const handover = (day: number) => zonedInstant(timeZone, day, minutes);
  if (at < handover(first)) return null;
  let day = localDay(timeZone, at);
  if (handover(day) > at) day -= 1;
  let index: number;
  let startDay: number;
  let endDay: number;
  if (rotation.handover === 'daily' || rotation.handoverWeekday === null) {
    index = day - first;
    startDay = day;
    endDay = day + 1;
  } else {
    const target = rotation.handoverWeekday;
    // The first hand-over after the start day, then every 7 days.
    const firstHandover = first + 1 + ((target - weekday(first + 1) + 7) % 7);
    const lastOnWeekday = day - ((weekday(day) - target + 7) % 7);
    if (lastOnWeekday < firstHandover) {
      index = 0;
      startDay = first;
      endDay = firstHandover;
    } else {
      index = 1 + (lastOnWeekday - firstHandover) / 7;
      startDay = lastOnWeekday;
      endDay = lastOnWeekday + 7;
    }
  }
  const people = rotation.personIds;
  return {
    rotationId: rotation.id,
    personId: people.length === 0 ? null : people[index % people.length]!,
    index,
    start: handover(startDay),
    end: handover(endDay),
  };
}

/** The rotation in force at `at`: the one that began last (a later one replaces the rota). */
function rotationInForce(input: RotaInput, at: number): Rotation | undefined {
  let best: { rotation: Rotation; start: number } | undefined;
  for (const rotation of input.rotations) {
    const start = rotationStart(rotation, input.timeZone);
    if (start > at) continue;
    if (
      best === undefined ||
      start > best.start ||
      (start === best.start && rotation.id > best.rotation.id)
    )
      best = { rotation, start };
  }
  return best?.rotation;
}

/** Later-created first: on overlap the latest override wins. */
function newestFirst(a: Override, b: Override): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id - a.id;
}

/** Who is on call at `at`: the rota's person, unless an override takes over. */
export function personAt(input: RotaInput, at: number): string | null {
  const rotation = rotationInForce(input, at);
  const scheduled =
    rotation === undefined ? null : (shiftAt(rotation, input.timeZone, at)?.personId ?? null);
  const override = [...input.overrides]
    .sort(newestFirst)
    .find(
      (o) =>
        Date.parse(o.from) <= at &&
        at < Date.parse(o.to) &&
        (o.replacesId === null || o.replacesId === scheduled),
    );
  return override === undefined ? scheduled : override.personId;
}

/** The first instant after `at` at which the answer may change; null: none. */
function nextBoundary(input: RotaInput, at: number): number | null {
  let next = Infinity;
  const rotation = rotationInForce(input, at);
  // A rota of one person (or none) never changes hands at its hand-overs.
  if (rotation !== undefined && new Set(rotation.personIds).size > 1) {
    const shift = shiftAt(rotation, input.timeZone, at);
    if (shift !== null) next = Math.min(next, shift.end);
  }
  for (const other of input.rotations) {
    const start = rotationStart(other, input.timeZone);
    if (start > at) next = Math.min(next, start);
  }
  for (const o of input.overrides) {
    for (const edge of [Date.parse(o.from), Date.parse(o.to)]) {
      if (edge > at) next = Math.min(next, edge);
    }
  }
  return next === Infinity ? null : next;
}

/**
 * Who is on call at `at`, until when, and who follows. `until` is the next change of
 * person, so a hand-over from someone to themselves (a one-person rota) is no end of turn.
 */
export function onCallAt(input: RotaInput, at: number): OnCallAnswer {
  const personId = personAt(input, at);
  let t = at;
  for (;;) {
    const boundary = nextBoundary(input, t);
    if (boundary === null || boundary - at > HORIZON_MS)
      return { personId, until: null, next: null };
    const then = personAt(input, boundary);
    if (then !== personId)
      return { personId, until: boundary, next: { personId: then, from: boundary } };
    t = boundary;
  }
}

/** One stretch of time with the same person on call (epoch ms). */
export interface Turn {
  personId: string | null;
  from: number;
  to: number;
}

/**
 * Who is on call from `from` to `to`, as consecutive turns, each ending where another
 * person (or nobody) takes over: the rota as an admin checks it, overrides applied.
 */
export function turnsBetween(input: RotaInput, from: number, to: number, max = 500): Turn[] {
  const turns: Turn[] = [];
  let at = from;
  while (at < to && turns.length < max) {
    const answer = onCallAt(input, at);
    const end = answer.until === null ? to : Math.min(answer.until, to);
    turns.push({ personId: answer.personId, from: at, to: end });
    at = end;
  }
  return turns;
}
