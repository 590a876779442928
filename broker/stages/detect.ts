/**
 * detect: hands what the agents report to the detector (broker/detect/): device state
 * changes, the agents' birth and will, their health, and every message as a sign of
 * life. The detector decides which faults need a ticket and sends them to the ticket
 * service itself, also later (held faults, suppressed devices, heartbeats).
 */
import type { Device } from '../../shared/api/devices.js';
import type { Detector } from '../detect/detector.js';
import type { Detection, Stage } from '../pipeline/types.js';

/** The reasons as one line: "connect ECONNREFUSED 192.0.2.11:80; ...". */
export function reasonText(device: Device): string {
  if (device.reasons.length === 0) return 'no reason reported';
  return device.reasons.map((reason) => reason.message || reason.code).join('; ');
}

/** The plain transition of one device, without suppression (kept for tools and tests). */
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

/**
 * Without a detector (tests of the pipeline alone) the stage reports plain transitions
 * in ctx.detections for the ticket stage, as in issue 1.
 */
export function detectStage(detector?: Detector): Stage {
  return {
    name: 'detect',
    run(ctx) {
      const message = ctx.message;
      if (!message) return 'continue';
      if (detector === undefined) {
        if (message.kind !== 'deviceState' || !ctx.device) return 'continue';
        const detection = detectTransition(ctx.previous, ctx.device);
        if (detection) ctx.detections.push(detection);
        return 'continue';
      }
      switch (message.kind) {
        case 'deviceState':
          if (ctx.device) detector.deviceChanged(ctx.previous, ctx.device);
          break;
        case 'agentStatus': {
          const status = message.payload;
          detector.agentStatus(
            status.siteId,
            status.agentId,
            status.state === 'online',
            status.state === 'offline' ? status.reason : '',
          );
          break;
        }
        case 'agentHealth':
          detector.agentHealth(message.payload);
          break;
        default:
          detector.agentSeen(message.payload.siteId, message.payload.agentId);
      }
      return 'continue';
    },
  };
}
