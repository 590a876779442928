import { describe, expect, it } from 'vitest';
import { deviceExample } from '../../../../shared/api/devices.js';
import type { Detection, PipelineContext } from '../../../../broker/pipeline/types.js';
import { ticketStage } from '../../../../broker/stages/ticket.js';
import type { TicketService } from '../../../../broker/tickets/types.js';

describe('ticket stage', () => {
  it('hands every detection to the ticket service and lets the message go on', async () => {
    const applied: Detection[] = [];
    const tickets: TicketService = {
      apply: (detection) => (applied.push(detection), []),
      list: () => [],
      get: () => undefined,
      act: () => {
        throw new Error('not used');
      },
      cover: () => undefined,
      tick: () => [],
      report: () => undefined,
    };
    const at = new Date('2026-11-26T08:03:15.500Z');
    const detections: Detection[] = [
      { kind: 'device-down', device: deviceExample, at, reason: 'unreachable' },
      { kind: 'device-up', device: { ...deviceExample, id: 'cam-02' }, at },
    ];
    const ctx: PipelineContext = {
      envelope: { topic: 't', payload: Buffer.from('{}'), clientId: 'gw-01', receivedAt: at },
      detections,
    };
    const stage = ticketStage(tickets);
    expect(stage.name).toBe('ticket');
    expect(await stage.run(ctx)).toBe('continue');
    expect(applied).toEqual(detections);
  });
});
