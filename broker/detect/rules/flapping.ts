/**
 * Rule: flapping is a state. A device that fails `flapFailures` times within
 * `flapWindowMin` minutes gets one serious "frequent failures" ticket (the contract's
 * "frequent problem"), not a ticket per failure: its failures go to that ticket. It
 * resolves itself once the device has stayed up for a whole window. Failures during
 * maintenance do not count.
 */
import { message } from '../../../shared/wording/messages.js';
import { DEVICE_DOWN, FLAPPING, named, type DetectRule } from './types.js';

export const flapping: DetectRule = {
  name: 'flapping',
  deviceChanged(d, previous, device) {
    if (device.status !== 'down' || previous?.status === 'down') return;
    const now = d.now();
    if (d.underMaintenance(device.siteId, device.id, now)) return;
    const count = d.failures.add(`${device.siteId}|${device.id}`, now);
    if (count < d.config.flapFailures || d.conditions.has(device.siteId, device.id, FLAPPING))
      return;
    d.conditions.raise({
      siteId: device.siteId,
      deviceId: device.id,
      agentId: device.agentId,
      kind: device.kind,
      fault: FLAPPING,
      condition: FLAPPING,
      title: message('title.flapping', named(device)),
      text: message('detected.flapping', { count, windowMin: d.config.flapWindowMin }),
      since: now,
      heldUntil: now,
      ticketed: false,
      covers: [],
    });
  },
  tick(d) {
    const now = d.now();
    const windowMs = d.config.flapWindowMin * 60_000;
    for (const condition of d.conditions.all()) {
      if (condition.fault !== FLAPPING) continue;
      const last = d.failures.last(`${condition.siteId}|${condition.deviceId ?? ''}`) ?? 0;
      const stillDown = d.conditions.has(condition.siteId, condition.deviceId, DEVICE_DOWN);
      if (!stillDown && now - last >= windowMs) {
        d.clear(
          condition,
          message('resolved.flapping-calm', { windowMin: d.config.flapWindowMin }),
        );
      }
    }
  },
  decide(d, site) {
    for (const condition of site.conditions) {
      if (condition.fault !== DEVICE_DOWN) continue;
      if (d.conditions.has(site.siteId, condition.deviceId, FLAPPING))
        site.hold(condition, 'flapping');
    }
  },
};
