/**
 * Who each API route is for, in one place (issue 16 part 5: the customer portal).
 *
 * Every route under /api/ declares its audience in its options, `config: { scope }`:
 *
 * - `public`    no session at all (login, logout, health);
 * - `signed-in` any signed-in account, customers included, about the account itself or
 *               nothing that belongs to a site (the own session, the OpenAPI document);
 * - `staff`     the maintenance company's people (viewer, operator, admin): a customer
 *               account gets 403 before the route runs;
 * - `customer`  the staff, and customer accounts limited to their customer's sites: the
 *               route filters its lists with `onlyOwn` and answers another customer's
 *               site, device, ticket, report or customer with 404, never 403, so that a
 *               customer cannot learn what exists (OWASP API Security Top 10 2023, API1
 *               "Broken Object Level Authorization"). A `:site` parameter, a `site` or
 *               `siteId` in the query and the `:id` of /api/customers/:id/... are checked
 *               here for every such route; other ids (a ticket, a window) the route
 *               checks with `seesSite` / `requireOwnSite`.
 *
 * A route that declares none stops the server from starting (the onRoute hook below), so
 * a new route cannot forget to say; test/integration/broker/api/customer-scoping.test.ts
 * then calls every declared route as one customer with another's ids.
 */
import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
import { VigilError } from '../../shared/errors.js';

export type RouteScope = 'public' | 'signed-in' | 'staff' | 'customer';
export const ROUTE_SCOPES: readonly RouteScope[] = ['public', 'signed-in', 'staff', 'customer'];

/** A route as the server registered it, with its declared audience. */
export interface ScopedRoute {
  method: string;
  url: string;
  scope: RouteScope;
}

/** What a customer account's request may see: its customer and that customer's sites. */
export interface CustomerView {
  customerId: string;
  /** The customer's sites when the request came in: what a request answered at once sees. */
  sites: ReadonlySet<string>;
  /**
   * Whether `siteId` is the customer's now (the sites store's current copy): for a stream
   * that outlives the moment it opened, which must follow a site given to or taken from
   * the customer since.
   */
  ownsNow(siteId: string): boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who the route is for; required on every /api/ route (see broker/api/scope.ts). */
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** Set for a customer account's request; null for the staff and for public routes. */
    customerView: CustomerView | null;
  }
  interface FastifyInstance {
    /** Every /api/ route registered so far with its scope: the scoping test reads it. */
    scopedRoutes: ScopedRoute[];
  }
}

/** The routes the audience rule covers: the API (the console's files are public). */
const API_ROUTE = /^\/api\//;

/**
 * Installs the rule on the root instance before any route: records each /api/ route's
 * scope and refuses (throws while registering, so the server never starts) a route
 * without one or with an unknown one.
 */
export function requireScopes(app: FastifyInstance): void {
  const routes: ScopedRoute[] = [];
  app.decorate('scopedRoutes', routes);
  app.decorateRequest('customerView', null);
  app.addHook('onRoute', (route) => {
    if (!API_ROUTE.test(route.url)) return;
    const scope = (route.config as { scope?: unknown } | undefined)?.scope;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!ROUTE_SCOPES.includes(scope as RouteScope)) {
      throw new VigilError(
        'VIGIL_INTERNAL',
        `Route ${methods.join(',')} ${route.url} declares no audience: add config: { scope: ${ROUTE_SCOPES.map((s) => `'${s}'`).join(' | ')} } to its options (broker/api/scope.ts says which).`,
      );
    }
    for (const method of methods)
      routes.push({ method, url: route.url, scope: scope as RouteScope });
  });
}

export interface ScopeOptions {
  /** The ids of a customer's sites (the sites store); none without the ticket desk. */
  sitesOf: (customerId: string) => string[];
  /** The id of a site's customer now (the sites store); null: none, or no ticket desk. */
  customerIdOf: (siteId: string) => string | null;
}

/**
 * onRequest, after the session hook: a customer account on a `staff` route is refused
 * here (403 says what it is for: whether the route exists is no secret, the source is
 * public); on a `customer` route the request learns the customer's sites.
 */
