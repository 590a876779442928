/**
 * Read-only metric series for the console's charts: one numeric field of one device (or
 * gateway agent) over a period, in buckets (mean, min, max per bucket), from the metrics
 * store (docs/METRICS.md names the measurements and fields).
 *
 *   GET /api/metrics/series?measurement=device&device=cam-01&field=responseMs&from=..&to=..
 */
import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';

/** The route lives in routes.ts (the console imports it without TypeBox). */
export { metricRoutes } from './routes.js';

export const MetricSeriesQuery = Type.Object(
  {
    measurement: Type.Union([Type.Literal('device'), Type.Literal('agent')]),
    /** Required for measurement "device". */
    device: Type.Optional(Id),
    /** Required for measurement "agent". */
    agent: Type.Optional(Id),
    field: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_]+$' }),
    from: Timestamp,
    to: Timestamp,
    /** Bucket width; default about 300 buckets, at least 10 s, rounded up to whole 5 min or days. */
    bucketS: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export type MetricSeriesQuery = Static<typeof MetricSeriesQuery>;

export const MetricSeries = Type.Object({
  field: Type.String(),
  bucketS: Type.Integer(),
  /** Bucket starts in ms since the epoch, oldest first; empty buckets are left out. */
  time: Type.Array(Type.Number()),
  mean: Type.Array(Nullable(Type.Number())),
  min: Type.Array(Nullable(Type.Number())),
  max: Type.Array(Nullable(Type.Number())),
});
export type MetricSeries = Static<typeof MetricSeries>;

export const metricSeriesExample: MetricSeries = {
  field: 'responseMs',
  bucketS: 300,
  time: [1795680000000, 1795680300000],
  mean: [12.4, 13.1],
  min: [9.8, 10.2],
  max: [20.5, 31.0],
};
