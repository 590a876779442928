import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';
import { CustomerLocale } from './customers.js';

/** The contract's priorities (docs/SERVICE-COMMITMENTS.md). */
export const Priority = Type.Union([
  Type.Literal('emergency'),
  Type.Literal('serious'),
  Type.Literal('general'),
]);
export type Priority = Static<typeof Priority>;

/** The work order's life cycle: open -> acknowledged -> dispatched -> on-site -> resolved -> closed. */
export const TicketStatus = Type.Union([
  Type.Literal('open'),
  Type.Literal('acknowledged'),
  Type.Literal('dispatched'),
  Type.Literal('on-site'),
  Type.Literal('resolved'),
  Type.Literal('closed'),
]);
export type TicketStatus = Static<typeof TicketStatus>;

/**
 * What failed. One open ticket per site, device and fault at most (a unique index).
 *
 *   device-down       a camera or NVR stops answering (emergency)
 *   site-unreachable  the site's agent is offline: one site ticket, its devices covered
 *   site-outage       a large share of a site's cameras failed together: one site ticket
 *   flapping          a device failed again and again ("frequent failures", serious)
 *   degraded:<code>   a degradation the agent reported, by its reason code (general):
 *                     degraded:clock-drift, degraded:slow-response, degraded:auth-failed ...
 *   manual            a fault a person reported (POST /api/tickets) that no check sees:
 *                     each stands alone, outside the one-open-ticket rule, and never
 *                     resolves by itself
 */
export const FAULT_PATTERN =
  '^(device-down|site-unreachable|site-outage|flapping|manual|degraded:[a-z0-9-]{1,40})$';
export const Fault = Type.String({ pattern: FAULT_PATTERN });
export type Fault = string;

/** The faults without a reason code, for filters and labels. */
export const baseFaults = ['device-down', 'site-unreachable', 'site-outage', 'flapping'] as const;

/** The fault of every manual ticket (POST /api/tickets). */
export const MANUAL_FAULT = 'manual';

/**
 * Where a ticket came from: `detected` by Vigil's checks (opened, reopened and resolved
 * by the detector), or `manual`, reported by a person. Manual tickets stand alone: the
 * one-open-ticket-per-device-and-fault rule is for detected faults only, and only a
 * person resolves them (shared/ticket-workflow.ts).
 */
export const TicketSource = Type.Union([Type.Literal('detected'), Type.Literal('manual')]);
export type TicketSource = Static<typeof TicketSource>;

/**
 * How a manual ticket reached the desk: `phone`, opened by NOC staff (operator, admin)
 * for a customer's call, or `portal`, opened by the customer's own account.
 */
export const ReportedVia = Type.Union([Type.Literal('phone'), Type.Literal('portal')]);
export type ReportedVia = Static<typeof ReportedVia>;

/**
 * What Vigil says, as a code with parameters (shared/wording/messages.ts lists every
 * code); a reader renders it in their language (shared/wording/render.ts).
 */
export const WordingMessage = Type.Object({
  code: Type.String({ minLength: 1 }),
  params: Type.Record(Type.String(), Type.Unknown()),
});

export const TimelineEntry = Type.Object({
  at: Timestamp,
  /**
   * detected, reported (a manual ticket's first entry), acknowledged, dispatched,
   * on-site, note, resolved, closed, reopened, relapse, covered, uncovered, sla-warning,
   * sla-breach, paused, resumed, priority
   */
  kind: Type.String(),
  /** "system" for what Vigil did by itself, otherwise the user name. */
  actor: Type.String(),
  /** What happened, in English (for readers without a catalogue: webhooks, scripts). */
  text: Type.String(),
  /** The same as a code with parameters: screens and documents render it in their language. */
  message: WordingMessage,
});
export type TimelineEntry = Static<typeof TimelineEntry>;

