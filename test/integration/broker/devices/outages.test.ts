/**
 * The outage timeline end to end in a real broker (startBroker: MQTT, journal, pipeline,
 * SQLite, HTTP API): an agent's state messages open and close reason spans per channel,
 * the spans survive a restart (an open one stays open), GET /api/devices/:id/outages
 * clips them to the period with per-channel totals, and spans past the retention are
 * pruned at start.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { UserStore } from '../../../../broker/api/users.js';
import { DeviceOutages, deviceOutagesPath } from '../../../../shared/api/outages.js';
import { deviceMetricsExample } from '../../../../shared/messages/device-metrics.js';
import {
  deviceStateExample,
  type DeviceState,
  type Reason,
} from '../../../../shared/messages/device-state.js';
import { topics } from '../../../../shared/topics.js';
import { validator } from '../../../../shared/validate.js';
import { connectAgent, loginToken, startTestBroker } from '../../../helpers/broker.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

const SITE = 'site-a';
const AGENT = 'gw-01';
const NVR = 'nvr-01';
const ADMIN_PASSWORD = 'test-admin-password';
const MIN = 60_000;
const checkAnswer = validator(DeviceOutages);

const stopped = (channel: string): Reason => ({
  code: 'recording-stopped',
  message: `${channel}: newest recording 200 s old (limit 120 s, status Idle)`,
  channel,
});

describe('outage history of an NVR through the real broker', () => {
  let dir: TempDir;
  let broker: RunningBroker;
  let client: MqttClient | null = null;
  let credentials: { username: string; password: string };
  let seq = 0;
  let token = '';
  // Every state is dated in the past, one minute apart, from t0 on.
  const t0 = Date.now() - 6 * 60 * MIN;
  const at = (minute: number) => new Date(t0 + minute * MIN).toISOString();

  async function start(): Promise<void> {
    broker = await startTestBroker({ dataDir: dir.path, adminPassword: ADMIN_PASSWORD });
    token = await loginToken(broker, ADMIN_PASSWORD);
    client = await connectAgent(broker, credentials);
  }

  async function stop(): Promise<void> {
    await client?.endAsync(true);
    client = null;
    await broker.stop();
  }

  async function publishState(
    minute: number | string,
    status: DeviceState['status'],
    reasons: Reason[],
    recordings?: DeviceState['recordings'],
  ): Promise<void> {
    const ts = typeof minute === 'string' ? minute : at(minute);
    const state: DeviceState = {
      ...deviceStateExample,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts,
      deviceId: NVR,
      name: 'Recorder',
      kind: 'nvr',
      status,
      since: ts,
      reasons,
      ...(recordings ? { recordings } : {}),
    };
    await client!.publishAsync(topics.deviceState(SITE, NVR), JSON.stringify(state), { qos: 1 });
    await broker.pipeline.idle();
  }

  async function outages(
    from: string,
    to: string,
    extra: { code?: string } = {},
  ): Promise<DeviceOutages> {
    const response = await fetch(
      `${broker.httpUrl}${deviceOutagesPath(NVR, { from, to, ...extra })}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as DeviceOutages;
    expect(checkAnswer(body).ok).toBe(true);
    return body;
  }

  beforeEach(async () => {
    dir = await tempDir('vigil-outages-');
    seq = 0;
    // The account exists before the first start (AgentStore over the same vigil.db).
    const first = await startTestBroker({ dataDir: dir.path, adminPassword: ADMIN_PASSWORD });
    credentials = await first.agents.add(SITE, AGENT);
    await first.stop();
    await start();
  });

  afterEach(async () => {
    await stop();
    await dir.remove();
  });

  it('opens a span per channel, closes it when the reason clears, keeps it open across a restart and while the NVR is down', async () => {
    await publishState(0, 'up', []);
    // The agent reports 4 video channels (its media check).
    await client!.publishAsync(
      topics.deviceMetrics(SITE, NVR),
      JSON.stringify({
        ...deviceMetricsExample,
        siteId: SITE,
        agentId: AGENT,
        seq: seq++,
        ts: at(0),
        deviceId: NVR,
        kind: 'nvr',
        values: { up: true, responseMs: 5, channels: 4 },
      }),
      { qos: 1 },
    );
    await publishState(10, 'degraded', [stopped('REC_CH02')]);
    await publishState(20, 'degraded', [stopped('REC_CH02'), stopped('REC_CH03')]);
    await publishState(30, 'degraded', [stopped('REC_CH03')]); // CH02 records again
    // The same state again (a retained re-send) changes nothing.
    await publishState(35, 'degraded', [stopped('REC_CH03')]);

    let body = await outages(at(0), at(60));
    expect(body.channelCount).toBe(4);
    expect(body.channels.map((c) => c.channel)).toEqual(['REC_CH02', 'REC_CH03']);
    const [ch2, ch3] = body.channels as [
      DeviceOutages['channels'][0],
      DeviceOutages['channels'][0],
    ];
    expect(ch2.spans).toEqual([
      expect.objectContaining({
        started: at(10),
        ended: at(30),
        open: false,
        startedBefore: false,
      }),
    ]);
    expect(ch2.gapS).toBe(20 * 60);
    expect(ch2.share).toBeCloseTo(20 / 60);
    expect(ch2.open).toBe(false);
    // Open: runs to the period's end (which is before now).
    expect(ch3.spans).toEqual([
      expect.objectContaining({ started: at(20), ended: at(60), open: true }),
    ]);
    expect(ch3.open).toBe(true);
    expect(ch3.gapS).toBe(40 * 60);

    // A restart keeps both the closed and the open span.
    await stop();
    await start();
    body = await outages(at(0), at(60));
    expect(body.channels.find((c) => c.channel === 'REC_CH03')?.open).toBe(true);
    expect(body.channels.find((c) => c.channel === 'REC_CH02')?.gapS).toBe(20 * 60);

    // The NVR goes down: CH03's gap does not end (nobody knows it records); the time down
    // is a span of its own and counts in every channel's gap, once.
    await publishState(40, 'down', [{ code: 'unreachable', message: 'connect ECONNREFUSED' }]);
    await publishState(50, 'degraded', [stopped('REC_CH03')]);
    await publishState(55, 'up', []);
    body = await outages(at(0), at(60));
    expect(body.down).toEqual([
      expect.objectContaining({ code: 'unreachable', started: at(40), ended: at(50) }),
    ]);
    expect(body.downS).toBe(10 * 60);
    const after = Object.fromEntries(body.channels.map((c) => [c.channel, c]));
    expect(after.REC_CH03?.spans).toEqual([
      expect.objectContaining({ started: at(20), ended: at(55), open: false }),
    ]);
    expect(after.REC_CH03?.gapS).toBe(35 * 60);
    // CH02: 20 min stopped + 10 min with the NVR down.
    expect(after.REC_CH02?.gapS).toBe(30 * 60);

    // Clipping: a period from minute 25 to 45 cuts CH02's span at its start.
    body = await outages(at(25), at(45));
    const clipped = body.channels.find((c) => c.channel === 'REC_CH02')!;
    expect(clipped.spans).toEqual([
      expect.objectContaining({ started: at(25), ended: at(30), startedBefore: true }),
    ]);
    expect(clipped.gapS).toBe(5 * 60 + 5 * 60);
    expect(clipped.share).toBeCloseTo(10 / 20);

    // Another code, and a period outside every span: the channels stay, without gaps.
    body = await outages(at(-120), at(-60));
    expect(body.channels.map((c) => [c.channel, c.gapS])).toEqual([
      ['REC_CH02', 0],
      ['REC_CH03', 0],
    ]);
    body = await outages(at(0), at(60), { code: 'unreachable' });
    expect(body.channels).toEqual([
      expect.objectContaining({ channel: '', gapS: 10 * 60, open: false }),
    ]);
  });

  it('prunes the spans that ended before the retention (400 days) at start; open ones stay', async () => {
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    await publishState(daysAgo(500), 'degraded', [stopped('REC_CH01')]);
    await publishState(daysAgo(450), 'degraded', [stopped('REC_CH04')]); // CH01 ended 450 days ago
    await publishState(daysAgo(300), 'degraded', [stopped('REC_CH04'), stopped('REC_CH05')]);
    await publishState(daysAgo(200), 'degraded', [stopped('REC_CH04')]); // CH05 ended 200 days ago
    let body = await outages(daysAgo(480), new Date(Date.now() - 100 * 86_400_000).toISOString());
    expect(body.retentionDays).toBe(400);
    expect(body.channels.map((c) => c.channel)).toEqual(['REC_CH01', 'REC_CH04', 'REC_CH05']);

    await stop();
    await start();
    body = await outages(daysAgo(399), new Date().toISOString());
    // CH01 is gone; CH04 (open since 450 days) and CH05 (ended 200 days ago) stay.
    expect(body.channels.map((c) => c.channel)).toEqual(['REC_CH04', 'REC_CH05']);
    expect(body.channels[0]?.open).toBe(true);
  });

  it('gives every recording the agent lists a channel, named by its source, clean ones with no gap', async () => {
    const recordings = [1, 2, 3, 4].map((n) => ({ token: `REC_CH0${n}`, source: `Camera ${n}` }));
    await publishState(0, 'up', [], recordings);
    await publishState(10, 'degraded', [stopped('REC_CH02')], recordings);
    // A state without the list (the agent restarted, not polled yet) keeps the one known.
    await publishState(20, 'up', []);
    const body = await outages(at(0), at(60));
    expect(body.allChannels).toBe(true);
    expect(body.channels.map((c) => [c.channel, c.name, c.gapS])).toEqual([
      ['REC_CH01', 'Camera 1', 0],
      ['REC_CH02', 'Camera 2', 10 * 60],
      ['REC_CH03', 'Camera 3', 0],
      ['REC_CH04', 'Camera 4', 0],
    ]);
  });

  it('answers 404 for an unknown device, 400 for an empty period, 401 without a session', async () => {
    await publishState(0, 'up', []);
    const get = (path: string, auth = true) =>
      fetch(
        `${broker.httpUrl}${path}`,
        auth ? { headers: { authorization: `Bearer ${token}` } } : {},
      );
    expect((await get(deviceOutagesPath('nvr-99', { from: at(0), to: at(60) }))).status).toBe(404);
    expect((await get(deviceOutagesPath(NVR, { from: at(60), to: at(0) }))).status).toBe(400);
    expect((await get(deviceOutagesPath(NVR, { from: at(0), to: at(60) }), false)).status).toBe(
      401,
    );
    // A viewer may read it.
    await new UserStore(broker.store).setUser('vera', 'viewer', 'viewer password here');
    const viewer = await fetch(`${broker.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vera', password: 'viewer password here' }),
    });
    const viewerToken = ((await viewer.json()) as { token: string }).token;
    const asViewer = await fetch(
      `${broker.httpUrl}${deviceOutagesPath(NVR, { from: at(0), to: at(60) })}`,
      { headers: { authorization: `Bearer ${viewerToken}` } },
    );
    expect(asViewer.status).toBe(200);
  });
});
