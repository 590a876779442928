/**
 * Rule: an NVR keeps recordings for fewer days than the site's contract says. The agent
 * measures `retentionDays` (agent/checks/retention.ts: the age of the oldest recording,
 * its shortest channel, hourly); the goal is the site's `retentionGoalDays` (site
 * metadata, which only the broker has). Below the goal: a general ticket "recordings kept
 * N days, the contract says M"; it resolves at the first reading at or above the goal.
 *
 * Why here and not a degraded reason from the agent: the agent does not know the site's
 * goal, and a goal changed in the console must apply without touching every gateway's
 * configuration. One home for the rule, with the goal beside it. The device's state does
 * not carry it, so the degradations rule leaves this condition alone, and the device's
 * status (up, degraded) stays what its own checks say: retention short is a contract
 * breach to fix on site (disks, bitrate), not a device that misbehaves.
 *
 * Readings without `retentionDays` (every poll but one an hour, and cameras) change nothing:
 * a condition lasts from the reading below the goal to the reading at or above it.
 */
import { message } from '../../../shared/wording/messages.js';
import { named, RETENTION_SHORT, type DetectRule } from './types.js';

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
    if (!existing) return false;
    d.clear(existing, message('resolved.retention-ok', { days, goal }));
    return true;
  },
};
