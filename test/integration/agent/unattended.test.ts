/**
 * What keeps a gateway running unvisited, against a real broker and a simulated site:
 * SIGHUP reloads the configuration, the field engineer's `check` and `discover` tools,
 * and remote commands from the NOC over MQTT answered on the responses topic.
 */
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { main, type MainIo } from '../../../agent/main.js';
import { probe } from '../../../agent/onvif/discovery.js';
import type { AgentCommand } from '../../../shared/messages/agent-command.js';
import { topics } from '../../../shared/topics.js';
import type { SimSite } from '../../../sim/site.js';
import { eventually } from '../../helpers/eventually.js';
import {
  AGENT,
  MQTT_PASSWORD,
  ONVIF,
  SITE,
  startTestbed,
  writeAgentConfig,
  type TempDir,
  type TestBroker,
  type Testbed,
  type Watcher,
} from './harness.js';

let broker: TestBroker;
let site: SimSite;
let dir: TempDir;
let watcher: Watcher;
let bed: Testbed;

beforeEach(async () => {
  bed = await startTestbed({ cameras: 2, nvrs: 1, nvrChannels: 2, discovery: true });
  ({ broker, site, dir, watcher } = bed);
});

afterEach(() => bed.stop());

function io(): MainIo & { out: string[]; signals: EventEmitter; exited: Promise<number> } {
  const out: string[] = [];
  const signals = new EventEmitter();
  let exited: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (exited = resolve));
  return {
    log: new MemoryLogger(),
    signals,
    exit: (code) => exited(code),
    print: (text) => out.push(text),
    printError: (text) => out.push(text),
    out,
    exited: exit,
  };
}

describe('vigil agent check', () => {
  it('runs every check once and prints the result; exit status says up or down', async () => {
    const nvr = site.devices().find((d) => d.kind === 'nvr')!;
    const ok = io();
    process.exitCode = undefined;
    await main(
      [
        'check',
        nvr.xaddr,
        '--user',
        ONVIF.username,
        '--password',
        ONVIF.password,
        '--kind',
        'nvr',
        '--json',
      ],
      ok,
    );
    const report = JSON.parse(ok.out.join('\n')) as {
      status: string;
      values: Record<string, number>;
    };
    expect(report.status).toBe('up');
    expect(report.values).toMatchObject({ channels: 2, streamsUp: 2, picturesOk: 2, storages: 1 });
    expect(process.exitCode).toBe(0);

    const camera = site.devices().find((d) => d.kind === 'camera')!;
    await site.setFault(camera.id, { kind: 'auth-changed', password: 'rotated' });
    const down = io();
    process.env.VIGIL_ONVIF_PASSWORD = ONVIF.password;
    try {
      await main(['check', camera.xaddr, '--user', ONVIF.username], down);
    } finally {
      delete process.env.VIGIL_ONVIF_PASSWORD;
    }
    // The camera answers, so it is degraded (exit 3), and the reason names the credentials.
    expect(down.out[0]).toBe(`${camera.xaddr}: degraded`);
    expect(down.out.join('\n')).toMatch(/! auth-failed: monitoring credentials rejected/);
    expect(down.out.join('\n')).not.toContain(ONVIF.password);
    expect(process.exitCode).toBe(3);
    process.exitCode = undefined;
  });
});

describe('vigil agent discover', () => {
  it('lists every device that answers the probe, with its name', async () => {
    const out = io();
    await main(
      ['discover', '--address', '127.0.0.1', '--port', String(site.discoveryPort), '--wait', '0.5'],
      out,
    );
    for (const device of site.devices()) {
      expect(out.out.some((line) => line.startsWith(device.xaddr))).toBe(true);
    }
  });
});

