import { Type, type Static } from 'typebox';
import { Id } from '../ids.js';
import { Nullable } from './common.js';

/** YYYY-MM-DD (a calendar day, no time): acceptance and warranty dates. */
export const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

/**
 * How much a device matters to the customer. Rules raise a ticket one priority for
 * `high` (general -> serious -> emergency) and lower it one for `low`.
 */
export const Criticality = Type.Union([
  Type.Literal('high'),
  Type.Literal('normal'),
  Type.Literal('low'),
]);
export type Criticality = Static<typeof Criticality>;

export const SiteDevice = Type.Object({
  deviceId: Id,
  criticality: Criticality,
  /** The NVR that records this camera: an NVR down covers its cameras. */
  recorderId: Nullable(Id),
  /** Accepted on; null: the site's acceptance date. */
  acceptedOn: Nullable(Day),
  /** Warranty end; null: 3 years after the day after acceptance (or replacement). */
  warrantyEndsOn: Nullable(Day),
  /** Replaced on (a faulty part replaced restarts its warranty). */
  replacedOn: Nullable(Day),
});
export type SiteDevice = Static<typeof SiteDevice>;

/** The metadata of a site that the agents cannot discover. */
export const Site = Type.Object({
  id: Id,
  name: Type.String(),
  /** The customer's name (the free-text field of older versions; '' for none). */
  customer: Type.String(),
  /**
   * The customer the site belongs to (shared/api/customers.ts); null: none. Always sent
   * by the broker; optional so that site records written before customers still read.
   */
  customerId: Type.Optional(Nullable(Id)),
  /** Final acceptance; the warranty starts the day after. */
  acceptedOn: Nullable(Day),
  /** Days of recordings the NVRs must keep. */
  retentionGoalDays: Type.Number({ minimum: 0 }),
  devices: Type.Array(SiteDevice),
});
export type Site = Static<typeof Site>;
export const SiteList = Type.Array(Site);

/** PUT /api/sites/:site (admin): creates or replaces the site's own fields. */
export const SitePut = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    /** The customer by id (POST /api/customers creates one); null: none. */
    customerId: Type.Optional(Nullable(Id)),
    /** Older form: the customer by name, created with the defaults when there is none. */
    customer: Type.Optional(Type.String({ maxLength: 200 })),
    acceptedOn: Type.Optional(Nullable(Day)),
    retentionGoalDays: Type.Optional(Type.Number({ minimum: 0, maximum: 3650 })),
  },
  { additionalProperties: false },
);
export type SitePut = Static<typeof SitePut>;

/** PUT /api/sites/:site/devices/:device (admin). */
export const SiteDevicePut = Type.Object(
  {
    criticality: Type.Optional(Criticality),
    recorderId: Type.Optional(Nullable(Id)),
    acceptedOn: Type.Optional(Nullable(Day)),
    warrantyEndsOn: Type.Optional(Nullable(Day)),
    replacedOn: Type.Optional(Nullable(Day)),
  },
  { additionalProperties: false },
);
export type SiteDevicePut = Static<typeof SiteDevicePut>;

/**
 * POST /api/sites/import (admin): CSV text, one row per device, header row first:
 *   site,name,customer,accepted_on,retention_goal_days,device,criticality,recorder,warranty_ends_on,replaced_on
 * Empty cells keep what is there. A row without `device` sets the site's fields only.
 */
export const SiteImport = Type.Object(
  { csv: Type.String({ minLength: 1, maxLength: 5_000_000 }) },
  { additionalProperties: false },
);
export const SiteImportResult = Type.Object({
  sites: Type.Integer({ minimum: 0 }),
  devices: Type.Integer({ minimum: 0 }),
});
export type SiteImportResult = Static<typeof SiteImportResult>;

export const SiteParams = Type.Object({ site: Id }, { additionalProperties: false });
export const SiteDeviceParams = Type.Object(
  { site: Id, device: Id },
  { additionalProperties: false },
);

/** The routes live in routes.ts (the console imports them without TypeBox). */
export { siteApiRoutes, sitePath } from './routes.js';

/**
 * A site's roll-up, most serious first: a site-wide maintenance window in force ->
 * maintenance; its gateway agent offline (an open site-unreachable ticket) or every
 * device unknown -> unreachable; a device down -> down; a device degraded or unknown ->
 * degraded; else ok. Computed by the broker (broker/sites/rollup.ts), shown as is.
 */
export const SiteState = Type.Union([
  Type.Literal('ok'),
  Type.Literal('degraded'),
  Type.Literal('down'),
  Type.Literal('unreachable'),
  Type.Literal('maintenance'),
]);
export type SiteState = Static<typeof SiteState>;

/** Devices per status (shared/api/devices.ts Device.status). */
export const StatusCounts = Type.Object({
  up: Type.Integer({ minimum: 0 }),
  degraded: Type.Integer({ minimum: 0 }),
  down: Type.Integer({ minimum: 0 }),
  unknown: Type.Integer({ minimum: 0 }),
});
export type StatusCounts = Static<typeof StatusCounts>;

/** GET /api/rollup: every site that has devices or metadata, ordered by name. */
export const SiteRollup = Type.Object({
  siteId: Id,
  /** The site's name, or its id when nobody described it. */
  name: Type.String(),
  state: SiteState,
  total: Type.Integer({ minimum: 0 }),
  counts: StatusCounts,
  /** A site-wide maintenance window is in force now. */
  inMaintenance: Type.Boolean(),
  /** Gateway agents of the site known to be offline (open site-unreachable tickets). */
  agentsOffline: Type.Integer({ minimum: 0 }),
});
export type SiteRollup = Static<typeof SiteRollup>;
export const SiteRollupList = Type.Array(SiteRollup);

export const siteExample: Site = {
  id: 'demo-site',
  name: 'Demo plant',
  customer: 'Example Logistics Ltd',
  customerId: 'example-logistics',
  acceptedOn: '2025-03-14',
  retentionGoalDays: 30,
  devices: [
    {
      deviceId: 'cam-01',
      criticality: 'high',
      recorderId: 'nvr-01',
      acceptedOn: null,
      warrantyEndsOn: null,
      replacedOn: null,
    },
  ],
};
