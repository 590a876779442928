/**
 * Rule: an NVR keeps recordings for fewer days than the site's contract says. The agent
 * measures `retentionDays` (agent/checks/retention.ts: the days its overwriting channels
 * keep, the least of them, hourly; nothing while the recorder still fills, so a new NVR or
 * camera is no breach); the goal is the site's `retentionGoalDays` (site metadata, which
 * only the broker has). Below the goal: a general ticket "recordings kept N days, the
 * contract says M".
 *
 * It resolves at a reading of at least the goal plus RESOLVE_MARGIN_DAYS, not at the goal:
 * what a full recorder keeps follows its cameras' bitrate, higher by day (motion, light)
 * than by night (H.264/H.265 smart codecs), so a recorder sized just for the goal reads
 * 29.8 and 30.1 days in turn, and a ticket at the goal would open and resolve again and
 * again. Short part of the day is short; it is fixed by storage or bitrate, which moves the
 * reading by more than a day.
 *
 * Why here and not a degraded reason from the agent: the agent does not know the site's
 * goal, and a goal changed in the console must apply without touching every gateway's
 * configuration. One home for the rule, with the goal beside it. The device's state does
 * not carry it, so the degradations rule leaves this condition alone, and the device's
 * status (up, degraded) stays what its own checks say: retention short is a contract
 * breach to fix on site (disks, bitrate), not a device that misbehaves.
 *
 * Readings without `retentionDays` (every poll but one an hour, and cameras) change nothing:
 * a condition lasts from the reading below the goal to the reading a margin above it.
 */
import { message } from '../../../shared/wording/messages.js';
import { named, RETENTION_SHORT, type DetectRule } from './types.js';

/** How far above the goal a reading must be to resolve the ticket (see the file's comment). */
export const RESOLVE_MARGIN_DAYS = 1;

export const retentionShort: DetectRule = {
  name: 'retention-short',
  deviceMetrics(d, metrics) {
    const days = metrics.values.retentionDays;
    if (days === undefined) return false;
    const { siteId, deviceId } = metrics;
    const goal = d.retentionGoalDays(siteId);
    const existing = d.conditions.get(siteId, deviceId, RETENTION_SHORT);
    if (goal > 0 && days < goal) {
      if (existing) return false;
      const device = d.registry.get(siteId, deviceId) ?? {
        id: deviceId,
        name: deviceId,
        kind: metrics.kind,
      };
      const now = d.now();
      d.conditions.raise({
        siteId,
        deviceId,
        agentId: metrics.agentId,
        kind: device.kind,
        fault: RETENTION_SHORT,
        condition: RETENTION_SHORT,
        title: message('title.retention-short', { ...named(device), days, goal }),
        text: message('detected.retention-short', { days, goal }),
        since: now,
        heldUntil: now,
        ticketed: false,
        covers: [],
      });
      return true;
    }
    // A goal set to 0 since (none asked) resolves it at once.
    if (!existing || (goal > 0 && days < goal + RESOLVE_MARGIN_DAYS)) return false;
    d.clear(existing, message('resolved.retention-ok', { days, goal }));
    return true;
  },
};
