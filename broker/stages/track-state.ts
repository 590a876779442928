/**
 * track-state: keeps the device registry up to date. A device state message replaces
 * the device's entry (and tells the live listeners), and the registry dates the reasons
 * that appeared or cleared (the outage history, broker/devices/outages.ts) by the
 * message's time, or a new status by its `since` (changedAt); a metrics message refreshes when the device was last heard
 * of, its response time and its channel count. Sets ctx.previous and ctx.device
 * for the stages after it. A state goes on only once the registry's store has it
 * (broker/devices/write-behind.ts): a state that cannot be written fails the message.
 */
import type { Device } from '../../shared/api/devices.js';
import type { DeviceMetrics } from '../../shared/messages/device-metrics.js';
import { statusOf, type DeviceState } from '../../shared/messages/device-state.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { BrokerEvents } from '../events.js';
import type { Stage } from '../pipeline/types.js';

/** The later of two ISO timestamps (they compare as strings: same format, UTC). */
function later(a: string | null | undefined, b: string): string {
  return a && a > b ? a : b;
}

/**
 * When the change a state message reports happened, for the outage history: a new status
 * began at the state's `since`, which the agent dates from the first request the device
 * left unanswered (agent/device-state.ts), seconds before the confirming poll sent the
 * message; anything else changed at the message's time. Never after the message, and never
 * before the status it ends began (a `since` out of that range is a clock that stepped).
 */
export function changedAt(state: DeviceState, previous: Device | undefined): string {
  if (previous !== undefined && previous.status === statusOf(state)) return state.ts;
  const since = Date.parse(state.since);
  if (!(since <= Date.parse(state.ts))) return state.ts;
  if (previous?.since && since < Date.parse(previous.since)) return state.ts;
  return state.since;
}

export function deviceFromState(state: DeviceState, previous: Device | undefined): Device {
  const identity = state.identity ?? previous?.identity ?? null;
  return {
    id: state.deviceId,
    siteId: state.siteId,
    agentId: state.agentId,
    name: state.name,
    kind: state.kind,
    // An older agent's down/auth-failed is degraded: the device answered (statusOf).
    status: statusOf(state),
    reasons: state.reasons,
    xaddr: state.xaddr,
    serialNumber: identity?.serialNumber ?? null,
    identity,
    since: state.since,
    lastSeen: later(previous?.lastSeen, state.ts),
    responseMs: previous?.responseMs ?? null,
    ...(previous?.channels !== undefined ? { channels: previous.channels } : {}),
    // An agent lists an NVR's recordings in its state; an older one does not, and the
    // list last heard stays (the outage timeline names every channel from it).
    ...recordingsOf(state, previous),
  };
}

function recordingsOf(
  state: DeviceState,
  previous: Device | undefined,
): Pick<Device, 'recordings'> {
  const recordings = state.recordings ?? previous?.recordings;
  return recordings === undefined ? {} : { recordings };
}

export function deviceWithMetrics(device: Device, metrics: DeviceMetrics): Device {
  const { responseMs, channels } = metrics.values;
  return {
    ...device,
    lastSeen: later(device.lastSeen, metrics.ts),
    responseMs: responseMs ?? device.responseMs,
    ...(channels !== undefined ? { channels } : {}),
  };
}

export function trackStateStage(registry: DeviceRegistry, events: BrokerEvents): Stage {
  return {
    name: 'track-state',
    run(ctx) {
      const message = ctx.message;
      if (message?.kind === 'deviceState') {
        const state = message.payload;
        const previous = registry.get(state.siteId, state.deviceId);
        const device = deviceFromState(state, previous);
        registry.put(device, changedAt(state, previous));
        if (previous) ctx.previous = previous;
        ctx.device = device;
        // Written before anything depends on it (the live stream, detection, tickets):
        // the store's transaction is shared with the other states of this turn.
        const stored = registry.stored?.();
        if (stored === undefined) {
          events.emit('device', device);
          return 'continue';
        }
        return stored.then(() => {
          events.emit('device', device);
          return 'continue' as const;
        });
      } else if (message?.kind === 'deviceMetrics') {
        // A reading of a device the broker has no state for yet (its retained state is
        // on the way) has nothing to refresh; the reading itself is still stored.
        const known = registry.get(message.payload.siteId, message.payload.deviceId);
        if (known) registry.put(deviceWithMetrics(known, message.payload));
      }
      return 'continue';
    },
  };
}
