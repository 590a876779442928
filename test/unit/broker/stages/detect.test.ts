import { describe, expect, it } from 'vitest';
import type { PipelineContext } from '../../../../broker/pipeline/types.js';
import { detectStage, detectTransition } from '../../../../broker/stages/detect.js';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { deviceStateExample } from '../../../../shared/messages/device-state.js';
import { stateMessage } from './fixtures.js';

function device(status: Device['status'], reasons: Device['reasons'] = []): Device {
  return { ...deviceExample, status, reasons, since: '2026-11-26T08:03:15.120Z' };
}

const unreachable = [
  { code: 'unreachable' as const, message: 'connect ECONNREFUSED 192.0.2.11:80' },
];

describe('detect transitions', () => {
  it('into down is device-down, with the reasons as text and the time it went down', () => {
    for (const before of ['up', 'degraded', 'unknown'] as const) {
      const detection = detectTransition(device(before), device('down', unreachable));
      expect(detection, before).toEqual({
        kind: 'device-down',
        device: device('down', unreachable),
        at: new Date('2026-11-26T08:03:15.120Z'),
        reason: 'connect ECONNREFUSED 192.0.2.11:80',
      });
    }
  });

  it('a device first seen down is device-down', () => {
    expect(detectTransition(undefined, device('down', unreachable))?.kind).toBe('device-down');
  });

  it('joins several reasons, and says when there is none', () => {
    const two = [...unreachable, { code: 'timeout' as const, message: 'no answer in 3000 ms' }];
    expect(detectTransition(device('up'), device('down', two))).toMatchObject({
      reason: 'connect ECONNREFUSED 192.0.2.11:80; no answer in 3000 ms',
    });
    expect(detectTransition(device('up'), device('down'))).toMatchObject({
      reason: 'no reason reported',
    });
  });

  it('out of down into up or degraded is device-up', () => {
    expect(detectTransition(device('down'), device('up'))?.kind).toBe('device-up');
    expect(detectTransition(device('down'), device('degraded'))?.kind).toBe('device-up');
  });

  it('nothing else is a detection', () => {
    expect(detectTransition(device('down'), device('down'))).toBeNull();
    expect(detectTransition(device('down'), device('unknown'))).toBeNull();
    expect(detectTransition(device('up'), device('degraded'))).toBeNull();
    expect(detectTransition(undefined, device('up'))).toBeNull();
  });
});

describe('detect stage', () => {
  it('adds the detection of a state change to the context', async () => {
    const ctx: PipelineContext = {
      envelope: stateMessage(),
      detections: [],
      message: { kind: 'deviceState', payload: deviceStateExample },
      previous: device('up'),
      device: device('down', unreachable),
    };
    expect(await detectStage().run(ctx)).toBe('continue');
    expect(ctx.detections.map((d) => d.kind)).toEqual(['device-down']);
  });

  it('leaves other messages alone', async () => {
    const ctx: PipelineContext = { envelope: stateMessage(), detections: [] };
    await detectStage().run(ctx);
    expect(ctx.detections).toEqual([]);
  });
});
