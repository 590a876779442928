/**
 * Discovery beside the configured list, against the simulator's WS-Discovery responder
 * on loopback and a real broker: `adopt: auto` polls the devices nobody configured with
 * the site's default account and lists them in the birth; `adopt: approve` lists them in
 * the birth for the NOC and leaves them alone.
 */
import { createSocket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { discoveredId } from '../../../agent/adoption.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import type { SimSite } from '../../../sim/site.js';
import { endpointOf } from '../../../sim/discovery.js';
import {
  startTestbed,
  writeAgentConfig,
  type Seen,
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
let agent: Agent | null = null;

beforeEach(async () => {
  bed = await startTestbed({ cameras: 3, nvrs: 1, nvrChannels: 2, discovery: true });
  ({ broker, site, dir, watcher } = bed);
});

afterEach(async () => {
  await agent?.stop();
  agent = null;
  await bed.stop();
});

async function startAgent(
  adopt: 'auto' | 'approve',
  discoveryPort = site.discoveryPort,
  log = new MemoryLogger(),
): Promise<void> {
  const [configured] = site.devices();
  const path = await writeAgentConfig(dir.path, broker.url, [configured!], {
    intervalS: 1,
    extra: [
      'checks:',
      '  frozenPolls: 20',
      'discovery:',
      '  enabled: true',
      `  adopt: ${adopt}`,
      '  address: 127.0.0.1',
      `  port: ${discoveryPort}`,
      '  waitS: 0.3',
      '  intervalS: 60',
    ],
  });
  agent = new Agent({
    config: await loadConfig(path),
    log,
    gateway: { sample: async () => ({ cpuLoadPct: 1, memUsedPct: 1, diskUsedPct: 1 }) },
  });
  await agent.start();
}

/** The sim's stable endpoint reference gives the id the agent must use. */
function expectedIds(): Map<string, string> {
  const [configured, ...others] = site.devices();
  return new Map([
    [configured!.id, configured!.id],
    ...others.map((d): [string, string] => [
      d.xaddr,
      discoveredId({
        endpoint: endpointOf({ ...d, hardware: '', reachable: true }),
        xaddr: d.xaddr,
      }),
    ]),
  ]);
}

const birthWith =
  (predicate: (payload: Record<string, unknown>) => boolean) =>
  (m: Seen): boolean =>
    m.parsed.kind === 'agentStatus' && m.payload.state === 'online' && predicate(m.payload);

describe('discovery beside the configured list', () => {
  it('auto: polls every discovered device with the site account, under a stable id', async () => {
    await startAgent('auto');
    const devices = site.devices();
    const birth = await watcher.waitFor(
      birthWith((p) => (p.devices as unknown[]).length === devices.length),
    );
    const listed = birth.payload.devices as { id: string; xaddr: string; kind: string }[];
    const ids = expectedIds();
    for (const device of devices.slice(1)) {
      const entry = listed.find((d) => d.xaddr === device.xaddr);
      expect(entry?.id).toBe(ids.get(device.xaddr));
      expect(entry?.kind).toBe(device.kind);
    }
    expect(birth.payload.discovered).toBeUndefined();
    // Every adopted device is polled and found up with the default account.
    for (const entry of listed) {
      await watcher.waitFor(
        (m) =>
          m.parsed.kind === 'deviceState' &&
          m.payload.deviceId === entry.id &&
          m.payload.status === 'up',
        { timeoutMs: 15_000 },
      );
    }
    // A second probe finds the same devices: no new ids, no new birth.
    const births = watcher.of('agentStatus').length;
    await agent!.discoverNow();
    expect(Object.keys(agent!.statuses()).sort()).toEqual(listed.map((d) => d.id).sort());
    expect(watcher.of('agentStatus').length).toBe(births);
    expect(watcher.invalid).toEqual([]);
  }, 30_000);

  it('approve: lists discovered devices in the birth and does not poll them', async () => {
    await startAgent('approve');
    const [configured, ...others] = site.devices();
    const birth = await watcher.waitFor(
      birthWith((p) => Array.isArray(p.discovered) && p.discovered.length === others.length),
    );
    expect((birth.payload.devices as { id: string }[]).map((d) => d.id)).toEqual([configured!.id]);
    const pending = birth.payload.discovered as {
      xaddr: string;
      suggestedId: string;
      kind: string;
    }[];
    const ids = expectedIds();
    expect(pending.map((d) => d.xaddr).sort()).toEqual(others.map((d) => d.xaddr).sort());
    for (const entry of pending) expect(entry.suggestedId).toBe(ids.get(entry.xaddr));
    expect(pending.find((d) => d.kind === 'nvr')?.xaddr).toBe(
      others.find((d) => d.kind === 'nvr')?.xaddr,
    );
    // Polls go on for the configured device only.
    await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceState' && m.payload.deviceId === configured!.id,
      { timeoutMs: 10_000 },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const polled = new Set(watcher.of('deviceMetrics').map((m) => m.payload.deviceId));
    expect([...polled]).toEqual([configured!.id]);
    expect(Object.keys(agent!.statuses())).toEqual([configured!.id]);
    const requests = others.flatMap((d) => site.requests(d.id));
    expect(requests).toEqual([]);
    expect(watcher.invalid).toEqual([]);
  }, 30_000);

  it('auto: adopted devices survive a restart, polled at once even when silent to the Probe', async () => {
    await startAgent('auto');
    const devices = site.devices();
    const [, dead, ...alive] = devices;
    const ids = expectedIds();
    await watcher.waitFor(birthWith((p) => (p.devices as unknown[]).length === devices.length));
    await watcher.waitFor(
      (m) =>
        m.parsed.kind === 'deviceState' &&
        m.payload.deviceId === ids.get(dead!.xaddr) &&
        m.payload.status === 'up',
      { timeoutMs: 15_000 },
    );
    await agent!.stop();
    agent = null;
    const saved = JSON.parse(await readFile(join(dir.path, 'discovered.json'), 'utf8')) as {
      adopted: { id: string }[];
    };
    expect(saved.adopted.map((d) => d.id).sort()).toEqual(
      devices
        .slice(1)
        .map((d) => ids.get(d.xaddr))
        .sort(),
    );

    // One adopted camera dies; the others live on, but nothing answers the Probe any more
    // (a port where nobody listens: multicast filtered, a new switch).
    await site.setFault(dead!.id, { kind: 'offline' });
    const silent = await unusedUdpPort();
    const restartedAt = Date.now();
    const log = new MemoryLogger();
    await startAgent('auto', silent, log);
    const births = () =>
      watcher.messages.filter((m) => m.at >= restartedAt && birthWith(() => true)(m));
    await watcher.waitFor(
      birthWith(() => true),
      { since: restartedAt },
    );
    // The first birth of the new run already lists every device.
    const first = births()[0]!.payload.devices as { id: string }[];
    expect(first.map((d) => d.id).sort()).toEqual([...ids.values()].sort());
    expect(log.text()).toMatch(/3 device\(s\) adopted by an earlier discovery, polled again/);
    const down = await watcher.waitFor(
      (m) =>
        m.parsed.kind === 'deviceState' &&
        m.payload.deviceId === ids.get(dead!.xaddr) &&
        m.payload.status === 'down',
      { since: restartedAt, timeoutMs: 15_000 },
    );
    expect((down.payload.reasons as { code: string }[])[0]?.code).toBe('unreachable');
    for (const device of alive) {
      await watcher.waitFor(
        (m) =>
          m.parsed.kind === 'deviceState' &&
          m.payload.deviceId === ids.get(device.xaddr) &&
          m.payload.status === 'up',
        { since: restartedAt, timeoutMs: 15_000 },
      );
    }
    expect(Object.keys(agent!.statuses()).sort()).toEqual([...ids.values()].sort());
    expect(watcher.invalid).toEqual([]);
  }, 45_000);

  it('approve: the list waiting for approval is in the first birth after a restart', async () => {
    await startAgent('approve');
    const [, ...others] = site.devices();
    await watcher.waitFor(
      birthWith((p) => Array.isArray(p.discovered) && p.discovered.length === others.length),
    );
    await agent!.stop();
    agent = null;
    const restartedAt = Date.now();
    await startAgent('approve', await unusedUdpPort());
    const birth = await watcher.waitFor(
      birthWith(() => true),
      { since: restartedAt },
    );
    const pending = birth.payload.discovered as { xaddr: string }[];
    expect(pending.map((d) => d.xaddr).sort()).toEqual(others.map((d) => d.xaddr).sort());
    expect(Object.keys(agent!.statuses())).toEqual([site.devices()[0]!.id]);
  }, 30_000);

  it('a damaged discovered.json is set aside with a log line; the agent starts', async () => {
    await writeFile(join(dir.path, 'discovered.json'), '{"version":1,"adopted":[{"id":');
    const log = new MemoryLogger();
    await startAgent('auto', site.discoveryPort, log);
    expect(log.text()).toMatch(
      /discovered\.json is damaged .*set aside as .*discovered\.json\.corrupt/,
    );
    // The Probe adopts the devices again.
    await watcher.waitFor(
      birthWith((p) => (p.devices as unknown[]).length === site.devices().length),
    );
    expect(await readFile(join(dir.path, 'discovered.json.corrupt'), 'utf8')).toContain('adopted');
  }, 30_000);
});

/** A UDP port nobody listens on (bound, then closed). */
async function unusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
