/**
 * A camera that refuses the agent's credentials, through the real broker (MQTT, journal,
 * pipeline, SQLite, HTTP API): a general ticket "monitoring credentials rejected", no
 * time down in its outage timeline nor in the inspection report's availability, the
 * ticket resolved when the credentials work again. The same for an agent from before
 * issue 13, which sent it as down/auth-failed; a camera really down beside them keeps its
 * emergency ticket and its outage time.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import { inspectionPath, type InspectionReport } from '../../../shared/api/inspection.js';
import { deviceOutagesPath, type DeviceOutages } from '../../../shared/api/outages.js';
import type { Ticket } from '../../../shared/api/tickets.js';
import {
  deviceStateExample,
  type DeviceState,
  type Reason,
} from '../../../shared/messages/device-state.js';
import { topics } from '../../../shared/topics.js';
import type { Message } from '../../../shared/wording/messages.js';
import { say } from '../../../shared/wording/render.js';
import { connectAgent, loginToken, startTestBroker } from '../../helpers/broker.js';

const SITE = 'site-a';
const AGENT = 'gw-01';
const MIN = 60_000;
const REFUSED: Reason = {
  code: 'auth-failed',
  message:
    'monitoring credentials rejected (identity check: the device refused the credentials (400 Bad Request - Sender not authorized)). The device answers, so it is not down',
};
/** What an agent before issue 13 sent: its poll ended at the refusal, as a failure. */
const OLD_REFUSED: Reason = {
  code: 'auth-failed',
  message: 'the device refused the credentials (400 Bad Request - Sender not authorized)',
};
const UNREACHABLE: Reason = { code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.13:80' };

// A whole month in the past, so the report's period is over and holds every state.
const now = new Date();
const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
const period = new Date(monthStart).toISOString().slice(0, 7);
const t0 = monthStart + 24 * 60 * MIN;
const at = (minute: number) => new Date(t0 + minute * MIN).toISOString();

describe('refused monitoring credentials through the real broker', () => {
  let broker: RunningBroker;
  let client: MqttClient;
  let token = '';
  let seq = 0;

  async function publish(
    device: string,
    minute: number,
    status: DeviceState['status'],
    reasons: Reason[],
  ) {
    const state: DeviceState = {
      ...deviceStateExample,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts: at(minute),
      deviceId: device,
      name: `Camera ${device}`,
      xaddr: `http://192.0.2.${device.slice(-2)}/onvif/device_service`,
      status,
      since: at(minute),
      reasons,
    };
    await client.publishAsync(topics.deviceState(SITE, device), JSON.stringify(state), { qos: 1 });
    await broker.pipeline.idle();
  }

  async function get<T>(path: string): Promise<T> {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  }

  const ticketsOf = async (device: string) =>
    (await get<Ticket[]>('/api/tickets?status=all')).filter((t) => t.deviceId === device);

  beforeAll(async () => {
    broker = await startTestBroker();
    token = await loginToken(broker);
    client = await connectAgent(broker, await broker.agents.add(SITE, AGENT));
    for (const device of ['cam-11', 'cam-12', 'cam-13']) await publish(device, 0, 'up', []);
    // cam-11: today's agent; cam-12: an agent from before issue 13; cam-13: really down.
    await publish('cam-11', 10, 'degraded', [REFUSED]);
    await publish('cam-12', 10, 'down', [OLD_REFUSED]);
    await publish('cam-13', 10, 'down', [UNREACHABLE]);
  });

  afterAll(async () => {
    await client?.endAsync(true);
    await broker?.stop();
  });

  it('opens a general ticket titled with the refused credentials, no emergency', async () => {
    for (const device of ['cam-11', 'cam-12']) {
      const tickets = await ticketsOf(device);
      expect(
        tickets.map((t) => [t.fault, t.priority, t.status]),
        device,
      ).toEqual([['degraded:auth-failed', 'general', 'open']]);
      expect(tickets[0]!.title, device).toBe(
        `Camera "Camera ${device}" (${device}): monitoring credentials rejected`,
      );
      expect(say(tickets[0]!.titleMessage as Message, 'zh-CN'), device).toBe(
        `摄像机“Camera ${device}”（${device}）：监控账号密码被拒绝`,
      );
      expect(tickets[0]!.timeline[0]!.text, device).toMatch(/Update the device's password/);
    }
    // An older agent's down/auth-failed reads as degraded in the device list.
    const devices = await get<{ id: string; status: string }[]>(`/api/devices?site=${SITE}`);
    expect(devices.find((d) => d.id === 'cam-12')?.status).toBe('degraded');
    const real = await ticketsOf('cam-13');
    expect(real.map((t) => [t.fault, t.priority])).toEqual([['device-down', 'emergency']]);
  });

  it('resolves it when the credentials work again, and counts no time down', async () => {
    for (const device of ['cam-11', 'cam-12', 'cam-13']) await publish(device, 70, 'up', []);
    for (const device of ['cam-11', 'cam-12']) {
      const [ticket] = await ticketsOf(device);
      expect(ticket?.status, device).toBe('resolved');
      const timeline = await get<DeviceOutages>(
        deviceOutagesPath(device, { from: at(0), to: at(120), code: 'auth-failed', site: SITE }),
      );
      expect(timeline.downS, device).toBe(0);
      expect(timeline.down, device).toEqual([]);
      // The refusal itself is on the timeline, as the hour it lasted.
      expect(timeline.channels[0]?.gapS, device).toBe(3600);
    }
    const down = await get<DeviceOutages>(
      deviceOutagesPath('cam-13', { from: at(0), to: at(120), code: 'unreachable', site: SITE }),
    );
    expect(down.channels[0]?.gapS).toBe(3600);

    const report = await get<InspectionReport>(inspectionPath(SITE, period));
    const of = (device: string) => report.devices.find((d) => d.deviceId === device)!;
    for (const device of ['cam-11', 'cam-12']) {
      expect(of(device).outages, device).toEqual({ count: 0, totalS: 0, longestS: 0 });
      expect(of(device).availabilityPct, device).toBe(100);
    }
    expect(of('cam-13').outages).toMatchObject({ count: 1, totalS: 3600 });
    expect(of('cam-13').availabilityPct).toBeLessThan(100);
  });
});
