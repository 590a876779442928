/**
 * The broker's HTTP API: fastify with the TypeBox type provider, one plugin per
 * resource, route schemas and paths from shared/api/. This file only wires: the session
 * hook, the error and not-found handlers, and the plugins in order; and the listener:
 * plain HTTP, or HTTPS with HSTS and a plain port that redirects (https.ts).
 */
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SESSION_COOKIE } from '../../shared/api/auth.js';
import { DEFAULT_LOGIN_LIMITS, type HttpConfig, type LoginLimitsConfig } from '../config.js';
import { consoleLog } from '../log.js';
import { authRoutes, sessionHook } from './auth.js';
import { brokerStatsRoutes } from './broker-stats.js';
import { commandRoutes } from './commands.js';
import { notFoundHandler, registerConsole } from './console.js';
import { deviceRoutes } from './devices.js';
import { errorHandler, schemaValidator } from './errors.js';
import { healthRoutes } from './health.js';
import { leaderRoutes } from './health-leader.js';
import { loadTlsFiles, redirectServer, type TlsFiles } from './https.js';
import { liveRoutes } from './live.js';
import { LoginLimits } from './login-limits.js';
import { metricRoutesPlugin } from './metrics.js';
import { fastifyLogger } from './logger.js';
import { openapiRoutes } from './openapi.js';
import { outageRoutes } from './outages.js';
import { ticketRoutes } from './tickets.js';
import { auditRoutes } from './audit-trail.js';
import { customerRoutes } from './customers.js';
import { partRoutes } from './parts.js';
import { issuedReportOptions, issuedReportRoutesPlugin } from './issued-reports.js';
import { customerFigures, inspectionRoutes } from './inspection.js';
import { maintenanceRoutes } from './maintenance.js';
import { notifyChannelRoutesPlugin } from './notify-channels.js';
import { oncallRoutes } from './oncall.js';
import { ackRoutes } from './notify-ack.js';
import { notifyPolicyRoutesPlugin } from './notify-policies.js';
import { requireScopes, scopeHook, siteParamHook } from './scope.js';
import { siteRoutes } from './sites.js';
import type { ApiDeps } from './types.js';
import { UserStore } from './users.js';
import { userAdminRoutes } from './users-admin.js';

const VERSION = '0.1.0';

/** How the API is served; everything may be left out (plain HTTP, default limits). */
export interface ServeOptions {
  /** The checked certificate and key: HTTPS, with HSTS for `hstsMaxAgeS`. */
  tls?: { files: TlsFiles; hstsMaxAgeS: number } | null;
  /** fastify's trustProxy: the reverse proxies whose X-Forwarded-* headers are believed. */
  trustProxy?: string[] | null;
  loginLimits?: LoginLimitsConfig;
}

