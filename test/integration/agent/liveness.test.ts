/**
 * The liveness probe between polls (agent/liveness.ts) against the real simulator, a real
 * broker and a real subscriber. The poll interval is 10 minutes with no jitter: after the
 * first poll at start, any state the agent reports within these tests was set off by a
 * probe, and a down camera's backoff (20 minutes) never comes. Probes every 0.5 s with a
 * 300 ms deadline; every request of a full check has 1.5 s.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { eventually } from '../../helpers/eventually.js';
import type { SimDeviceInfo, SimSite } from '../../../sim/site.js';
import {
  startTestbed,
  writeAgentConfig,
  type Seen,
  type Testbed,
  type Watcher,
} from './harness.js';

const fakeGateway = { sample: async () => ({ cpuLoadPct: 3, memUsedPct: 40, diskUsedPct: 20 }) };

let bed: Testbed;
let site: SimSite;
let watcher: Watcher;
let agent: Agent | null;
let log: MemoryLogger;
let camera: SimDeviceInfo;

async function startAgent({
  timeoutMs = 1500,
  intervalS = 600,
  probeS = 0.5,
}: { timeoutMs?: number; intervalS?: number; probeS?: number } = {}): Promise<Agent> {
  const path = await writeAgentConfig(bed.dir.path, bed.broker.url, site.devices(), {
    timeoutMs,
    intervalS,
    extra: ['checks:', '  frozenPolls: 20', '  picture: false', '  stream: false'],
  });
  // The harness's polling section, with no jitter (the first poll at once, the next in
  // 10 minutes) and the probe's settings.
  const yaml = (await readFile(path, 'utf8'))
    .replace('  jitterPct: 10\n', '  jitterPct: 0\n')
    .replace('polling:\n', `polling:\n  probeS: ${probeS}\n  probeTimeoutMs: 300\n`);
  await writeFile(path, yaml);
  const config = await loadConfig(path);
  expect(config.polling).toMatchObject({ intervalS, probeS, probeTimeoutMs: 300 });
  agent = new Agent({ config, log, gateway: fakeGateway, reconnect: { minMs: 100, maxMs: 400 } });
  await agent.start();
  for (const device of site.devices()) await watcher.waitFor(isState(device.id, 'up'));
  return agent;
}

const isState = (id: string, status: string) => (m: Seen) =>
  m.parsed.kind === 'deviceState' && m.payload.deviceId === id && m.payload.status === status;

/** The camera's full checks, as their readings show (every poll publishes one). */
const checksOf = (id: string) => watcher.of('deviceMetrics', id);
const statesOf = (id: string) => watcher.of('deviceState', id).map((m) => m.payload.status);

beforeEach(async () => {
  bed = await startTestbed({ cameras: 2, nvrs: 0, seed: 11 });
  ({ site, watcher } = bed);
  camera = site.devices()[0]!;
  log = new MemoryLogger();
  agent = null;
});

afterEach(async () => {
  await agent?.stop();
  await bed.stop();
});

