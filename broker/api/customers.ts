/**
 * Customers and their contracts (issue 16 part 1): read by anyone logged in, as sites
 * are; created and changed by an admin, every change audited. The figures the contract
 * is judged by (GET /api/customers/:id/figures) come from the sites' inspection reports
 * (./inspection.ts): one computation of availability and SLA compliance.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  Customer,
  customerApiRoutes,
  CustomerCreate,
  CustomerFigures,
  CustomerList,
  CustomerParams,
  CustomerPatch,
  PeriodQuery,
} from '../../shared/api/customers.js';
import type { Desk } from '../wiring/desk.js';
import { requireOwnCustomer, seesCustomer } from './scope.js';
import { requireRole } from './tickets.js';

export interface CustomerRoutesOptions {
  desk: Desk;
  /** The customer's figures of a period (./inspection.ts customerFigures). */
  figures: (customerId: string, period: string) => Promise<CustomerFigures>;
}

export const customerRoutes: FastifyPluginAsyncTypebox<CustomerRoutesOptions> = async (
  app,
  { desk, figures },
) => {
  const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };

  app.get(
    customerApiRoutes.list,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'Every customer with its contract, time zone, language and sites',
        tags: ['customers'],
        response: { 200: CustomerList, 401: ApiError },
      },
    },
    // A customer account sees its own customer only.
    async (request) => desk.customers.list().filter((c) => seesCustomer(request, c.id)),
  );

  app.post(
    customerApiRoutes.list,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          "Creates a customer (admin); its contract is the broker's template unless it sends its own numbers",
        tags: ['customers'],
        body: CustomerCreate,
        response: { 201: Customer, ...errors, 409: ApiError },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin', 'Creating a customer');
      const customer = await desk.customers.create(request.body);
      await desk.audit.add(
        user.username,
        'customer.create',
        `customer:${customer.id}`,
        request.body,
      );
      return reply.code(201).send(customer);
    },
  );

  app.get(
    customerApiRoutes.one,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'One customer',
        tags: ['customers'],
        params: CustomerParams,
        response: { 200: Customer, ...errors },
      },
    },
    async (request) => {
      requireOwnCustomer(request, request.params.id);
      return desk.customers.require(request.params.id);
    },
  );

  app.patch(
    customerApiRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Changes a customer (admin): name, contacts, language, time zone, contract numbers',
        tags: ['customers'],
        params: CustomerParams,
        body: CustomerPatch,
        response: { 200: Customer, ...errors, 409: ApiError },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Changing a customer');
      const customer = await desk.customers.patch(request.params.id, request.body);
      await desk.audit.add(
        user.username,
        'customer.patch',
        `customer:${customer.id}`,
        request.body,
      );
      return customer;
    },
  );

  app.get(
    customerApiRoutes.figures,
    {
      config: { scope: 'customer' },
      schema: {
        summary:
          "A customer's availability and SLA compliance over its sites for a month (2026-11) or a quarter (2026-Q4), in its time zone",
        tags: ['customers'],
        params: CustomerParams,
        querystring: PeriodQuery,
        response: { 200: CustomerFigures, ...errors, 503: ApiError },
      },
    },
    async (request) => {
      requireOwnCustomer(request, request.params.id);
      return figures(request.params.id, request.query.period);
    },
  );
};
