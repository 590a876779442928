/**
 * Rule: open what no rule held back. Last in the list: every condition still without a
 * ticket that no earlier rule held (maintenance, hold, a gone agent, a site outage, an NVR
 * down, flapping) asks for its ticket now, parents first (site, then NVRs, then
 * cameras), so a child's ticket never appears before the parent's that covers it.
 */
import type { Condition } from '../conditions.js';
import type { DetectRule } from './types.js';

const rank = (c: Condition) => (c.deviceId === null ? 0 : c.kind === 'nvr' ? 1 : 2);

export const openTheRest: DetectRule = {
  name: 'open-the-rest',
  decide(d, site) {
    const waiting = site.conditions.filter(
      (c) =>
        !c.ticketed &&
        site.heldBy(c) === undefined &&
        // A rule before may have cleared it in this decision.
        d.conditions.get(c.siteId, c.deviceId, c.fault) === c,
    );
    for (const condition of waiting.sort((a, b) => rank(a) - rank(b))) d.open(condition);
  },
};