/**
 * The deadlines of a ticket: the contract table's first response, on site (dispatch) and
 * resolution, set when it opens; and the spare-part promises (备件服务, issue 16 part 7),
 * started when an engineer says a part is needed (POST /api/tickets/:id/part-needed):
 * `part-replaced`, a stocked part replaced within contract.spareParts.stockedHours (2 h),
 * or `part-shipped`, an unstocked one shipped within unstockedHours (8 h).
 */
export const SlaDeadline = Type.Union([
  Type.Literal('respond'),
  Type.Literal('on-site'),
  Type.Literal('resolve'),
  Type.Literal('part-replaced'),
  Type.Literal('part-shipped'),
]);
export type SlaDeadline = Static<typeof SlaDeadline>;
/** The contract table's deadlines, set when a ticket opens (ticket fields respondBy, onSiteBy, resolveBy). */
export type ContractDeadline = 'respond' | 'on-site' | 'resolve';
/** The spare-part clocks (broker/parts/). */
export type PartDeadline = 'part-replaced' | 'part-shipped';

/**
 * One countdown of a ticket. `running` until the step is done (`met`) or the due time
 * passes (`breached`, which stays breached once the step is done late); `warning` from
 * `warnAt`, when the warning share (broker setting `tickets.warnShare`, 80 % by default)
 * of the allowed time is used; `paused` while a maintenance window covers the device or
 * site (the due and warning times move by the pause). The console counts down to `due`
 * and warns from `warnAt`: it applies no share of its own (shared/ticket-workflow.ts).
 */
export const SlaClockState = Type.Union([
  Type.Literal('running'),
  Type.Literal('warning'),
  Type.Literal('paused'),
  Type.Literal('met'),
  Type.Literal('breached'),
]);
export type SlaClockState = Static<typeof SlaClockState>;

export const SlaClock = Type.Object({
  deadline: SlaDeadline,
  state: SlaClockState,
  /** Allowed time in minutes, from the contract table. */
  allowedMin: Type.Number(),
  /** When it is due, pauses included; equals the ticket's respondBy/onSiteBy/resolveBy. */
  due: Timestamp,
  /**
   * When the clock turns to `warning`: the broker's warning share of the allowed time
   * used, pauses included (due - (1 - warnShare) x allowedMin).
   */
  warnAt: Timestamp,
  /** When the step was done (met or late); null while it is still to do. */
  doneAt: Nullable(Timestamp),
  warnedAt: Nullable(Timestamp),
  breachedAt: Nullable(Timestamp),
  /** Time spent paused so far, in ms. */
  pausedMs: Type.Number({ minimum: 0 }),
});
export type SlaClock = Static<typeof SlaClock>;

export const Ticket = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  siteId: Id,
  /** null for a site ticket (site-unreachable, site-outage). */
  deviceId: Nullable(Id),
  fault: Fault,
  priority: Priority,
  status: TicketStatus,
  /** What failed, in English. */
  title: Type.String(),
  /** The same as a code with parameters, rendered in the reader's language. */
  titleMessage: WordingMessage,
  openedAt: Timestamp,
  /** Deadlines from the contract table, pauses included; null where the contract sets none. */
  respondBy: Nullable(Timestamp),
  onSiteBy: Nullable(Timestamp),
  resolveBy: Nullable(Timestamp),
  /** Each step of the work order: when and by whom; null until done. */
  respondedAt: Nullable(Timestamp),
  respondedBy: Nullable(Type.String()),
  dispatchedAt: Nullable(Timestamp),
  dispatchedBy: Nullable(Type.String()),
  /** The engineer sent to the site. */
  engineer: Nullable(Type.String()),
  onSiteAt: Nullable(Timestamp),
  onSiteReportedBy: Nullable(Type.String()),
  resolvedAt: Nullable(Timestamp),
  /** "system" when the device recovered by itself. */
  resolvedBy: Nullable(Type.String()),
  cause: Nullable(Type.String()),
  fix: Nullable(Type.String()),
  closedAt: Nullable(Timestamp),
  closedBy: Nullable(Type.String()),
  /** The customer's confirmation, as entered when closing. */
  confirmation: Nullable(Type.String()),
  /** Devices this ticket covers (a site ticket's or an NVR's), suppressed meanwhile. */
  covers: Type.Array(Id),
  /** How often the fault happened on this ticket: 1, more after relapses. */
  occurrences: Type.Integer({ minimum: 1 }),
  /** `detected` by Vigil's checks, or `manual`: reported by a person. */
  source: TicketSource,
  /** Who opened a manual ticket (the user name); null for a detected one. */
  reportedBy: Nullable(Type.String()),
  /** How a manual ticket reached the desk; null for a detected one. */
  reportedVia: Nullable(ReportedVia),
  /** What the reporter said, as they wrote it; null for a detected one. */
  description: Nullable(Type.String()),
  /** The countdowns of the deadlines that are set, in contract order. */
  sla: Type.Array(SlaClock),
  timeline: Type.Array(TimelineEntry),
});
export type Ticket = Static<typeof Ticket>;
export const TicketList = Type.Array(Ticket);

