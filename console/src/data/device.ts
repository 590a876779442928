/**
 * What the device page shows of an NVR's recording, from what the broker keeps:
 *
 * - the channels stopped now: the device's reasons with code recording-stopped (each
 *   names its channel, shared/messages/device-state.ts Reason.channel);
 * - the recording gaps: the device's "degraded:recording-stopped" tickets (the detector
 *   opens one when a channel stops and resolves it when recording is back), per device;
 * - the number of channels stopped over time: the `recordingsStopped` metric.
 *
 * The broker keeps no history of reasons (broker/inspection/history.ts stores the status
 * only), so a past gap cannot be told per channel; the page says so instead of guessing.
 */
import type { Device, DeviceKind, Ticket } from './types.js';

export const RECORDING_FAULT = 'degraded:recording-stopped';

/** Metric fields charted on the device page (docs/METRICS.md, measurement `device`). */
export function chartFields(kind: DeviceKind | undefined): readonly string[] {
  return kind === 'nvr' ? ['responseMs', 'up', 'recordingsStopped'] : ['responseMs', 'up'];
}

export interface ChannelStopped {
  channel: string;
  message: string;
}

export function channelsStopped(device: Device): ChannelStopped[] {
  return device.reasons
    .filter((r) => r.code === 'recording-stopped')
    .map((r) => ({ channel: r.channel ?? '', message: r.message }))
    .sort((a, b) => a.channel.localeCompare(b.channel, undefined, { numeric: true }));
}

export interface RecordingGap {
  ticketId: number;
  /** ms since the epoch. */
  from: number;
  /** null while recording is still stopped. */
  to: number | null;
}

/** The recording gaps that overlap [from, to), oldest first. */
export function recordingGaps(
  tickets: readonly Ticket[],
  from: number,
  to: number,
): RecordingGap[] {
  return tickets
    .filter((t) => t.fault === RECORDING_FAULT)
    .map((t) => ({
      ticketId: t.id,
      from: Date.parse(t.openedAt),
      to: t.resolvedAt === null ? null : Date.parse(t.resolvedAt),
    }))
    .filter((gap) => gap.from < to && (gap.to === null || gap.to > from))
    .sort((a, b) => a.from - b.from);
}

/** Where a gap sits on a timeline of [from, to): left and width in % (open gaps run to `to`). */
export function gapPlacement(
  gap: RecordingGap,
  from: number,
  to: number,
): { leftPct: number; widthPct: number } {
  const span = Math.max(1, to - from);
  const start = Math.max(from, gap.from);
  const end = Math.min(to, gap.to ?? to);
  const leftPct = ((start - from) / span) * 100;
  // At least a sliver, so a gap of seconds in a month stays visible.
  const widthPct = Math.max(0.3, ((end - start) / span) * 100);
  return { leftPct, widthPct: Math.min(widthPct, 100 - leftPct) };
}
