/**
 * The broker's HTTP API: fastify with the TypeBox type provider, one plugin per
 * resource, route schemas and paths from shared/api/. This file only wires: the session
 * hook, the error and not-found handlers, and the plugins in order.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SESSION_COOKIE } from '../../shared/api/auth.js';
import { consoleLog } from '../log.js';
import { authRoutes, sessionHook } from './auth.js';
import { brokerStatsRoutes } from './broker-stats.js';
import { commandRoutes } from './commands.js';
import { notFoundHandler, registerConsole } from './console.js';
import { deviceRoutes } from './devices.js';
import { errorHandler, schemaValidator } from './errors.js';
import { healthRoutes } from './health.js';
import { liveRoutes } from './live.js';
import { metricRoutesPlugin } from './metrics.js';
import { fastifyLogger } from './logger.js';
import { openapiRoutes } from './openapi.js';
import { outageRoutes } from './outages.js';
import { ticketRoutes } from './tickets.js';
import { auditRoutes } from './audit-trail.js';
import { inspectionRoutes } from './inspection.js';
import { maintenanceRoutes } from './maintenance.js';
import { notifyChannelRoutesPlugin } from './notify-channels.js';
import { oncallRoutes } from './oncall.js';
import { ackRoutes } from './notify-ack.js';
import { notifyPolicyRoutesPlugin } from './notify-policies.js';
import { siteRoutes } from './sites.js';
import type { ApiDeps } from './types.js';
import { createUserStore } from './users.js';
import { userAdminRoutes } from './users-admin.js';

const VERSION = '0.1.0';

/** Builds the API without listening: tests call app.inject() on it. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: fastifyLogger(deps.log ?? consoleLog('api')),
    // One line per event worth reading (a refused login, a failure), not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing ends every connection, not only idle ones: a browser keeps spare sockets
    // open without a request on them, and those would hold the shutdown until their
    // timeout (the live streams are ended cleanly before, by their preClose hook).
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const users = createUserStore(deps.db, deps.now === undefined ? {} : { now: deps.now });

  app.setValidatorCompiler(schemaValidator);
  app.setErrorHandler(errorHandler);
  app.decorateRequest('user', null);

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

  await app.register(authRoutes, { users, failureDelayMs: deps.loginFailureDelayMs ?? 500 });
  await app.register(healthRoutes, { health: deps.health });
  if (deps.brokerStats) await app.register(brokerStatsRoutes, { stats: deps.brokerStats });
  await app.register(userAdminRoutes, { users });
  await app.register(metricRoutesPlugin, { metrics: deps.metrics ?? null });
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
    ...(deps.desk ? { audit: deps.desk.audit } : {}),
  });
  if (deps.desk) {
    // The ticket desk's resources (broker/wiring/desk.ts): absent in API-only tests.
    await app.register(maintenanceRoutes, { desk: deps.desk, events: deps.events });
    await app.register(siteRoutes, { desk: deps.desk, devices: deps.devices });
    await app.register(inspectionRoutes, {
      desk: deps.desk,
      devices: deps.devices,
      metrics: deps.metrics ?? null,
      ...(deps.reportCache ? { cache: deps.reportCache } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
    await app.register(auditRoutes, { audit: deps.desk.audit });
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

/** Builds the API and listens; `url` is where it answers (port 0 picks a free port). */
export async function startApi(
  deps: ApiDeps,
  listen: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const app = await buildApi(deps);
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : listen.port;
  return {
    url: `http://${callableHost(listen.host)}:${port}`,
    close: () => app.close(),
  };
}
