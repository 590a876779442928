/**
 * The embedded store's reads, run by the reader thread (embedded-read-worker.ts) on its own
 * read-only connection, never on the broker's event loop. Dates cross the thread boundary
 * as milliseconds since the epoch.
 *
 * A trend splits [from, to) into levels: whole days from rollup_1d when the bucket is a
 * whole number of days, whole 5-minute intervals from rollup_5m when it is a whole number
 * of 5 minutes, raw points only for the edges left over. Each level holds whole buckets
 * of the rollup it reads, and every rollup interval lies inside one epoch-aligned trend
 * bucket, so adding up count, sum, min and max per bucket gives what aggregatePoints
 * (aggregate.ts) gives over the raw points.
 */
import type { Db, Statement } from '../db.js';
import { DAY_MS, FIVE_MINUTES_MS } from './embedded-schema.js';

export interface WirePointQuery {
  measurement: string;
  tags: Record<string, string>;
  from: number;
  to: number;
}

export interface WireTrendQuery extends WirePointQuery {
  field: string;
  bucketMs: number;
  /** The tag that splits the answer; absent: one group "". */
  by?: string;
}

export interface WirePoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | boolean>;
  time: number;
}

export interface WireBucket {
  time: number;
  mean: number;
  min: number;
  max: number;
  count: number;
}

export type ReadRequest =
  | { id: number; op: 'query'; query: WirePointQuery; maxPoints: number }
  | { id: number; op: 'trend'; query: WireTrendQuery };

export type ReadReply =
  | { id: number; ok: true; points: WirePoint[] }
  | { id: number; ok: true; groups: [string, WireBucket[]][] }
  | { id: number; ok: false; error: string };

type Level = 'rollup_1d' | 'rollup_5m' | 'points';

interface Segment {
  level: Level;
  from: number;
  to: number;
}

const UNITS: readonly { level: Level; ms: number }[] = [
  { level: 'rollup_1d', ms: DAY_MS },
  { level: 'rollup_5m', ms: FIVE_MINUTES_MS },
];

/** [from, to) as whole rollup intervals where the bucket allows, raw points at the edges. */
export function segments(from: number, to: number, bucketMs: number, unit = 0): Segment[] {
  if (from >= to) return [];
  const next = UNITS.slice(unit).findIndex((u) => bucketMs % u.ms === 0);
  if (next < 0) return [{ level: 'points', from, to }];
  const { level, ms } = UNITS[unit + next] as { level: Level; ms: number };
  const start = Math.ceil(from / ms) * ms;
  const end = Math.floor(to / ms) * ms;
  const finer = unit + next + 1;
  if (start >= end) return segments(from, to, bucketMs, finer);
  return [
    ...segments(from, start, bucketMs, finer),
    { level, from: start, to: end },
    ...segments(end, to, bucketMs, finer),
  ];
}

export class Reader {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  /** Raw points, oldest first; more than `maxPoints` is refused rather than sent. */
  points(query: WirePointQuery, maxPoints: number): WirePoint[] {
    return this.snapshot(() => {
      const series = this.series(query);
      if (series.length === 0) return [];
      const tagsOf = new Map(
        series.map((s) => [s.id, JSON.parse(s.tags) as Record<string, string>]),
      );
      const rows = this.statement(
        `SELECT series_id AS s, time AS t, fields AS f FROM points
         WHERE series_id IN (SELECT value FROM json_each(?)) AND time >= ? AND time < ?
         ORDER BY time, rowid LIMIT ?`,
      ).all(JSON.stringify([...tagsOf.keys()]), query.from, query.to, maxPoints + 1) as {
        s: number;
        t: number;
        f: string;
      }[];
      if (rows.length > maxPoints)
        throw new Error(
          `more than ${maxPoints} raw points in this range: ask for a shorter range, or for a trend`,
        );
      return rows.map((row) => ({
        measurement: query.measurement,
        tags: tagsOf.get(row.s) as Record<string, string>,
        fields: JSON.parse(row.f) as Record<string, number | boolean>,
        time: row.t,
      }));
    });
  }

