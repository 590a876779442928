/**
 * store-metrics: device readings and agent health become metric points (docs/METRICS.md)
 * and go to the batching writer; the message goes on without waiting for the store.
 *
 * The points' shapes (tags and fields per measurement) live in broker/metrics/points.ts.
 */
import { agentPoint, devicePoint } from '../metrics/points.js';
import type { MetricPoint } from '../metrics/store.js';
import type { Stage } from '../pipeline/types.js';

/**
 * Where points go: the MetricsWriter in the broker, a list in tests. A promise returned
 * resolves once the points are stored; the message is finished in the journal then.
 */
export interface PointSink {
  add(points: MetricPoint[]): void | Promise<void>;
}

export function storeMetricsStage(sink: PointSink): Stage {
  return {
    name: 'store-metrics',
    run(ctx) {
      let point: MetricPoint | null = null;
      if (ctx.message?.kind === 'deviceMetrics') point = devicePoint(ctx.message.payload);
      else if (ctx.message?.kind === 'agentHealth') point = agentPoint(ctx.message.payload);
      if (point) {
        const stored = sink.add([point]);
        if (stored) (ctx.pending ??= []).push(stored);
      }
      return 'continue';
    },
  };
}