export const TicketSort = Type.Union([
  /** Most urgent priority first, then the nearest response deadline (the desk). */
  Type.Literal('urgency'),
  Type.Literal('newest'),
  Type.Literal('oldest'),
]);

/**
 * GET /api/tickets: `open` (the default) lists every ticket not yet resolved or closed;
 * `all` every ticket (newest `limit`, default 200). Filters narrow either; `sort`
 * defaults to urgency for `open` and newest for `all`.
 */
export const TicketQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')])),
    /** One step of the life cycle exactly. */
    state: Type.Optional(TicketStatus),
    priority: Type.Optional(Priority),
    siteId: Type.Optional(Id),
    deviceId: Type.Optional(Id),
    fault: Type.Optional(Fault),
    source: Type.Optional(TicketSource),
    /** Opened at or after / before (ISO timestamps). */
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    sort: Type.Optional(TicketSort),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type TicketQuery = Static<typeof TicketQuery>;

/**
 * POST /api/tickets: a manual ticket for a fault no check can see ("the picture at the
 * gate is blurred"), opened by an operator or admin (a viewer gets 403). The site must
 * exist (404 otherwise); `deviceId`, when given, must be one of the site's devices (400).
 * Without `priority` it is the contract's rule for manual tickets (broker config
 * `tickets.priorities.manual`, general by default, moved one step by the device's
 * criticality like every ticket); a given priority is taken as the person chose it.
 * Answers 201 with the ticket: the same deadlines, clocks, timeline and notifications
 * as a detected ticket of that priority.
 */
export const ManualTicketRequest = Type.Object(
  {
    siteId: Id,
    deviceId: Type.Optional(Id),
    /** What is wrong, in a line: the ticket's title. */
    title: Type.String({ minLength: 1, maxLength: 200 }),
    /** What the reporter said: where, since when, what they see. May be empty. */
    description: Type.String({ maxLength: 4000 }),
    priority: Type.Optional(Priority),
  },
  { additionalProperties: false },
);
export type ManualTicketRequest = Static<typeof ManualTicketRequest>;

export const manualTicketRequestExample: ManualTicketRequest = {
  siteId: 'demo-site',
  deviceId: 'cam-01',
  title: 'The picture at the gate is blurred',
  description:
    'The guard called at 09:10: since the storm last night the gate camera is out of focus.',
};

/** GET /api/tickets/:id */
export const TicketParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type TicketParams = Static<typeof TicketParams>;

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/**
 * POST /api/tickets/:id/actions: one step of the work order by the logged-in user
 * (operator or admin; a viewer gets 403). A step out of order (close before resolve)
 * answers 409 with what to do first. Answers the changed ticket.
 */
