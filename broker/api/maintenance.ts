/** Maintenance windows: list (anyone), create, change, delete (operator or admin), audited. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  maintenanceApiRoutes,
  MaintenanceList,
  MaintenanceParams,
  MaintenancePatch,
  MaintenanceQuery,
  MaintenanceWindow,
  NewMaintenance,
} from '../../shared/api/maintenance.js';
import { VigilError } from '../../shared/errors.js';
import type { BrokerEvents } from '../events.js';
import type { Desk } from '../wiring/desk.js';
import { onlyOwn, seesSite } from './scope.js';
import { requireRole } from './tickets.js';

export const maintenanceRoutes: FastifyPluginAsyncTypebox<{
  desk: Desk;
  events: BrokerEvents;
}> = async (app, { desk, events }) => {
  const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError };
  // Changing a window changes what is paused and suppressed: check at once, not at the next tick.
  const changed = (window: MaintenanceWindow) => {
    events.emit('maintenance', window);
    desk.beat();
    return window;
  };

  app.get(
    maintenanceApiRoutes.list,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'Maintenance windows not over yet (default), or all; per site',
        tags: ['maintenance'],
        querystring: MaintenanceQuery,
        response: { 200: MaintenanceList, 400: ApiError, 401: ApiError },
      },
    },
    async (request) => onlyOwn(request, desk.maintenance.list(request.query), (w) => w.siteId),
  );

  app.get(
    maintenanceApiRoutes.one,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'One maintenance window',
        tags: ['maintenance'],
        params: MaintenanceParams,
        response: { 200: MaintenanceWindow, ...errors },
      },
    },
    async (request) => {
      const window = desk.maintenance.get(request.params.id);
      // A customer reads its own sites' windows; another's is as absent as none.
      if (window === undefined || !seesSite(request, window.siteId)) {
        throw new VigilError('VIGIL_NOT_FOUND', `No maintenance window ${request.params.id}.`);
      }
      return window;
    },
  );

  app.post(
    maintenanceApiRoutes.list,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Plans a maintenance window, or starts one now (no startsAt)',
        tags: ['maintenance'],
        body: NewMaintenance,
        response: { 201: MaintenanceWindow, ...errors },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator', 'Planning maintenance');
      const window = await desk.maintenance.create(request.body, user.username);
      await desk.audit.add(
        user.username,
        'maintenance.create',
        `maintenance:${window.id}`,
        request.body,
      );
      return reply.status(201).send(changed(window));
    },
  );

  app.patch(
    maintenanceApiRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Moves the start or end of a window (endsAt = now ends it early)',
        tags: ['maintenance'],
        params: MaintenanceParams,
        body: MaintenancePatch,
        response: { 200: MaintenanceWindow, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Changing maintenance');
      const window = await desk.maintenance.update(request.params.id, request.body);
      await desk.audit.add(
        user.username,
        'maintenance.update',
        `maintenance:${window.id}`,
        request.body,
      );
      return changed(window);
    },
  );

  app.delete(
    maintenanceApiRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a window (its time counts as normal time again)',
        tags: ['maintenance'],
        params: MaintenanceParams,
        response: { 200: MaintenanceWindow, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator', 'Deleting maintenance');
      const window = await desk.maintenance.remove(request.params.id);
      await desk.audit.add(user.username, 'maintenance.delete', `maintenance:${window.id}`);
      return changed({ ...window, state: 'over' });
    },
  );
};
