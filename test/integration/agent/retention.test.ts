/**
 * Retention measured against the simulator over real sockets (the agent's checks, poll by
 * poll, on a clock the test moves: ./sim-poller.ts), then judged by the whole broker (real
 * Aedes, mqtt.js, the pipeline and the desk): a recorder that keeps 12 days where the site's
 * contract says 20 gets a general ticket, which resolves once it keeps enough again. The
 * simulator's recorders are full and keep 30 days (sim/recording.ts: their oldest data
 * moves on with the clock, which is how the check knows they overwrite); the
 * retention-short fault keeps fewer; budget-nvr says 1970-01-01 for every start.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import type { PollResult } from '../../../agent/poll.js';
import type { DeviceMetrics } from '../../../shared/messages/device-metrics.js';
import { topics } from '../../../shared/topics.js';
import type { SimSite } from '../../../sim/site.js';
import { startTestBroker } from '../../helpers/broker.js';
import { codes, fakeClockSite, simPoller } from './sim-poller.js';

const QUARTER_HOUR_S = 900;
const HOUR_S = 3600;

let site: SimSite;
let stopSite: () => Promise<void>;

beforeAll(async () => {
  ({ site, stop: stopSite } = await fakeClockSite('retention', [
    { kind: 'nvr', channels: 3 },
    { kind: 'nvr', channels: 2, personality: 'budget-nvr' },
  ]));
});

afterAll(async () => {
  await stopSite();
});

afterEach(async () => {
  for (const device of site.devices()) await site.clearFaults(device.id);
});

const nvrs = () => site.devices().filter((d) => d.kind === 'nvr');
const standard = () => nvrs()[0]!.id;
const budget = () => nvrs()[1]!.id;

describe('retention measured on the simulator', () => {
  it('reads the 30 days a full recorder keeps at its second poll (its oldest data moved on), then hourly', async () => {
    const nvr = simPoller(site, standard(), QUARTER_HOUR_S);
    const polls: PollResult[] = [];
    for (let i = 0; i < 6; i++) polls.push((await nvr.poll()).result);
    expect(polls.map(codes)).toEqual([[], [], [], [], [], []]);
    // Polls every 15 min: the first measurement has nothing to compare with, so the second
    // is at the next poll (15 min on) and then an hour later; nothing in between.
    expect(polls.map((p) => p.values.retentionDays)).toEqual([
      undefined,
      30,
      undefined,
      undefined,
      undefined,
      30,
    ]);
    expect(polls.every((p) => p.values.recordingLagS !== undefined)).toBe(true);
  });

  it('reads the days the retention-short fault leaves, and 30 again once it is gone', async () => {
    const nvr = simPoller(site, standard(), HOUR_S);
    await site.setFault(standard(), { kind: 'retention-short', days: 12 });
    expect((await nvr.poll()).result.values).not.toHaveProperty('retentionDays');
    expect((await nvr.poll()).result.values.retentionDays).toBeCloseTo(12, 1);
    // The simulator gives the footage back when the fault goes (its start moves back 18
    // days, which no recorder does): the check learns the recordings anew, and an hour
    // later they overwrite again.
    await site.clearFaults(standard());
    expect((await nvr.poll()).result.values).not.toHaveProperty('retentionDays');
    expect((await nvr.poll()).result.values.retentionDays).toBe(30);
  });

  it("counts on the recorder's own clock: two years behind, still 12 days", async () => {
    const nvr = simPoller(site, standard(), HOUR_S);
    await site.setFault(standard(), { kind: 'clock-drift', offsetS: -2 * 365 * 86_400 });
    await site.setFault(standard(), { kind: 'retention-short', days: 12 });
    await nvr.poll();
    const { result } = await nvr.poll();
    expect(codes(result)).toContain('clock-drift');
    expect(result.values.retentionDays).toBeCloseTo(12, 1);
  });

  it('sends no retention for a recorder that says 1970-01-01, and no reason either', async () => {
    const { result } = await simPoller(site, budget(), HOUR_S).poll();
    expect(codes(result)).toEqual([]);
    expect(result.values.recordingsStopped).toBe(0);
    expect(result.values).not.toHaveProperty('retentionDays');
  });
});

describe('retention short, from the recorder to the ticket desk', () => {
  let broker: RunningBroker;
  let client: MqttClient;
  let seq = 0;

  beforeAll(async () => {
    broker = await startTestBroker();
    await broker.desk.sites.put(site.siteId, { name: 'Retention site', retentionGoalDays: 20 });
    const agent = await broker.agents.add(site.siteId, 'gw-01');
    client = await connectAsync(broker.mqttUrl, {
      username: agent.username,
      password: agent.password,
      reconnectPeriod: 0,
    });
  });

  afterAll(async () => {
    await client?.endAsync(true);
    await broker?.stop();
  });

  /** The poll's readings as the agent publishes them, through the broker's whole path. */
  async function publish(id: string, result: PollResult): Promise<void> {
    const metrics: DeviceMetrics = {
      v: 1,
      siteId: site.siteId,
      agentId: 'gw-01',
      seq: seq++,
      ts: new Date().toISOString(),
      deviceId: id,
      kind: 'nvr',
      values: result.values,
    };
    await client.publishAsync(topics.deviceMetrics(site.siteId, id), JSON.stringify(metrics), {
      qos: 1,
    });
    await broker.pipeline.idle();
  }

  const tickets = (id: string) => broker.tickets.list({ status: 'all', deviceId: id });

  it('opens a general ticket below the goal and resolves it once the recorder keeps enough', async () => {
    const id = standard();
    const nvr = simPoller(site, id, QUARTER_HOUR_S);
    await site.setFault(id, { kind: 'retention-short', days: 12 });
    // The first measurement cannot tell a full recorder from a filling one: no ticket yet.
    await publish(id, (await nvr.poll()).result);
    expect(await tickets(id)).toEqual([]);
    await publish(id, (await nvr.poll()).result);
    expect(await tickets(id)).toEqual([
      expect.objectContaining({
        fault: 'degraded:retention-short',
        priority: 'general',
        status: 'open',
        title: `NVR "${id}" (${id}): recordings kept 12 days, the contract says 20`,
      }),
    ]);

    // The fault is gone, but the polls before the next hourly measurement say nothing of
    // it: the ticket stays open until the recorder is measured again.
    // (The simulator's cleared fault moves the start back, learned anew at the next hourly
    // measurement, decided at the one after.)
    await site.clearFaults(id);
    for (let i = 0; i < 7; i++) await publish(id, (await nvr.poll()).result);
    expect((await tickets(id)).map((t) => t.status)).toEqual(['open']);
    await publish(id, (await nvr.poll()).result);
    const [resolved] = await tickets(id);
    expect(resolved?.status).toBe('resolved');
    expect(resolved?.timeline.at(-1)?.text).toBe(
      'Resolved automatically: recordings kept 30 days, the contract says 20',
    );
  });
});