export const TicketAction = Type.Union([
  Type.Object(
    { action: Type.Literal('acknowledge'), note: Type.Optional(Text(2000)) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      action: Type.Literal('dispatch'),
      engineer: Text(200),
      note: Type.Optional(Text(2000)),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('on-site'), note: Type.Optional(Text(2000)) },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('note'), text: Text(4000) }, { additionalProperties: false }),
  Type.Object(
    { action: Type.Literal('resolve'), cause: Text(2000), fix: Text(2000) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('close'), confirmation: Text(2000) },
    { additionalProperties: false },
  ),
]);
export type TicketAction = Static<typeof TicketAction>;
export type TicketActionName = TicketAction['action'];

/** GET /api/tickets/:id/report (JSON) and /report.html: the contract's incident report. */
export const IncidentReport = Type.Object({
  ticketId: Type.Integer({ minimum: 1 }),
  siteId: Id,
  deviceId: Nullable(Id),
  /** What failed, in English. */
  title: Type.String(),
  /** The same as a code with parameters, rendered in the reader's language. */
  titleMessage: WordingMessage,
  fault: Fault,
  priority: Priority,
  detectedAt: Timestamp,
  resolvedAt: Nullable(Timestamp),
  closedAt: Nullable(Timestamp),
  /** Detection to resolution, in seconds; null while unresolved. */
  durationS: Nullable(Type.Number()),
  engineer: Nullable(Type.String()),
  cause: Nullable(Type.String()),
  fix: Nullable(Type.String()),
  confirmation: Nullable(Type.String()),
  covers: Type.Array(Id),
  /** Who did what when: the ticket's timeline. */
  steps: Type.Array(TimelineEntry),
  /** Each deadline and whether it was met. */
  sla: Type.Array(SlaClock),
  /** True when every deadline is met (none breached). */
  slaMet: Type.Boolean(),
  generatedAt: Timestamp,
  /**
   * `manual`: reported by a person (`reportedBy`, `reportedVia`, `description`), so the
   * report says who opened it rather than "detected". Absent from brokers before issue 16.
   */
  source: Type.Optional(TicketSource),
  reportedBy: Type.Optional(Nullable(Type.String())),
  reportedVia: Type.Optional(Nullable(ReportedVia)),
  description: Type.Optional(Nullable(Type.String())),
  /**
   * The language of `title` and the steps' `text` (the site's customer's, zh-CN by
   * default, unless `?locale=` asks for another) and the zone of the printed times.
   */
  locale: Type.Optional(CustomerLocale),
  timeZone: Type.Optional(Type.String()),
});
export type IncidentReport = Static<typeof IncidentReport>;

/** GET /api/tickets/:id/report(.html)?locale=zh-CN|en: the reader's language, if not the customer's. */
export const IncidentReportQuery = Type.Object(
  { locale: Type.Optional(CustomerLocale) },
  { additionalProperties: false },
);
export type IncidentReportQuery = Static<typeof IncidentReportQuery>;

