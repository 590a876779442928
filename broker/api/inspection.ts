/** GET /api/sites/:site/inspection(.html)?period=2026-11|2026-Q4: the contract's inspection report. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../shared/api/common.js';
import { InspectionQuery, InspectionReport } from '../../shared/api/inspection.js';
import { siteApiRoutes, SiteParams } from '../../shared/api/sites.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { inspectionHtml } from '../inspection/html.js';
import { inspectionReport, periodRange } from '../inspection/report.js';
import type { MetricsStore } from '../metrics/store.js';
import type { Desk } from '../wiring/desk.js';

export interface InspectionRoutesOptions {
  desk: Desk;
  devices: DeviceRegistry;
  metrics: MetricsStore | null;
  now?: () => Date;
}

export const inspectionRoutes: FastifyPluginAsyncTypebox<InspectionRoutesOptions> = async (
  app,
  { desk, devices, metrics, now = () => new Date() },
) => {
  async function build(site: string, period: string): Promise<InspectionReport> {
    const { from, to } = periodRange(period);
    return inspectionReport({
      site: desk.sites.get(site),
      period,
      devices: devices.list({ siteId: site }),
      changes: desk.history.changes(site, from, to),
      maintenance: desk.maintenance.spans(site, from, to),
      tickets: desk.tickets.list({
        status: 'all',
        siteId: site,
        from: from.toISOString(),
        to: to.toISOString(),
        sort: 'oldest',
        limit: 1000,
      }),
      inventory: desk.history.inventory(site, from, to),
      metrics,
      now: now(),
    });
  }

  app.get(
    siteApiRoutes.inspection,
    {
      schema: {
        summary: 'The inspection report of a site for a month (2026-11) or a quarter (2026-Q4)',
        tags: ['sites'],
        params: SiteParams,
        querystring: InspectionQuery,
        response: { 200: InspectionReport, 400: ApiError, 401: ApiError },
      },
    },
    async (request) => build(request.params.site, request.query.period),
  );

  app.get(
    siteApiRoutes.inspectionHtml,
    {
      schema: {
        summary: 'The inspection report as a printable HTML page',
        tags: ['sites'],
        params: SiteParams,
        querystring: InspectionQuery,
        response: {
          200: { description: 'HTML', content: { 'text/html': { schema: Type.String() } } },
          400: ApiError,
          401: ApiError,
        },
      },
    },
    async (request, reply) => {
      const report = await build(request.params.site, request.query.period);
      return reply.type('text/html; charset=utf-8').send(inspectionHtml(report));
    },
  );
};
