/**
 * The outage timeline of one device over a period, from its stored reason spans
 * (broker/devices/outages.ts): per channel, its spans clipped to the period and the
 * seconds it was in a gap, counting the time the device was down in every channel's gap
 * (a recorder that cannot be reached cannot show that it records) but each second once.
 * Every recording the agent listed has its channel, named by its source, clean ones too.
 */
import type { ChannelOutages, DeviceOutages, OutageSpan } from '../../shared/api/outages.js';
import type { ReasonCode } from '../../shared/messages/device-state.js';
import type { StoredSpan } from './outages.js';

interface Interval {
  from: number;
  to: number;
}

/** Clips a stored span to [from, to); an open span runs to `now`. Null when nothing is left. */
function clip(span: StoredSpan, from: number, to: number, now: number): OutageSpan | null {
  const started = Date.parse(span.started);
  const end = span.ended === null ? now : Date.parse(span.ended);
  const a = Math.max(started, from);
  const b = Math.min(end, to);
  if (!(b > a)) return null;
  return {
    code: span.code,
    started: new Date(a).toISOString(),
    ended: new Date(b).toISOString(),
    open: span.ended === null,
    startedBefore: started < from,
    message: span.message,
  };
}

/** Total length of a union of intervals, in ms. */
function unionMs(intervals: Interval[]): number {
  const sorted = [...intervals].sort((x, y) => x.from - y.from);
  let total = 0;
  let current: Interval | null = null;
  for (const next of sorted) {
    if (current === null || next.from > current.to) {
      if (current !== null) total += current.to - current.from;
      current = { ...next };
    } else if (next.to > current.to) {
      current.to = next.to;
    }
  }
  if (current !== null) total += current.to - current.from;
  return total;
}

const interval = (span: OutageSpan): Interval => ({
  from: Date.parse(span.started),
  to: Date.parse(span.ended),
});

/** Channel names in the order a person reads them: CH2 before CH10. */
const byChannel = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export function outageTimeline(input: {
  siteId: string;
  deviceId: string;
  code: ReasonCode;
  from: Date;
  to: Date;
  now: Date;
  channelCount: number | null;
  retentionDays: number;
  /** Every channel with a span of `code` in the kept history. */
  channels: readonly string[];
  /**
   * The device's recordings as its agent last listed them (Device.recordings): each gets
   * a channel entry, with no span when it never stopped. Absent: only the channels above.
   */
  recordings?: readonly { token: string; source?: string }[];
  /** Spans of `code` overlapping the period. */
  spans: readonly StoredSpan[];
  /** Spans of the down reasons (channel "") overlapping the period. */
  downSpans: readonly StoredSpan[];
}): DeviceOutages {
  const from = input.from.getTime();
  const to = input.to.getTime();
  // A period running into the future ends, for open spans, now.
  const now = Math.min(input.now.getTime(), to);
  const periodMs = to - from;
  const down = input.downSpans
    .map((s) => clip(s, from, to, now))
    .filter((s): s is OutageSpan => s !== null);
  const downIntervals = down.map(interval);
  const names = new Set(input.channels);
  for (const s of input.spans) names.add(s.channel);
  const sources = new Map<string, string>();
  for (const rec of input.recordings ?? []) {
    names.add(rec.token);
    if (rec.source) sources.set(rec.token, rec.source);
  }
  const channels: ChannelOutages[] = [...names].sort(byChannel).map((channel) => {
    const spans = input.spans
      .filter((s) => s.channel === channel)
      .map((s) => clip(s, from, to, now))
      .filter((s): s is OutageSpan => s !== null);
    const gapMs = unionMs([...spans.map(interval), ...downIntervals]);
    const name = sources.get(channel);
    return {
      channel,
      ...(name !== undefined ? { name } : {}),
      spans,
      gapS: gapMs / 1000,
      share: periodMs > 0 ? Math.min(1, gapMs / periodMs) : 0,
      open: input.spans.some((s) => s.channel === channel && s.ended === null),
    };
  });
  return {
    siteId: input.siteId,
    deviceId: input.deviceId,
    code: input.code,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    periodS: periodMs / 1000,
    channelCount: input.channelCount,
    allChannels: input.recordings !== undefined,
    channels,
    down,
    downS: unionMs(downIntervals) / 1000,
    retentionDays: input.retentionDays,
  };
}
