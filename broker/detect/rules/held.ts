/**
 * Rule: a condition within its hold waits. A camera's failure is held only while its
 * site's recent failures are close to a site outage (./device-down.ts), and a gone agent
 * for `holdS` (it may be back at once): the event is seen whole before anyone is paged.
 */
import type { DetectRule } from './types.js';

export const held: DetectRule = {
  name: 'held',
  decide(_d, site) {
    for (const condition of site.conditions) {
      if (site.now < condition.heldUntil) site.hold(condition, 'held');
    }
  },
};
