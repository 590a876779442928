import { describe, expect, it } from 'vitest';
import type { StoredSpan } from '../../../../broker/devices/outages.js';
import { outageTimeline } from '../../../../broker/devices/timeline.js';

const H = 3_600_000;
const t0 = Date.parse('2026-11-26T00:00:00.000Z');
const iso = (h: number) => new Date(t0 + h * H).toISOString();
const span = (channel: string, from: number, to: number | null, code = 'recording-stopped') =>
  ({
    code,
    channel,
    started: iso(from),
    ended: to === null ? null : iso(to),
    message: 'm',
  }) as StoredSpan;

describe('the outage timeline of a device over a period', () => {
  const base = {
    siteId: 's',
    deviceId: 'nvr-01',
    code: 'recording-stopped' as const,
    from: new Date(iso(0)),
    to: new Date(iso(24)),
    channelCount: 4,
    retentionDays: 400,
  };

  it('counts the time down in every channel once, and an open span up to now, not the period end', () => {
    const result = outageTimeline({
      ...base,
      now: new Date(iso(12)),
      channels: ['REC_CH10', 'REC_CH02', 'REC_CH01'],
      spans: [span('REC_CH02', 2, 6), span('REC_CH10', 10, null)],
      downSpans: [span('', 4, 8, 'unreachable')],
    });
    expect(result.channels.map((c) => c.channel)).toEqual(['REC_CH01', 'REC_CH02', 'REC_CH10']);
    const [ch1, ch2, ch10] = result.channels;
    expect(ch1?.gapS).toBe(4 * 3600); // down only
    expect(ch2?.gapS).toBe(6 * 3600); // 2..6 and 4..8: 2..8
    expect(ch10?.spans[0]?.ended).toBe(iso(12));
    expect(ch10?.gapS).toBe(4 * 3600 + 2 * 3600); // 4..8 down, 10..12 open
    expect(ch10?.open).toBe(true);
    expect(ch10?.share).toBeCloseTo(6 / 24);
    expect(result.downS).toBe(4 * 3600);
  });

  it('gives every recording the agent listed a channel, clean ones with no gap, named by source', () => {
    const result = outageTimeline({
      ...base,
      now: new Date(iso(12)),
      channels: ['REC_CH02', 'REC_OLD'],
      recordings: [
        { token: 'REC_CH01', source: 'Gate' },
        { token: 'REC_CH02', source: 'Yard' },
        { token: 'REC_CH03' },
        { token: 'REC_CH04', source: 'Dock' },
      ],
      spans: [span('REC_CH02', 2, 6)],
      downSpans: [],
    });
    expect(result.allChannels).toBe(true);
    expect(result.channels.map((c) => [c.channel, c.name, c.gapS, c.spans.length])).toEqual([
      ['REC_CH01', 'Gate', 0, 0],
      ['REC_CH02', 'Yard', 4 * 3600, 1],
      ['REC_CH03', undefined, 0, 0],
      ['REC_CH04', 'Dock', 0, 0],
      // Seen only in the history (a recording since removed): still listed.
      ['REC_OLD', undefined, 0, 0],
    ]);
    expect(result.channels[0]).toEqual({
      channel: 'REC_CH01',
      name: 'Gate',
      spans: [],
      gapS: 0,
      share: 0,
      open: false,
    });
  });

  it('lists only the channels with a history when the agent does not list recordings', () => {
    const result = outageTimeline({
      ...base,
      now: new Date(iso(12)),
      channels: ['REC_CH02'],
      spans: [],
      downSpans: [],
    });
    expect(result.allChannels).toBe(false);
    expect(result.channels.map((c) => c.channel)).toEqual(['REC_CH02']);
    expect(result.channels[0]).not.toHaveProperty('name');
  });

  it('clips a span that began before the period and says so', () => {
    const result = outageTimeline({
      ...base,
      now: new Date(iso(30)),
      channels: ['REC_CH01'],
      spans: [span('REC_CH01', -5, 3)],
      downSpans: [],
    });
    expect(result.channels[0]?.spans).toEqual([
      expect.objectContaining({ started: iso(0), ended: iso(3), startedBefore: true, open: false }),
    ]);
  });
});