describe('SIGHUP', () => {
  it('applies a new device list without a new session; a broken file keeps the old one', async () => {
    const [first, ...others] = site.devices();
    const path = await writeAgentConfig(dir.path, broker.url, [first!]);
    const process = io();
    await main(['--config', path], process);
    await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceState' && m.payload.deviceId === first!.id,
    );
    const connects = broker.attempts.filter((a) => a.clientId === `${SITE}.${AGENT}`).length;

    await writeAgentConfig(dir.path, broker.url, [first!, ...others]);
    const reloadedAt = Date.now();
    process.signals.emit('SIGHUP', 'SIGHUP');
    const birth = await watcher.waitFor(
      (m) =>
        m.parsed.kind === 'agentStatus' &&
        m.payload.state === 'online' &&
        (m.payload.devices as unknown[]).length === 1 + others.length,
      { since: reloadedAt },
    );
    expect(birth).toBeTruthy();
    for (const device of others) {
      await watcher.waitFor(
        (m) => m.parsed.kind === 'deviceState' && m.payload.deviceId === device.id,
        { since: reloadedAt },
      );
    }
    expect(broker.attempts.filter((a) => a.clientId === `${SITE}.${AGENT}`).length).toBe(connects);

    await writeFile(path, (await readFile(path, 'utf8')).replace(/siteId: .*/, 'siteId: "a/b"'));
    process.signals.emit('SIGHUP', 'SIGHUP');
    const log = await eventually('the refused reload logged', () => {
      const text = (process.log as MemoryLogger).text();
      return /SIGHUP: the configuration was not reloaded/.test(text) && text;
    });
    expect(log).toMatch(/SIGHUP: the configuration was not reloaded, the previous one stays/);
    expect(log).toMatch(/siteId/);

    process.signals.emit('SIGTERM', 'SIGTERM');
    expect(await process.exited).toBe(0);
  });
});

describe('remote commands', () => {
  it('poll-now, report-config (without secrets) and rediscover, answered by id', async () => {
    const path = await writeAgentConfig(dir.path, broker.url, site.devices(), { intervalS: 60 });
    const agent = new Agent({
      config: await loadConfig(path),
      log: new MemoryLogger(),
      gateway: { sample: async () => ({ cpuLoadPct: 1, memUsedPct: 1, diskUsedPct: 1 }) },
      discover: () => probe({ address: '127.0.0.1', port: site.discoveryPort, waitMs: 300 }),
    });
    // The agent subscribes to its commands on connect; the first command waits for that.
    const commandsTopic = topics.agentCommands(SITE, AGENT);
    const subscribed = new Promise<void>((resolve) =>
      broker.aedes.on('subscribe', (subscriptions, client) => {
        if (
          client.id === `${SITE}.${AGENT}` &&
          subscriptions.some((s) => s.topic === commandsTopic)
        )
          resolve();
      }),
    );
    await agent.start();
    const noc = await mqtt.connectAsync(broker.url, {
      clientId: 'noc',
      username: 'noc',
      password: MQTT_PASSWORD,
    });
    try {
      await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online');
      await subscribed;
      const send = async (command: Omit<AgentCommand, 'v' | 'ts'>) => {
        const sentAt = Date.now();
        await noc.publishAsync(
          topics.agentCommands(SITE, AGENT),
          JSON.stringify({ v: 1, ts: new Date().toISOString(), ...command }),
          { qos: 1 },
        );
        return watcher.waitFor(
          (m) => m.parsed.kind === 'agentResponses' && m.payload.commandId === command.id,
          { since: sentAt },
        );
      };
      const camera = site.devices().find((d) => d.kind === 'camera')!;
      const polled = await send({ id: 'c-1', command: 'poll-now', deviceId: camera.id });
      expect(polled.payload).toMatchObject({
        ok: true,
        result: { polled: [{ deviceId: camera.id, status: 'up' }] },
      });

      const config = await send({ id: 'c-2', command: 'report-config' });
      expect(config.payload.ok).toBe(true);
      const text = JSON.stringify(config.payload);
      expect(text).not.toContain(MQTT_PASSWORD);
      expect(text).not.toContain(ONVIF.password);
      expect(text).toContain(camera.xaddr);

      const found = await send({ id: 'c-3', command: 'rediscover' });
      const list = (found.payload.result as { found: { xaddr: string; known: boolean }[] }).found;
      expect(list.map((d) => d.xaddr).sort()).toEqual(
        site
          .devices()
          .map((d) => d.xaddr)
          .sort(),
      );
      expect(list.every((d) => d.known)).toBe(true);

      const unknown = await send({ id: 'c-4', command: 'poll-now', deviceId: 'nope' });
      expect(unknown.payload).toMatchObject({
        ok: false,
        error: expect.stringMatching(/no device "nope"/),
      });
      expect(watcher.invalid).toEqual([]);
    } finally {
      await noc.endAsync(true);
      await agent.stop();
    }
  });
});
