/**
 * Rule: a device that stops answering is down, an emergency by the contract; it is over
 * when the device answers again (up or degraded). A camera's failure waits `holdS` only
 * when its site's recent camera failures are already `holdFromShare` of the way to a
 * site outage (./mass-outage.ts): then a site-wide event is likely enough that it is
 * seen whole first. The tickets opened before fold into the site ticket if it comes to
 * that, so a site-wide event still ends as one open ticket.
 */
import type { Device } from '../../../shared/api/devices.js';
import { bare, message } from '../../../shared/wording/messages.js';
import type { FaultCleared, FaultRaised } from '../../pipeline/types.js';
import { DEVICE_DOWN, named, type DetectContext, type DetectRule } from './types.js';

/** The short reason of a title: the first reason code the agent sent (none: empty). */
function titleReason(device: Pick<Device, 'reasons'>): string {
  return device.reasons[0]?.code ?? '';
}

/** The device that saw the failure, when not the device itself (Reason.witness). */
function witnessOf(device: Pick<Device, 'reasons'>): { witness?: string } {
  const witness = device.reasons.find((reason) => reason.witness)?.witness;
  return witness ? { witness } : {};
}

/** The device's fault as the rule raises it (also what a ticket of it is opened from). */
export function deviceDown(device: Device, at: Date): FaultRaised {
  return {
    kind: 'fault',
    siteId: device.siteId,
    deviceId: device.id,
    fault: DEVICE_DOWN,
    condition: `${DEVICE_DOWN}:${device.kind}`,
    title: message('title.device-down', { ...named(device), reason: titleReason(device) }),
    // Every message the agent gave: they say what to check.
    text: message('detected.device-down', {
      messages: device.reasons.map((reason) => reason.message || reason.code),
      // A camera behind an NVR: the NVR saw it go (agent/behind-nvr.ts).
      ...witnessOf(device),
    }),
    covers: [],
    at,
  };
}

/** The device answers again. */
export function deviceUp(device: Pick<Device, 'siteId' | 'id'>, at: Date): FaultCleared {
  return {
    kind: 'fault-cleared',
    siteId: device.siteId,
    deviceId: device.id,
    fault: DEVICE_DOWN,
    text: bare('resolved.device-up'),
    at,
  };
}

/** How long a camera's new failure waits (ms); see the file's comment. */
function holdFor(d: DetectContext, device: Device, now: number): number {
  const windowMs = d.config.massWindowS * 1000;
  const recent =
    1 +
    d.conditions
      .ofSite(device.siteId)
      .filter(
        (c) =>
          c.fault === DEVICE_DOWN &&
          c.kind === 'camera' &&
          c.deviceId !== device.id &&
          now - c.since <= windowMs,
      ).length;
  if (recent < 2) return 0;
  const cameras = d.registry
    .list({ siteId: device.siteId })
    .filter((c) => c.kind === 'camera').length;
  const threshold = Math.max(d.config.massMinDevices, Math.ceil(d.config.massShare * cameras));
  return recent >= d.config.holdFromShare * threshold ? d.config.holdS * 1000 : 0;
}

export const deviceDownRule: DetectRule = {
  name: 'device-down',
  deviceChanged(d, previous, device) {
    const now = d.now();
    if (device.status === 'down' && previous?.status !== 'down') {
      const fault = deviceDown(device, new Date(now));
      const hold = device.kind === 'camera' ? holdFor(d, device, now) : 0;
      d.conditions.raise({
        siteId: device.siteId,
        deviceId: device.id,
        agentId: device.agentId,
        kind: device.kind,
        fault: DEVICE_DOWN,
        condition: fault.condition,
        title: fault.title,
        text: fault.text,
        since: now,
        heldUntil: now + hold,
        ticketed: false,
        covers: [],
      });
      if (hold > 0) {
        // While the event grows, the cameras held before wait with the newest one (up to
        // the mass window): it is seen whole before any of them gets a ticket.
        for (const waiting of d.conditions.ofSite(device.siteId)) {
          if (waiting.fault !== DEVICE_DOWN || waiting.ticketed) continue;
          if (waiting.heldUntil <= waiting.since) continue;
          waiting.heldUntil = Math.min(now + hold, waiting.since + d.config.massWindowS * 1000);
        }
        d.wakeAfterHold();
      }
    } else if (
      (device.status === 'up' || device.status === 'degraded') &&
      (previous?.status === 'down' ||
        // Down, then not seen for a while (a camera behind an NVR that went down too,
        // agent/behind-nvr.ts), then back: its failure is still the open one.
        (previous?.status === 'unknown' && d.conditions.has(device.siteId, device.id, DEVICE_DOWN)))
    ) {
      const condition = d.conditions.clear(device.siteId, device.id, DEVICE_DOWN);
      // Resolve whatever is open, also a ticket opened before a broker restart.
      if (condition?.ticketed !== false) d.emit(deviceUp(device, new Date(now)));
    }
  },
};
