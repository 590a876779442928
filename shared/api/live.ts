import { Type, type Static } from 'typebox';
import { Device, deviceExample } from './devices.js';
import { Ticket, ticketExample } from './tickets.js';

/**
 * Server-sent events of GET /api/live. The SSE `event:` field is the `type` below and
 * `data:` is the JSON of the whole object. A client that reconnects reloads the lists.
 */
export const LiveEvent = Type.Union([
  Type.Object({ type: Type.Literal('device'), device: Device }),
  Type.Object({ type: Type.Literal('ticket'), ticket: Ticket }),
]);
export type LiveEvent = Static<typeof LiveEvent>;

export const liveEventExamples: LiveEvent[] = [
  { type: 'device', device: deviceExample },
  { type: 'ticket', ticket: ticketExample },
];
