/**
 * The detection rules, in the one order they run (the Aedes habit of named steps in an
 * array). Every input (a device's state, an agent gone or back, an agent's health, the
 * clock) goes to each rule's hook in this order; then the site the input concerns (on a
 * clock beat: every site with a condition) is decided by each rule's `decide`, in this
 * order too. Why this order:
 *
 *   1. maintenance         first: what a window covers waits, and is no evidence of a
 *                          site event for the rules after it;
 *   2. held                a failure within its hold waits, so an event is seen whole;
 *   3. device-down         raises a device's failure before flapping counts it;
 *   4. site-unreachable    parents before children: a gone agent's site ticket, and none
 *                          for its devices, whose states nobody watches;
 *   5. mass-outage         many cameras at once: one site ticket, their own held back
 *                          (and the first ones, opened before the event showed, folded);
 *   6. nvr-covers-cameras  an NVR down covers the cameras it records;
 *   7. flapping            a device failing again and again: its failures go to one ticket;
 *   8. degradations        a degradation is its own device's fault: no parent covers it;
 *   9. gateway-resources   the gateway short of memory, disk or CPU, or too hot;
 *  10. retention-short     an NVR keeping recordings fewer days than the site's goal;
 *  11. open-the-rest       last: what no rule held back gets its ticket, parents first.
 *
 * A rule is one file in this folder named for what it decides; a test fails when a file
 * here is missing from the list.
 */
import { degradations } from './degradations.js';
import { deviceDownRule } from './device-down.js';
import { flapping } from './flapping.js';
import { gatewayResources } from './gateway-resources.js';
import { held } from './held.js';
import { maintenance } from './maintenance.js';
import { massOutage } from './mass-outage.js';
import { nvrCoversCameras } from './nvr-covers-cameras.js';
import { openTheRest } from './open-the-rest.js';
import { retentionShort } from './retention-short.js';
import { siteUnreachable } from './site-unreachable.js';
import type { DetectRule } from './types.js';

/** A fresh list for one detector (a rule may keep memory of its own). */
export function detectRules(): DetectRule[] {
  return [
    maintenance,
    held,
    deviceDownRule,
    siteUnreachable,
    massOutage,
    nvrCoversCameras,
    flapping,
    degradations,
    gatewayResources(),
    retentionShort,
    openTheRest,
  ];
}

export type { DetectContext, DetectRule, SiteDecision } from './types.js';
