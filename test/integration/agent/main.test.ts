/** `vigil agent --config FILE` from start to SIGTERM, against a real broker and a simulated site. */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemoryLogger } from '../../../agent/log.js';
import { main } from '../../../agent/main.js';
import type { SimSite } from '../../../sim/site.js';
import {
  AGENT,
  MQTT_PASSWORD,
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
  bed = await startTestbed({ cameras: 2, nvrs: 1, nvrChannels: 2 });
  ({ broker, site, dir, watcher } = bed);
});

afterEach(() => bed.stop());

it('prints one ready line, and on SIGTERM publishes offline, disconnects and exits 0', async () => {
  const path = await writeAgentConfig(dir.path, broker.url, site.devices());
  const log = new MemoryLogger();
  const signals = new EventEmitter();
  let exited: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (exited = resolve));
  await main(['--config', path], {
    log,
    signals,
    exit: (code) => exited(code),
    print: () => undefined,
    printError: () => undefined,
  });

  const ready = log.lines.filter((l) => l.message.startsWith('vigil agent: ready'));
  expect(ready).toHaveLength(1);
  expect(ready[0]?.message).toBe(
    `vigil agent: ready (site ${SITE}, agent ${AGENT}, 3 device(s), broker ${broker.url})`,
  );
  await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online');
  for (const device of site.devices()) {
    await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceState' && m.payload.deviceId === device.id,
    );
  }

  signals.emit('SIGTERM', 'SIGTERM');
  expect(await exit).toBe(0);
  const bye = await watcher.waitFor(
    (m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'offline',
  );
  expect(bye.payload.reason).toBe('shutdown');
  // The agent's connection is gone, and it ended with DISCONNECT: no will follows.
  await new Promise((r) => setTimeout(r, 300));
  expect(broker.clients.has(`${SITE}.${AGENT}`)).toBe(false);
  expect(watcher.of('agentStatus').filter((m) => m.payload.reason === 'connection-lost')).toEqual(
    [],
  );
  expect(log.text()).not.toContain(MQTT_PASSWORD);
  expect(watcher.invalid).toEqual([]);
});
