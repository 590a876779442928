/**
 * The detector's ticket texts keep who saw a reason (Reason.witness: the NVR of a camera
 * behind it), for shared/wording to name: a camera down behind its NVR, and a degradation
 * the NVR saw.
 */
import { describe, expect, it } from 'vitest';
import { degradationText } from '../../../../broker/detect/rules/degradations.js';
import { deviceDown } from '../../../../broker/detect/rules/device-down.js';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { say } from '../../../../shared/wording/render.js';
import type { Message } from '../../../../shared/wording/messages.js';

const camera = (reasons: Device['reasons'], status: Device['status']): Device => ({
  ...deviceExample,
  id: 'cam-poe-2',
  status,
  reasons,
});

describe('the ticket texts of a camera behind an NVR', () => {
  it('name the NVR that saw the camera go down', () => {
    const down = deviceDown(
      camera(
        [
          {
            code: 'unreachable',
            message: 'NVR "A" (nvr-01) reports channel 2 offline',
            witness: 'nvr-01',
          },
        ],
        'down',
      ),
      new Date(),
    );
    expect(down.text).toEqual({
      code: 'detected.device-down',
      params: { messages: ['NVR "A" (nvr-01) reports channel 2 offline'], witness: 'nvr-01' },
    });
    expect(say(down.text as Message)).toMatch(/^Device down \(seen by NVR nvr-01\): /);
  });

  it('name the NVR on each line of a degradation it saw, and no one on the others', () => {
    const text = degradationText(
      camera(
        [
          { code: 'video-loss', message: 'the NVR lost its video', witness: 'nvr-01' },
          { code: 'video-loss', message: 'ONVIF event: video signal lost', channel: 'vs1' },
        ],
        'degraded',
      ),
      'video-loss',
    );
    expect(text).toEqual({
      code: 'detected.degraded',
      params: {
        code: 'video-loss',
        lines: [
          { text: 'the NVR lost its video', witness: 'nvr-01' },
          { text: 'ONVIF event: video signal lost', channel: 'vs1' },
        ],
      },
    });
  });
});
