/**
 * The report cache keys a site's trends by the period's instants, so the same month in two
 * customers' zones is two entries: a customer moved from Beijing to Berlin time never gets
 * the trends of the other zone's month.
 */
import { describe, expect, it } from 'vitest';
import { ReportCache } from '../../../../broker/inspection/cache.js';
import { periodRange } from '../../../../broker/inspection/report.js';
import type { WeeklyTrend } from '../../../../shared/api/inspection.js';

describe('report cache across zones', () => {
  it('keeps one entry per zone of the same period', async () => {
    const cache = new ReportCache();
    const now = new Date('2026-12-06T00:00:00Z');
    const computed: string[] = [];
    const trendsOf = async (timeZone: string) => {
      const { from, to } = periodRange('2026-11', timeZone);
      return cache.trends('north', from, to, now, async (): Promise<WeeklyTrend[]> => {
        computed.push(timeZone);
        return [];
      });
    };
    expect((await trendsOf('Asia/Shanghai')).answer).toBe('miss');
    expect((await trendsOf('Europe/Berlin')).answer).toBe('miss');
    expect((await trendsOf('Asia/Shanghai')).answer).toBe('hit');
    expect((await trendsOf('Europe/Berlin')).answer).toBe('hit');
    expect(computed).toEqual(['Asia/Shanghai', 'Europe/Berlin']);
    expect(cache.stats.entries).toBe(2);
  });
});
