/** GET /api/tickets and GET /api/tickets/:id: the ticket desk, read only in issue 1. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import { apiRoutes } from '../../shared/api/routes.js';
import { Ticket, TicketList, TicketParams, TicketQuery } from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import type { TicketService } from '../tickets/types.js';

export const ticketRoutes: FastifyPluginAsyncTypebox<{ tickets: TicketService }> = async (
  app,
  { tickets },
) => {
  app.get(
    apiRoutes.tickets,
    {
      schema: {
        summary: 'Open tickets, most urgent first (default), or all tickets, newest first',
        tags: ['tickets'],
        querystring: TicketQuery,
        response: { 200: TicketList, 400: ApiError, 401: ApiError },
      },
    },
    async (request) => tickets.list({ ...request.query, status: request.query.status ?? 'open' }),
  );

  app.get(
    apiRoutes.ticket,
    {
      schema: {
        summary: 'One ticket with its timeline',
        tags: ['tickets'],
        params: TicketParams,
        response: { 200: Ticket, 400: ApiError, 401: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      const ticket = tickets.get(request.params.id);
      if (ticket === undefined) {
        throw new VigilError(
          'VIGIL_NOT_FOUND',
          `No ticket ${request.params.id}: it may have been opened in another broker's database.`,
        );
      }
      return ticket;
    },
  );
};
