/**
 * NVR recording continuity (ONVIF Profile G, Recording Search): FindRecordings,
 * GetRecordingSearchResults, EndSearch, as SOAP requests of our own (node-onvif has no
 * search service). Per recording (one per camera channel), the newest recorded moment
 * (LatestRecording, in device time, corrected by the measured clock offset) against now:
 * lagging more than `checks.recordingLagS` (default 120 s) means recording stopped on that
 * channel (degraded, recording-stopped). The per-channel outage timeline is the sequence
 * of these reasons appearing and clearing in the device's state messages.
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { degradeOnFailure, type Check } from './types.js';

export const recording: Check = {
  name: 'recording',
  appliesTo: ['nvr'],
  async run({ client, signal, memory, settings, now }) {
    const asked = await degradeOnFailure('recording-stopped', () => client.recordings(signal));
    if ('reason' in asked) {
      asked.reason.message = `the recording search failed: ${asked.reason.message}`.slice(0, 1000);
      return { degraded: [asked.reason] };
    }
    if (asked.value === null) return {};
    const degraded: Reason[] = [];
    const deviceNow = now() + memory.offsetMs;
    let worst = 0;
    for (const rec of asked.value) {
      const lagS = rec.latest === null ? Infinity : (deviceNow - rec.latest.getTime()) / 1000;
      if (Number.isFinite(lagS)) worst = Math.max(worst, lagS);
      if (lagS > settings.recordingLagS) {
        degraded.push({
          code: 'recording-stopped',
          message:
            rec.latest === null
              ? `${rec.source || rec.token}: no recording (status ${rec.status})`
              : `${rec.source || rec.token}: newest recording ${Math.round(lagS)} s old (limit ${settings.recordingLagS} s, status ${rec.status})`,
          channel: rec.token,
        });
      }
    }
    return {
      values: { recordingLagS: Math.round(worst * 10) / 10, recordingsStopped: degraded.length },
      degraded,
    };
  },
};
