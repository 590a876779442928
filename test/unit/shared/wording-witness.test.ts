/**
 * The witness of a reason (Reason.witness: the NVR that saw its camera's fault) in words,
 * from the one home of the wording (shared/wording/): the ticket's "detected" entry of a
 * camera down or degraded behind an NVR, and the phrase the console's device page shows.
 */
import { describe, expect, it } from 'vitest';
import { message } from '../../../shared/wording/messages.js';
import { say, seenBy } from '../../../shared/wording/render.js';

describe('who saw a reason', () => {
  it('is said in English and Chinese', () => {
    expect(seenBy('nvr-01')).toBe('seen by NVR nvr-01');
    expect(seenBy('nvr-01', 'zh-CN')).toBe('由录像机 nvr-01 发现');
  });

  it("names the NVR in a camera's device-down entry, and nothing without one", () => {
    const down = message('detected.device-down', {
      messages: ['NVR "Recorder A" (nvr-01) reports channel 2 offline'],
      witness: 'nvr-01',
    });
    expect(say(down)).toBe(
      'Device down (seen by NVR nvr-01): NVR "Recorder A" (nvr-01) reports channel 2 offline',
    );
    expect(say(down, 'zh-CN')).toBe(
      '设备故障（由录像机 nvr-01 发现）：NVR "Recorder A" (nvr-01) reports channel 2 offline',
    );
    expect(say(message('detected.device-down', { messages: ['refused'] }))).toBe(
      'Device down: refused',
    );
  });

  it('names the NVR per line of a degradation', () => {
    const degraded = message('detected.degraded', {
      code: 'video-loss',
      lines: [{ text: 'the NVR has lost the video of channel 2', witness: 'nvr-01' }],
    });
    expect(say(degraded)).toBe(
      'Degraded (video loss): the NVR has lost the video of channel 2 (seen by NVR nvr-01)',
    );
    expect(say(degraded, 'zh-CN')).toMatch(
      /the NVR has lost the video of channel 2（由录像机 nvr-01 发现）$/,
    );
  });
});
