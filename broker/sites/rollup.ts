/**
 * The roll-up state and counts of every site, for the console's fleet and wall: one pass
 * over the device registry plus what the desk knows about maintenance and gateway agents.
 * The rule (shared/api/sites.ts SiteRollup), most serious first:
 *
 *   maintenance  a site-wide window is in force (people are working there on purpose)
 *   unreachable  a gateway agent is offline, or every device is unknown (nobody watches)
 *   down         a device is down
 *   degraded     a device is degraded or unknown
 *   ok           every device is up (or the site has none yet)
 */
import type { Device } from '../../shared/api/devices.js';
import type { Site, SiteRollup, SiteState, StatusCounts } from '../../shared/api/sites.js';

export interface RollupInputs {
  devices: Iterable<Device>;
  /** Described sites: their names, and they appear even without devices. */
  sites: readonly Pick<Site, 'id' | 'name'>[];
  /** Sites with a site-wide maintenance window in force now. */
  inMaintenance: ReadonlySet<string>;
  /** Offline gateway agents per site (agent liveness as the detector records it). */
  agentsOffline: ReadonlyMap<string, number>;
}

const collator = new Intl.Collator('en', { numeric: true });

function stateOf(rollup: Omit<SiteRollup, 'state'>): SiteState {
  const c = rollup.counts;
  if (rollup.inMaintenance) return 'maintenance';
  if (rollup.agentsOffline > 0 || (rollup.total > 0 && c.unknown === rollup.total)) {
    return 'unreachable';
  }
  if (c.down > 0) return 'down';
  if (c.degraded > 0 || c.unknown > 0) return 'degraded';
  return 'ok';
}

/** Every site with devices or metadata, ordered by name (then id). */
export function siteRollups(inputs: RollupInputs): SiteRollup[] {
  const counts = new Map<string, StatusCounts>();
  const countsOf = (siteId: string): StatusCounts => {
    let entry = counts.get(siteId);
    if (entry === undefined) {
      entry = { up: 0, degraded: 0, down: 0, unknown: 0 };
      counts.set(siteId, entry);
    }
    return entry;
  };
  for (const site of inputs.sites) countsOf(site.id);
  for (const device of inputs.devices) countsOf(device.siteId)[device.status] += 1;
  const names = new Map(inputs.sites.map((site) => [site.id, site.name]));
  const rollups: SiteRollup[] = [];
  for (const [siteId, c] of counts) {
    const partial = {
      siteId,
      name: names.get(siteId) ?? siteId,
      total: c.up + c.degraded + c.down + c.unknown,
      counts: c,
      inMaintenance: inputs.inMaintenance.has(siteId),
      agentsOffline: inputs.agentsOffline.get(siteId) ?? 0,
    };
    rollups.push({ ...partial, state: stateOf(partial) });
  }
  return rollups.sort(
    (a, b) => collator.compare(a.name, b.name) || collator.compare(a.siteId, b.siteId),
  );
}
