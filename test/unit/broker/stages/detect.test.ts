import { describe, expect, it } from 'vitest';
import { Detector } from '../../../../broker/detect/detector.js';
import type { DeviceRegistry } from '../../../../broker/devices/registry.js';
import type { PipelineContext, TickContext } from '../../../../broker/pipeline/types.js';
import { detectStage } from '../../../../broker/stages/detect.js';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { agentOfflineExample } from '../../../../shared/messages/agent-status.js';
import { deviceStateExample } from '../../../../shared/messages/device-state.js';
import { say } from '../../../../shared/wording/render.js';
import { envelope, stateMessage } from './fixtures.js';

function device(status: Device['status'], reasons: Device['reasons'] = []): Device {
  return { ...deviceExample, status, reasons, since: '2026-11-26T08:03:15.120Z' };
}

const unreachable = [
  { code: 'unreachable' as const, message: 'connect ECONNREFUSED 192.0.2.11:80' },
];

/** A registry of the one device; the detector asks it for a site's cameras. */
function registryOf(...devices: Device[]): DeviceRegistry {
  return {
    get: (siteId, id) => devices.find((d) => d.siteId === siteId && d.id === id),
    list: (filter) => devices.filter((d) => !filter?.siteId || d.siteId === filter.siteId),
    put: () => undefined,
  } as DeviceRegistry;
}

const clock = new Date('2026-11-26T08:03:16.000Z');

/**
 * The stage over a real detector that has heard from the agent already (its first
 * message after a broker start resolves a site ticket of the previous run: not what
 * these cases look at).
 */
async function stageWith(...devices: Device[]) {
  const detector = new Detector({ registry: registryOf(...devices), now: () => clock });
  await detector.start();
  detector.agentSeen('demo-site', 'gw-01');
  detector.take();
  return detectStage(detector);
}

function stateContext(previous: Device | undefined, next: Device): PipelineContext {
  return {
    envelope: stateMessage(),
    detections: [],
    message: { kind: 'deviceState', payload: deviceStateExample },
    ...(previous ? { previous } : {}),
    device: next,
  };
}

describe('detect stage', () => {
  it('puts a device going down into the context: a fault with its title and what the agent said', async () => {
    for (const before of ['up', 'degraded', 'unknown'] as const) {
      const ctx = stateContext(device(before), device('down', unreachable));
      expect(await (await stageWith(device('down', unreachable))).run(ctx)).toBe('continue');
      expect(ctx.detections, before).toEqual([
        {
          kind: 'fault',
          siteId: 'demo-site',
          deviceId: 'cam-01',
          fault: 'device-down',
          condition: 'device-down:camera',
          title: {
            code: 'title.device-down',
            params: {
              kind: 'camera',
              name: deviceExample.name,
              device: 'cam-01',
              reason: 'unreachable',
            },
          },
          text: {
            code: 'detected.device-down',
            params: { messages: ['connect ECONNREFUSED 192.0.2.11:80'] },
          },
          covers: [],
          at: clock,
        },
      ]);
    }
  });

  it('a device first seen down is a fault too', async () => {
    const ctx = stateContext(undefined, device('down', unreachable));
    await (await stageWith(device('down', unreachable))).run(ctx);
    expect(ctx.detections.map((d) => [d.kind, d.fault])).toEqual([['fault', 'device-down']]);
  });

  it('joins several reasons, and says when there is none', async () => {
    const two = [...unreachable, { code: 'timeout' as const, message: 'no answer in 3000 ms' }];
    const ctx = stateContext(device('up'), device('down', two));
    await (await stageWith(device('down', two))).run(ctx);
    const [several] = ctx.detections;
    expect(several?.kind === 'fault' && say(several.text)).toBe(
      'Device down: connect ECONNREFUSED 192.0.2.11:80; no answer in 3000 ms',
    );
    const none = stateContext(device('up'), device('down'));
    await (await stageWith(device('down'))).run(none);
    const [bare] = none.detections;
    expect(bare?.kind === 'fault' && say(bare.text)).toBe('Device down: no reason reported');
    expect(bare?.kind === 'fault' && say(bare.title)).toBe(
      `Camera "${deviceExample.name}" (cam-01) is down: no reason reported`,
    );
  });

  it('out of down into up or degraded clears the fault', async () => {
    for (const after of ['up', 'degraded'] as const) {
      const stage = await stageWith(device(after));
      await stage.run(stateContext(device('up'), device('down', unreachable)));
      const ctx = stateContext(device('down', unreachable), device(after));
      await stage.run(ctx);
      expect(ctx.detections, after).toMatchObject([
        { kind: 'fault-cleared', deviceId: 'cam-01', fault: 'device-down' },
      ]);
    }
  });

  it('nothing else is a detection', async () => {
    const pairs: [Device | undefined, Device][] = [
      [device('down', unreachable), device('down', unreachable)],
      [device('up'), device('degraded')],
      [undefined, device('up')],
    ];
    for (const [before, after] of pairs) {
      const ctx = stateContext(before, after);
      await (await stageWith(after)).run(ctx);
      expect(ctx.detections, `${before?.status} -> ${after.status}`).toEqual([]);
    }
  });

  it('leaves a message it has no state for alone', async () => {
    const ctx: PipelineContext = { envelope: stateMessage(), detections: [] };
    await (await stageWith()).run(ctx);
    expect(ctx.detections).toEqual([]);
  });

  it('on a clock beat, opens the site ticket of an agent gone longer than its hold', async () => {
    let now = new Date('2026-11-26T08:00:00.000Z');
    const detector = new Detector({ registry: registryOf(device('up')), now: () => now });
    await detector.start();
    const stage = detectStage(detector);
    const will: PipelineContext = {
      envelope: envelope('vigil/v1/demo-site/agents/gw-01/status', agentOfflineExample),
      detections: [],
      message: { kind: 'agentStatus', payload: agentOfflineExample },
    };
    await stage.run(will);
    expect(will.detections).toEqual([]); // held: it may be back at once
    now = new Date(now.getTime() + detector.config.holdS * 1000);
    const beat: TickContext = { detections: [] };
    stage.tick?.(beat);
    expect(beat.detections.map((d) => [d.kind, d.fault])).toEqual([['fault', 'site-unreachable']]);
  });
});
