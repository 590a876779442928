/**
 * The outage timeline of one device: the spans during which it had a given reason
 * (shared/messages/device-state.ts ReasonCode), per video channel, clipped to a period,
 * with per-channel totals. The broker keeps these spans (broker/devices/outages.ts)
 * from the reasons of the device's state messages; the console draws them as they come.
 *
 *   GET /api/devices/nvr-01/outages?from=..&to=..[&code=recording-stopped][&site=demo-site]
 *
 * A device down (unreachable, timeout, protocol-error) cannot show that it records: its
 * down spans are listed apart (`down`) and count in every channel's gap. Refused
 * credentials (auth-failed) are no time down: the device answers and records.
 */
import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { ReasonCode } from '../messages/device-state.js';
import { Nullable } from './common.js';

/** The route lives in routes.ts (the console imports it without TypeBox). */
export { deviceOutagesPath, deviceApiRoutes } from './routes.js';

export const DeviceOutagesParams = Type.Object({ id: Id }, { additionalProperties: false });

export const DeviceOutagesQuery = Type.Object(
  {
    from: Timestamp,
    to: Timestamp,
    /** The reason whose spans are wanted; recording-stopped by default. */
    code: Type.Optional(ReasonCode),
    /** Needed only when two sites have a device with this id. */
    site: Type.Optional(Id),
  },
  { additionalProperties: false },
);
export type DeviceOutagesQuery = Static<typeof DeviceOutagesQuery>;

/** One span clipped to the period. */
export const OutageSpan = Type.Object({
  code: ReasonCode,
  /** The later of the span's start and the period's start. */
  started: Timestamp,
  /** The earlier of the span's end (now while open) and the period's end. */
  ended: Timestamp,
  /** The reason still holds now. */
  open: Type.Boolean(),
  /** The span began before the period (its start is clipped). */
  startedBefore: Type.Boolean(),
  /** The agent's words when the span opened. */
  message: Type.String(),
});
export type OutageSpan = Static<typeof OutageSpan>;

export const ChannelOutages = Type.Object({
  /** The channel as the agent names it (an NVR's recording token); "" for the whole device. */
  channel: Type.String(),
  /** What the recorder calls it (the recording's source camera), when known. */
  name: Type.Optional(Type.String()),
  /** This channel's spans of the code in the period, oldest first. */
  spans: Type.Array(OutageSpan),
  /** Seconds of the period in a span of this channel or with the device down (overlaps once). */
  gapS: Type.Number({ minimum: 0 }),
  /** gapS over the period's length, 0..1. */
  share: Type.Number({ minimum: 0, maximum: 1 }),
  /** A span of this channel is open now. */
  open: Type.Boolean(),
});
export type ChannelOutages = Static<typeof ChannelOutages>;

export const DeviceOutages = Type.Object({
  siteId: Id,
  deviceId: Id,
  code: ReasonCode,
  from: Timestamp,
  to: Timestamp,
  periodS: Type.Number(),
  /** Video channels the device last reported (the agent's media check). */
  channelCount: Nullable(Type.Integer({ minimum: 0 })),
  /**
   * True when the channels below include every recording the device last listed
   * (DeviceState.recordings); false for an agent that does not list them, whose clean
   * channels are then only counted (channelCount).
   */
  allChannels: Type.Boolean(),
  /**
   * Every recording the device last listed (clean ones with no span and gapS 0) and
   * every channel with a span of the code in the kept history, by channel name.
   */
  channels: Type.Array(ChannelOutages),
  /** The device down in the period (any down reason), oldest first. */
  down: Type.Array(OutageSpan),
  downS: Type.Number({ minimum: 0 }),
  /** Spans older than this many days are deleted (broker/devices/outages.ts). */
  retentionDays: Type.Number(),
});
export type DeviceOutages = Static<typeof DeviceOutages>;

export const deviceOutagesExample: DeviceOutages = {
  siteId: 'demo-site',
  deviceId: 'nvr-01',
  code: 'recording-stopped',
  from: '2026-11-26T07:00:00.000Z',
  to: '2026-11-26T08:00:00.000Z',
  periodS: 3600,
  channelCount: 4,
  allChannels: true,
  channels: [
    { channel: 'REC_CH01', name: 'Channel 1', spans: [], gapS: 0, share: 0, open: false },
    {
      channel: 'REC_CH02',
      name: 'Channel 2',
      spans: [
        {
          code: 'recording-stopped',
          started: '2026-11-26T07:10:00.000Z',
          ended: '2026-11-26T07:25:00.000Z',
          open: false,
          startedBefore: false,
          message: 'Channel 2: newest recording 130 s old (limit 120 s, status Idle)',
        },
      ],
      gapS: 900,
      share: 0.25,
      open: false,
    },
    { channel: 'REC_CH03', name: 'Channel 3', spans: [], gapS: 0, share: 0, open: false },
    { channel: 'REC_CH04', name: 'Channel 4', spans: [], gapS: 0, share: 0, open: false },
  ],
  down: [],
  downS: 0,
  retentionDays: 400,
};
