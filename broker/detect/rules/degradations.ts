/**
 * Rule: degradations. Every reason code the agent reports on a device that is not down
 * is a condition `degraded:<code>` (clock drift, storage filling, slow responses,
 * credentials rejected, picture black/frozen/covered ...), general priority by default
 * (broker/tickets/priorities.ts). Mapped by code, not by a list here, so a code the
 * agent adds later opens its ticket without a broker change. The codes that mean "down"
 * are the device-down rule's. A degradation is not covered by a parent's failure (an
 * NVR down, a site outage): it is a different fault of its own device.
 */
import type { Device } from '../../../shared/api/devices.js';
import { DOWN_CODES } from '../../../shared/messages/device-state.js';
import { bare, message, type Message } from '../../../shared/wording/messages.js';
import { DEGRADED, named, RETENTION_SHORT, type DetectRule } from './types.js';

/** The degradation codes a device reports now; a down device reports none it can be sure of. */
export function degradationCodes(device: Device): Set<string> {
  const codes = new Set<string>();
  if (device.status === 'down' || device.status === 'unknown') return codes;
  // The codes that mean "down" (shared/messages/device-state.ts) are the device-down rule's.
  for (const reason of device.reasons)
    if (!DOWN_CODES.includes(reason.code)) codes.add(reason.code);
  return codes;
}

/**
 * The "detected" entry: the agent's messages of that code, per channel where given. A
 * changed certificate names both fingerprints in words of its own (the operator compares
 * them with the device's before accepting the new one).
 */
export function degradationText(device: Device, code: string): Message {
  const change = device.reasons.find((r) => r.code === code && r.certificate)?.certificate;
  if (code === 'certificate-changed' && change) {
    return message('detected.certificate-changed', change);
  }
  if (code === 'auth-failed') {
    // Words of its own: the device still answers (no outage), and what to do about it.
    const lines = device.reasons.filter((r) => r.code === code).map((r) => ({ text: r.message }));
    return message('detected.credentials-rejected', { lines });
  }
  return message('detected.degraded', {
    code,
    lines: device.reasons
      .filter((r) => r.code === code && r.message !== '')
      .map((r) => ({
        text: r.message,
        ...(r.channel ? { channel: r.channel } : {}),
        ...(r.witness ? { witness: r.witness } : {}),
      })),
  });
}

export const degradations: DetectRule = {
  name: 'degradations',
  deviceChanged(d, previous, device) {
    if (device.status === 'down' || device.status === 'unknown') return;
    const codes = degradationCodes(device);
    const now = d.now();
    const gone = bare('resolved.not-reported');
    // Codes gone since the previous state without a condition here (opened before a
    // broker restart): resolve their tickets all the same.
    for (const code of previous ? degradationCodes(previous) : []) {
      const fault = `${DEGRADED}${code}`;
      if (codes.has(code) || d.conditions.has(device.siteId, device.id, fault)) continue;
      d.emit({
        kind: 'fault-cleared',
        siteId: device.siteId,
        deviceId: device.id,
        fault,
        text: gone,
        at: new Date(now),
      });
    }
    for (const code of codes) {
      const fault = `${DEGRADED}${code}`;
      if (d.conditions.has(device.siteId, device.id, fault)) continue;
      d.conditions.raise({
        siteId: device.siteId,
        deviceId: device.id,
        agentId: device.agentId,
        kind: device.kind,
        fault,
        condition: fault,
        title: message('title.degraded', { ...named(device), code }),
        text: degradationText(device, code),
        since: now,
        heldUntil: now,
        ticketed: false,
        covers: [],
      });
    }
    for (const condition of d.conditions.ofSite(device.siteId)) {
      if (condition.deviceId !== device.id || !condition.fault.startsWith(DEGRADED)) continue;
      // Judged from a reading against the site's goal, not reported as a reason.
      if (condition.fault === RETENTION_SHORT) continue;
      if (!codes.has(condition.fault.slice(DEGRADED.length))) d.clear(condition, gone);
    }
  },
};
