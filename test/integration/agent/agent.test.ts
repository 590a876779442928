/**
 * The agent against a real broker (Aedes on a free port, with a password check), a real
 * mqtt.js subscriber and a simulated site (4 cameras, 1 NVR). Intervals are short: 1 s
 * polls, 0.5 s request timeout, 0.5 s recheck.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import type { SimDeviceInfo, SimSite } from '../../../sim/site.js';
import { eventually } from '../../helpers/eventually.js';
import {
  AGENT,
  MQTT_PASSWORD,
  ONVIF,
  SITE,
  Watcher,
  startBroker,
  startTestbed,
  writeAgentConfig,
  type Seen,
  type TempDir,
  type TestBroker,
  type Testbed,
} from './harness.js';

const INTERVAL_MS = 1000;
const fastReconnect = { minMs: 100, maxMs: 400 };
const fakeGateway = { sample: async () => ({ cpuLoadPct: 3, memUsedPct: 40, diskUsedPct: 20 }) };

let broker: TestBroker;
let site: SimSite;
let dir: TempDir;
let watcher: Watcher;
let bed: Testbed;
let agent: Agent | null;
let log: MemoryLogger;
let devices: SimDeviceInfo[];

async function startAgent(
  options: {
    mqttPassword?: string;
    devicePasswords?: Record<string, string>;
    timeoutMs?: number;
    extra?: string[];
  } = {},
): Promise<Agent> {
  const path = await writeAgentConfig(dir.path, broker.url, devices, options);
  const config = await loadConfig(path);
  agent = new Agent({
    config,
    log,
    version: '0.1.0-test',
    gateway: fakeGateway,
    reconnect: fastReconnect,
  });
  await agent.start();
  return agent;
}

const isState = (id: string, status: string) => (m: Seen) =>
  m.parsed.kind === 'deviceState' && m.payload.deviceId === id && m.payload.status === status;

beforeEach(async () => {
  bed = await startTestbed({ cameras: 4, nvrs: 1, nvrChannels: 4, seed: 7 });
  ({ broker, site, dir, watcher } = bed);
  devices = site.devices();
  log = new MemoryLogger();
  agent = null;
});

afterEach(async () => {
  await agent?.stop();
  await bed.stop();
});

describe('agent with a simulated site', () => {
  it('announces itself, reports every device up with its identity, and sends valid readings', async () => {
    await startAgent();
    for (const device of devices) {
      const state = await watcher.waitFor(isState(device.id, 'up'));
      expect(state.retain).toBe(false); // live delivery; retained copies are checked below
      expect(state.payload).toMatchObject({
        siteId: SITE,
        agentId: AGENT,
        deviceId: device.id,
        kind: device.kind,
        xaddr: device.xaddr,
        reasons: [],
        identity: {
          manufacturer: device.manufacturer,
          model: device.model,
          firmwareVersion: device.firmwareVersion,
          serialNumber: device.serialNumber,
          hardwareId: device.hardwareId,
        },
      });
    }
    // Two polls' worth of readings for every device.
    const started = Date.now();
    for (const device of devices) {
      await watcher.waitFor(
        (m) => m.parsed.kind === 'deviceMetrics' && m.payload.deviceId === device.id,
        { since: started },
      );
      await watcher.waitFor(
        (m) =>
          m.parsed.kind === 'deviceMetrics' &&
          m.payload.deviceId === device.id &&
          m.at > started + INTERVAL_MS / 2,
        { since: started },
      );
    }
    for (const m of watcher.of('deviceMetrics')) {
      const values = m.payload.values as Record<string, number | boolean>;
      expect(values.up).toBe(true);
      expect(values.responseMs).toBeGreaterThanOrEqual(0);
      expect(typeof values.clockOffsetS).toBe('number');
      expect(values.profiles).toBeGreaterThanOrEqual(1);
    }
    const health = await watcher.waitFor((m) => m.parsed.kind === 'agentHealth');
    expect(health.payload).toMatchObject({ devices: { total: 5 }, checkErrors: 0 });

    // Every payload passed its shared schema; seq counts up by one per message.
    expect(watcher.invalid).toEqual([]);
    const seqs = watcher.messages
      .filter((m) => typeof m.payload.seq === 'number')
      .map((m) => m.payload.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);

    // A newcomer (the broker pipeline after a restart, a console) gets the retained birth and states.
    const late = new Watcher();
    await late.start(broker.url);
    try {
      const birth = await late.waitFor((m) => m.parsed.kind === 'agentStatus');
      expect(birth.retain).toBe(true);
      expect(birth.payload).toMatchObject({ state: 'online', version: '0.1.0-test' });
      expect((birth.payload.devices as { id: string }[]).map((d) => d.id).sort()).toEqual(
        devices.map((d) => d.id).sort(),
      );
      for (const device of devices) {
        const retained = await late.waitFor(
          (m) => m.parsed.kind === 'deviceState' && m.payload.deviceId === device.id,
        );
        expect(retained).toMatchObject({ retain: true, payload: { status: 'up' } });
      }
      expect(late.invalid).toEqual([]);
    } finally {
      await late.stop();
    }
  });

  it('reports an offline camera down (unreachable) within about two intervals, and up again', async () => {
    await startAgent();
    const camera = devices.find((d) => d.kind === 'camera')!;
    await watcher.waitFor(isState(camera.id, 'up'));
    await site.setFault(camera.id, { kind: 'offline' });
    const faultAt = Date.now();
    const down = await watcher.waitFor(isState(camera.id, 'down'), {
      since: faultAt,
      timeoutMs: 5000,
    });
    // The next poll fails, the recheck 0.5 s later confirms: about two intervals at most.
    expect(down.at - faultAt).toBeLessThan(2 * INTERVAL_MS + 1000);
    expect(down.payload.reasons).toEqual([{ code: 'unreachable', message: expect.any(String) }]);
    expect(down.payload.identity).toMatchObject({ serialNumber: camera.serialNumber });
    // A poll wholly within the outage reads nothing but up: false. (One already running
    // when the camera went offline may carry what it read before: a round trip, say.)
    const failed = await watcher.waitFor(
      (m) =>
        m.parsed.kind === 'deviceMetrics' &&
        m.payload.deviceId === camera.id &&
        (m.payload.values as { up: boolean }).up === false &&
        Object.keys(m.payload.values as object).length === 1,
      { since: faultAt },
    );
    expect(failed.payload.values).toEqual({ up: false });

    await site.clearFaults(camera.id);
    const clearedAt = Date.now();
    const up = await watcher.waitFor(isState(camera.id, 'up'), {
      since: clearedAt,
      timeoutMs: 8000,
    });
    // A down device is polled on a backoff (2, then 4 intervals): back up within that.
    expect(up.at - clearedAt).toBeLessThan(4 * INTERVAL_MS * 1.1 + 500);
    expect(watcher.invalid).toEqual([]);
  });

  it('reports a hanging camera down (timeout) while the other devices keep reporting on time', async () => {
    // A request timeout (2 s) longer than the interval (1 s): any wait on the hanging
    // camera would show as a gap of more than 2 s in another device's readings.
    const timeoutMs = 2000;
    // Only the checks every device answers in milliseconds: this is about the scheduler.
    await startAgent({ timeoutMs, extra: ['checks:', '  picture: false', '  stream: false'] });
    for (const device of devices) await watcher.waitFor(isState(device.id, 'up'));
    const camera = devices.find((d) => d.kind === 'camera')!;
    await site.setFault(camera.id, { kind: 'hang' });
    const faultAt = Date.now();
    const down = await watcher.waitFor(isState(camera.id, 'down'), {
      since: faultAt,
      timeoutMs: 10_000,
    });
    // Next poll (within an interval) times out, the recheck 0.5 s later times out too.
    expect(down.at - faultAt).toBeLessThan(INTERVAL_MS * 1.1 + 2 * timeoutMs + 500 + 1000);
    expect(down.payload.reasons).toEqual([{ code: 'timeout', message: expect.any(String) }]);

    // Let it hang a little longer, then look at everyone else's readings during the hang.
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));
    const hangEnd = Date.now();
    for (const device of devices.filter((d) => d.id !== camera.id)) {
      const times = watcher
        .of('deviceMetrics', device.id)
        .map((m) => m.at)
        .filter((t) => t >= faultAt - INTERVAL_MS && t <= hangEnd);
      expect(times.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < times.length; i++) {
        // Never a wait on the hanging camera: that would be a gap of its request timeout
        // (2 s); interval + 10 % jitter otherwise, the rest is room for a busy machine.
        expect(times[i]! - times[i - 1]!).toBeLessThan(timeoutMs);
      }
    }
    await site.clearFaults(camera.id);
    await watcher.waitFor(isState(camera.id, 'up'), { since: Date.now(), timeoutMs: 8000 });
  });

  it("the broker publishes the retained will when the agent's connection dies, and the agent comes back", async () => {
    await startAgent();
    await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online');
    const client = broker.clients.get(`${SITE}.${AGENT}`);
    expect(client).toBeDefined();
    const killedAt = Date.now();
    client!.conn.destroy();
    const will = await watcher.waitFor(
      (m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'offline',
      { since: killedAt },
    );
    expect(will.payload).toMatchObject({ siteId: SITE, agentId: AGENT, reason: 'connection-lost' });
    const back = await watcher.waitFor(
      (m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online',
      { since: killedAt },
    );
    expect(back.at).toBeGreaterThanOrEqual(will.at);

    // The retained status a newcomer sees is the latest: online again.
    const late = new Watcher();
    await late.start(broker.url);
    try {
      const status = await late.waitFor((m) => m.parsed.kind === 'agentStatus');
      expect(status.payload.state).toBe('online');
    } finally {
      await late.stop();
    }
  });

  it('on stop publishes a retained offline with reason shutdown', async () => {
    await startAgent();
    await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online');
    await agent!.stop();
    agent = null;
    const bye = await watcher.waitFor(
      (m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'offline',
    );
    expect(bye.payload.reason).toBe('shutdown');
    const late = new Watcher();
    await late.start(broker.url);
    try {
      const status = await late.waitFor((m) => m.parsed.kind === 'agentStatus');
      expect(status).toMatchObject({
        retain: true,
        payload: { state: 'offline', reason: 'shutdown' },
      });
    } finally {
      await late.stop();
    }
  });

  it('with a wrong MQTT password: not connected, a clear log line without the password, and retries that back off', async () => {
    const wrong = 'wrong-password-1234';
    await startAgent({ mqttPassword: wrong });
    // Five attempts (what 1.5 s gave with 100-400 ms backoff): the first gap at the
    // minimum, the last near the maximum, whatever the jitter.
    const ours = await eventually('five refused connection attempts', () => {
      const attempts = broker.attempts.filter((a) => a.clientId === `${SITE}.${AGENT}`);
      return attempts.length >= 5 && attempts;
    });
    expect(ours.length).toBeGreaterThanOrEqual(5);
    expect(ours.every((a) => !a.ok)).toBe(true);
    const gaps = ours.slice(1).map((a, i) => a.at - ours[i]!.at);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
    expect(watcher.of('agentStatus')).toEqual([]);

    const text = log.text();
    expect(text).toContain('VIGIL_MQTT_BAD_CREDENTIALS');
    expect(text).toContain('vigil broker add-agent');
    expect(text).toContain(`username "${SITE}.${AGENT}"`);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(MQTT_PASSWORD);
    expect(text).not.toContain(ONVIF.password);
  });

  it('reports a camera whose password was changed degraded with auth-failed, not down', async () => {
    const camera = devices.find((d) => d.kind === 'camera')!;
    await startAgent({ devicePasswords: { [camera.id]: 'not-the-password' } });
    const refused = await watcher.waitFor(isState(camera.id, 'degraded'), { timeoutMs: 5000 });
    expect(refused.payload.reasons).toEqual([
      { code: 'auth-failed', message: expect.stringMatching(/^monitoring credentials rejected/) },
    ]);
    // The device still answered its clock: up, with a response time.
    const reading = await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceMetrics' && m.payload.deviceId === camera.id,
    );
    expect(reading.payload.values).toMatchObject({ up: true, responseMs: expect.any(Number) });
    expect(watcher.of('deviceState', camera.id).map((m) => m.payload.status)).not.toContain('down');
    for (const other of devices.filter((d) => d.id !== camera.id)) {
      await watcher.waitFor(isState(other.id, 'up'));
    }
    expect(log.text()).not.toContain('not-the-password');
  });

  it('after a broker restart: reconnects, delivers what it queued, re-announces birth and states', async () => {
    await startAgent();
    for (const device of devices) await watcher.waitFor(isState(device.id, 'up'));
    const port = Number(new URL(broker.url).port);
    await watcher.stop();
    await broker.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500)); // polls go on; readings wait in memory

    // The new broker (empty: no retained messages, no sessions) lets the watcher in first.
    let admit: () => void = () => undefined;
    broker = await startBroker({ port, admitAgent: new Promise<void>((r) => (admit = r)) });
    watcher = new Watcher();
    await watcher.start(broker.url);
    const upAt = Date.now();
    admit();

    await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online');
    // Readings taken while the broker was away arrive, with the time they were taken
    // (the spool also sends again what was unacknowledged when the broker went).
    const queued = await watcher.waitFor(
      (m) =>
        m.parsed.kind === 'deviceMetrics' &&
        Date.parse(m.payload.ts as string) < upAt &&
        Date.parse(m.payload.ts as string) > downAt,
    );
    expect(queued.at).toBeGreaterThanOrEqual(upAt);
    // The broker lost the retained states; the agent sends them again.
    for (const device of devices) await watcher.waitFor(isState(device.id, 'up'));
    expect(watcher.invalid).toEqual([]);
  });
});
