import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';

/** The contract's priorities (../shared/mission/service-commitments.md). */
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

/** What failed. One open ticket per device and fault at most. */
export const Fault = Type.Union([Type.Literal('device-down')]);
export type Fault = Static<typeof Fault>;

export const TimelineEntry = Type.Object({
  at: Timestamp,
  /** detected, resolved, acknowledged, note, ... */
  kind: Type.String(),
  /** "system" for what Vigil did by itself, otherwise the user name. */
  actor: Type.String(),
  text: Type.String(),
});
export type TimelineEntry = Static<typeof TimelineEntry>;

export const Ticket = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  siteId: Id,
  deviceId: Nullable(Id),
  fault: Fault,
  priority: Priority,
  status: TicketStatus,
  title: Type.String(),
  openedAt: Timestamp,
  /** Deadlines from the contract table; null where the contract sets none. */
  respondBy: Nullable(Timestamp),
  onSiteBy: Nullable(Timestamp),
  resolveBy: Nullable(Timestamp),
  resolvedAt: Nullable(Timestamp),
  timeline: Type.Array(TimelineEntry),
});
export type Ticket = Static<typeof Ticket>;
export const TicketList = Type.Array(Ticket);

/**
 * GET /api/tickets: `open` (the default) lists every ticket not yet resolved or closed,
 * most urgent first; `all` lists the newest `limit` tickets (default 200).
 */
export const TicketQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type TicketQuery = Static<typeof TicketQuery>;

/** GET /api/tickets/:id */
export const TicketParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type TicketParams = Static<typeof TicketParams>;

export const ticketExample: Ticket = {
  id: 17,
  siteId: 'demo-site',
  deviceId: 'cam-01',
  fault: 'device-down',
  priority: 'emergency',
  status: 'resolved',
  title: 'Camera "Lobby entrance" (cam-01) is down: unreachable',
  openedAt: '2026-11-26T08:03:15.500Z',
  respondBy: '2026-11-26T08:13:15.500Z',
  onSiteBy: '2026-11-26T10:03:15.500Z',
  resolveBy: '2026-11-26T12:03:15.500Z',
  resolvedAt: '2026-11-26T08:09:02.000Z',
  timeline: [
    {
      at: '2026-11-26T08:03:15.500Z',
      kind: 'detected',
      actor: 'system',
      text: 'Device down: connect ECONNREFUSED 192.0.2.11:80',
    },
    {
      at: '2026-11-26T08:09:02.000Z',
      kind: 'resolved',
      actor: 'system',
      text: 'Resolved automatically: the device is up again',
    },
  ],
};
