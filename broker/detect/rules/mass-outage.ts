/**
 * Rule: a large share of a site's cameras failing within a short window (default 30 %
 * within 60 s, at least 3) is one event with one cause (a switch, a PoE budget, a
 * power cut): one site ticket "site-outage" that lists them. It lasts while that share
 * is still down; the cameras still down after it ends get their own tickets.
 */
import { message } from '../../../shared/wording/messages.js';
import type { Condition } from '../conditions.js';
import type { DetectConfig } from '../config.js';
import { DEVICE_DOWN, SITE_OUTAGE, type DetectRule } from './types.js';

export interface MassOutage {
  /** The cameras down now at the site. */
  down: string[];
  /** Whether they make a site outage under the config. */
  isOutage: boolean;
}

export function assessMassOutage(
  downCameras: readonly Condition[],
  cameraCount: number,
  outageActive: boolean,
  now: number,
  config: DetectConfig,
): MassOutage {
  const down = downCameras
    .map((c) => c.deviceId ?? '')
    .filter(Boolean)
    .sort();
  if (cameraCount === 0) return { down, isOutage: false };
  const share = down.length / cameraCount;
  if (outageActive) {
    return { down, isOutage: down.length >= 1 && share >= config.massShare };
  }
  // To start, the failures must be recent: cameras that failed one by one over hours
  // are separate faults with separate tickets.
  const recent = downCameras.filter((c) => now - c.since <= config.massWindowS * 1000);
  return {
    down,
    isOutage:
      recent.length >= config.massMinDevices && recent.length / cameraCount >= config.massShare,
  };
}

export const massOutage: DetectRule = {
  name: 'mass-outage',
  decide(d, site) {
    const { siteId, now } = site;
    const cameras = d.registry.list({ siteId }).filter((device) => device.kind === 'camera');
    // A camera in maintenance is no evidence of a site event.
    const downCameras = site.conditions.filter(
      (c) => c.fault === DEVICE_DOWN && c.kind === 'camera' && site.heldBy(c) !== 'maintenance',
    );
    let outage = d.conditions.get(siteId, null, SITE_OUTAGE);
    const mass = assessMassOutage(downCameras, cameras.length, outage !== undefined, now, d.config);
    const text = () =>
      message('detected.site-outage', { down: mass.down, cameras: cameras.length });
    if (mass.isOutage && !outage) {
      if (d.underMaintenance(siteId, null, now)) return;
      outage = d.conditions.raise({
        siteId,
        deviceId: null,
        agentId: null,
        kind: null,
        fault: SITE_OUTAGE,
        condition: SITE_OUTAGE,
        title: message('title.site-outage', {
          site: siteId,
          down: mass.down.length,
          cameras: cameras.length,
        }),
        text: text(),
        since: now,
        heldUntil: now,
        ticketed: false,
        covers: mass.down,
      });
      d.open(outage);
      // The cameras of the event that already got their own ticket (the first ones,
      // opened before the event showed) are folded into the site ticket: one open
      // ticket for one cause. A camera still down after the event reopens its own.
      for (const camera of downCameras) {
        if (!camera.ticketed || now - camera.since > d.config.massWindowS * 1000) continue;
        camera.ticketed = false;
        d.emit({
          kind: 'fault-cleared',
          siteId,
          deviceId: camera.deviceId,
          fault: DEVICE_DOWN,
          text: message('folded.site-outage', { site: siteId, cameras: mass.down.length }),
          at: new Date(now),
        });
      }
    } else if (outage && !mass.isOutage) {
      d.clear(outage, message('resolved.outage-over', { stillDown: mass.down.length }));
      return;
    } else if (outage && JSON.stringify(outage.covers) !== JSON.stringify(mass.down)) {
      outage.covers = mass.down;
      outage.text = text();
      if (outage.ticketed) d.open(outage);
    }
    if (!outage) return;
    site.hold(outage, 'mass-outage');
    const covered = new Set(outage.covers);
    for (const condition of site.conditions) {
      if (condition.fault === DEVICE_DOWN && covered.has(condition.deviceId ?? ''))
        site.hold(condition, 'mass-outage');
    }
  },
};
