/**
 * Which detection opens which ticket, at which priority: the contract's default mapping
 * (../shared/mission/service-commitments.md, "Priorities and time limits"). A camera or
 * an NVR that stops answering leaves the site without pictures or recordings there,
 * "system unusable, business interrupted": emergency. Later issues add flapping
 * (serious) and degradations (general) as further entries.
 */
import type { Device } from '../../shared/api/devices.js';
import type { Fault, Priority } from '../../shared/api/tickets.js';
import type { Detection } from '../pipeline/types.js';

export interface TicketRules {
  /** Priority of a device-down ticket per device kind; null opens no ticket. */
  deviceDown: Record<Device['kind'], Priority | null>;
}

export const defaultRules: TicketRules = {
  deviceDown: { camera: 'emergency', nvr: 'emergency' },
};

export type TicketDecision =
  | { action: 'open'; fault: Fault; priority: Priority }
  | { action: 'resolve'; fault: Fault }
  | { action: 'none' };

export function decide(detection: Detection, rules: TicketRules = defaultRules): TicketDecision {
  switch (detection.kind) {
    case 'device-down': {
      const priority = rules.deviceDown[detection.device.kind];
      return priority === null
        ? { action: 'none' }
        : { action: 'open', fault: 'device-down', priority };
    }
    case 'device-up':
      // Resolves whatever device-down ticket is open, even one opened under other rules.
      return { action: 'resolve', fault: 'device-down' };
  }
}