export const ticketExample: Ticket = {
  id: 17,
  siteId: 'demo-site',
  deviceId: 'cam-01',
  fault: 'device-down',
  priority: 'emergency',
  status: 'resolved',
  title: 'Camera "Lobby entrance" (cam-01) is down: unreachable',
  titleMessage: {
    code: 'title.device-down',
    params: { kind: 'camera', name: 'Lobby entrance', device: 'cam-01', reason: 'unreachable' },
  },
  openedAt: '2026-11-26T08:03:15.500Z',
  respondBy: '2026-11-26T08:13:15.500Z',
  onSiteBy: '2026-11-26T10:03:15.500Z',
  resolveBy: '2026-11-26T12:03:15.500Z',
  respondedAt: '2026-11-26T08:05:00.000Z',
  respondedBy: 'alice',
  dispatchedAt: null,
  dispatchedBy: null,
  engineer: null,
  onSiteAt: null,
  onSiteReportedBy: null,
  resolvedAt: '2026-11-26T08:09:02.000Z',
  resolvedBy: 'system',
  cause: null,
  fix: null,
  closedAt: null,
  closedBy: null,
  confirmation: null,
  covers: [],
  occurrences: 1,
  source: 'detected',
  reportedBy: null,
  reportedVia: null,
  description: null,
  sla: [
    {
      deadline: 'respond',
      state: 'met',
      allowedMin: 10,
      due: '2026-11-26T08:13:15.500Z',
      warnAt: '2026-11-26T08:11:15.500Z',
      doneAt: '2026-11-26T08:05:00.000Z',
      warnedAt: null,
      breachedAt: null,
      pausedMs: 0,
    },
    {
      deadline: 'on-site',
      state: 'met',
      allowedMin: 120,
      due: '2026-11-26T10:03:15.500Z',
      warnAt: '2026-11-26T09:39:15.500Z',
      doneAt: '2026-11-26T08:09:02.000Z',
      warnedAt: null,
      breachedAt: null,
      pausedMs: 0,
    },
    {
      deadline: 'resolve',
      state: 'met',
      allowedMin: 240,
      due: '2026-11-26T12:03:15.500Z',
      warnAt: '2026-11-26T11:15:15.500Z',
      doneAt: '2026-11-26T08:09:02.000Z',
      warnedAt: null,
      breachedAt: null,
      pausedMs: 0,
    },
  ],
  timeline: [
    {
      at: '2026-11-26T08:03:15.500Z',
      kind: 'detected',
      actor: 'system',
      text: 'Device down: connect ECONNREFUSED 192.0.2.11:80',
      message: {
        code: 'detected.device-down',
        params: { messages: ['connect ECONNREFUSED 192.0.2.11:80'] },
      },
    },
    {
      at: '2026-11-26T08:05:00.000Z',
      kind: 'acknowledged',
      actor: 'alice',
      text: 'Acknowledged',
      message: { code: 'step.acknowledged', params: {} },
    },
    {
      at: '2026-11-26T08:09:02.000Z',
      kind: 'resolved',
      actor: 'system',
      text: 'Resolved automatically: the device is up again',
      message: { code: 'resolved.device-up', params: {} },
    },
  ],
};

/** A manual ticket as an operator opened it for a caller (POST /api/tickets). */
export const manualTicketExample: Ticket = {
  ...ticketExample,
  id: 18,
  fault: 'manual',
  priority: 'general',
  status: 'open',
  title: 'The picture at the gate is blurred',
  titleMessage: { code: 'title.manual', params: { text: 'The picture at the gate is blurred' } },
  openedAt: '2026-11-26T09:12:00.000Z',
  respondBy: '2026-11-26T11:12:00.000Z',
  onSiteBy: null,
  resolveBy: '2026-11-26T17:12:00.000Z',
  respondedAt: null,
  respondedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  source: 'manual',
  reportedBy: 'olga',
  reportedVia: 'phone',
  description: manualTicketRequestExample.description,
  sla: [
    {
      deadline: 'respond',
      state: 'running',
      allowedMin: 120,
      due: '2026-11-26T11:12:00.000Z',
      warnAt: '2026-11-26T10:48:00.000Z',
      doneAt: null,
      warnedAt: null,
      breachedAt: null,
      pausedMs: 0,
    },
    {
      deadline: 'resolve',
      state: 'running',
      allowedMin: 480,
      due: '2026-11-26T17:12:00.000Z',
      warnAt: '2026-11-26T15:36:00.000Z',
      doneAt: null,
      warnedAt: null,
      breachedAt: null,
      pausedMs: 0,
    },
  ],
  timeline: [
    {
      at: '2026-11-26T09:12:00.000Z',
      kind: 'reported',
      actor: 'olga',
      text: `Ticket opened by olga, reported by phone: ${manualTicketRequestExample.description}`,
      message: {
        code: 'reported.manual',
        params: { by: 'olga', via: 'phone', description: manualTicketRequestExample.description },
      },
    },
  ],
};

/** The routes live in routes.ts (the console imports them without TypeBox). */
export { ticketApiRoutes, ticketActionsPath, ticketReportPath } from './routes.js';
