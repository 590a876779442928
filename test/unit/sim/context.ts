/** A ServiceContext for handler tests: a real event hub and recorder, no sockets. */
import { EventHub } from '../../../sim/events.js';
import { effectsOf } from '../../../sim/faults.js';
import type { DeviceModel } from '../../../sim/model.js';
import { quirksOf } from '../../../sim/personality.js';
import { Recorder } from '../../../sim/recording.js';
import type { ServiceContext } from '../../../sim/services/context.js';

export function testContext(
  device: DeviceModel,
  overrides: Partial<ServiceContext> = {},
): ServiceContext {
  const now = Date.now();
  return {
    device,
    identity: device.identity,
    httpBase: 'http://127.0.0.1:40001',
    rtspBase: 'rtsp://127.0.0.1:8554',
    deviceNow: now,
    clockOffsetMs: 0,
    quirks: quirksOf('standard'),
    path: '/onvif/device_service',
    events: new EventHub(),
    initialEvents: () => [],
    recorder: new Recorder(device.channels, now),
    effects: effectsOf([]),
    bootTime: now,
    ...overrides,
  };
}
