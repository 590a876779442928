/**
 * Spare parts and warranty over HTTP (issue 16 part 7, shared/api/parts.ts): depots and
 * their stock, a ticket's replacements and spare-part clocks, a customer's warranty
 * expiries. Read by anyone logged in; written by an operator or admin, every write in
 * the audit trail. The rules are broker/parts/service.ts's.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import { CustomerParams } from '../../shared/api/customers.js';
import {
  CustomerWarranty,
  Depot,
  DepotCreate,
  DepotList,
  DepotParams,
  PartNeededRequest,
  PartShippedRequest,
  partApiRoutes,
  Replacement,
  ReplacementList,
  ReplacementParams,
  ReplacementPatch,
  ReplacementRequest,
  StockList,
  StockParams,
  StockPut,
  StockRow,
  WarrantyQuery,
} from '../../shared/api/parts.js';
import { Ticket, TicketParams } from '../../shared/api/tickets.js';
import type { AuditStore } from '../audit-trail.js';
import type { PartsService } from '../parts/service.js';
import { requireOwnCustomer } from './scope.js';
import { requireRole } from './tickets.js';

export interface PartRoutesOptions {
  parts: PartsService;
  audit?: AuditStore;
}

export const partRoutes: FastifyPluginAsyncTypebox<PartRoutesOptions> = async (
  app,
  { parts, audit },
) => {
  const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };
  const tags = ['parts'];

  app.get(
    partApiRoutes.depots,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Every spare-part depot',
        tags,
        response: { 200: DepotList, 401: ApiError },
      },
    },
    async () => parts.depots(),
  );

  app.post(
    partApiRoutes.depots,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Creates a depot, or renames the one with this id (operator or admin)',
        tags,
        body: DepotCreate,
        response: { 201: Depot, ...errors },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator', 'Creating a depot');
      const depot = await parts.putDepot(request.body);
      await audit?.add(user.username, 'depot.put', `depot:${depot.id}`, request.body);
      return reply.code(201).send(depot);
    },
  );

  app.get(
    partApiRoutes.depotStock,
    {
      config: { scope: 'staff' },
      schema: {
        summary: "A depot's stock per part model",
        tags,
        params: DepotParams,
        response: { 200: StockList, ...errors },
      },
    },
    async (request) => parts.stock(request.params.id),
  );

  app.put(
    partApiRoutes.stockItem,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Sets the count of one part model in a depot, as counted (operator or admin)',
        tags,
        params: StockParams,
        body: StockPut,
        response: { 200: StockRow, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Changing a depot’s stock');
      const { id, model } = request.params;
      const row = await parts.setStock(id, model, request.body.count);
      await audit?.add(user.username, 'depot.stock', `depot:${id}`, { model, count: row.count });
      return row;
    },
  );

  app.get(
    partApiRoutes.replacements,
    {
      config: { scope: 'staff' },
      schema: {
        summary: "A ticket's replacements: part, old and new serial, depot, warranty repair",
        tags,
        params: TicketParams,
        response: { 200: ReplacementList, ...errors },
      },
    },
    async (request) => parts.replacements(request.params.id),
  );

  app.post(
    partApiRoutes.replacements,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Records a replacement on the ticket (operator or admin); a depot given loses one of the part; a warranty repair restarts the device’s warranty',
        tags,
        params: TicketParams,
        body: ReplacementRequest,
        response: { 201: Replacement, ...errors, 409: ApiError },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator', 'Recording a replacement');
      const recorded = await parts.recordReplacement(
        request.params.id,
        request.body,
        user.username,
      );
      await audit?.add(
        user.username,
        'ticket.replacement',
        `ticket:${request.params.id}`,
        request.body,
      );
      return reply.code(201).send(recorded);
    },
  );

  app.patch(
    partApiRoutes.replacement,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Completes a replacement (operator or admin): part model, note, warranty repair (true restarts the warranty)',
        tags,
        params: ReplacementParams,
        body: ReplacementPatch,
        response: { 200: Replacement, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Changing a replacement');
      const { id, replacement } = request.params;
      const changed = await parts.patchReplacement(id, replacement, request.body, user.username);
      await audit?.add(user.username, 'ticket.replacement', `ticket:${id}`, {
        replacement,
        ...request.body,
      });
      return changed;
    },
  );

  app.post(
    partApiRoutes.partNeeded,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'A spare part is needed (operator or admin): starts part-replaced (some depot has it) or part-shipped (none has it) from the contract',
        tags,
        params: TicketParams,
        body: PartNeededRequest,
        response: { 200: Ticket, ...errors, 409: ApiError },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Saying a part is needed');
      const ticket = await parts.partNeeded(request.params.id, request.body, user.username);
      await audit?.add(user.username, 'ticket.part-needed', `ticket:${ticket.id}`, request.body);
      return ticket;
    },
  );

  app.post(
    partApiRoutes.partShipped,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'The unstocked part was shipped (operator or admin): stops part-shipped',
        tags,
        params: TicketParams,
        body: PartShippedRequest,
        response: { 200: Ticket, ...errors, 409: ApiError },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Saying a part was shipped');
      const ticket = await parts.partShipped(request.params.id, request.body.note, user.username);
      await audit?.add(user.username, 'ticket.part-shipped', `ticket:${ticket.id}`, request.body);
      return ticket;
    },
  );

  app.get(
    partApiRoutes.customerWarranty,
    {
      config: { scope: 'customer' },
      schema: {
        summary:
          "The customer's devices whose warranty ends within `days` (90 by default), soonest first",
        tags,
        params: CustomerParams,
        querystring: WarrantyQuery,
        response: { 200: CustomerWarranty, ...errors },
      },
    },
    async (request) => {
      requireOwnCustomer(request, request.params.id);
      return parts.warranty(request.params.id, request.query.days);
    },
  );
};
