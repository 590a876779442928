/**
 * The NOC's command path end to end over a real broker: POST
 * /api/sites/:site/agents/:agent/commands -> CommandSender publishes on the agent's
 * commands topic -> the agent runs it -> its answer on the responses topic -> the HTTP
 * answer. Only operators may send; an agent that does not answer gives 504.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { commandPath } from '../../../shared/api/commands.js';
import { SimSite } from '../../../sim/site.js';
import {
  AGENT,
  ONVIF,
  SITE,
  startBroker,
  startCommandApi,
  tempDir,
  writeAgentConfig,
  type TempDir,
  type TestBroker,
} from './harness.js';

let broker: TestBroker;
let site: SimSite;
let dir: TempDir;

beforeEach(async () => {
  broker = await startBroker();
  site = new SimSite({ siteId: SITE, cameras: 1, nvrs: 0, credentials: ONVIF });
  await site.start();
  dir = await tempDir();
});

afterEach(async () => {
  await site.stop();
  await broker.stop();
  await dir.remove();
});

it('an operator polls a camera now through the API and reads the agent answer', async () => {
  const path = await writeAgentConfig(dir.path, broker.url, site.devices(), { intervalS: 60 });
  const agent = new Agent({
    config: await loadConfig(path),
    log: new MemoryLogger(),
    gateway: { sample: async () => ({ cpuLoadPct: 1, memUsedPct: 1, diskUsedPct: 1 }) },
  });
  // The broker side: the command route, its sender publishing through a client of ours.
  const { app, stop } = await startCommandApi(broker.url);
  try {
    await agent.start();
    await new Promise((r) => setTimeout(r, 500));
    const camera = site.devices()[0]!;
    const answer = await app.inject({
      method: 'POST',
      url: commandPath(SITE, AGENT),
      headers: { 'x-role': 'operator' },
      payload: { command: 'poll-now', deviceId: camera.id },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      ok: true,
      command: 'poll-now',
      result: { polled: [{ deviceId: camera.id, status: 'up' }] },
    });

    const viewer = await app.inject({
      method: 'POST',
      url: commandPath(SITE, AGENT),
      headers: { 'x-role': 'viewer' },
      payload: { command: 'report-config' },
    });
    expect(viewer.statusCode).toBe(403);

    const nobody = await app.inject({
      method: 'POST',
      url: commandPath(SITE, 'gw-99'),
      headers: { 'x-role': 'admin' },
      payload: { command: 'report-config', waitS: 1 },
    });
    expect(nobody.statusCode).toBe(504);
    expect(nobody.json()).toMatchObject({ code: 'VIGIL_AGENT_NO_ANSWER' });
  } finally {
    await stop();
    await agent.stop();
  }
});
