/**
 * Customers (the 甲方 of each contract) and their contracts (issue 16 part 1): the
 * deadlines per priority, service hours, inspection cadence, warranty and spare-part
 * promises of ../shared/mission/service-commitments.md, per customer. A site belongs to
 * one customer; its tickets' clocks run on that customer's deadlines and its reports'
 * months and quarters are calendar periods in the customer's time zone.
 */
import { Type, type Static } from 'typebox';
import { Id } from '../ids.js';
import { Nullable } from './common.js';

/** The languages of documents handed to the customer (shared/wording/ renders both). */
export const CustomerLocale = Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]);
export type CustomerLocale = Static<typeof CustomerLocale>;

/**
 * One priority's deadlines in minutes after the ticket opened; null where the contract
 * sets none (general: on site "at an agreed time"). `onSiteMetBy`: which step meets the
 * on-site deadline (serious: the engineer departs within 1 h, so dispatch; emergency: on
 * site within 2 h), as broker/tickets/types.ts SlaTerms.
 */
export const ContractTerms = Type.Object(
  {
    respondMin: Type.Integer({ minimum: 1, maximum: 525_600 }),
    onSiteMin: Nullable(Type.Integer({ minimum: 1, maximum: 525_600 })),
    resolveMin: Nullable(Type.Integer({ minimum: 1, maximum: 525_600 })),
    onSiteMetBy: Type.Optional(Type.Union([Type.Literal('dispatch'), Type.Literal('on-site')])),
  },
  { additionalProperties: false },
);
export type ContractTerms = Static<typeof ContractTerms>;

export const ContractSla = Type.Object(
  { emergency: ContractTerms, serious: ContractTerms, general: ContractTerms },
  { additionalProperties: false },
);
export type ContractSla = Static<typeof ContractSla>;

/**
 * Service hours. Only 7x24 (the contract's 7*24*365: the clocks never pause for nights or
 * holidays) is accepted: a contract with office hours would need clocks that pause
 * outside them, which the ticket desk does not do yet, and a field it ignored would lie.
 */
export const ServiceHours = Type.Literal('7x24');

