/**
 * The default bucket of a chart (GET /api/metrics/series without bucketS): about 300
 * buckets, widened to a width the stores keep rollups of, so long charts read rollups.
 */
import { describe, expect, it } from 'vitest';
import { defaultBucketS } from '../../../../broker/api/metrics.js';

const MIN = 60_000;
const DAY = 86_400_000;

describe('default chart bucket', () => {
  it('keeps short charts fine-grained, at least 10 s', () => {
    expect(defaultBucketS(10 * MIN)).toBe(10);
    expect(defaultBucketS(60 * MIN)).toBe(12);
    // 24,999 s / 300 is under 5 minutes: not snapped.
    expect(defaultBucketS(24 * 60 * MIN)).toBe(288);
  });

  it('rounds up to whole 5 minutes from 5 minutes on: a 30-day chart reads the 5-minute rollup', () => {
    expect(defaultBucketS(25 * 60 * MIN)).toBe(300);
    expect(defaultBucketS(7 * DAY)).toBe(2100);
    // 30 days / 300 = 8,640 s: 29 whole 5 minutes.
    expect(defaultBucketS(30 * DAY)).toBe(8700);
  });

  it('rounds up to whole days from a day on', () => {
    expect(defaultBucketS(300 * DAY)).toBe(86_400);
    expect(defaultBucketS(366 * DAY)).toBe(2 * 86_400);
  });
});
