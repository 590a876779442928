/**
 * The Grafana dashboard shipped in deploy/grafana/dashboards/vigil-fleet.json, without
 * Grafana (not in Debian): every panel's InfluxQL query, with Grafana's macros substituted
 * as Grafana does, runs against a real influxd (test/helpers/influxd.ts) holding data that
 * Vigil's own InfluxDB writer wrote (broker/metrics/influx.ts, the points the pipeline
 * makes from agents' messages: broker/metrics/points.ts), including the daily rollup it
 * maintains. Each must return series with the columns the panel shows.
 *
 * Grafana's substitutions (its InfluxDB datasource, public/app/plugins/datasource/influxdb):
 * - $timeFilter: `time >= <from>ms and time <= <to>ms` (the dashboard's range, or the
 *   panel's own `timeFrom`);
 * - $__interval: the range over the panel's width in points, at least the datasource's
 *   `timeInterval` (15s) or the panel's `interval`; here one a 1,000-pixel panel gets;
 * - a multi-value variable inside a regex, `/^$site$/`: `(a|b)`, each value regex-escaped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InfluxMetricsStore } from '../../../broker/metrics/influx.js';
import { agentPoint, devicePoint } from '../../../broker/metrics/points.js';
import type { MetricPoint } from '../../../broker/metrics/store.js';
import { AgentHealth, agentHealthExample } from '../../../shared/messages/agent-health.js';
import { DeviceMetrics, type DeviceMetricValues } from '../../../shared/messages/device-metrics.js';
import { validator } from '../../../shared/validate.js';
import { startInfluxd, type RunningInfluxd } from '../../helpers/influxd.js';
import { influxd, skipReason, titled } from '../../helpers/requires.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const grafana = join(root, 'deploy/grafana');

interface Target {
  refId: string;
  query: string;
  rawQuery: boolean;
  resultFormat: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  timeFrom?: string;
  interval?: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  time: { from: string; to: string };
  templating: { list: { name: string; query: string; datasource: { uid: string } }[] };
  panels: Panel[];
}

const dashboard = JSON.parse(
  readFileSync(join(grafana, 'dashboards/vigil-fleet.json'), 'utf8'),
) as Dashboard;
const datasource = (
  parse(readFileSync(join(grafana, 'provisioning/datasources/vigil-influxdb.yaml'), 'utf8')) as {
    datasources: { uid: string; type: string; jsonData: { dbName: string } }[];
  }
).datasources[0]!;

/**
 * What each panel must show: the columns of every series and the tags it is grouped by.
 * A panel added to the JSON without a line here fails the test, so none goes unchecked.
 */
const expected: Record<string, { columns: string[]; tags: string[] }> = {
  'Devices up, degraded, down': {
    columns: ['time', 'up', 'degraded', 'down', 'unknown'],
    tags: [],
  },
  'Response time by site': { columns: ['time', 'mean'], tags: ['site'] },
  'Slowest devices': { columns: ['time', 'responseMs', 'device', 'site', 'kind'], tags: [] },
  'Clock offset by site': { columns: ['time', 'min', 'max'], tags: ['site'] },
  'Recorder disks used': { columns: ['time', 'used'], tags: ['site', 'device'] },
  'Recordings kept': { columns: ['time', 'days'], tags: ['site', 'device'] },
  'Recordings stopped': { columns: ['time', 'stopped'], tags: ['site', 'device'] },
  'Recording lag': { columns: ['time', 'lag'], tags: ['site', 'device'] },
  'Gateway CPU, memory and disk': {
    columns: ['time', 'cpu', 'memory', 'disk'],
    tags: ['site', 'agent'],
  },
  'Gateway temperature': { columns: ['time', 'temperature'], tags: ['site', 'agent'] },
  "Agents' backlog": { columns: ['time', 'spool', 'queue', 'in flight'], tags: ['site', 'agent'] },
  'Records dropped from spools': { columns: ['time', 'dropped'], tags: ['site', 'agent'] },
  'Response time by site, daily': { columns: ['time', 'mean'], tags: ['site'] },
  "Agents' uptime": { columns: ['time', 'uptime'], tags: ['site', 'agent'] },
};

const SITES = ['plant-1', 'plant-2'];
const MINUTE = 60_000;
const DAY = 86_400_000;

/** Grafana's duration units (rangeutil): s, m, h, d, w. */
function durationMs(text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text);
  if (!match) throw new Error(`not a Grafana duration: ${text}`);
  const unit = { s: 1000, m: MINUTE, h: 3_600_000, d: DAY, w: 7 * DAY }[match[2] as 's'];
  return Number(match[1]) * unit;
}

/** Grafana's escaping of a value inside a regex (templateSrv, influx datasource). */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** Grafana's $__interval: range / max data points, rounded to a nice step, at least min. */
function interval(rangeMs: number, minMs: number): string {
  const raw = Math.max(rangeMs / 1000, minMs);
  const steps = [15_000, 30_000, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE];
  const ms = steps.find((s) => s >= raw) ?? 3_600_000;
  return ms % MINUTE === 0 ? `${ms / MINUTE}m` : `${ms / 1000}s`;
}

function substitute(panel: Panel, query: string, now: number, sites: string[]): string {
  const rangeMs = durationMs(panel.timeFrom ?? dashboard.time.from.replace('now-', ''));
  const from = now - rangeMs;
  const minMs = durationMs(panel.interval ?? '15s');
  return query
    .replaceAll('$timeFilter', `time >= ${from}ms and time <= ${now}ms`)
    .replaceAll('$__interval', interval(rangeMs, minMs))
    .replaceAll('$site', `(${sites.map(regexEscape).join('|')})`);
}

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

