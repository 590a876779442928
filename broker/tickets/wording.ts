/**
 * The words a ticket shows: its title and the system's timeline entries. Kept apart so
 * the console, the incident report and the tests read the same sentences.
 */
import type { Device } from '../../shared/api/devices.js';

const kindLabel: Record<Device['kind'], string> = { camera: 'Camera', nvr: 'NVR' };

type Named = Pick<Device, 'id' | 'kind' | 'name'>;

/** `Camera "Lobby" (cam-01) is down: unreachable` */
export function deviceDownTitle(device: Named, reason: string): string {
  return `${kindLabel[device.kind]} "${device.name}" (${device.id}) is down: ${reason}`;
}

/** The short reason of a title: the first reason code the agent sent, else the detector's. */
export function downReason(device: Pick<Device, 'reasons'>, fallback: string): string {
  return device.reasons[0]?.code ?? fallback;
}

/** The 'detected' entry: every message the agent gave, since they say what to check. */
export function deviceDownText(device: Pick<Device, 'reasons'>, fallback: string): string {
  const messages = device.reasons.map((reason) => reason.message).filter((m) => m !== '');
  return `Device down: ${messages.length > 0 ? messages.join('; ') : fallback}`;
}

export const RESOLVED_DEVICE_UP = 'Resolved automatically: the device is up again';
