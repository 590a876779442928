/**
 * Site metadata: read by anyone logged in, edited and imported (CSV) by an admin, every
 * change audited.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  Site,
  siteApiRoutes,
  SiteDevice,
  SiteDeviceParams,
  SiteDevicePut,
  SiteImport,
  SiteImportResult,
  SiteList,
  SiteParams,
  SitePut,
  SiteRollupList,
  type SiteRollup,
} from '../../shared/api/sites.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { importSitesCsv } from '../sites/csv.js';
import { siteRollups } from '../sites/rollup.js';
import type { Desk } from '../wiring/desk.js';
import { onlyOwn } from './scope.js';
import { requireRole } from './tickets.js';

/**
 * Every site's roll-up now: the registry's devices, the site-wide maintenance windows in
 * force, and the open site-unreachable tickets (the detector opens one per offline
 * gateway agent and resolves it when the agent is back).
 */
export async function rollupNow(desk: Desk, devices: DeviceRegistry): Promise<SiteRollup[]> {
  const inMaintenance = new Set(
    desk.maintenance
      .list()
      .filter((w) => w.state === 'active' && w.deviceId === null)
      .map((w) => w.siteId),
  );
  const agentsOffline = new Map<string, number>();
  for (const ticket of await desk.tickets.list({ status: 'open', fault: 'site-unreachable' })) {
    agentsOffline.set(ticket.siteId, (agentsOffline.get(ticket.siteId) ?? 0) + 1);
  }
  return siteRollups({
    devices: devices.list(),
    sites: desk.sites.list(),
    inMaintenance,
    agentsOffline,
  });
}

export const siteRoutes: FastifyPluginAsyncTypebox<{
  desk: Desk;
  devices: DeviceRegistry;
}> = async (app, { desk, devices }) => {
  const errors = { 400: ApiError, 401: ApiError, 403: ApiError };

  app.get(
    siteApiRoutes.rollup,
    {
      config: { scope: 'customer' },
      schema: {
        summary:
          'Every site with its roll-up state (ok, degraded, down, unreachable, maintenance) and device counts',
        tags: ['sites'],
        response: { 200: SiteRollupList, 401: ApiError },
      },
    },
    async (request) => onlyOwn(request, await rollupNow(desk, devices), (r) => r.siteId),
  );

  app.get(
    siteApiRoutes.list,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'Every described site with its devices metadata',
        tags: ['sites'],
        response: { 200: SiteList, 401: ApiError },
      },
    },
    async (request) => onlyOwn(request, desk.sites.list(), (site) => site.id),
  );

  app.get(
    siteApiRoutes.one,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'One site (defaults when nobody described it yet)',
        tags: ['sites'],
        params: SiteParams,
        response: { 200: Site, ...errors },
      },
    },
    async (request) => desk.sites.get(request.params.site),
  );

  app.put(
    siteApiRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Creates or changes a site: customer, acceptance date, retention goal (admin)',
        tags: ['sites'],
        params: SiteParams,
        body: SitePut,
        response: { 200: Site, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Editing a site');
      const site = await desk.sites.put(request.params.site, request.body);
      await desk.audit.add(user.username, 'site.put', `site:${site.id}`, request.body);
      return site;
    },
  );

  app.put(
    siteApiRoutes.device,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Changes a device: criticality, recorder, acceptance, warranty, replacement (admin)',
        tags: ['sites'],
        params: SiteDeviceParams,
        body: SiteDevicePut,
        response: { 200: SiteDevice, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Editing a device');
      const { site, device } = request.params;
      const saved = await desk.sites.putDevice(site, device, request.body);
      await desk.audit.add(user.username, 'site.device', `device:${site}/${device}`, request.body);
      return saved;
    },
  );

  app.post(
    siteApiRoutes.import,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Imports site and device metadata from CSV (admin); all rows or none',
        tags: ['sites'],
        body: SiteImport,
        response: { 200: SiteImportResult, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Importing sites');
      const result = await importSitesCsv(desk.sites, request.body.csv);
      await desk.audit.add(user.username, 'site.import', 'sites', result);
      return result;
    },
  );
};
