/**
 * The ticket desk over HTTP: list and filter tickets, one ticket with its timeline, a
 * manual ticket for a fault a person reports, the work order's steps (operator or admin;
 * a viewer reads only), and the incident report of a ticket as JSON and as printable
 * HTML. Every step and every manual ticket is written to the audit trail.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UserRole } from '../../shared/api/auth.js';
import { ApiError } from '../../shared/api/common.js';
import { apiRoutes } from '../../shared/api/routes.js';
import {
  IncidentReport,
  IncidentReportQuery,
  ManualTicketRequest,
  type ReportedVia,
  Ticket,
  TicketAction,
  ticketApiRoutes,
  TicketList,
  TicketParams,
  TicketQuery,
} from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import type { AuditStore } from '../audit-trail.js';
import type { WordingLocale } from '../../shared/wording/render.js';
import { incidentReportHtml, incidentReportIn } from '../tickets/report.js';
import type { TicketService } from '../tickets/types.js';
import { requireOwnSite, seesSite, viewOf } from './scope.js';
import type { SessionUser } from './users.js';

// A customer account is below every staff role: whatever needs a role is staff's work.
const rank: Record<UserRole, number> = { customer: -1, viewer: 0, operator: 1, admin: 2 };

/** The logged-in user when their role is at least `least`; 403 otherwise. */
export function requireRole(request: FastifyRequest, least: UserRole, what: string): SessionUser {
  const user = request.user;
  if (user === null) throw new VigilError('VIGIL_AUTH_REQUIRED');
  if (rank[user.role] < rank[least]) {
    throw new VigilError(
      'VIGIL_FORBIDDEN',
      `${what} needs the ${least} role; you are ${user.role}. Ask an admin.`,
    );
  }
  return user;
}

/**
 * Who may report a fault on `siteId`, and how it reached the desk: the one place for that
 * rule. NOC staff (operator, admin) open it for a caller: by phone. A customer account
 * (the portal, issue 16 part 5) opens it for its customer's sites only (404 for
 * another's, so a site's existence does not leak): `via: 'portal'`.
 */
function reporterOf(
  request: FastifyRequest,
  siteId: string,
): { user: SessionUser; via: ReportedVia } {
  const user = request.user;
  if (user?.role === 'customer') {
    requireOwnSite(request, siteId);
    return { user, via: 'portal' };
  }
  return { user: requireRole(request, 'operator', 'Opening a ticket'), via: 'phone' };
}

function notFound(id: number): VigilError {
  return new VigilError(
    'VIGIL_NOT_FOUND',
    `No ticket ${id}: it may have been opened in another broker's database.`,
  );
}

export const ticketRoutes: FastifyPluginAsyncTypebox<{
  tickets: TicketService;
  audit?: AuditStore;
  /** The zone of a site's documents (its customer's); the printed report is in UTC without it. */
  timeZoneOf?: (siteId: string) => string;
  /** The language of a site's documents (its customer's); zh-CN without it. */
  localeOf?: (siteId: string) => WordingLocale;
}> = async (app, { tickets, audit, timeZoneOf, localeOf }) => {
  /** A document's language: the reader's `?locale=`, else the customer's (zh-CN by default). */
  const languageOf = (query: IncidentReportQuery, siteId: string): WordingLocale =>
    query.locale ?? localeOf?.(siteId) ?? 'zh-CN';
  app.get(
    apiRoutes.tickets,
    {
      config: { scope: 'customer' },
      schema: {
        summary:
          'Tickets: open ones most urgent first (default), or all newest first; filter by state, priority, site, device, fault, time',
        tags: ['tickets'],
        querystring: TicketQuery,
        response: { 200: TicketList, 400: ApiError, 401: ApiError },
      },
    },
    // A customer's sites go into the query, so `limit` counts its own tickets only.
    async (request) => {
      const view = viewOf(request);
      return tickets.list(
        view === null ? request.query : { ...request.query, sites: [...view.sites] },
      );
    },
  );

  app.get(
    apiRoutes.ticket,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'One ticket with its timeline and SLA clocks',
        tags: ['tickets'],
        params: TicketParams,
        response: { 200: Ticket, 400: ApiError, 401: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      const ticket = await tickets.get(request.params.id);
      if (ticket === undefined || !seesSite(request, ticket.siteId))
        throw notFound(request.params.id);
      return ticket;
    },
  );

  app.post(
    apiRoutes.tickets,
    {
      config: { scope: 'customer' },
      schema: {
        summary:
          'Opens a manual ticket for a fault a person reports (operator or admin, or a customer account for its own sites): site, optional device, title, description, optional priority',
        tags: ['tickets'],
        body: ManualTicketRequest,
        response: { 201: Ticket, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { user, via } = reporterOf(request, body.siteId);
      const ticket = await tickets.openManual({
        siteId: body.siteId,
        deviceId: body.deviceId ?? null,
        title: body.title,
        description: body.description,
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
        reportedBy: user.username,
        via,
      });
      await audit?.add(user.username, 'ticket.report', `ticket:${ticket.id}`, body);
      return reply.code(201).send(ticket);
    },
  );

  app.post(
    ticketApiRoutes.actions,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'One step of the work order: acknowledge, dispatch (engineer), on-site, note, resolve (cause, fix), close (confirmation)',
        tags: ['tickets'],
        params: TicketParams,
        body: TicketAction,
        response: {
          200: Ticket,
          400: ApiError,
          401: ApiError,
          403: ApiError,
          404: ApiError,
          409: ApiError,
        },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Acting on a ticket');
      const ticket = await tickets.act(request.params.id, request.body, user.username);
      await audit?.add(
        user.username,
        `ticket.${request.body.action}`,
        `ticket:${ticket.id}`,
        request.body,
      );
      return ticket;
    },
  );

  app.get(
    ticketApiRoutes.report,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'The incident report of a ticket (JSON), in the language of its customer',
        tags: ['tickets'],
        params: TicketParams,
        querystring: IncidentReportQuery,
        response: { 200: IncidentReport, 401: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      const report = await tickets.report(request.params.id);
      if (report === undefined || !seesSite(request, report.siteId))
        throw notFound(request.params.id);
      return incidentReportIn(
        report,
        languageOf(request.query, report.siteId),
        timeZoneOf?.(report.siteId) ?? 'UTC',
      );
    },
  );

  app.get(
    ticketApiRoutes.reportHtml,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'The incident report of a ticket as a printable HTML page',
        tags: ['tickets'],
        params: TicketParams,
        querystring: IncidentReportQuery,
        response: {
          200: { description: 'HTML', content: { 'text/html': { schema: Type.String() } } },
          401: ApiError,
          404: ApiError,
        },
      },
    },
    async (request, reply) => {
      const report = await tickets.report(request.params.id);
      if (report === undefined || !seesSite(request, report.siteId))
        throw notFound(request.params.id);
      // A document for the customer: in its language, its times in its zone with the offset.
      const html = incidentReportHtml(
        report,
        languageOf(request.query, report.siteId),
        timeZoneOf?.(report.siteId) ?? 'UTC',
      );
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );
};
