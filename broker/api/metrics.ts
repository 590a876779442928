/**
 * GET /api/metrics/series: one numeric field of one device or gateway over a period, in
 * buckets, for the console's charts. Read-only; reads the MetricsStore's trend().
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import { MetricSeries, MetricSeriesQuery, metricRoutes } from '../../shared/api/metrics.js';
import { VigilError } from '../../shared/errors.js';
import { periodOf } from './period.js';
import type { MetricsStore } from '../metrics/store.js';

/** About this many buckets per chart: a point per few pixels of a wide chart. */
const TARGET_BUCKETS = 300;
const MIN_BUCKET_S = 10;
/** A year of data at most per request. */
const MAX_SPAN_DAYS = 366;

export const metricRoutesPlugin: FastifyPluginAsyncTypebox<{
  metrics: MetricsStore | null;
}> = async (app, { metrics }) => {
  app.get(
    metricRoutes.series,
    {
      schema: {
        summary: 'One metric of one device or gateway over a period, in buckets',
        tags: ['metrics'],
        querystring: MetricSeriesQuery,
        response: { 200: MetricSeries, 400: ApiError, 401: ApiError, 503: ApiError },
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
      if (metrics === null) throw new VigilError('VIGIL_METRICS_STORE_DOWN');
      const bucketS = q.bucketS ?? Math.max(MIN_BUCKET_S, Math.ceil(span / 1000 / TARGET_BUCKETS));
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
