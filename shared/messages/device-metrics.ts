import { Type, type Static } from 'typebox';
import { Id } from '../ids.js';
import { DeviceKind, Header } from './common.js';

/**
 * One reading per poll. Values become InfluxDB fields (measurement `device`, tags site,
 * agent, device, kind); see docs/METRICS.md.
 */
export const DeviceMetricValues = Type.Object(
  {
    /** The device answered the poll. */
    up: Type.Boolean(),
    /** Round trip of GetSystemDateAndTime, when it answered. */
    responseMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** Device clock minus gateway clock, in seconds (ONVIF Core 8.3.11 GetSystemDateAndTime). */
    clockOffsetS: Type.Optional(Type.Number()),
    /** Media profiles the device offers. */
    profiles: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Video channels (video sources) the device offers. */
    channels: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Channels whose RTSP stream answered DESCRIBE with 200. */
    streamsUp: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Channels whose snapshot decoded as a plausible picture. */
    picturesOk: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Mean luminance (0-255) of the first channel's snapshot. */
    pictureLuma: Type.Optional(Type.Number({ minimum: 0, maximum: 255 })),
    /**
     * Sharpness of the first channel's snapshot: the variance of the Laplacian of its luma
     * over the variance of its luma (agent/jpeg-luma.ts). Compared with the camera's own
     * usual value (picture-blurred); absent for a black or covered picture.
     */
    pictureSharpness: Type.Optional(Type.Number({ minimum: 0 })),
    /** NVR: the largest lag of a channel's newest recording behind now, in seconds. */
    recordingLagS: Type.Optional(Type.Number()),
    /** NVR: recordings whose newest data lags beyond the threshold. */
    recordingsStopped: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * NVR: the used share of its working disks together, percent (recorders fill their
     * disks one after another, so the fullest disk says little). The inspection report's
     * weekly trend (its maximum); measured by the vendor drivers (agent/drivers/disks.ts).
     */
    storageUsedPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /**
     * NVR: days of recordings a full recorder keeps (the oldest recording's age), the
     * least of its channels that overwrite; absent while every channel is still filling
     * (agent/checks/retention.ts). The inspection report's weekly trend (its minimum) and
     * its retention advice, and the broker's retention-short rule; measured from Profile G.
     */
    retentionDays: Type.Optional(Type.Number({ minimum: 0 })),
    /** Storage configurations the device reports. */
    storages: Type.Optional(Type.Integer({ minimum: 0 })),
    /** ONVIF event messages received since the last poll. */
    events: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const DeviceMetrics = Type.Object(
  {
    ...Header,
    deviceId: Id,
    kind: DeviceKind,
    values: DeviceMetricValues,
  },
  { additionalProperties: false },
);

export type DeviceMetricValues = Static<typeof DeviceMetricValues>;
export type DeviceMetrics = Static<typeof DeviceMetrics>;

export const deviceMetricsExample: DeviceMetrics = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  seq: 43,
  ts: '2026-11-26T08:03:30.004Z',
  deviceId: 'cam-01',
  kind: 'camera',
  values: { up: true, responseMs: 12.4, clockOffsetS: -0.8, profiles: 2 },
};
