/**
 * Rule: an NVR that is down covers the cameras it records (site metadata `recorderId`):
 * they are often behind it (its PoE ports) or lose their recordings with it, so the NVR's
 * ticket lists them and names those also down, and they get no tickets of their own
 * while it is down. A camera still down when the NVR is back gets its own.
 */
import { message } from '../../../shared/wording/messages.js';
import { DEVICE_DOWN, type DetectRule } from './types.js';

export const nvrCoversCameras: DetectRule = {
  name: 'nvr-covers-cameras',
  decide(d, site) {
    const covered = new Set<string>();
    for (const nvr of site.conditions) {
      if (nvr.fault !== DEVICE_DOWN || nvr.kind !== 'nvr') continue;
      const recorded = d.recordedBy(site.siteId, nvr.deviceId ?? '');
      for (const id of recorded) covered.add(id);
      if (JSON.stringify(nvr.covers) === JSON.stringify(recorded)) continue;
      nvr.covers = recorded;
      const alsoDown = recorded.filter((id) => d.conditions.has(site.siteId, id, DEVICE_DOWN));
      if (alsoDown.length > 0 && nvr.text.code === 'detected.device-down') {
        nvr.text = message('detected.device-down', { ...nvr.text.params, alsoDown });
      }
      if (nvr.ticketed) d.open(nvr);
    }
    if (covered.size === 0) return;
    for (const condition of site.conditions) {
      if (condition.fault === DEVICE_DOWN && covered.has(condition.deviceId ?? ''))
        site.hold(condition, 'nvr-covers-cameras');
    }
  },
};
