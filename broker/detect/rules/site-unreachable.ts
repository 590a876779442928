/**
 * Rule: a site whose gateway agent is gone. An agent is gone when its last will arrives
 * (MQTT 3.1.1 section 3.1.2.5: the broker publishes it when the connection is lost) or
 * when nothing came from it for `heartbeatTimeoutS` (a half-open TCP connection the will
 * would only end after the keep-alive). Gone means one site ticket "site unreachable"
 * covering the agent's devices, after `holdS` (it may be back at once), and no device
 * tickets meanwhile: nobody watches them, so their last states prove nothing. When the
 * agent is back it republishes its devices' states; the ones still down then get their
 * own tickets.
 */
import { bare, message } from '../../../shared/wording/messages.js';
import { SITE_UNREACHABLE, type DetectContext, type DetectRule } from './types.js';

function raise(d: DetectContext, siteId: string, agentId: string): void {
  const agent = d.agents.get(siteId, agentId);
  if (!agent) return;
  const now = d.now();
  const devices = d.registry.list({ siteId }).filter((device) => device.agentId === agentId);
  d.conditions.raise({
    siteId,
    deviceId: null,
    agentId,
    kind: null,
    fault: SITE_UNREACHABLE,
    condition: SITE_UNREACHABLE,
    title: message('title.site-unreachable', { site: siteId, agent: agentId }),
    text: message('detected.site-unreachable', {
      agent: agentId,
      devices: devices.length,
      ...(agent.silentS !== undefined ? { silentS: agent.silentS } : { reason: agent.reason }),
    }),
    since: now,
    heldUntil: now + d.config.holdS * 1000,
    ticketed: false,
    covers: devices.map((device) => device.id).sort(),
  });
  d.wakeAfterHold();
}

export const siteUnreachable: DetectRule = {
  name: 'site-unreachable',
  agentOffline(d, siteId, agentId) {
    raise(d, siteId, agentId);
  },
  agentBack(d, siteId) {
    if (d.agents.offlineOf(siteId).length > 0) return;
    const why = bare('resolved.agent-back');
    const condition = d.conditions.get(siteId, null, SITE_UNREACHABLE);
    if (condition) d.clear(condition, why);
    else {
      // A site ticket opened before a broker restart has no condition here any more.
      d.emit({
        kind: 'fault-cleared',
        siteId,
        deviceId: null,
        fault: SITE_UNREACHABLE,
        text: why,
        at: new Date(d.now()),
      });
    }
  },
  decide(d, site) {
    const gone = site.conditions.find((c) => c.fault === SITE_UNREACHABLE);
    if (gone) {
      if (!gone.ticketed && site.heldBy(gone) === undefined) d.open(gone);
      site.hold(gone, 'site-unreachable');
    }
    const offline = new Set(d.agents.offlineOf(site.siteId).map((a) => a.agentId));
    if (offline.size === 0) return;
    for (const condition of site.conditions) {
      if (
        condition.deviceId !== null &&
        condition.agentId !== null &&
        offline.has(condition.agentId)
      )
        site.hold(condition, 'site-unreachable');
    }
  },
};
