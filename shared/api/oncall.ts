/**
 * On call (issue 15 part 1): the engineers who can be paged, the teams they form, each
 * team's rotations (who carries the phone when), overrides for leave and swaps, which
 * team covers which site, and the answer "who is on call now, and next" for any site.
 * Everyone signed in reads; only an admin writes (each write audited).
 *
 *   GET    /api/oncall/people                        -> Person[]
 *   POST   /api/oncall/people                        PersonCreate -> 201 Person
 *   PATCH  /api/oncall/people/:id                    PersonPatch -> Person
 *   DELETE /api/oncall/people/:id                    -> 204 (409 while a team or rota names them)
 *   GET    /api/oncall/teams                         -> Team[]
 *   POST   /api/oncall/teams                         TeamCreate -> 201 Team
 *   PATCH  /api/oncall/teams/:id                     TeamPatch -> Team
 *   DELETE /api/oncall/teams/:id                     -> 204 (its rotations, overrides, coverage go too)
 *   GET    /api/oncall/teams/:id/now?at=             -> TeamOnCall
 *   GET    /api/oncall/teams/:id/turns?from=&days=   -> Turn[] (who is on call when, 14 days by default)
 *   GET    /api/oncall/teams/:id/rotations           -> Rotation[]
 *   POST   /api/oncall/teams/:id/rotations           RotationWrite -> 201 Rotation
 *   PATCH  /api/oncall/teams/:id/rotations/:rotation RotationPatch -> Rotation
 *   DELETE /api/oncall/teams/:id/rotations/:rotation -> 204
 *   GET    /api/oncall/overrides?teamId=             -> Override[] (those not yet over)
 *   POST   /api/oncall/overrides                     OverrideWrite -> 201 Override
 *   DELETE /api/oncall/overrides/:id                 -> 204
 *   GET    /api/oncall/coverage                      -> Coverage[]
 *   POST   /api/oncall/coverage                      CoverageWrite -> 201 Coverage (replaces the same scope and key)
 *   DELETE /api/oncall/coverage/:id                  -> 204
 *   GET    /api/oncall/now?siteId=&at=               -> OnCallNow
 *
 * broker/oncall/types.ts declares Person, Team and OnCallNow as plain interfaces for the
 * notification parts; the schemas here have the same shape (the store checks it at compile time).
 */
import { Type, type Static, type TProperties } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';

/** The routes live in routes.ts (the console imports them without TypeBox). */
export { oncallApiRoutes, oncallPath } from './routes.js';

/** The language messages to a person or team are written in. */
export const OnCallLanguage = Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]);

/** YYYY-MM-DD, a calendar day in the team's time zone. */
const LocalDay = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
/** HH:MM on a 24-hour clock, in the team's time zone. */
const LocalTime = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' });
/** Identities in the chat apps: short opaque strings, checked by the services themselves. */
const ChatId = Type.String({ minLength: 1, maxLength: 128 });

export const Person = Type.Object({
  /** A slug, e.g. "zhang-wei". */
  id: Id,
  name: Type.String(),
  /** Mainland mobile, 11 digits: "13800138000" (the robots' @-mentions and SMS need this form). */
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  dingtalkUserId: Nullable(Type.String()),
  wecomUserId: Nullable(Type.String()),
  /** "ou_...", the open_id of the Feishu app. */
  feishuOpenId: Nullable(Type.String()),
  language: OnCallLanguage,
  /** Their console account, if any: acknowledging from a message acts in this name. */
  userName: Nullable(Type.String()),
});
export type Person = Static<typeof Person>;
export const PersonList = Type.Array(Person);

const personFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  /** Spaces, dashes and a leading +86 are taken off before the check. */
  phone: Nullable(Type.String({ maxLength: 32 })),
  email: Nullable(Type.String({ maxLength: 254 })),
  dingtalkUserId: Nullable(ChatId),
  wecomUserId: Nullable(ChatId),
  feishuOpenId: Nullable(ChatId),
  language: OnCallLanguage,
  userName: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
};
/** The same fields, each optional (PATCH bodies, and POST beyond the required ones). */
const optional = <T extends TProperties>(fields: T) => Type.Partial(Type.Object(fields)).properties;

