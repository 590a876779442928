/**
 * Rule: degradations. Every reason code the agent reports on a device that is not down
 * is a condition `degraded:<code>` (clock drift, storage filling, slow responses,
 * credentials rejected, picture black/frozen/covered ...), general priority by default
 * (broker/tickets/rules.ts). Mapped by code, not by a list here, so a code the agent
 * adds later opens its ticket without a broker change. The codes that mean "down" are
 * the device-down rule's.
 */
import type { Device } from '../../shared/api/devices.js';

/** Reason codes that say the device does not answer: device-down, not a degradation. */
export const DOWN_CODES: ReadonlySet<string> = new Set([
  'unreachable',
  'timeout',
  'protocol-error',
]);

/** Words for a degradation title; a code without one is shown as it is. */
export const degradationLabel: Record<string, string> = {
  'clock-drift': 'clock drift',
  'slow-response': 'slow responses',
  'auth-failed': 'credentials rejected',
  'device-replaced': 'device replaced',
  'firmware-changed': 'firmware changed',
  'stream-down': 'video stream down',
  'snapshot-failed': 'snapshots fail',
  'picture-black': 'black picture',
  'picture-covered': 'covered lens',
  'picture-frozen': 'frozen picture',
  'video-loss': 'video loss',
  tampering: 'tampering',
  'recording-stopped': 'recording stopped',
  'storage-failure': 'storage failed',
  'storage-full': 'storage full',
  'hardware-failure': 'hardware failure',
};

/** The degradation codes a device reports now; a down device reports none it can be sure of. */
export function degradationCodes(device: Device): Set<string> {
  const codes = new Set<string>();
  if (device.status === 'down' || device.status === 'unknown') return codes;
  for (const reason of device.reasons) if (!DOWN_CODES.has(reason.code)) codes.add(reason.code);
  return codes;
}

export function degradationText(device: Device, code: string): string {
  // Per-channel reasons (an NVR's channels) name their channel.
  const messages = device.reasons
    .filter((r) => r.code === code)
    .map((r) => (r.channel ? `${r.channel}: ${r.message}` : r.message));
  return `Degraded (${degradationLabel[code] ?? code}): ${messages.filter(Boolean).join('; ') || code}`;
}
