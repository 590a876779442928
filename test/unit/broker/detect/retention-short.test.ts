/**
 * The retention-short rule in the detector alone: what it decides from a reading, and that
 * the readings without `retentionDays` (every poll of every device but one an hour) cost no
 * decision of the site and no save of the detector's state.
 */
import { describe, expect, it } from 'vitest';
import { Detector } from '../../../../broker/detect/detector.js';
import type { DetectStateStore } from '../../../../broker/detect/state-store.js';
import type { DeviceRegistry } from '../../../../broker/devices/registry.js';
import { RESOLVE_MARGIN_DAYS } from '../../../../broker/detect/rules/retention-short.js';
import { deviceExample } from '../../../../shared/api/devices.js';
import type { DeviceMetrics } from '../../../../shared/messages/device-metrics.js';

const nvr = { ...deviceExample, id: 'nvr-01', kind: 'nvr' as const, name: 'Recorder' };
const registry = {
  get: (siteId: string, id: string) => (id === nvr.id && siteId === nvr.siteId ? nvr : undefined),
  list: () => [nvr],
  put: () => undefined,
} as unknown as DeviceRegistry;

function reading(values: Partial<DeviceMetrics['values']>, deviceId = 'nvr-01'): DeviceMetrics {
  return {
    v: 1,
    siteId: nvr.siteId,
    agentId: nvr.agentId,
    seq: 1,
    ts: '2026-12-06T12:00:00.000Z',
    deviceId,
    kind: 'nvr',
    values: { up: true, ...values },
  };
}

async function detectorWith(goal: number | (() => number)) {
  let saves = 0;
  const state = {
    start: async () => {},
    load: async () => ({ conditions: [], failures: new Map(), agents: [] }),
    save: async () => void saves++,
  } as unknown as DetectStateStore;
  const detector = new Detector({
    registry,
    retentionGoalDays: typeof goal === 'number' ? () => goal : goal,
    state,
    now: () => new Date('2026-12-06T12:00:00.000Z'),
  });
  await detector.start();
  detector.agentSeen(nvr.siteId, nvr.agentId);
  detector.take();
  return { detector, saves: () => saves };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the retention-short rule', () => {
  it('asks for a general-priority condition below the goal, named for the NVR', async () => {
    const { detector } = await detectorWith(30);
    detector.deviceMetrics(reading({ retentionDays: 12.4 }));
    expect(detector.take()).toEqual([
      expect.objectContaining({
        kind: 'fault',
        deviceId: 'nvr-01',
        fault: 'degraded:retention-short',
        condition: 'degraded:retention-short',
        title: {
          code: 'title.retention-short',
          params: { kind: 'nvr', name: 'Recorder', device: 'nvr-01', days: 12.4, goal: 30 },
        },
        text: { code: 'detected.retention-short', params: { days: 12.4, goal: 30 } },
      }),
    ]);
    // Asked once: the next reading below the goal changes nothing.
    detector.deviceMetrics(reading({ retentionDays: 11 }));
    expect(detector.take()).toEqual([]);
    // Resolved a day above the goal (RESOLVE_MARGIN_DAYS), not at it.
    detector.deviceMetrics(reading({ retentionDays: 30.9 }));
    expect(detector.take()).toEqual([]);
    detector.deviceMetrics(reading({ retentionDays: 31 }));
    expect(detector.take()).toEqual([
      expect.objectContaining({
        kind: 'fault-cleared',
        fault: 'degraded:retention-short',
        text: { code: 'resolved.retention-ok', params: { days: 31, goal: 30 } },
      }),
    ]);
  });

  it('does not flap on a recorder sized just for the goal: one ticket for a day of readings', async () => {
    const { detector } = await detectorWith(30);
    expect(RESOLVE_MARGIN_DAYS).toBe(1);
    // Hourly readings of a recorder whose cameras' bitrate is higher by day than by night.
    const day = [30.1, 30.2, 30.0, 29.8, 29.7, 29.9, 30.1, 30.3, 29.9, 30.2, 30.4, 29.8];
    for (const days of [...day, ...day]) detector.deviceMetrics(reading({ retentionDays: days }));
    expect(detector.take().map((e) => e.kind)).toEqual(['fault']);
  });

  it('resolves an open ticket once the site asks for no retention', async () => {
    let goal = 30;
    const { detector } = await detectorWith(() => goal);
    detector.deviceMetrics(reading({ retentionDays: 12 }));
    goal = 0;
    detector.deviceMetrics(reading({ retentionDays: 12 }));
    expect(detector.take().map((e) => e.kind)).toEqual(['fault', 'fault-cleared']);
  });

  it('decides and saves nothing for the readings that carry no retention', async () => {
    const { detector, saves } = await detectorWith(30);
    await turn();
    const before = saves();
    for (let i = 0; i < 500; i++) detector.deviceMetrics(reading({ recordingLagS: 1 }));
    await turn();
    expect(detector.take()).toEqual([]);
    expect(saves()).toBe(before);
    detector.deviceMetrics(reading({ retentionDays: 3 }));
    await turn();
    expect(saves()).toBe(before + 1);
  });

  it('asks nothing where the site has no goal, or the NVR keeps enough', async () => {
    const none = (await detectorWith(0)).detector;
    none.deviceMetrics(reading({ retentionDays: 0.2 }));
    expect(none.take()).toEqual([]);
    const enough = (await detectorWith(30)).detector;
    enough.deviceMetrics(reading({ retentionDays: 30 }));
    enough.deviceMetrics(reading({ retentionDays: 45.5 }));
    expect(enough.take()).toEqual([]);
  });

  it('names an NVR the registry does not know yet by its id', async () => {
    const { detector } = await detectorWith(30);
    detector.deviceMetrics(reading({ retentionDays: 1 }, 'nvr-09'));
    const [opened] = detector.take();
    expect(opened).toMatchObject({
      deviceId: 'nvr-09',
      title: { params: { kind: 'nvr', name: 'nvr-09', device: 'nvr-09' } },
    });
  });
});
