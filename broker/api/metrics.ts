/**
 * GET /api/metrics/series: one numeric field of one device or gateway over a period, in
 * buckets, for the console's charts. Read-only; reads the MetricsStore's trend().
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import { MetricSeries, MetricSeriesQuery, metricRoutes } from '../../shared/api/metrics.js';
import { VigilError } from '../../shared/errors.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { seesSite, viewOf } from './scope.js';
import { periodOf } from './period.js';
import type { MetricsStore } from '../metrics/store.js';

/** About this many buckets per chart: a point per few pixels of a wide chart. */
const TARGET_BUCKETS = 300;
const MIN_BUCKET_S = 10;
/** The widths the stores keep rollups of (docs/METRICS.md): 5 minutes and a day. */
const ROLLUP_5M_S = 300;
const ROLLUP_DAY_S = 86_400;
/** A year of data at most per request. */
const MAX_SPAN_DAYS = 366;

/**
 * The default bucket of a chart over `spanMs`: about TARGET_BUCKETS of them, widened to a
 * width the rollups serve (a whole number of days once a day or more, of 5 minutes once
 * 5 minutes or more), so a long chart reads the rollups and not the raw readings: 30 days
 * are 8,640 s a bucket, read as 8,700 s (29 × 5 minutes) from the 5-minute rollup.
 */
export function defaultBucketS(spanMs: number): number {
  const wanted = Math.max(MIN_BUCKET_S, Math.ceil(spanMs / 1000 / TARGET_BUCKETS));
  if (wanted >= ROLLUP_DAY_S) return Math.ceil(wanted / ROLLUP_DAY_S) * ROLLUP_DAY_S;
  if (wanted >= ROLLUP_5M_S) return Math.ceil(wanted / ROLLUP_5M_S) * ROLLUP_5M_S;
  return wanted;
}

export const metricRoutesPlugin: FastifyPluginAsyncTypebox<{
  metrics: MetricsStore | null;
  devices: DeviceRegistry;
}> = async (app, { metrics, devices }) => {
  /**
   * A customer account reads the series of its own sites' devices only. The series are
   * tagged by device id alone, and agent ids repeat across sites (gw-01 on every site):
   * a device id that any other site also has, and any agent, would mix in another
   * customer's readings, so those answer 404 as if absent.
   */
  const ownSeries = (request: FastifyRequest, measurement: string, id: string) => {
    const same = devices.list().filter((d) => d.id === id);
    const own = measurement === 'device' && same.length > 0;
    if (!own || same.some((d) => !seesSite(request, d.siteId)))
      throw new VigilError('VIGIL_NOT_FOUND', `No ${measurement} "${id}" among your sites.`);
  };

  app.get(
    metricRoutes.series,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'One metric of one device or gateway over a period, in buckets',
        tags: ['metrics'],
        querystring: MetricSeriesQuery,
        response: {
          200: MetricSeries,
          400: ApiError,
          401: ApiError,
          404: ApiError,
          503: ApiError,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to, spanMs: span } = periodOf(q, MAX_SPAN_DAYS);
      const tagName = q.measurement === 'device' ? 'device' : 'agent';
      const tagValue = q.measurement === 'device' ? q.device : q.agent;
      if (tagValue === undefined) {
        throw new VigilError('VIGIL_BAD_REQUEST', `Name the ${tagName}.`, [
          `${tagName}: required for measurement "${q.measurement}"`,
        ]);
      }
      if (viewOf(request) !== null) ownSeries(request, q.measurement, tagValue);
      if (metrics === null) throw new VigilError('VIGIL_METRICS_STORE_DOWN');
      const bucketS = q.bucketS ?? defaultBucketS(span);
      const buckets = await metrics.trend({
        measurement: q.measurement,
        tags: { [tagName]: tagValue },
        field: q.field,
        from,
        to,
        bucketS,
      });
      return {
        field: q.field,
        bucketS,
        time: buckets.map((b) => b.time.getTime()),
        mean: buckets.map((b) => b.mean),
        min: buckets.map((b) => b.min),
        max: buckets.map((b) => b.max),
      };
    },
  );
};
