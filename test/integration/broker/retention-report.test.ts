/**
 * A month's inspection report with retention as the agent measures it: readings every poll
 * without `retentionDays`, and one an hour with it (agent/checks/retention.ts), turned into
 * points by the broker's own devicePoint and stored in the embedded metrics store. The
 * report's weekly retention is the least measured in each week (the agent already sends the
 * least of an NVR's channels), its advice fires for the week below the goal, and a recorder
 * that says 1970-01-01 (no retention measured) gets no trend and no advice, not 20,000 days.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { siteExample, type Site } from '../../../shared/api/sites.js';
import type { DeviceMetrics } from '../../../shared/messages/device-metrics.js';
import { EmbeddedMetricsStore } from '../../../broker/metrics/embedded.js';
import { devicePoint } from '../../../broker/metrics/points.js';
import type { MetricPoint } from '../../../broker/metrics/store.js';
import { inspectionReport } from '../../../broker/inspection/report.js';
import { camera } from './detect/desk-fixture.js';

const DAY = 86_400_000;
const POLL_MS = 5 * 60_000;
const HOUR = 3_600_000;
const siteId = 'demo-site';
const from = Date.parse('2026-11-01T00:00:00Z');
const to = Date.parse('2026-12-01T00:00:00Z');
const site: Site = { ...siteExample, id: siteId, retentionGoalDays: 30, devices: [] };

/** Days the recorder keeps at `at`: 30, but 12 in the week of 16 to 22 November. */
function kept(at: number): number {
  const day = new Date(at).getUTCDate();
  return day >= 16 && day <= 22 ? 12 : 30;
}

describe("a month's report with measured retention", () => {
  let dir: string;
  let metrics: EmbeddedMetricsStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-retention-report-'));
    metrics = new EmbeddedMetricsStore({ file: join(dir, 'metrics.db') });
    await metrics.start();
    const points: MetricPoint[] = [];
    let seq = 0;
    const poll = (deviceId: string, at: number, values: Partial<DeviceMetrics['values']>) =>
      points.push(
        devicePoint({
          v: 1,
          siteId,
          agentId: 'gw-01',
          seq: seq++,
          ts: new Date(at).toISOString(),
          deviceId,
          kind: 'nvr',
          values: { up: true, recordingLagS: 2, recordingsStopped: 0, ...values },
        }),
      );
    for (let at = from; at < to; at += POLL_MS) {
      // The hourly measurement rides on one poll an hour; the others carry none.
      const hourly = at % HOUR === 0;
      poll('nvr-01', at, hourly ? { retentionDays: kept(at) } : {});
      poll('nvr-02', at, {});
    }
    await metrics.write(points);
  });

  afterEach(async () => {
    await metrics?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the weekly least retention and advises on the week below the goal', async () => {
    const report = await inspectionReport({
      site,
      period: '2026-11',
      // The readings are written in UTC days: the report's weeks and month in UTC too.
      timeZone: 'UTC',
      devices: [
        camera('nvr-01', { kind: 'nvr', name: 'Recorder', siteId }),
        camera('nvr-02', { kind: 'nvr', name: 'Budget recorder', siteId }),
      ],
      changes: [],
      maintenance: [],
      tickets: [],
      inventory: [],
      metrics,
      now: new Date(to + 2 * DAY),
    });
    const weeks = (id: string) => report.trends.filter((t) => t.deviceId === id);
    // ISO weeks from Monday 26 October (1 November is a Sunday) to Monday 30 November.
    expect(weeks('nvr-01').map((w) => [w.weekStart.slice(0, 10), w.retentionDays])).toEqual([
      ['2026-10-26', 30],
      ['2026-11-02', 30],
      ['2026-11-09', 30],
      ['2026-11-16', 12],
      ['2026-11-23', 30],
      ['2026-11-30', 30],
    ]);
    expect(weeks('nvr-02').map((w) => w.retentionDays)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    const advice = report.suggestions.filter((s) => s.rule === 'retention-below-goal');
    expect(advice).toEqual([
      expect.objectContaining({ deviceId: 'nvr-01', figures: { retentionDays: 12, goalDays: 30 } }),
    ]);
  });
});
