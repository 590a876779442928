/**
 * ONVIF events through a pull-point subscription (ONVIF Core 9.1): created once, kept
 * alive with Renew before it expires, pulled every poll (PullMessages with no wait), and
 * created again when the device forgets it (a reboot: the pull point's requests fail).
 * A new subscription starts with the current state of every property
 * (PropertyOperation="Initialized", Core 9.2.1), so the conditions are rebuilt from it.
 *
 * Conditions kept while their property says so, as degraded reasons per source:
 *   tns1:VideoSource/SignalLoss (State), .../VideoLoss         video-loss
 *   tns1:RuleEngine/TamperDetector/Tamper (IsTamper),
 *   tns1:VideoSource/GlobalSceneChange|ImageTooBlurry|ImageTooDark|ImageTooBright (State)
 *                                                             tampering
 *   tns1:Device/HardwareFailure/StorageFailure (Failed)       storage-failure
 *   any topic naming a full storage (Full / StorageFull)      storage-full
 *   tns1:Device/HardwareFailure/... (Failed, Critical)          hardware-failure
 *
 * tns1:RecordingConfig/JobState is left to the recording check, which reads the job states
 * every poll and reports per recording; the event names the job, so the same channel would
 * be reported twice under two tokens.
 */
import type { Reason, ReasonCode } from '../../shared/messages/device-state.js';
import { OnvifError, type EventMessage } from '../onvif/types.js';
import type { Check, DeviceMemory } from './types.js';

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|1)$/i.test(value.trim());
}

/** The condition an event message is about, and whether it is active; null for others. */
export function conditionOf(
  message: EventMessage,
): { code: ReasonCode; active: boolean; what: string } | null {
  const topic = message.topic.toLowerCase();
  const data = message.data;
  const flag = (...names: string[]): boolean => names.some((n) => isTrue(data[n]));
  if (topic.endsWith('videosource/signalloss') || topic.endsWith('videoloss')) {
    return { code: 'video-loss', active: flag('State'), what: 'video signal lost' };
  }
  if (topic.endsWith('tamperdetector/tamper')) {
    return { code: 'tampering', active: flag('IsTamper', 'State'), what: 'tampering detected' };
  }
  if (/videosource\/(globalscenechange|imagetooblurry|imagetoodark|imagetoobright)/.test(topic)) {
    return { code: 'tampering', active: flag('State'), what: `scene alarm (${message.topic})` };
  }
  if (topic.includes('storage') && topic.includes('full')) {
    return { code: 'storage-full', active: flag('State', 'Full', 'IsFull'), what: 'storage full' };
  }
  if (topic.endsWith('hardwarefailure/storagefailure')) {
    return { code: 'storage-failure', active: flag('Failed'), what: 'storage failure' };
  }
  if (topic.includes('hardwarefailure/')) {
    return { code: 'hardware-failure', active: flag('Failed', 'Critical'), what: message.topic };
  }
  return null;
}

function apply(memory: DeviceMemory, message: EventMessage): void {
  const condition = conditionOf(message);
  if (!condition) return;
  const source = Object.values(message.source)[0] ?? '';
  const key = `${condition.code}/${source}`;
  if (condition.active && message.operation !== 'Deleted') {
    const reason: Reason = {
      code: condition.code,
      message: `ONVIF event: ${condition.what}${source ? ` (${source})` : ''}`.slice(0, 1000),
    };
    if (source) reason.channel = source.slice(0, 200);
    memory.eventConditions.set(key, reason);
  } else {
    memory.eventConditions.delete(key);
  }
}

export const events: Check = {
  name: 'events',
  async run({ client, signal, memory, now, intervalS }) {
    // Long enough to survive a late poll, short enough that a forgotten one expires soon.
    const keepAliveS = Math.max(60, Math.ceil(intervalS * 4));
    let received = 0;
    for (let round = 0; round < 2; round++) {
      if (!memory.pullPoint) {
        try {
          const address = await client.createPullPoint(keepAliveS, signal);
          memory.pullPoint = { address, renewAt: now() + (keepAliveS * 1000) / 2 };
          memory.eventConditions.clear();
        } catch (error) {
          // A device without an event service: nothing to learn here.
          if (error instanceof OnvifError) return {};
          throw error;
        }
      }
      const pullPoint = memory.pullPoint;
      try {
        if (now() >= pullPoint.renewAt) {
          await client.renew(pullPoint.address, keepAliveS, signal);
          pullPoint.renewAt = now() + (keepAliveS * 1000) / 2;
        }
        const messages = await client.pullMessages(pullPoint.address, signal);
        for (const message of messages) apply(memory, message);
        received += messages.length;
        break;
      } catch (error) {
        if (!(error instanceof OnvifError)) throw error;
        // The device forgot the pull point (rebooted, expired): subscribe again, once.
        memory.pullPoint = null;
        if (error.kind === 'timeout') break;
      }
    }
    return { values: { events: received }, degraded: [...memory.eventConditions.values()] };
  },
};
