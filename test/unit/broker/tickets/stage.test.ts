import { describe, expect, it } from 'vitest';
import { deviceExample } from '../../../../shared/api/devices.js';
import { deviceDown, deviceUp } from '../../../../broker/detect/rules/device-down.js';
import type { Detection, PipelineContext } from '../../../../broker/pipeline/types.js';
import { ticketStage } from '../../../../broker/stages/ticket.js';
import type { TicketService } from '../../../../broker/tickets/types.js';
import { recordingLog } from '../../../helpers/logs.js';

function service(applied: Detection[], ticks: { n: number }, failOn?: string): TicketService {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    start: async () => undefined,
    apply: async (detection) => {
      if (detection.deviceId === failOn) throw new Error('database is locked');
      applied.push(detection);
      return [];
    },
    list: async () => [],
    get: async () => undefined,
    act: unused,
    openManual: unused,
    cover: async () => undefined,
    tick: async () => (ticks.n++, []),
    idle: async () => undefined,
    record: async () => undefined,
    clock: async () => undefined,
    report: async () => undefined,
  };
}

const at = new Date('2026-11-26T08:03:15.500Z');

describe('ticket stage', () => {
  it('hands every detection to the ticket service and lets the message go on', async () => {
    const applied: Detection[] = [];
    const detections: Detection[] = [
      deviceDown({ ...deviceExample, status: 'down' }, at),
      deviceUp({ ...deviceExample, id: 'cam-02' }, at),
    ];
    const ctx: PipelineContext = {
      envelope: { topic: 't', payload: Buffer.from('{}'), clientId: 'gw-01', receivedAt: at },
      detections,
    };
    const stage = ticketStage(service(applied, { n: 0 }), recordingLog());
    expect(stage.name).toBe('ticket');
    expect(await stage.run(ctx)).toBe('continue');
    expect(applied).toEqual(detections);
  });

  it('lets a message without detections go on at once, without a promise', () => {
    const ctx: PipelineContext = {
      envelope: { topic: 't', payload: Buffer.from('{}'), clientId: 'gw-01', receivedAt: at },
      detections: [],
    };
    expect(ticketStage(service([], { n: 0 }), recordingLog()).run(ctx)).toBe('continue');
  });

  it('on a clock beat applies what detect decided, then runs the SLA clocks', () => {
    const applied: Detection[] = [];
    const ticks = { n: 0 };
    const detections = [deviceDown({ ...deviceExample, status: 'down' }, at)];
    ticketStage(service(applied, ticks), recordingLog()).tick?.({ detections });
    expect(applied).toEqual(detections);
    expect(ticks.n).toBe(1);
  });

  it('a detection the service refuses is logged with what failed, and the others still go through', async () => {
    const applied: Detection[] = [];
    const log = recordingLog();
    const ctx: PipelineContext = {
      envelope: { topic: 't', payload: Buffer.from('{}'), clientId: 'gw-01', receivedAt: at },
      detections: [
        deviceDown({ ...deviceExample, id: 'cam-01', status: 'down' }, at),
        deviceDown({ ...deviceExample, id: 'cam-02', status: 'down' }, at),
      ],
    };
    await ticketStage(service(applied, { n: 0 }, 'cam-01'), log).run(ctx);
    expect(applied.map((d) => d.deviceId)).toEqual(['cam-02']);
    expect(log.lines.join('\n')).toMatch(
      /cannot apply a fault detection of demo-site\/cam-01 device-down: database is locked/,
    );
  });
});
