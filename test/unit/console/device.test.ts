import { describe, expect, it } from 'vitest';
import { deviceExample } from '../../../shared/api/devices.js';
import { ticketExample, type Ticket } from '../../../shared/api/tickets.js';
import {
  channelsStopped,
  chartFields,
  gapPlacement,
  recordingGaps,
} from '../../../console/src/data/device.js';

const ticket = (
  id: number,
  fault: string,
  openedAt: string,
  resolvedAt: string | null,
): Ticket => ({
  ...ticketExample,
  id,
  fault,
  openedAt,
  resolvedAt,
});

describe("an NVR's recording on the device page", () => {
  const from = Date.parse('2026-11-26T00:00:00Z');
  const to = Date.parse('2026-11-27T00:00:00Z');

  it('takes the gaps from the recording-stopped tickets that overlap the period', () => {
    const tickets = [
      ticket(4, 'degraded:recording-stopped', '2026-11-26T10:00:00Z', null),
      ticket(3, 'device-down', '2026-11-26T08:00:00Z', '2026-11-26T08:05:00Z'),
      ticket(2, 'degraded:recording-stopped', '2026-11-26T06:00:00Z', '2026-11-26T06:30:00Z'),
      ticket(1, 'degraded:recording-stopped', '2026-11-24T06:00:00Z', '2026-11-24T07:00:00Z'),
    ];
    expect(recordingGaps(tickets, from, to)).toEqual([
      {
        ticketId: 2,
        from: Date.parse('2026-11-26T06:00:00Z'),
        to: Date.parse('2026-11-26T06:30:00Z'),
      },
      { ticketId: 4, from: Date.parse('2026-11-26T10:00:00Z'), to: null },
    ]);
  });

  it('places a gap on the time line, an open one up to the end', () => {
    const half = { ticketId: 1, from: from + (to - from) / 2, to: null };
    expect(gapPlacement(half, from, to)).toEqual({ leftPct: 50, widthPct: 50 });
    // A gap that began before the period starts at its left edge.
    const before = { ticketId: 2, from: from - 3_600_000, to: from + (to - from) / 4 };
    expect(gapPlacement(before, from, to)).toEqual({ leftPct: 0, widthPct: 25 });
    // Seconds in a day stay visible.
    const short = { ticketId: 3, from, to: from + 5_000 };
    expect(gapPlacement(short, from, to).widthPct).toBeGreaterThan(0.2);
  });

  it('names the channels stopped now from the reasons, and charts their count for NVRs', () => {
    const nvr = {
      ...deviceExample,
      kind: 'nvr' as const,
      reasons: [
        {
          code: 'recording-stopped' as const,
          message: 'last recording 12 min ago',
          channel: 'ch10',
        },
        { code: 'clock-drift' as const, message: 'clock 40 s ahead' },
        { code: 'recording-stopped' as const, message: 'last recording 9 min ago', channel: 'ch2' },
      ],
    };
    expect(channelsStopped(nvr).map((c) => c.channel)).toEqual(['ch2', 'ch10']);
    expect(chartFields('nvr')).toContain('recordingsStopped');
    expect(chartFields('camera')).not.toContain('recordingsStopped');
  });
});