/** POST: id and name required; the rest null (language zh-CN) when left out. */
export const PersonCreate = Type.Object(
  {
    id: Id,
    ...optional(personFields),
    name: personFields.name,
  },
  { additionalProperties: false },
);
export type PersonCreate = Static<typeof PersonCreate>;
/** PATCH: the fields sent change; null clears. */
export const PersonPatch = Type.Object(optional(personFields), { additionalProperties: false });
export type PersonPatch = Static<typeof PersonPatch>;

export const Team = Type.Object({
  id: Id,
  name: Type.String(),
  /** IANA zone (e.g. "Asia/Shanghai"): the hand-over times and message deadlines are in it. */
  timeZone: Type.String(),
  /** The language of messages to this team. */
  language: OnCallLanguage,
  leadId: Nullable(Id),
  supervisorId: Nullable(Id),
  managerId: Nullable(Id),
  /** The team's own channels (ids of /api/notify/channels). */
  channelIds: Type.Array(Type.String()),
});
export type Team = Static<typeof Team>;
export const TeamList = Type.Array(Team);

const teamFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  timeZone: Type.String({ minLength: 1, maxLength: 64 }),
  language: OnCallLanguage,
  leadId: Nullable(Id),
  supervisorId: Nullable(Id),
  managerId: Nullable(Id),
  channelIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 }),
};
/** POST: id and name required; time zone Asia/Shanghai and language zh-CN by default. */
export const TeamCreate = Type.Object(
  { id: Id, ...optional(teamFields), name: teamFields.name },
  { additionalProperties: false },
);
export type TeamCreate = Static<typeof TeamCreate>;
export const TeamPatch = Type.Object(optional(teamFields), { additionalProperties: false });
export type TeamPatch = Static<typeof TeamPatch>;

export const Handover = Type.Union([Type.Literal('daily'), Type.Literal('weekly')]);
export type Handover = Static<typeof Handover>;

/**
 * A team's rota: `personIds` take turns, the first from `startDate` at `handoverTime`, the
 * next from the following hand-over (every day, or every week on `handoverWeekday`), all in
 * the team's time zone. A team may keep several rotations: the one with the latest
 * `startDate` that has begun is in force, so next month's rota can be entered today.
 */
export const Rotation = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  teamId: Id,
  name: Type.String(),
  personIds: Type.Array(Id),
  handover: Handover,
  handoverTime: LocalTime,
  /** ISO 8601 weekday, 1 = Monday ... 7 = Sunday; null for a daily hand-over. */
  handoverWeekday: Nullable(Type.Integer({ minimum: 1, maximum: 7 })),
  startDate: LocalDay,
});
export type Rotation = Static<typeof Rotation>;
export const RotationList = Type.Array(Rotation);

const rotationFields = {
  name: Type.String({ maxLength: 100 }),
  personIds: Type.Array(Id, { maxItems: 100 }),
  handover: Handover,
  handoverTime: LocalTime,
  handoverWeekday: Nullable(Type.Integer({ minimum: 1, maximum: 7 })),
  startDate: LocalDay,
};
/** POST: name "" and hand-over 09:00 daily by default; weekly needs handoverWeekday. */
export const RotationWrite = Type.Object(
  {
    ...optional(rotationFields),
    personIds: rotationFields.personIds,
    startDate: rotationFields.startDate,
  },
  { additionalProperties: false },
);
export type RotationWrite = Static<typeof RotationWrite>;
export const RotationPatch = Type.Object(optional(rotationFields), {
  additionalProperties: false,
});
export type RotationPatch = Static<typeof RotationPatch>;

/**
 * `personId` is on call for the team from `from` to `to` (leave cover, a swap). With
 * `replacesId`, only while the rota has that person on call (cover for their leave); without
 * it, for the whole span. Where two overlap, the one created last wins.
 */
export const Override = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  teamId: Id,
  personId: Id,
  replacesId: Nullable(Id),
  from: Timestamp,
  to: Timestamp,
  reason: Type.String(),
  createdAt: Timestamp,
});
export type Override = Static<typeof Override>;
export const OverrideList = Type.Array(Override);

