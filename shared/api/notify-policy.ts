/**
 * Escalation policies (issue 15 part 2): who is notified of a ticket, when, and how,
 * per priority. The escalation part's section of the notify schemas; shared/api/notify.ts
 * re-exports it beside the channels' section.
 *
 * Each step names when it runs, whom it notifies (roles of the team covering the site,
 * resolved by the on-call directory at that moment) and whether SMS channels are used:
 *
 *   opened          at once when the ticket opens
 *   unacknowledged  `afterMin` minutes after opening, if nobody acknowledged it
 *   sla-warning     when an SLA clock warns (broker setting tickets.warnShare, 80 %)
 *   sla-breach      when an SLA clock's deadline passes
 *
 * A priority with `digestEveryMin` bundles its `opened` notifications into a digest at most
 * that often, always sent before half of the ticket's response time has passed.
 */
import { Type, type Static } from 'typebox';
import { Nullable } from './common.js';

export const notifyPolicyRoutes = {
  policies: '/api/notify/policies',
} as const;

export const PolicyRole = Type.Union([
  Type.Literal('engineer'),
  Type.Literal('lead'),
  Type.Literal('supervisor'),
  Type.Literal('manager'),
]);
export type PolicyRole = Static<typeof PolicyRole>;

export const PolicyWhen = Type.Union([
  Type.Literal('opened'),
  Type.Literal('unacknowledged'),
  Type.Literal('sla-warning'),
  Type.Literal('sla-breach'),
]);
export type PolicyWhen = Static<typeof PolicyWhen>;

export const PolicyStep = Type.Object(
  {
    when: PolicyWhen,
    /** unacknowledged only: minutes after the ticket opened. */
    afterMin: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_080 })),
    notify: Type.Array(PolicyRole, { minItems: 1, uniqueItems: true }),
    /** Also through the team's SMS channels. */
    sms: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type PolicyStep = Static<typeof PolicyStep>;

export const PriorityPolicy = Type.Object(
  {
    steps: Type.Array(PolicyStep, { maxItems: 20 }),
    /** null: each notification alone; a number: opened notifications bundled this often. */
    digestEveryMin: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1440 })),
  },
  { additionalProperties: false },
);
export type PriorityPolicy = Static<typeof PriorityPolicy>;

/** GET /api/notify/policies (anyone logged in); PUT (admin) replaces them. */
export const NotifyPolicies = Type.Object(
  { emergency: PriorityPolicy, serious: PriorityPolicy, general: PriorityPolicy },
  { additionalProperties: false },
);
export type NotifyPolicies = Static<typeof NotifyPolicies>;

/**
 * An operator's own policies, as a PUT sends them: a third level after 10 minutes, SMS for
 * serious tickets, general ones bundled hourly. Only an example (docs, the contract test):
 * the broker's defaults are `defaultPolicies` in broker/notify/policies.ts.
 */
export const notifyPoliciesExample: NotifyPolicies = {
  emergency: {
    steps: [
      { when: 'opened', notify: ['engineer'], sms: true },
      { when: 'unacknowledged', afterMin: 3, notify: ['engineer', 'lead'], sms: true },
      { when: 'unacknowledged', afterMin: 10, notify: ['supervisor'], sms: true },
      { when: 'sla-breach', notify: ['manager'], sms: true },
    ],
    digestEveryMin: null,
  },
  serious: {
    steps: [
      { when: 'opened', notify: ['engineer'], sms: true },
      { when: 'unacknowledged', afterMin: 15, notify: ['lead'], sms: false },
      { when: 'sla-breach', notify: ['manager'], sms: false },
    ],
    digestEveryMin: null,
  },
  general: {
    steps: [{ when: 'opened', notify: ['engineer'], sms: false }],
    digestEveryMin: 60,
  },
};
