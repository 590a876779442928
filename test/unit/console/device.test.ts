import { describe, expect, it } from 'vitest';
import { deviceOutagesExample } from '../../../shared/api/outages.js';
import {
  chartFields,
  fetchRecordingTimeline,
  spanPlacement,
} from '../../../console/src/data/device.js';

describe("an NVR's recording on the device page", () => {
  const from = Date.parse('2026-11-26T00:00:00Z');
  const to = Date.parse('2026-11-27T00:00:00Z');
  const at = (ms: number) => new Date(ms).toISOString();

  it('asks the broker for the recording-stopped spans of the device, at its site, over the period', async () => {
    const asked: unknown[] = [];
    const answer = await fetchRecordingTimeline(
      {
        fetchOutages: async (id, params) => {
          asked.push({ id, ...params });
          return deviceOutagesExample;
        },
      },
      { id: 'nvr-01', siteId: 'demo-site' },
      new Date(from),
      new Date(to),
    );
    expect(answer).toBe(deviceOutagesExample);
    expect(asked).toEqual([
      {
        id: 'nvr-01',
        from: at(from),
        to: at(to),
        code: 'recording-stopped',
        site: 'demo-site',
      },
    ]);
  });

  it('places a span on the time line: half a day from noon, a sliver for seconds', () => {
    const half = { started: at(from + (to - from) / 2), ended: at(to) };
    expect(spanPlacement(half, from, to)).toEqual({ leftPct: 50, widthPct: 50 });
    const quarter = { started: at(from), ended: at(from + (to - from) / 4) };
    expect(spanPlacement(quarter, from, to)).toEqual({ leftPct: 0, widthPct: 25 });
    const short = { started: at(from), ended: at(from + 5_000) };
    expect(spanPlacement(short, from, to).widthPct).toBeGreaterThan(0.2);
    // Never past the right edge.
    const last = { started: at(to - 1_000), ended: at(to) };
    const placed = spanPlacement(last, from, to);
    expect(placed.leftPct + placed.widthPct).toBeCloseTo(100);
    // A gap that just opened (no length yet) still shows at the right edge.
    const opened = spanPlacement({ started: at(to), ended: at(to) }, from, to);
    expect(opened.widthPct).toBeGreaterThan(0.2);
    expect(opened.leftPct + opened.widthPct).toBeCloseTo(100);
  });

  it('charts the count of channels not recording for NVRs only', () => {
    expect(chartFields('nvr')).toContain('recordingsStopped');
    expect(chartFields('camera')).not.toContain('recordingsStopped');
  });
});
