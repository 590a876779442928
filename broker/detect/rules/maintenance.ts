/**
 * Rule: maintenance. Nothing opens for what a maintenance window covers (a device, or
 * the whole site); the fault stays in the table and opens after the window if it is
 * still there. First in the list: a device in maintenance is no evidence of a site
 * event either (mass-outage leaves it out).
 */
import type { DetectRule } from './types.js';

export const maintenance: DetectRule = {
  name: 'maintenance',
  decide(d, site) {
    for (const condition of site.conditions) {
      if (d.underMaintenance(site.siteId, condition.deviceId, site.now)) {
        site.hold(condition, 'maintenance');
      }
    }
  },
};