export const Contract = Type.Object(
  {
    sla: ContractSla,
    serviceHours: ServiceHours,
    /** The preventive inspections promised (巡检: 每月及季度). */
    inspections: Type.Object(
      { monthly: Type.Boolean(), quarterly: Type.Boolean() },
      { additionalProperties: false },
    ),
    /** Free warranty from the day after final acceptance (三年免费保修). */
    warrantyYears: Type.Integer({ minimum: 0, maximum: 30 }),
    /** A stocked spare replaced within, an unstocked one shipped within (备件服务: 2 h / 8 h). */
    spareParts: Type.Object(
      {
        stockedHours: Type.Number({ exclusiveMinimum: 0, maximum: 8760 }),
        unstockedHours: Type.Number({ exclusiveMinimum: 0, maximum: 8760 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Contract = Static<typeof Contract>;

/** What a request may change of a contract: any field, the rest kept. */
export const ContractPatch = Type.Object(
  {
    sla: Type.Optional(
      Type.Object(
        {
          emergency: Type.Optional(Type.Partial(ContractTerms)),
          serious: Type.Optional(Type.Partial(ContractTerms)),
          general: Type.Optional(Type.Partial(ContractTerms)),
        },
        { additionalProperties: false },
      ),
    ),
    serviceHours: Type.Optional(ServiceHours),
    inspections: Type.Optional(Type.Partial(Contract.properties.inspections)),
    warrantyYears: Type.Optional(Contract.properties.warrantyYears),
    spareParts: Type.Optional(Type.Partial(Contract.properties.spareParts)),
  },
  { additionalProperties: false },
);
export type ContractPatch = Static<typeof ContractPatch>;

export const CustomerContact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    /** A mainland mobile (11 digits), stored bare like the on-call people's. */
    phone: Type.Optional(Type.String({ maxLength: 40 })),
    email: Type.Optional(Type.String({ maxLength: 200 })),
    /** What they do for the customer: "security manager", "IT" ... */
    role: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type CustomerContact = Static<typeof CustomerContact>;

export const Customer = Type.Object({
  id: Id,
  name: Type.String(),
  contacts: Type.Array(CustomerContact),
  locale: CustomerLocale,
  /** IANA zone of the customer's documents and report periods. */
  timeZone: Type.String(),
  /** The contract in force (the broker's template where the customer set nothing). */
  contract: Contract,
  /** True while the customer follows the broker's template contract (nothing set of its own). */
  contractIsTemplate: Type.Boolean(),
  /** The sites that belong to the customer, by id. */
  sites: Type.Array(Id),
});
export type Customer = Static<typeof Customer>;
export const CustomerList = Type.Array(Customer);

/** POST /api/customers (admin). */
export const CustomerCreate = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    contacts: Type.Optional(Type.Array(CustomerContact, { maxItems: 50 })),
    locale: Type.Optional(CustomerLocale),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    contract: Type.Optional(ContractPatch),
  },
  { additionalProperties: false },
);
export type CustomerCreate = Static<typeof CustomerCreate>;

/** PATCH /api/customers/:id (admin): the fields sent change, the rest stay; the id stays. */
export const CustomerPatch = Type.Partial(Type.Omit(CustomerCreate, ['id']), {
  additionalProperties: false,
});
export type CustomerPatch = Static<typeof CustomerPatch>;

export const CustomerParams = Type.Object({ id: Id }, { additionalProperties: false });

/** A month (2026-11) or a quarter (2026-Q4), in the customer's time zone. */
export const PeriodQuery = Type.Object(
  { period: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2]|Q[1-4])$' }) },
  { additionalProperties: false },
);

/** One site's figures of the period, as its inspection report computes them. */
export const SiteFigures = Type.Object({
  siteId: Id,
  siteName: Type.String(),
  /** Up share of the observed time outside maintenance, %; null: never observed. */
  availabilityPct: Nullable(Type.Number()),
  /** Seconds observed and up (outside maintenance): what the customer's share weighs. */
  observedS: Type.Number({ minimum: 0 }),
  upS: Type.Number({ minimum: 0 }),
  met: Type.Integer({ minimum: 0 }),
  breached: Type.Integer({ minimum: 0 }),
  compliancePct: Nullable(Type.Number()),
});
export type SiteFigures = Static<typeof SiteFigures>;

/**
 * GET /api/customers/:id/figures?period=2026-11: the numbers the contract is judged by,
 * over every site of the customer: availability (up time over observed time, weighed by
 * each site's observed time) and SLA compliance (deadlines met over met and breached).
 */
export const CustomerFigures = Type.Object({
  customerId: Id,
  customerName: Type.String(),
  period: Type.String(),
  timeZone: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  availabilityPct: Nullable(Type.Number()),
  met: Type.Integer({ minimum: 0 }),
  breached: Type.Integer({ minimum: 0 }),
  compliancePct: Nullable(Type.Number()),
  sites: Type.Array(SiteFigures),
});
export type CustomerFigures = Static<typeof CustomerFigures>;

/** The routes live in routes.ts (the console imports them without TypeBox). */
export { customerApiRoutes, customerPath } from './routes.js';

export const customerExample: Customer = {
  id: 'example-logistics',
  name: 'Example Logistics Ltd',
  contacts: [{ name: '王芳', phone: '13800138000', role: 'security manager' }],
  locale: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  contract: {
    sla: {
      emergency: { respondMin: 10, onSiteMin: 120, resolveMin: 240, onSiteMetBy: 'on-site' },
      serious: { respondMin: 15, onSiteMin: 60, resolveMin: 240, onSiteMetBy: 'dispatch' },
      general: { respondMin: 120, onSiteMin: null, resolveMin: 480, onSiteMetBy: 'on-site' },
    },
    serviceHours: '7x24',
    inspections: { monthly: true, quarterly: true },
    warrantyYears: 3,
    spareParts: { stockedHours: 2, unstockedHours: 8 },
  },
  contractIsTemplate: true,
  sites: ['demo-site'],
};
