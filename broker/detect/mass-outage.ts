/**
 * Rule: a large share of a site's cameras failing within a short window (default 30 %
 * within 60 s, at least 3) is one event with one cause (a switch, a PoE budget, a
 * power cut): one site ticket "site-outage" that lists them. It lasts while that share
 * is still down; the cameras still down after it ends get their own tickets.
 */
import type { Condition } from './conditions.js';
import type { DetectConfig } from './config.js';

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

export function massOutageText(down: readonly string[], cameraCount: number): string {
  return `${down.length} of ${cameraCount} cameras failed together: ${down.join(', ')}`;
}
