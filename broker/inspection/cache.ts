/**
 * The weekly trends of reports whose period is over, kept in memory: reading a month of
 * a site's readings is the expensive part of a report, and a past month does not change,
 * so opening November again in December reads no readings. Everything else of a report
 * (tickets and their SLA clocks, maintenance, status history, site data) is re-read on
 * every request: bounded queries, so a ticket closed late still shows.
 *
 * Late data is the exception: a reading dated inside a cached range (the journal's replay
 * after a crash, an agent's spool flushed after a WAN cut) drops that entry, so the next
 * report computes again. The metrics writer tells `written()` of every point once it is
 * in the store (broker/app.ts wires it). A report that was computing while such a point
 * landed may have read the store before it: it is answered but not kept (each computation
 * carries a mark that `written()` sets when a point falls in its range).
 *
 * Bounded: the least recently used entry goes past `maxEntries`.
 *
 * Keyed by site and the range's instants, not the period's name: "2026-11" of a customer
 * in Asia/Shanghai and of one in Europe/Berlin are two ranges, so two entries, and a
 * customer whose zone changes asks for new instants.
 *
 * Two kinds of entry: a period's weekly trends, and the readings of the 12 months its
 * charts show (broker/inspection/trends.ts, `kind` "monthly", the range from the first
 * month's start to the period's end): a late reading in any of the 12 months drops that.
 */
import type { WeeklyTrend } from '../../shared/api/inspection.js';
import type { MetricPoint } from '../metrics/store.js';

/** A few hundred site-periods: a large fleet's last months, some kilobytes each. */
export const DEFAULT_MAX_ENTRIES = 300;

export type CacheAnswer = 'hit' | 'miss' | 'not-over';

interface Range {
  siteId: string;
  from: number;
  to: number;
}

interface Computing extends Range {
  /** Set when a point dated in the range was written while it computed. */
  stale: boolean;
}

interface Entry extends Range {
  /** WeeklyTrend[] for "weekly", what the caller computed for another kind. */
  trends: unknown;
}

export interface ReportCacheStats {
  entries: number;
  hits: number;
  misses: number;
  /** Entries dropped because a reading dated inside them was written. */
  invalidated: number;
}

export class ReportCache {
  private readonly maxEntries: number;
  /** Key -> entry, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly computing = new Set<Computing>();
  /** Key -> the computation running now: a second request for it waits for the same one. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly counts = { hits: 0, misses: 0, invalidated: 0 };

  constructor(options: { maxEntries?: number } = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get stats(): ReportCacheStats {
    return { entries: this.entries.size, ...this.counts };
  }

  /**
   * The trends of [from, to) of a site: from the cache when the range is over (`to` at or
   * before `now`) and kept, else computed (and kept when over and nothing landed meanwhile).
   */
  async trends<T = WeeklyTrend[]>(
    siteId: string,
    from: Date,
    to: Date,
    now: Date,
    compute: () => Promise<T>,
    kind = 'weekly',
  ): Promise<{ trends: T; answer: CacheAnswer }> {
    if (to.getTime() > now.getTime()) return { trends: await compute(), answer: 'not-over' };
    const key = `${kind}\u0000${siteId}\u0000${from.getTime()}\u0000${to.getTime()}`;
    const kept = this.entries.get(key);
    if (kept) {
      // Most recently used: to the end.
      this.entries.delete(key);
      this.entries.set(key, kept);
      this.counts.hits++;
      return { trends: kept.trends as T, answer: 'hit' };
    }
    this.counts.misses++;
    // A past month of a large site takes a second or two to read: the same report opened
    // twice meanwhile (a double click, two engineers) reads it once.
    const running = this.inFlight.get(key);
    if (running) return { trends: (await running) as T, answer: 'miss' };
    const mark: Computing = { siteId, from: from.getTime(), to: to.getTime(), stale: false };
    this.computing.add(mark);
    const computation = compute();
    this.inFlight.set(key, computation);
    try {
      const trends = await computation;
      if (!mark.stale) {
        this.entries.set(key, { ...mark, trends });
        for (const oldest of this.entries.keys()) {
          if (this.entries.size <= this.maxEntries) break;
          this.entries.delete(oldest);
        }
      }
      return { trends, answer: 'miss' };
    } finally {
      this.computing.delete(mark);
      this.inFlight.delete(key);
    }
  }

  /** Points now in the metrics store: drops the entries (and marks the computations) they fall in. */
  written(points: readonly MetricPoint[]): void {
    if (this.entries.size === 0 && this.computing.size === 0) return;
    // Nearly every point is a reading of now, later than every past range: one pass finds
    // each site's earliest point, and only a site with a point before one of its ranges'
    // ends is looked at further.
    const earliest = new Map<string, number>();
    for (const point of points) {
      const site = point.tags.site;
      if (site === undefined) continue;
      const time = point.time.getTime();
      const seen = earliest.get(site);
      if (seen === undefined || time < seen) earliest.set(site, time);
    }
    const holds = (range: Range): boolean => {
      const first = earliest.get(range.siteId);
      if (first === undefined || first >= range.to) return false;
      return points.some((point) => {
        if (point.tags.site !== range.siteId) return false;
        const time = point.time.getTime();
        return time >= range.from && time < range.to;
      });
    };
    for (const mark of this.computing) if (!mark.stale && holds(mark)) mark.stale = true;
    for (const [key, entry] of this.entries) {
      if (holds(entry)) {
        this.entries.delete(key);
        this.counts.invalidated++;
      }
    }
  }
}
