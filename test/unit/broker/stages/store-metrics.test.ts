import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../../broker/metrics/store.js';
import { decodeStage } from '../../../../broker/stages/decode.js';
import { storeMetricsStage } from '../../../../broker/stages/store-metrics.js';
import { validateStage } from '../../../../broker/stages/validate.js';
import { context, healthMessage, metricsMessage, stateMessage } from './fixtures.js';

async function pointsOf(env: ReturnType<typeof metricsMessage>): Promise<MetricPoint[]> {
  const points: MetricPoint[] = [];
  const ctx = context(env);
  for (const stage of [
    decodeStage(),
    validateStage(),
    storeMetricsStage({ add: (p) => void points.push(...p) }),
  ]) {
    if ((await stage.run(ctx)) === 'stop') break;
  }
  return points;
}

describe('store-metrics', () => {
  it('turns a device reading into a point of measurement "device"', async () => {
    expect(await pointsOf(metricsMessage())).toEqual([
      {
        measurement: 'device',
        tags: { site: 'demo-site', agent: 'gw-01', device: 'cam-01', kind: 'camera' },
        fields: { up: true, responseMs: 12.4, clockOffsetS: -0.8, profiles: 2 },
        time: new Date('2026-11-26T08:03:30.004Z'),
      },
    ]);
  });

  it('leaves out the values a failed poll could not measure', async () => {
    const [point] = await pointsOf(metricsMessage({ up: false }));
    expect(point?.fields).toEqual({ up: false });
  });

  it('turns agent health into a point of measurement "agent"', async () => {
    expect(await pointsOf(healthMessage())).toEqual([
      {
        measurement: 'agent',
        tags: { site: 'demo-site', agent: 'gw-01' },
        fields: {
          uptimeS: 242.1,
          queueDepth: 0,
          checkErrors: 0,
          devicesTotal: 26,
          devicesUp: 25,
          devicesDegraded: 0,
          devicesDown: 1,
          devicesUnknown: 0,
          cpuLoadPct: 7.5,
          memUsedPct: 41.2,
          diskUsedPct: 23.9,
          temperatureC: 48,
          gatewayUptimeS: 864_000,
          lastPollAgeS: 0.69,
          spoolDepth: 3,
          spoolBytes: 1180,
          spoolOldestAgeS: 0.4,
          spoolDropped: 0,
          mqttConnected: 1,
          mqttInFlight: 1,
          lastOkPollMaxAgeS: 0.69,
          devicesNeverOk: 1,
        },
        time: new Date('2026-11-26T08:04:00.000Z'),
      },
    ]);
  });

  it('stores nothing for a state message', async () => {
    expect(await pointsOf(stateMessage())).toEqual([]);
  });
});
