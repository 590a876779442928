/**
 * detect: turns a device's status change into detections for the ticket stage. Into
 * `down` (from anything else, including a device seen for the first time) is
 * device-down; out of `down` into `up` or `degraded` is device-up. `unknown` says
 * nothing either way: an agent that lost track of a device has not repaired it.
 */
import type { Device } from '../../shared/api/devices.js';
import type { Detection, Stage } from '../pipeline/types.js';

/** The reasons as one line: "connect ECONNREFUSED 192.0.2.11:80; ...". */
export function reasonText(device: Device): string {
  if (device.reasons.length === 0) return 'no reason reported';
  return device.reasons.map((reason) => reason.message || reason.code).join('; ');
}

export function detectTransition(previous: Device | undefined, device: Device): Detection | null {
  const before = previous?.status;
  const at = new Date(device.since ?? device.lastSeen ?? Date.now());
  if (device.status === 'down' && before !== 'down') {
    return { kind: 'device-down', device, at, reason: reasonText(device) };
  }
  if (before === 'down' && (device.status === 'up' || device.status === 'degraded')) {
    return { kind: 'device-up', device, at };
  }
  return null;
}

export function detectStage(): Stage {
  return {
    name: 'detect',
    run(ctx) {
      if (ctx.message?.kind !== 'deviceState' || !ctx.device) return 'continue';
      const detection = detectTransition(ctx.previous, ctx.device);
      if (detection) ctx.detections.push(detection);
      return 'continue';
    },
  };
}