/** Builds the API without listening: tests call app.inject() on it. */
export async function buildApi(deps: ApiDeps, serve: ServeOptions = {}): Promise<FastifyInstance> {
  const tls = serve.tls ?? null;
  const app = Fastify({
    // Only the configured proxies' X-Forwarded-For: anyone else could name any address
    // and so escape the login limits or lock others out (request.ip is the peer then).
    ...(serve.trustProxy ? { trustProxy: serve.trustProxy } : {}),
    ...(tls
      ? {
          serverFactory: (handler: Parameters<typeof createHttpsServer>[1]) =>
            createHttpsServer({ cert: tls.files.cert, key: tls.files.key }, handler),
        }
      : {}),
    loggerInstance: fastifyLogger(deps.log ?? consoleLog('api')),
    // One line per event worth reading (a refused login, a failure), not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing ends every connection, not only idle ones: a browser keeps spare sockets
    // open without a request on them, and those would hold the shutdown until their
    // timeout (the live streams are ended cleanly before, by their preClose hook).
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const users = new UserStore(deps.store, deps.now === undefined ? {} : { now: deps.now });
  await users.start();
  const limits = new LoginLimits(deps.store, serve.loginLimits ?? DEFAULT_LOGIN_LIMITS, deps.now);
  await limits.start();
  const audit = deps.desk?.audit;

  app.setValidatorCompiler(schemaValidator);
  app.setErrorHandler(errorHandler);
  app.decorateRequest('user', null);
  // Before any route: a route without a declared audience stops the start (scope.ts).
  requireScopes(app);

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Vigil broker API',
        version: VERSION,
        description: 'Devices, tickets and live events of the Vigil NOC.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      // Either scheme; public routes override this with `security: []`.
      security: [{ bearer: [] }, { cookie: [] }],
    },
  });
  app.addHook('onRequest', sessionHook(users));
  const desk = deps.desk;
  app.addHook(
    'onRequest',
    scopeHook({
      sitesOf: (customerId) => desk?.sites.sitesOf(customerId) ?? [],
      customerIdOf: (siteId) => desk?.sites.customerIdOf(siteId) ?? null,
    }),
  );
  app.addHook('preHandler', siteParamHook);
  if (tls !== null && tls.hstsMaxAgeS > 0) {
    // RFC 6797 section 7.1: on answers over HTTPS only (never on the plain redirects).
    const hsts = `max-age=${tls.hstsMaxAgeS}`;
    app.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('strict-transport-security', hsts);
      return payload;
    });
  }

  await app.register(authRoutes, {
    users,
    limits,
    failureDelayMs: deps.loginFailureDelayMs ?? 500,
    ...(audit ? { audit } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  await app.register(healthRoutes, { health: deps.health });
  await app.register(leaderRoutes, { role: deps.leaderRole ?? (() => 'single') });
  if (deps.brokerStats) await app.register(brokerStatsRoutes, { stats: deps.brokerStats });
  await app.register(userAdminRoutes, {
    users,
    limits,
    customerExists: (id) => desk?.customers.get(id) !== undefined,
    ...(audit ? { audit } : {}),
  });
  await app.register(metricRoutesPlugin, { metrics: deps.metrics ?? null, devices: deps.devices });
  await app.register(deviceRoutes, { devices: deps.devices });
  await app.register(outageRoutes, { devices: deps.devices });
  if (deps.commands) {
    await app.register(commandRoutes, {
      commands: deps.commands,
      ...(deps.desk ? { audit: deps.desk.audit } : {}),
    });
  }
  await app.register(ticketRoutes, {
    tickets: deps.tickets,
    ...(desk
      ? {
          audit: desk.audit,
          timeZoneOf: (siteId: string) => desk.customers.timeZoneOf(siteId),
          localeOf: (siteId: string) => desk.customers.forSite(siteId)?.locale ?? 'zh-CN',
        }
      : {}),
  });
  if (deps.desk) {
    // The ticket desk's resources (broker/wiring/desk.ts): absent in API-only tests.
    await app.register(maintenanceRoutes, { desk: deps.desk, events: deps.events });
    await app.register(siteRoutes, { desk: deps.desk, devices: deps.devices });
    const reports = {
      desk: deps.desk,
      devices: deps.devices,
      metrics: deps.metrics ?? null,
      ...(deps.reportCache ? { cache: deps.reportCache } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    };
    await app.register(inspectionRoutes, reports);
    await app.register(customerRoutes, {
      desk: deps.desk,
      figures: (id, period) => customerFigures(reports, id, period),
    });
    await app.register(auditRoutes, { audit: deps.desk.audit });
    await app.register(partRoutes, { parts: deps.desk.parts, audit: deps.desk.audit });
    await app.register(
      issuedReportRoutesPlugin,
      await issuedReportOptions(reports, deps.store, deps.pdf),
    );
    if (deps.oncall)
      await app.register(oncallRoutes, { oncall: deps.oncall, audit: deps.desk.audit });
    if (deps.escalations && deps.oncall) {
      const { escalations, oncall } = deps;
      await app.register(ackRoutes, { escalations, tickets: deps.tickets, directory: oncall });
      await app.register(notifyPolicyRoutesPlugin, { escalations, audit: deps.desk.audit });
    }
  }
  if (deps.channels) {
    await app.register(notifyChannelRoutesPlugin, {
      channels: deps.channels,
      ...(deps.desk ? { audit: deps.desk.audit } : {}),
      ...(deps.escalations ? { outbox: deps.escalations.outbox } : {}),
    });
  }
  await app.register(liveRoutes, {
    events: deps.events,
    heartbeatMs: deps.liveHeartbeatMs ?? 15_000,
  });
  await app.register(openapiRoutes);

  const consoleReady = await registerConsole(app, deps.consoleDir);
  app.setNotFoundHandler(notFoundHandler(consoleReady));
  return app;
}

/** A wildcard address is not one a client can call; name the loopback instead. */
function callableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

const boundPort = (server: Server, fallback: number) => {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
};

const DAY_MS = 86_400_000;

/**
 * Builds the API and listens; `url` is where it answers (port 0 picks a free port), and
 * with http.tls.redirectPort `redirectUrl` the plain port that redirects to it. The TLS
 * files are checked before anything listens.
 */
export async function startApi(
  deps: ApiDeps,
  listen: Pick<HttpConfig, 'host' | 'port'> & Partial<HttpConfig>,
): Promise<{ url: string; redirectUrl: string | null; close(): Promise<void> }> {
  const log = deps.log ?? consoleLog('api');
  const tlsConfig = listen.tls ?? null;
  const files = tlsConfig ? loadTlsFiles(tlsConfig) : null;
  if (files !== null) {
    const left = files.validTo.getTime() - Date.now();
    if (left < 14 * DAY_MS)
      log.warn(
        `the HTTPS certificate (${tlsConfig?.certFile}) ${left <= 0 ? 'expired' : 'expires'} on ${files.validTo.toISOString()}: browsers refuse an expired one; renew it and restart the broker`,
      );
  }
  const app = await buildApi(deps, {
    tls: files && tlsConfig ? { files, hstsMaxAgeS: tlsConfig.hstsMaxAgeS } : null,
    trustProxy: listen.trustProxy ?? null,
    ...(listen.loginLimits ? { loginLimits: listen.loginLimits } : {}),
  });
  await app.listen({ host: listen.host, port: listen.port });
  const port = boundPort(app.server, listen.port);
  const host = callableHost(listen.host);
  let redirect: Server | null = null;
  if (tlsConfig?.redirectPort != null) {
    redirect = redirectServer(() => port);
    try {
      redirect.listen(tlsConfig.redirectPort, listen.host);
      await once(redirect, 'listening');
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  const redirectPort = redirect === null ? null : boundPort(redirect, 0);
  return {
    url: `${files ? 'https' : 'http'}://${host}:${port}`,
    redirectUrl: redirectPort === null ? null : `http://${host}:${redirectPort}`,
    close: async () => {
      if (redirect !== null) {
        const closed = new Promise((resolve) => redirect?.close(resolve));
        redirect.closeAllConnections();
        await closed;
      }
      await app.close();
    },
  };
}
