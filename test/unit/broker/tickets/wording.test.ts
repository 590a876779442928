import { describe, expect, it } from 'vitest';
import { deviceExample } from '../../../../shared/api/devices.js';
import { deviceDownText, deviceDownTitle, downReason } from '../../../../broker/tickets/wording.js';

describe('ticket wording', () => {
  it('names the kind, the name and the id of a device that is down', () => {
    expect(deviceDownTitle({ id: 'cam-01', kind: 'camera', name: 'Lobby' }, 'unreachable')).toBe(
      'Camera "Lobby" (cam-01) is down: unreachable',
    );
    expect(deviceDownTitle({ id: 'nvr-01', kind: 'nvr', name: 'Rack 1' }, 'timeout')).toBe(
      'NVR "Rack 1" (nvr-01) is down: timeout',
    );
  });

  it("takes the title's reason from the agent's first reason code", () => {
    const device = {
      ...deviceExample,
      reasons: [{ code: 'auth-failed' as const, message: 'NotAuthorized' }],
    };
    expect(downReason(device, 'down')).toBe('auth-failed');
    expect(downReason({ reasons: [] }, 'down')).toBe('down');
  });

  it("quotes every message of the agent in the 'detected' entry", () => {
    const reasons = [
      { code: 'unreachable' as const, message: 'connect ECONNREFUSED 192.0.2.11:80' },
      { code: 'timeout' as const, message: 'no answer in 5 s' },
    ];
    expect(deviceDownText({ reasons }, 'x')).toBe(
      'Device down: connect ECONNREFUSED 192.0.2.11:80; no answer in 5 s',
    );
    expect(deviceDownText({ reasons: [] }, 'unreachable')).toBe('Device down: unreachable');
  });
});
