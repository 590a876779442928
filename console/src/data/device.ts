/**
 * What the device page shows of a device beyond its state: the metric fields it charts,
 * and for an NVR the recording timeline per channel from GET /api/devices/:id/outages
 * (the broker keeps the spans and computes every figure: broker/devices/outages.ts and
 * timeline.ts). Here only the fetch and where a span sits on the drawn line.
 */
import type { ApiClient } from './api.js';
import type { DeviceKind, DeviceOutages, OutageSpan } from './types.js';

/** Metric fields charted on the device page (docs/METRICS.md, measurement `device`). */
export function chartFields(kind: DeviceKind | undefined): readonly string[] {
  return kind === 'nvr' ? ['responseMs', 'up', 'recordingsStopped'] : ['responseMs', 'up'];
}

/** The recording gaps of an NVR over [from, to), per channel, as the broker counts them. */
export function fetchRecordingTimeline(
  client: Pick<ApiClient, 'fetchOutages'>,
  device: { id: string; siteId: string },
  from: Date,
  to: Date,
): Promise<DeviceOutages> {
  return client.fetchOutages(device.id, {
    from: from.toISOString(),
    to: to.toISOString(),
    code: 'recording-stopped',
    site: device.siteId,
  });
}

const MIN_WIDTH_PCT = 0.5;

/**
 * Where a span sits on a line drawn for [from, to): left and width in %. The span is
 * already clipped to the period by the broker.
 */
export function spanPlacement(
  span: Pick<OutageSpan, 'started' | 'ended'>,
  from: number,
  to: number,
): { leftPct: number; widthPct: number } {
  const length = Math.max(1, to - from);
  const start = Math.min(Math.max(from, Date.parse(span.started)), to);
  const end = Math.min(to, Math.max(start, Date.parse(span.ended)));
  // At least a sliver, so a gap of seconds in a month stays visible, also at the right
  // edge (a gap that just opened).
  const widthPct = Math.min(100, Math.max(MIN_WIDTH_PCT, ((end - start) / length) * 100));
  const leftPct = Math.min(((start - from) / length) * 100, 100 - widthPct);
  return { leftPct, widthPct };
}