export function scopeHook({ sitesOf, customerIdOf }: ScopeOptions): onRequestAsyncHookHandler {
  return async (request) => {
    const user = request.user;
    if (user === null || user.role !== 'customer') return;
    const scope = request.routeOptions.config.scope;
    // Fails closed: a customer account without its customer (the users table's CHECK
    // forbids it) would otherwise pass as staff.
    if (scope === 'staff' || user.customerId === null) {
      throw new VigilError(
        'VIGIL_FORBIDDEN',
        'This is for the maintenance company’s staff; a customer account sees its own sites, devices, tickets and reports in the portal.',
      );
    }
    const customerId = user.customerId;
    request.customerView = {
      customerId,
      sites: new Set(sitesOf(customerId)),
      ownsNow: (siteId) => customerIdOf(siteId) === customerId,
    };
  };
}

/**
 * The request's customer view; null for the staff. A plugin registered without
 * requireScopes (a unit test of one plugin) has no decoration: that is the staff's view.
 */
export function viewOf(request: FastifyRequest): CustomerView | null {
  return request.customerView ?? null;
}

/** The 404 of a site that is not the customer's: the same words whether it exists or not. */
export function siteNotFound(siteId: string): VigilError {
  return new VigilError('VIGIL_NOT_FOUND', `No site "${siteId}" among your sites.`);
}

/** Whether the request may see `siteId`: always for the staff, own sites for a customer. */
export function seesSite(request: FastifyRequest, siteId: string): boolean {
  const view = viewOf(request);
  return view === null || view.sites.has(siteId);
}

/**
 * Whether the request may see `siteId` at this moment: a long-lived answer (the live
 * stream) asks per event, so a site moved to another customer stops reaching this one.
 */
export function seesSiteNow(request: FastifyRequest, siteId: string): boolean {
  const view = viewOf(request);
  return view === null || view.ownsNow(siteId);
}

/** Throws the route's 404 (or the generic one) when the site is not the customer's. */
export function requireOwnSite(
  request: FastifyRequest,
  siteId: string,
  notFound: () => VigilError = () => siteNotFound(siteId),
): void {
  if (!seesSite(request, siteId)) throw notFound();
}

/** A list cut to the customer's sites (the staff see it whole). */
export function onlyOwn<T>(request: FastifyRequest, items: T[], siteOf: (item: T) => string): T[] {
  if (viewOf(request) === null) return items;
  return items.filter((item) => seesSite(request, siteOf(item)));
}

/** Whether the request may see customer `customerId`: the staff any, a customer its own. */
export function seesCustomer(request: FastifyRequest, customerId: string): boolean {
  const view = viewOf(request);
  return view === null || view.customerId === customerId;
}

/** 404 for a customer other than the account's own, in the same words whether it exists. */
export function requireOwnCustomer(request: FastifyRequest, customerId: string): void {
  if (!seesCustomer(request, customerId))
    throw new VigilError('VIGIL_NOT_FOUND', `No customer "${customerId}" on your account.`);
}

const siteIn = (value: unknown, key: string): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Record<string, unknown>)[key];
  return typeof found === 'string' ? found : undefined;
};

/** Routes of one customer (its figures, warranty list, reports) name it as `:id` here. */
const CUSTOMER_ROUTE = /^\/api\/customers\/:id(\/|$)/;

/**
 * preHandler (after validation) of `customer` routes: the site a request names in its
 * path (`:site`) or query (`site`, `siteId`) must be the customer's, and so must the
 * customer of a /api/customers/:id... route; else 404.
 */
export const siteParamHook: preHandlerAsyncHookHandler = async (request) => {
  if (viewOf(request) === null) return;
  const customerId = siteIn(request.params, 'id');
  if (customerId !== undefined && CUSTOMER_ROUTE.test(request.routeOptions.url ?? ''))
    requireOwnCustomer(request, customerId);
  for (const site of [
    siteIn(request.params, 'site'),
    siteIn(request.query, 'site'),
    siteIn(request.query, 'siteId'),
  ]) {
    if (site !== undefined) requireOwnSite(request, site);
  }
};
