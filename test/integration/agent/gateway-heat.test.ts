/**
 * The gateway's temperature from the file the agent config names, through the whole
 * path: the agent's gateway adapter reads it (Linux thermal-zone format), its health
 * message carries it over MQTT to the real broker, which stores it and opens the
 * gateway-resources ticket naming the heat; cooling down resolves it. Then the same with
 * the simulator's gateway-hot fault writing the file, as in the demo.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import type { RunningBroker } from '../../../broker/app.js';
import { simRoutes } from '../../../shared/api/sim.js';
import { SimSite } from '../../../sim/site.js';
import { startTestBroker } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

const SITE = 'heat-site';
const AGENT = 'gw-01';
const FAULT = 'degraded:gateway-resources';

let broker: RunningBroker | null = null;
let agent: Agent | null = null;
let site: SimSite | null = null;
let dir: TempDir | null = null;

afterEach(async () => {
  await agent?.stop();
  agent = null;
  await site?.stop();
  site = null;
  await broker?.stop();
  broker = null;
  await dir?.remove();
  dir = null;
});

/**
 * The broker, with this machine's own memory, disk and CPU kept out of the rule (a busy
 * test machine must not open the ticket first), and an agent watching no device, sending
 * its health every 2 s (a sample takes 1 to 2 s here) with its temperature from `gateway-temperature` in `dir`.
 */
async function start(): Promise<{ broker: RunningBroker; file: string; log: MemoryLogger }> {
  dir = await tempDir('vigil-gateway-heat-');
  broker = await startTestBroker({
    settings: {
      detect: { gatewayMemPct: 101, gatewayDiskPct: 101, gatewayCpuReports: 1_000_000 },
    },
  });
  const account = await broker.agents.add(SITE, AGENT);
  const configFile = join(dir.path, 'agent.yaml');
  await writeFile(
    configFile,
    stringify({
      siteId: SITE,
      agentId: AGENT,
      mqtt: { url: broker.mqttUrl, username: account.username, password: account.password },
      polling: { healthIntervalS: 2 },
      // Relative to the configuration file, as every path of it.
      gateway: { temperatureFile: 'gateway-temperature' },
      onvif: { username: 'monitor', password: 'unused-here' },
      devices: [],
    }),
    { mode: 0o600 },
  );
  const file = join(dir.path, 'gateway-temperature');
  const log = new MemoryLogger();
  const config = await loadConfig(configFile);
  expect(config.gateway.temperatureFile).toBe(file);
  agent = new Agent({ config, log });
  return { broker, file, log };
}

async function gatewayTickets(b: RunningBroker, status: 'open' | 'all' = 'open') {
  return (await b.tickets.list({ status })).filter((t) => t.siteId === SITE && t.fault === FAULT);
}

describe('gateway heat read through the gateway adapter', () => {
  it('a hot reading in the temperature file opens the ticket naming it; cooling down resolves it', async () => {
    const { broker: b, file, log } = await start();
    await writeFile(file, '47000\n');
    await agent?.start();

    // The reading arrives and is stored; 47 °C is no problem.
    const since = Date.now();
    await eventually('a stored agent reading with temperatureC 47', async () => {
      await b.metricsWriter.flush();
      const points = await b.metrics.query({
        measurement: 'agent',
        tags: { site: SITE, agent: AGENT },
        from: new Date(since - 60_000),
        to: new Date(Date.now() + 60_000),
      });
      return points.some((p) => p.fields.temperatureC === 47);
    });
    expect(await gatewayTickets(b)).toEqual([]);

    await writeFile(file, '91500\n');
    const [ticket] = await eventually('the gateway-resources ticket', async () => {
      const open = await gatewayTickets(b);
      return open.length > 0 && open;
    });
    expect(ticket).toMatchObject({ priority: 'general', deviceId: null });
    expect(ticket?.title).toBe(
      `Site gateway ${AGENT} is overheating: temperature 91.5 °C (limit 80 °C)`,
    );

    // 77 °C is within the hysteresis (5 °C below 80): the ticket stays open.
    await writeFile(file, '77000\n');
    const seenAt = Date.now();
    await eventually('two more health messages', async () => {
      await b.metricsWriter.flush();
      const points = await b.metrics.query({
        measurement: 'agent',
        tags: { site: SITE, agent: AGENT },
        from: new Date(seenAt),
        to: new Date(Date.now() + 60_000),
      });
      return points.filter((p) => p.fields.temperatureC === 77).length >= 2;
    });
    expect((await gatewayTickets(b)).map((t) => t.id)).toEqual([ticket?.id]);

    await writeFile(file, '52000\n');
    await eventually('the ticket resolved', async () => (await gatewayTickets(b)).length === 0);
    expect((await gatewayTickets(b, 'all'))[0]?.status).toBe('resolved');
    expect(log.text()).not.toMatch(/cannot read the temperature/);
  });

  it('a file that is not a temperature gives none, said once in the log: never an alert', async () => {
    const { broker: b, file, log } = await start();
    await writeFile(file, 'hot\n');
    await agent?.start();
    await eventually('the warning', () =>
      log.lines.some((l) => /cannot read the temperature in .*gateway-temperature/.test(l.message)),
    );
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await gatewayTickets(b)).toEqual([]);
    expect(log.lines.filter((l) => /cannot read the temperature/.test(l.message))).toHaveLength(1);
  });

  it("the simulator's gateway-hot fault heats the file the agent reads, as in the demo", async () => {
    const { broker: b, file } = await start();
    site = new SimSite({
      cameras: 0,
      nvrs: 0,
      credentials: { username: 'admin', password: 'sim-secret-1' },
      gatewayTemperatureFile: file,
    });
    await site.start();
    await agent?.start();
    const control = site.controlUrl;

    const heated = await fetch(`${control}${simRoutes.gatewayFaults}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'gateway-hot', temperatureC: 92 }),
    });
    expect(heated.status).toBe(201);
    expect(await heated.json()).toMatchObject({ temperatureC: 92, temperatureFile: file });
    const [ticket] = await eventually('the gateway-resources ticket', async () => {
      const open = await gatewayTickets(b);
      return open.length > 0 && open;
    });
    expect(ticket?.title).toMatch(/overheating: temperature 92 °C \(limit 80 °C\)/);

    const cooled = await fetch(`${control}${simRoutes.gatewayFaults}`, { method: 'DELETE' });
    expect(await cooled.json()).toMatchObject({ temperatureC: 45, faults: [] });
    await eventually('the ticket resolved', async () => (await gatewayTickets(b)).length === 0);

    const refused = await fetch(`${control}${simRoutes.gatewayFaults}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'gateway-hot', temperatureC: 'very' }),
    });
    expect(refused.status).toBe(400);
  });
});
