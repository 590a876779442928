/**
 * Discovery beside the configured list, against the simulator's WS-Discovery responder
 * on loopback and a real broker: `adopt: auto` polls the devices nobody configured with
 * the site's default account and lists them in the birth; `adopt: approve` lists them in
 * the birth for the NOC and leaves them alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { discoveredId } from '../../../agent/adoption.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { SimSite } from '../../../sim/site.js';
import { endpointOf } from '../../../sim/discovery.js';
import {
  ONVIF,
  SITE,
  startBroker,
  tempDir,
  Watcher,
  writeAgentConfig,
  type Seen,
  type TempDir,
  type TestBroker,
} from './harness.js';

let broker: TestBroker;
let site: SimSite;
let dir: TempDir;
let watcher: Watcher;
let agent: Agent | null = null;

beforeEach(async () => {
  broker = await startBroker();
  site = new SimSite({
    siteId: SITE,
    cameras: 3,
    nvrs: 1,
    nvrChannels: 2,
    credentials: ONVIF,
    discovery: { address: '127.0.0.1', port: 0, multicast: false },
  });
  await site.start();
  dir = await tempDir();
  watcher = new Watcher();
  await watcher.start(broker.url);
});

afterEach(async () => {
  await agent?.stop();
  agent = null;
  await watcher.stop();
  await site.stop();
  await broker.stop();
  await dir.remove();
});

async function startAgent(adopt: 'auto' | 'approve'): Promise<void> {
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
      `  port: ${site.discoveryPort}`,
      '  waitS: 0.3',
      '  intervalS: 60',
    ],
  });
  agent = new Agent({
    config: await loadConfig(path),
    log: new MemoryLogger(),
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
});