describe('liveness probe', () => {
  it('a refused camera: the probe asks for a full check at once, and that check alone confirms it down', async () => {
    await startAgent();
    expect(checksOf(camera.id)).toHaveLength(1); // the poll at start
    await site.setFault(camera.id, { kind: 'offline' });
    const down = await watcher.waitFor(isState(camera.id, 'down'), { since: Date.now() });
    expect(down.payload.reasons).toEqual([{ code: 'unreachable', message: expect.any(String) }]);
    // One full check, no recheck: the probe's failure was the first of the two.
    await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceMetrics' && m.payload.deviceId === camera.id,
      { since: down.at },
    );
    const failed = checksOf(camera.id).filter((m) => !(m.payload.values as { up: boolean }).up);
    expect(failed).toHaveLength(1);
    expect(statesOf(camera.id)).toEqual(['up', 'down']);
    // The other camera was never disturbed.
    expect(statesOf(site.devices()[1]!.id)).toEqual(['up']);
    expect(watcher.invalid).toEqual([]);
  });

  it('a hung camera (accepts, never answers) is caught by the probe deadline and confirmed down (timeout)', async () => {
    await startAgent();
    await site.setFault(camera.id, { kind: 'hang' });
    const down = await watcher.waitFor(isState(camera.id, 'down'), {
      since: Date.now(),
      timeoutMs: 15_000,
    });
    expect(down.payload.reasons).toEqual([{ code: 'timeout', message: expect.any(String) }]);
    expect(statesOf(camera.id)).toEqual(['up', 'down']);
  });

  it("a down camera's return is seen by the probe, without waiting for the down device's backoff", async () => {
    await startAgent();
    await site.setFault(camera.id, { kind: 'offline' });
    const down = await watcher.waitFor(isState(camera.id, 'down'), { since: Date.now() });
    await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceMetrics' && m.payload.deviceId === camera.id,
      { since: down.at },
    );
    // While it stays down, the probe keeps failing as expected: no extra full checks.
    const checksWhileDown = checksOf(camera.id).length;
    await site.clearFaults(camera.id);
    // Its next poll is 20 minutes away (the backoff); the probe sees it answer again.
    const up = await watcher.waitFor(isState(camera.id, 'up'), { since: Date.now() });
    expect(up.payload.reasons).toEqual([]);
    // The state goes out the moment the check decides; its readings may follow it. Then
    // no second check comes of it (a settle of two probe intervals).
    await eventually('the readings of the check that saw it back', () =>
      checksOf(camera.id).length > checksWhileDown ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // two probes (probeS 0.5)
    expect(checksOf(camera.id).length).toBe(checksWhileDown + 1);
    expect(statesOf(camera.id)).toEqual(['up', 'down', 'up']);
  });

  it('a probe failure the full check does not confirm reports nothing, and asks again only every 3 probes', async () => {
    // Every answer 800 ms late: the probe (300 ms) fails, the full check (1.5 s per
    // request; slow-response only beyond 2 s) finds the camera well.
    await startAgent();
    await site.setFault(camera.id, { kind: 'slow', delayMs: 800 });
    const since = Date.now();
    await watcher.waitFor(
      (m) => m.parsed.kind === 'deviceMetrics' && m.payload.deviceId === camera.id,
      { since, timeoutMs: 15_000 },
    );
    const checked = checksOf(camera.id).at(-1)!;
    expect((checked.payload.values as { up: boolean }).up).toBe(true);
    // The probe keeps failing (0.5 s apart, 6 probes in 3 s); the check it asked for found
    // the camera well, so it asks again only every third probe: at most 2 more checks.
    await new Promise((r) => setTimeout(r, 3000));
    expect(checksOf(camera.id).length).toBeLessThanOrEqual(4);
    expect(statesOf(camera.id)).toEqual(['up']);
    expect(watcher.invalid).toEqual([]);
  });

  it('a hang met by a poll, not a probe: the opening question is asked again once overdue, and the two unanswered make it down without a recheck, dated from the first', async () => {
    // Polls every 2 s, probes only every minute: the poll meets the hang first.
    await startAgent({ intervalS: 2, probeS: 60 });
    await site.setFault(camera.id, { kind: 'hang' });
    const since = Date.now();
    const down = await watcher.waitFor(isState(camera.id, 'down'), { since, timeoutMs: 15_000 });
    expect(down.payload.reasons).toEqual([
      { code: 'timeout', message: expect.stringContaining('asked again on a second request') },
    ]);
    // One failed poll, no recheck: its first request waited out its 1.5 s deadline, and
    // the second, sent once the first was 300 ms (the probe's deadline) overdue, its own.
    // The state goes out the moment the check decides and its readings may follow it (a
    // busy machine showed them later), so wait for them, then let a settle show no second.
    const failedChecks = () =>
      checksOf(camera.id).filter((m) => m.at >= since && !(m.payload.values as { up: boolean }).up);
    await eventually('the readings of the poll that met the hang', () =>
      failedChecks().length > 0 ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the next poll is the down device's backoff away
    expect(failedChecks()).toHaveLength(1);
    // Down since the first request was sent, not since the poll gave up on the second.
    const downSince = Date.parse(down.payload.since as string);
    expect(downSince).toBeGreaterThanOrEqual(since - 50);
    expect(downSince).toBeLessThanOrEqual(Date.parse(down.payload.ts as string) - 1700);
  });

  it('a camera slower than the probe but within the request deadline is asked twice and stays up', async () => {
    await startAgent({ intervalS: 2, probeS: 60 });
    await site.setFault(camera.id, { kind: 'slow', delayMs: 900 });
    const since = Date.now();
    // Two whole polls (every answer is 900 ms late, so a poll takes seconds): each one's
    // first request is overdue at 300 ms, and both requests answer.
    let after = since;
    for (let i = 0; i < 2; i++) {
      const poll = await watcher.waitFor(
        (m) => m.parsed.kind === 'deviceMetrics' && m.payload.deviceId === camera.id,
        { since: after + 1, timeoutMs: 30_000 },
      );
      after = poll.at;
    }
    const polls = checksOf(camera.id).filter((m) => m.at >= since);
    expect(polls.every((m) => (m.payload.values as { up: boolean }).up)).toBe(true);
    expect(statesOf(camera.id)).toEqual(['up']);
  });

  it('with the probe off, a hang met by a poll still waits for its recheck (the behaviour before the probe)', async () => {
    await startAgent({ intervalS: 2, probeS: 0 });
    await site.setFault(camera.id, { kind: 'hang' });
    const since = Date.now();
    const down = await watcher.waitFor(isState(camera.id, 'down'), { since, timeoutMs: 15_000 });
    const failed = checksOf(camera.id).filter(
      (m) => m.at >= since && !(m.payload.values as { up: boolean }).up,
    );
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(down.payload.reasons).toEqual([{ code: 'timeout', message: expect.any(String) }]);
  });
});
