/**
 * GET /api/live: server-sent events (WHATWG HTML "Server-sent events") of every device
 * and ticket change on BrokerEvents. Each event is `event: device|ticket` and
 * `data: <LiveEvent JSON>`; a comment line every heartbeat keeps proxies and NAT tables
 * from dropping an idle stream. EventSource sends the session cookie, so the console
 * needs no token in the URL. A client that reconnects reloads the lists (shared/api/live.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Device } from '../../shared/api/devices.js';
import { LiveEvent, type SlaAlert } from '../../shared/api/live.js';
import type { MaintenanceWindow } from '../../shared/api/maintenance.js';
import { apiRoutes } from '../../shared/api/routes.js';
import type { Ticket } from '../../shared/api/tickets.js';
import type { BrokerEvents } from '../events.js';
import { seesSiteNow } from './scope.js';

export interface LiveRoutesOptions {
  events: BrokerEvents;
  heartbeatMs: number;
}

/** How long an EventSource waits before reconnecting (the SSE `retry:` field), in ms. */
const RECONNECT_MS = 3000;

export function sseFrame(event: LiveEvent): string {
  // JSON.stringify escapes newlines, so the data is always one `data:` line.
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export const liveRoutes: FastifyPluginAsyncTypebox<LiveRoutesOptions> = async (app, opts) => {
  const { events, heartbeatMs } = opts;
  /** End functions of the open streams: closing the API ends them, or close would wait forever. */
  const open = new Set<() => void>();

  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    apiRoutes.live,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'Server-sent events: every device and ticket change',
        tags: ['live'],
        response: {
          200: {
            description: '`event: device|ticket` then `data: <LiveEvent JSON>`',
            content: { 'text/event-stream': { schema: LiveEvent } },
          },
        },
      },
    },
    (request, reply) => {
      // The stream outlives the handler: fastify hands the socket over (no serializer,
      // no onSend hooks) and this function owns it until the client goes.
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers responses by default, which would hold events back.
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);

      // A customer account's stream carries its own sites' events only, as the sites are
      // assigned at each event (not when the stream opened): a site given to the customer
      // since streams at once, and one taken away stops at once.
      const send = (siteId: string, event: LiveEvent) => {
        if (seesSiteNow(request, siteId)) res.write(sseFrame(event));
      };
      const onDevice = (device: Device) => send(device.siteId, { type: 'device', device });
      const onTicket = (ticket: Ticket) => send(ticket.siteId, { type: 'ticket', ticket });
      const onSla = (alert: SlaAlert) => send(alert.siteId, { type: 'sla', alert });
      const onWindow = (window: MaintenanceWindow) =>
        send(window.siteId, { type: 'maintenance', window });
      events.on('device', onDevice);
      events.on('ticket', onTicket);
      events.on('sla', onSla);
      events.on('maintenance', onWindow);
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);

      const end = () => {
        if (!open.delete(end)) return;
        events.off('device', onDevice);
        events.off('ticket', onTicket);
        events.off('sla', onSla);
        events.off('maintenance', onWindow);
        clearInterval(heartbeat);
        res.end();
      };
      open.add(end);
      res.on('close', end);
      request.log.debug({ streams: open.size }, 'live stream opened');
    },
  );
};
