import { describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { deviceDown, deviceUp } from '../../../../broker/detect/rules/device-down.js';
import {
  adjustForCriticality,
  decide,
  defaultRules,
  priorityOf,
} from '../../../../broker/tickets/priorities.js';

const at = new Date('2026-11-26T08:03:15.500Z');
const camera: Device = { ...deviceExample, status: 'down' };
const nvr: Device = { ...deviceExample, id: 'nvr-01', kind: 'nvr', status: 'down' };

describe('ticket priorities', () => {
  it('opens an emergency ticket when a camera goes down (contract: system unusable)', () => {
    expect(decide(deviceDown(camera, at))).toEqual({
      action: 'open',
      fault: 'device-down',
      priority: 'emergency',
    });
  });

  it('opens an emergency ticket when an NVR goes down', () => {
    expect(decide(deviceDown(nvr, at))).toMatchObject({
      action: 'open',
      priority: 'emergency',
    });
  });

  it('resolves the device-down ticket when the device is up again', () => {
    expect(decide(deviceUp(camera, at))).toEqual({
      action: 'resolve',
      fault: 'device-down',
    });
  });

  it('opens nothing for a kind the rules leave out', () => {
    const rules = {
      ...defaultRules,
      priorities: { ...defaultRules.priorities, 'device-down:nvr': null },
    };
    expect(decide(deviceDown(nvr, at), rules)).toEqual({
      action: 'none',
    });
  });

  it('maps the other conditions to the contract priorities, degradations by reason code', () => {
    expect(priorityOf('site-unreachable')).toBe('emergency');
    expect(priorityOf('site-outage')).toBe('emergency');
    expect(priorityOf('flapping')).toBe('serious');
    expect(priorityOf('degraded:clock-drift')).toBe('general');
    // A reason code the agent adds later still opens a general ticket.
    expect(priorityOf('degraded:some-new-code')).toBe('general');
    expect(priorityOf('nonsense')).toBeNull();
  });

  it('raises or lowers one step by device criticality', () => {
    expect(adjustForCriticality('general', 'high')).toBe('serious');
    expect(adjustForCriticality('serious', 'high')).toBe('emergency');
    expect(adjustForCriticality('emergency', 'high')).toBe('emergency');
    expect(adjustForCriticality('emergency', 'low')).toBe('serious');
    expect(adjustForCriticality('general', 'low')).toBe('general');
    expect(decide(deviceDown(camera, at), defaultRules, 'low')).toMatchObject({
      priority: 'serious',
    });
  });
});
