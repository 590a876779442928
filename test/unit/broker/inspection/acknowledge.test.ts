/**
 * The inspection report's count of how fast tickets were acknowledged (issue 15 part 6):
 * opened to the first response, the median and the slowest; tickets nobody answered are
 * not counted as fast.
 */
import { describe, expect, it } from 'vitest';
import { acknowledgeFigures } from '../../../../broker/inspection/report.js';

const opened = '2026-11-03T02:00:00.000Z';
const after = (s: number) => new Date(Date.parse(opened) + s * 1000).toISOString();

describe('acknowledgeFigures', () => {
  it('gives the median and the slowest of the acknowledged ones', () => {
    expect(
      acknowledgeFigures([
        { openedAt: opened, respondedAt: after(90) },
        { openedAt: opened, respondedAt: after(300) },
        { openedAt: opened, respondedAt: after(150) },
        { openedAt: opened, respondedAt: null },
      ]),
    ).toEqual({ acknowledged: 3, ackMedianS: 150, ackMaxS: 300 });
    expect(
      acknowledgeFigures([
        { openedAt: opened, respondedAt: after(60) },
        { openedAt: opened, respondedAt: after(121) },
      ]),
    ).toEqual({ acknowledged: 2, ackMedianS: 90.5, ackMaxS: 121 });
  });

  it('says nothing when nobody acknowledged', () => {
    expect(acknowledgeFigures([{ openedAt: opened, respondedAt: null }])).toEqual({
      acknowledged: 0,
      ackMedianS: null,
      ackMaxS: null,
    });
  });
});
