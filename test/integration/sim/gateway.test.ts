/**
 * The simulator's site gateway (sim/gateway.ts) through its control API: the temperature
 * file in the kernel's millidegrees, heated by gateway-hot (for a while, with durationS),
 * cooled by DELETE and by a reset; a simulator started without the file says how to start
 * it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SimGateway,
  SimGatewayFault,
  simGatewayExample,
  simRoutes,
} from '../../../shared/api/sim.js';
import { validator } from '../../../shared/validate.js';
import { parseSimArgs } from '../../../sim/main.js';
import { SimSite } from '../../../sim/site.js';
import { eventually } from '../../helpers/eventually.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

let site: SimSite | null = null;
let dir: TempDir | null = null;
afterEach(async () => {
  await site?.stop();
  site = null;
  await dir?.remove();
  dir = null;
});

const credentials = { username: 'admin', password: 'sim-secret-1' };

async function call(path: string, method = 'GET', body?: unknown) {
  if (!site) throw new Error('no site');
  const response = await fetch(`${site.controlUrl}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the simulated gateway', () => {
  it('its schemas take their example and refuse a fault of another kind', () => {
    expect(validator(SimGateway)(simGatewayExample).ok).toBe(true);
    expect(validator(SimGatewayFault)({ kind: 'gateway-hot' }).ok).toBe(true);
    expect(validator(SimGatewayFault)({ kind: 'offline' }).ok).toBe(false);
    expect(validator(SimGatewayFault)({ kind: 'gateway-hot', temperatureC: 400 }).ok).toBe(false);
  });

  it('vigil sim --gateway-temperature-file names the file, absolute', () => {
    const parsed = parseSimArgs(['--gateway-temperature-file', 'demo/gateway-temperature'], {});
    expect(parsed).toMatchObject({
      ok: true,
      options: { gatewayTemperatureFile: join(process.cwd(), 'demo/gateway-temperature') },
    });
  });

  it('writes 45 °C at start, heats and cools the file through the control API', async () => {
    dir = await tempDir('vigil-sim-gateway-');
    const file = join(dir.path, 'gateway-temperature');
    site = new SimSite({ cameras: 1, nvrs: 0, credentials, gatewayTemperatureFile: file });
    await site.start();
    expect(await readFile(file, 'utf8')).toBe('45000\n');
    expect(await call(simRoutes.gateway)).toEqual({
      status: 200,
      body: { temperatureFile: file, temperatureC: 45, faults: [] },
    });

    const hot = await call(simRoutes.gatewayFaults, 'POST', { kind: 'gateway-hot' });
    expect(hot).toMatchObject({ status: 201, body: { temperatureC: 92 } });
    expect(await readFile(file, 'utf8')).toBe('92000\n');
    await call(simRoutes.gatewayFaults, 'POST', { kind: 'gateway-hot', temperatureC: 85.5 });
    expect(await readFile(file, 'utf8')).toBe('85500\n');

    const cool = await call(simRoutes.gatewayFaults, 'DELETE');
    expect(cool).toMatchObject({ status: 200, body: { temperatureC: 45, faults: [] } });
    expect(await readFile(file, 'utf8')).toBe('45000\n');

    // For a while only, then cool again by itself.
    await call(simRoutes.gatewayFaults, 'POST', { kind: 'gateway-hot', durationS: 0.3 });
    expect(await readFile(file, 'utf8')).toBe('92000\n');
    await eventually('the gateway cooled after durationS', async () =>
      (await readFile(file, 'utf8')) === '45000\n' ? true : undefined,
    );

    // A reset cools it too.
    await call(simRoutes.gatewayFaults, 'POST', { kind: 'gateway-hot' });
    await call(simRoutes.reset, 'POST');
    expect(await readFile(file, 'utf8')).toBe('45000\n');

    const bad = await call(simRoutes.gatewayFaults, 'POST', { kind: 'gateway-hot', C: 90 });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toMatch(/not a gateway fault/);
    expect((await call(simRoutes.gatewayFaults, 'PUT')).status).toBe(405);
  });

  it('without the file, the gateway routes say how to start the simulator', async () => {
    site = new SimSite({ cameras: 1, nvrs: 0, credentials });
    await site.start();
    const missing = await call(simRoutes.gatewayFaults, 'POST', { kind: 'gateway-hot' });
    expect(missing.status).toBe(404);
    expect(missing.body.details).toEqual([
      expect.stringMatching(/--gateway-temperature-file FILE .*gateway\.temperatureFile/),
    ]);
  });
});
