import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { DeviceKind } from '../messages/common.js';
import { Nullable } from './common.js';
import { Priority, WordingMessage } from './tickets.js';
import { CustomerLocale } from './customers.js';
import { Day } from './sites.js';

/**
 * GET /api/sites/:site/inspection?period=2026-11 (month) or ?period=2026-Q4 (quarter),
 * calendar periods in the site's customer's time zone (Asia/Shanghai for a site without
 * a customer); also /inspection.html (printable, to sign). The contract's preventive
 * inspection (巡检), computed from what the agents measured.
 */
export const InspectionQuery = Type.Object(
  {
    period: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2]|Q[1-4])$' }),
    /** The language of the report's text; the site's customer's (zh-CN by default) without it. */
    locale: Type.Optional(CustomerLocale),
  },
  { additionalProperties: false },
);
export type InspectionQuery = Static<typeof InspectionQuery>;

export const Outages = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  totalS: Type.Number({ minimum: 0 }),
  longestS: Type.Number({ minimum: 0 }),
});

export const WarrantyStatus = Type.Object({
  /** null when neither the site nor the device has an acceptance date. */
  endsOn: Nullable(Day),
  state: Type.Union([
    Type.Literal('in-warranty'),
    /** Leaves warranty within 90 days of the period's end. */
    Type.Literal('ending-soon'),
    Type.Literal('expired'),
    Type.Literal('unknown'),
  ]),
});

export const DeviceInspection = Type.Object({
  deviceId: Id,
  name: Type.String(),
  kind: DeviceKind,
  /** Up share of the observed time outside maintenance, in %; null when never observed. */
  availabilityPct: Nullable(Type.Number()),
  /** Seconds of the period with a known state, outside maintenance. */
  observedS: Type.Number({ minimum: 0 }),
  maintenanceS: Type.Number({ minimum: 0 }),
  outages: Outages,
  /** Mean time to repair (mean outage length), s; null without outages. */
  mttrS: Nullable(Type.Number()),
  /** Mean time between failures (up time / outages), s; null without outages. */
  mtbfS: Nullable(Type.Number()),
  tickets: Type.Integer({ minimum: 0 }),
  firmware: Nullable(Type.String()),
  serialNumber: Nullable(Type.String()),
  warranty: WarrantyStatus,
});
export type DeviceInspection = Static<typeof DeviceInspection>;

export const PriorityCompliance = Type.Object({
  priority: Priority,
  tickets: Type.Integer({ minimum: 0 }),
  /** Deadlines that ended in the period, met and breached (all three kinds). */
  met: Type.Integer({ minimum: 0 }),
  breached: Type.Integer({ minimum: 0 }),
  /** met / (met + breached) in %; null when no deadline ended. */
  compliancePct: Nullable(Type.Number()),
  /**
   * How fast tickets were acknowledged (opened to the first response, console or the
   * notification's link): how many were, the median and the slowest in seconds.
   */
  acknowledged: Type.Optional(Type.Integer({ minimum: 0 })),
  ackMedianS: Type.Optional(Nullable(Type.Number())),
  ackMaxS: Type.Optional(Nullable(Type.Number())),
});

/**
 * One ISO week of one device's readings, from Monday 00:00 in the report's time zone (the
 * customer's; UTC in a report kept by a version before customers), clipped to the period;
 * null where nothing was measured.
 */
export const WeeklyTrend = Type.Object({
  deviceId: Id,
  weekStart: Timestamp,
  responseMs: Nullable(Type.Number()),
  /** Largest absolute clock offset, s. */
  clockOffsetS: Nullable(Type.Number()),
  storageUsedPct: Nullable(Type.Number()),
  retentionDays: Nullable(Type.Number()),
  /** Share of the week with continuous recording, %. */
  recordingPct: Nullable(Type.Number()),
});
export type WeeklyTrend = Static<typeof WeeklyTrend>;

/**
 * One calendar month of the site in the report's time zone, a point of the report's
 * 12-month charts (broker/inspection/trends.ts): null where nothing was measured (a gap in
 * the chart, not zero). Availability as the report's; the readings over every device.
 */
export const MonthlyFigures = Type.Object({
  /** YYYY-MM, local. */
  month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }),
  /** Local midnight of the 1st. */
  from: Timestamp,
  /** Local midnight of the next 1st, or the report's time for the month still running. */
  to: Timestamp,
  availabilityPct: Nullable(Type.Number()),
  /** Mean response time, ms. */
  responseMs: Nullable(Type.Number()),
  /** Largest absolute clock offset, s. */
  clockOffsetS: Nullable(Type.Number()),
  /** The fullest recorder's highest storage use, %. */
  storageUsedPct: Nullable(Type.Number()),
  /** The shortest retention of a recorder, days. */
  retentionDays: Nullable(Type.Number()),
  /** Share of the month with continuous recording, %. */
  recordingPct: Nullable(Type.Number()),
});
export type MonthlyFigures = Static<typeof MonthlyFigures>;

export const InventoryChange = Type.Object({
  at: Timestamp,
  deviceId: Id,
  kind: Type.Union([Type.Literal('replaced'), Type.Literal('firmware')]),
  from: Type.String(),
  to: Type.String(),
});
export type InventoryChange = Static<typeof InventoryChange>;

/** A generated improvement suggestion, with the figures that led to it. */
export const Suggestion = Type.Object({
  deviceId: Nullable(Id),
  /** e.g. frequent-failures, low-availability, retention-below-goal, warranty-ending. */
  rule: Type.String(),
  /** The suggestion in the report's language (`locale`), rendered from `message`. */
  text: Type.String(),
  /**
   * What the suggestion says, as a code with parameters (advice.*, shared/wording/
   * messages.ts): the source of the text, rendered in the reader's language. Sent by every
   * broker since issue 16; absent in reports kept by an older one, which have `text` only.
   */
  message: Type.Optional(WordingMessage),
  figures: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
});
export type Suggestion = Static<typeof Suggestion>;

export const InspectionReport = Type.Object({
  siteId: Id,
  siteName: Type.String(),
  customer: Type.String(),
  period: Type.String(),
  /**
   * The IANA zone of the period: `from` and `to` are its local midnights. Sent by every
   * broker since customers (issue 16); absent in reports kept by an older one, whose
   * periods were UTC months.
   */
  timeZone: Type.Optional(Type.String()),
  /**
   * The language of the report's text (its suggestions' `text`): the query's `locale`, else
   * the site's customer's. Absent in reports kept by a broker before issue 16 (English).
   */
  locale: Type.Optional(CustomerLocale),
  from: Timestamp,
  to: Timestamp,
  generatedAt: Timestamp,
  /** Site-wide availability over every device, maintenance excluded, %. */
  availabilityPct: Nullable(Type.Number()),
  devices: Type.Array(DeviceInspection),
  tickets: Type.Array(PriorityCompliance),
  trends: Type.Array(WeeklyTrend),
  /**
   * The 12 months that end with the period's last, oldest first: the charts beside the
   * weekly table. Absent in reports kept by an older version.
   */
  monthly: Type.Optional(Type.Array(MonthlyFigures)),
  inventoryChanges: Type.Array(InventoryChange),
  /** Devices whose warranty ends within 90 days of the period's end. */
  warrantyEndingSoon: Type.Array(Id),
  suggestions: Type.Array(Suggestion),
});
export type InspectionReport = Static<typeof InspectionReport>;

/** The route lives in routes.ts (the console imports it without TypeBox). */
export { inspectionPath } from './routes.js';