export const OverrideWrite = Type.Object(
  {
    teamId: Id,
    personId: Id,
    replacesId: Type.Optional(Nullable(Id)),
    from: Timestamp,
    to: Timestamp,
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type OverrideWrite = Static<typeof OverrideWrite>;

/**
 * Which team covers a site: a `site` entry (key: the site id) beats a `customer` entry
 * (key: the site's customer, compared without case and extra spaces) beats the `default`
 * entry (key "").
 */
export const CoverageScope = Type.Union([
  Type.Literal('site'),
  Type.Literal('customer'),
  Type.Literal('default'),
]);
export type CoverageScope = Static<typeof CoverageScope>;

export const Coverage = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  scope: CoverageScope,
  key: Type.String(),
  teamId: Id,
});
export type Coverage = Static<typeof Coverage>;
export const CoverageList = Type.Array(Coverage);

export const CoverageWrite = Type.Object(
  {
    scope: CoverageScope,
    /** The site id or the customer's name; leave out (or "") for the default. */
    key: Type.Optional(Type.String({ maxLength: 200 })),
    teamId: Id,
  },
  { additionalProperties: false },
);
export type CoverageWrite = Static<typeof CoverageWrite>;

const NextOnCall = Nullable(
  Type.Object({
    engineer: Nullable(Person),
    /** ISO 8601 UTC: when they take over. */
    from: Timestamp,
  }),
);

const onCallFields = {
  /** On call at the asked instant, overrides applied; null: nobody (no rota, empty rota). */
  engineer: Nullable(Person),
  /** When this engineer's turn ends (the next change of person); null: no change ahead. */
  until: Nullable(Timestamp),
  next: NextOnCall,
  lead: Nullable(Person),
  supervisor: Nullable(Person),
  manager: Nullable(Person),
};

/** GET /api/oncall/now: who is on call for a site, and next. */
export const OnCallNow = Type.Object({
  siteId: Type.String(),
  /** The team covering the site; null: none covers it (no site, customer or default entry). */
  team: Nullable(Team),
  ...onCallFields,
});
export type OnCallNow = Static<typeof OnCallNow>;

/** GET /api/oncall/teams/:id/now: the same for one team. */
export const TeamOnCall = Type.Object({ team: Team, ...onCallFields });
export type TeamOnCall = Static<typeof TeamOnCall>;

/** GET /api/oncall/teams/:id/turns: who is on call when, over the coming days. */
export const Turn = Type.Object({
  engineer: Nullable(Person),
  from: Timestamp,
  to: Timestamp,
});
export type Turn = Static<typeof Turn>;
export const TurnList = Type.Array(Turn);
export const TurnsQuery = Type.Object(
  {
    /** From this instant; now when left out. */
    from: Type.Optional(Timestamp),
    /** How many days ahead; 14 when left out. */
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 92 })),
  },
  { additionalProperties: false },
);

export const OnCallNowQuery = Type.Object(
  {
    siteId: Id,
    /** The instant asked about; now when left out. */
    at: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export const AtQuery = Type.Object(
  { at: Type.Optional(Timestamp) },
  { additionalProperties: false },
);
export const OverrideQuery = Type.Object(
  { teamId: Type.Optional(Id) },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const NumberParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export const RotationParams = Type.Object(
  { id: Id, rotation: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const personExample: Person = {
  id: 'zhang-wei',
  name: '张伟',
  phone: '13800138000',
  email: 'zhang.wei@example.com',
  dingtalkUserId: 'manager4220',
  wecomUserId: 'ZhangWei',
  feishuOpenId: 'ou_7d8a6e6df7621556ce0d21922b676706ccs',
  language: 'zh-CN',
  userName: 'zhangwei',
};

export const teamExample: Team = {
  id: 'east-china',
  name: '华东运维组',
  timeZone: 'Asia/Shanghai',
  language: 'zh-CN',
  leadId: 'li-na',
  supervisorId: 'wang-fang',
  managerId: 'chen-jie',
  channelIds: ['dingtalk-east'],
};

export const rotationExample: Rotation = {
  id: 1,
  teamId: 'east-china',
  name: 'weekly',
  personIds: ['zhang-wei', 'liu-yang'],
  handover: 'weekly',
  handoverTime: '09:00',
  handoverWeekday: 1,
  startDate: '2026-12-07',
};

export const onCallNowExample: OnCallNow = {
  siteId: 'demo-site',
  team: teamExample,
  engineer: personExample,
  until: '2026-12-14T01:00:00.000Z',
  next: {
    engineer: { ...personExample, id: 'liu-yang', name: '刘洋' },
    from: '2026-12-14T01:00:00.000Z',
  },
  lead: null,
  supervisor: null,
  manager: null,
};
