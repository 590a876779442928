import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Device, deviceExample } from './devices.js';
import { MaintenanceWindow } from './maintenance.js';
import { Priority, SlaDeadline, Ticket, ticketExample } from './tickets.js';

/**
 * An SLA clock event: `warning` when the warning share of a deadline's time is used
 * (80 % by default), `breach` when it passes unmet (the escalation: notify the duty
 * manager). Also sent to the webhook.
 */
export const SlaAlert = Type.Object({
  kind: Type.Union([Type.Literal('warning'), Type.Literal('breach')]),
  ticketId: Type.Integer({ minimum: 1 }),
  siteId: Id,
  deviceId: Type.Union([Id, Type.Null()]),
  priority: Priority,
  deadline: SlaDeadline,
  due: Timestamp,
  at: Timestamp,
  title: Type.String(),
});
export type SlaAlert = Static<typeof SlaAlert>;

/**
 * Server-sent events of GET /api/live. The SSE `event:` field is the `type` below and
 * `data:` is the JSON of the whole object. A client that reconnects reloads the lists.
 */
export const LiveEvent = Type.Union([
  Type.Object({ type: Type.Literal('device'), device: Device }),
  Type.Object({ type: Type.Literal('ticket'), ticket: Ticket }),
  Type.Object({ type: Type.Literal('sla'), alert: SlaAlert }),
  Type.Object({ type: Type.Literal('maintenance'), window: MaintenanceWindow }),
]);
export type LiveEvent = Static<typeof LiveEvent>;

export const slaAlertExample: SlaAlert = {
  kind: 'warning',
  ticketId: 17,
  siteId: 'demo-site',
  deviceId: 'cam-01',
  priority: 'emergency',
  deadline: 'respond',
  due: '2026-11-26T08:13:15.500Z',
  at: '2026-11-26T08:11:15.500Z',
  title: 'Camera "Lobby entrance" (cam-01) is down: unreachable',
};

export const liveEventExamples: LiveEvent[] = [
  { type: 'device', device: deviceExample },
  { type: 'ticket', ticket: ticketExample },
  { type: 'sla', alert: slaAlertExample },
];