const noInfluxd = skipReason(influxd);

describe.skipIf(noInfluxd)(titled('the Grafana dashboard vigil-fleet.json', noInfluxd), () => {
  let server: RunningInfluxd;
  let store: InfluxMetricsStore;
  const now = Date.now();

  async function influxql(q: string): Promise<{ series?: Series[]; error?: string }> {
    const url = `${server.url}/query?db=${datasource.jsonData.dbName}&epoch=ms&q=${encodeURIComponent(q)}`;
    const body = (await (await fetch(url)).json()) as {
      results?: { series?: Series[]; error?: string }[];
      error?: string;
    };
    if (body.error) return { error: body.error };
    return body.results?.[0] ?? {};
  }

  beforeAll(async () => {
    server = await startInfluxd();
    store = new InfluxMetricsStore({ url: server.url, database: datasource.jsonData.dbName });
    await store.start();
    const checkDevice = validator(DeviceMetrics);
    const checkHealth = validator(AgentHealth);
    const points: MetricPoint[] = [];
    let seq = 0;
    // Two sites, each a gateway with three cameras and a recorder: readings every 2 min
    // over the last 2 hours, and at noon on each of the 3 days before (for the daily rollup).
    const times = [
      ...Array.from({ length: 60 }, (_, i) => now - i * 2 * MINUTE),
      ...[1, 2, 3].map((d) => Math.floor(now / DAY) * DAY - d * DAY + DAY / 2),
    ];
    for (const [s, siteId] of SITES.entries()) {
      const agentId = `gw-${s + 1}`;
      for (const [i, at] of times.entries()) {
        const ts = new Date(at).toISOString();
        for (const deviceId of ['cam-01', 'cam-02', 'cam-03', 'nvr-01']) {
          const nvr = deviceId.startsWith('nvr');
          const values: DeviceMetricValues = {
            up: true,
            responseMs: 10 + ((i * 7 + deviceId.length * 3 + s) % 40),
            clockOffsetS: (i % 5) - 2,
            profiles: 2,
            ...(nvr
              ? {
                  channels: 16,
                  streamsUp: 16,
                  recordingLagS: i % 3,
                  recordingsStopped: i % 20 === 0 ? 1 : 0,
                  storageUsedPct: 60 + s,
                  storages: 2,
                  ...(i % 30 === 0 ? { retentionDays: 31.5 - s } : {}),
                }
              : {}),
          };
          const message = {
            v: 1 as const,
            siteId,
            agentId,
            seq: seq++,
            ts,
            deviceId,
            kind: nvr ? ('nvr' as const) : ('camera' as const),
            values,
          };
          const checked = checkDevice(message);
          if (!checked.ok) throw new Error(checked.errors.join('; '));
          points.push(devicePoint(checked.value));
        }
        const health = {
          ...agentHealthExample,
          siteId,
          agentId,
          seq: seq++,
          ts,
          lastPollAt: ts,
          uptimeS: 3600 + i * 120,
          devices: { total: 4, up: 3, degraded: 0, down: 1, unknown: 0 },
          lastOkPollAt: { 'cam-01': ts },
          gateway: { ...agentHealthExample.gateway, temperatureC: 50 + s },
        };
        const checked = checkHealth(health);
        if (!checked.ok) throw new Error(checked.errors.join('; '));
        points.push(agentPoint(checked.value));
      }
    }
    await store.write(points);
    // The rollups the broker maintains in the background, done now (docs/METRICS.md).
    await store.settle();
  }, 120_000);

  afterAll(async () => {
    await store?.stop();
    await server?.stop();
  });

  it('is provisioned for the datasource the compose file sets up', () => {
    expect(datasource).toMatchObject({ uid: 'vigil-influxdb', type: 'influxdb' });
    const queried = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThanOrEqual(10);
    for (const panel of queried) {
      expect(panel.datasource?.uid, panel.title).toBe(datasource.uid);
      for (const target of panel.targets ?? []) {
        expect(target.datasource.uid, panel.title).toBe(datasource.uid);
        expect(target.rawQuery, panel.title).toBe(true);
      }
    }
    // Every panel has its expectation, and every expectation its panel.
    expect(queried.map((p) => p.title).sort()).toEqual(Object.keys(expected).sort());
  });

  it('lists the sites Vigil wrote in its site variable', async () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'site')!;
    const result = await influxql(variable.query);
    expect(result.error).toBeUndefined();
    const values = (result.series?.[0]?.values ?? []).map((row) => row[1]);
    expect(values).toEqual(SITES);
  });

  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  it.each(panels.map((p) => [p.title, p] as const))(
    'panel "%s" answers with its columns',
    async (title, panel) => {
      for (const target of panel.targets ?? []) {
        for (const sites of [SITES, ['plant-2']]) {
          const query = substitute(panel, target.query, now, sites);
          expect(query, title).not.toMatch(/\$\w/);
          const result = await influxql(query);
          expect(result.error, `${title}: ${query}`).toBeUndefined();
          const series = result.series ?? [];
          expect(series.length, `${title} returned no series: ${query}`).toBeGreaterThan(0);
          const want = expected[title]!;
          for (const one of series) {
            expect(one.columns, title).toEqual(want.columns);
            expect(Object.keys(one.tags ?? {}).sort(), title).toEqual([...want.tags].sort());
            expect(
              one.values.some((row) => row.slice(1).some((v) => v !== null)),
              title,
            ).toBe(true);
            // The site filter holds: only the chosen sites' series come back.
            if (one.tags?.site) expect(sites, title).toContain(one.tags.site);
          }
        }
      }
    },
  );
});