  /** Buckets per value of `by` (one group "" without it), each group oldest first. */
  trend(query: WireTrendQuery): [string, WireBucket[]][] {
    return this.snapshot(() => {
      const series = this.series(query);
      const field = this.statement('SELECT id FROM fields WHERE name = ?').get(query.field) as
        { id: number } | undefined;
      if (series.length === 0) return [];
      const groupOf = new Map(series.map((s) => [s.id, s.group]));
      const ids = JSON.stringify(series.map((s) => s.id));
      const groups = new Map<string, Map<number, WireBucket>>();
      const bySegmentLevel = new Map<Level, Segment[]>();
      for (const segment of segments(query.from, query.to, query.bucketMs)) {
        const list = bySegmentLevel.get(segment.level) ?? [];
        list.push(segment);
        bySegmentLevel.set(segment.level, list);
      }
      // One statement per level for every series at once, never one per series.
      for (const [level, parts] of bySegmentLevel) {
        if (level !== 'points' && field === undefined) continue; // never a number
        const rows =
          level === 'points'
            ? this.rawLevel(ids, query.field, query.bucketMs, parts)
            : this.rollupLevel(level, ids, (field as { id: number }).id, query.bucketMs, parts);
        for (const row of rows) {
          const group = groupOf.get(row.s) as string;
          let buckets = groups.get(group);
          if (!buckets) groups.set(group, (buckets = new Map()));
          const acc = buckets.get(row.b);
          if (acc) {
            acc.count += row.c;
            acc.mean += row.su; // the sum until the end
            acc.min = Math.min(acc.min, row.mi);
            acc.max = Math.max(acc.max, row.ma);
          } else
            buckets.set(row.b, {
              time: row.b,
              mean: row.su,
              min: row.mi,
              max: row.ma,
              count: row.c,
            });
        }
      }
      return [...groups.entries()].map(([group, buckets]) => [
        group,
        [...buckets.values()]
          .sort((a, b) => a.time - b.time)
          .map((acc) => ({ ...acc, mean: acc.mean / acc.count })),
      ]);
    });
  }

  /** Series of the measurement whose tags all match, with their value of `by` (if asked). */
  private series(
    query: WirePointQuery & { by?: string },
  ): { id: number; tags: string; group: string }[] {
    const tags = Object.entries(query.tags);
    const sql =
      `SELECT s.id AS id, s.tags AS tags, ${query.by === undefined ? "''" : 'g.value'} AS "group"
       FROM series s` +
      (query.by === undefined ? '' : ' JOIN series_tags g ON g.series_id = s.id AND g.key = ?') +
      ' WHERE s.measurement = ?' +
      ' AND s.id IN (SELECT series_id FROM series_tags WHERE key = ? AND value = ?)'.repeat(
        tags.length,
      );
    const params: string[] = [];
    if (query.by !== undefined) params.push(query.by);
    params.push(query.measurement);
    for (const [key, value] of tags) params.push(key, value);
    return this.statement(sql).all(...params) as { id: number; tags: string; group: string }[];
  }

  private rollupLevel(
    level: Level,
    ids: string,
    fieldId: number,
    bucketMs: number,
    parts: Segment[],
  ): AggregateRow[] {
    const ranges = parts
      .map(
        () => `SELECT series_id, bucket, count, sum, min, max FROM ${level}
               WHERE series_id IN (SELECT value FROM json_each(?)) AND field_id = ?
                 AND bucket >= ? AND bucket < ?`,
      )
      .join(' UNION ALL ');
    const params = parts.flatMap((p) => [ids, fieldId, p.from, p.to]);
    return this.statement(
      `SELECT series_id AS s, bucket - (((bucket % ?) + ?) % ?) AS b,
         SUM(count) AS c, SUM(sum) AS su, MIN(min) AS mi, MAX(max) AS ma
       FROM (${ranges}) GROUP BY s, b`,
    ).all(bucketMs, bucketMs, bucketMs, ...params) as AggregateRow[];
  }

  private rawLevel(ids: string, field: string, bucketMs: number, parts: Segment[]): AggregateRow[] {
    const path = `$."${field}"`;
    const ranges = parts
      .map(
        () => `SELECT series_id, time, json_extract(fields, ?) AS v FROM points
               WHERE series_id IN (SELECT value FROM json_each(?)) AND time >= ? AND time < ?
                 AND json_type(fields, ?) IN ('integer', 'real')`,
      )
      .join(' UNION ALL ');
    const params = parts.flatMap((p) => [path, ids, p.from, p.to, path]);
    return this.statement(
      `SELECT series_id AS s, time - (((time % ?) + ?) % ?) AS b,
         COUNT(*) AS c, SUM(v) AS su, MIN(v) AS mi, MAX(v) AS ma
       FROM (${ranges}) GROUP BY s, b`,
    ).all(bucketMs, bucketMs, bucketMs, ...params) as AggregateRow[];
  }

  /** One read transaction: the levels of a trend see the same committed writes. */
  private snapshot<T>(read: () => T): T {
    return this.db.transaction(read)();
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }
}

interface AggregateRow {
  s: number;
  b: number;
  c: number;
  su: number;
  mi: number;
  ma: number;
}
