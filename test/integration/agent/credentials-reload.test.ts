/**
 * The whole agent (real broker, simulated camera, 1 s polls) with a wrong password for a
 * camera: it is degraded, its credentials are tried twice and then left alone for
 * checks.credentialsRetryS (30 min), counted on the simulator's wire; the corrected
 * password in a reloaded configuration (SIGHUP) is tried at once, not after that wait.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import type { SimRequestLogEntry } from '../../../shared/api/sim.js';
import { eventually } from '../../helpers/eventually.js';
import { startTestbed, writeAgentConfig, type Seen, type Testbed } from './harness.js';

let bed: Testbed;
let agent: Agent | null = null;

beforeEach(async () => {
  bed = await startTestbed({ cameras: 1, nvrs: 0, seed: 7 });
});

afterEach(async () => {
  await agent?.stop();
  agent = null;
  await bed.stop();
});

const isState = (id: string, status: string) => (m: Seen) =>
  m.parsed.kind === 'deviceState' && m.payload.deviceId === id && m.payload.status === status;

/** A request that carried credentials the device refused: one failed login for a lockout. */
const failedLogin = (r: SimRequestLogEntry): boolean =>
  !r.authenticated && /wrong username or password/.test(r.detail ?? '');

it('a wrong password is tried twice, then waits; the corrected one is tried at the reload', async () => {
  const { site, watcher, broker, dir } = bed;
  const camera = site.devices()[0]!;
  const wrong = await writeAgentConfig(dir.path, broker.url, site.devices(), {
    devicePasswords: { [camera.id]: 'not-the-password' },
  });
  agent = new Agent({
    config: await loadConfig(wrong),
    log: new MemoryLogger(),
    version: '0.1.0-test',
    gateway: { sample: async () => ({ cpuLoadPct: 3, memUsedPct: 40, diskUsedPct: 20 }) },
  });
  await agent.start();
  await watcher.waitFor(isState(camera.id, 'degraded'), { timeoutMs: 5000 });
  const refused = () => site.requests(camera.id).filter(failedLogin).length;
  await eventually('the second try refused', () => refused() >= 2);
  // Five more polls of 1 s: the clock is asked each time, the credentials are not.
  const polled = () =>
    site.requests(camera.id).filter((r) => r.operation === 'GetSystemDateAndTime');
  const before = polled().length;
  await eventually('five more polls', () => polled().length >= before + 5, 10_000);
  expect(refused()).toBe(2);

  // The password corrected in the configuration file, then SIGHUP: tried at once.
  const right = await writeAgentConfig(dir.path, broker.url, site.devices());
  const reloadedAt = Date.now();
  expect(await agent.reload(await loadConfig(right))).toBe('applied');
  await watcher.waitFor(isState(camera.id, 'up'), { since: reloadedAt, timeoutMs: 3000 });
  expect(refused()).toBe(2);
});
