/** The control API over HTTP, as the demo and other parts' tests drive it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../../shared/api/common.js';
import {
  SimDevice,
  SimDeviceList,
  SimRequestLog,
  simRoutes,
  type SimRequestLogEntry,
} from '../../../shared/api/sim.js';
import { validator } from '../../../shared/validate.js';
import { SimSite } from '../../../sim/site.js';
import { soapRequest } from '../../helpers/soap-requests.js';
import { send } from './http.js';

const site = new SimSite({
  siteId: 'it-control',
  cameras: 2,
  nvrs: 1,
  nvrChannels: 3,
  credentials: { username: 'admin', password: 'top secret pw' },
});

beforeAll(() => site.start());
afterAll(() => site.stop());

async function call(method: string, path: string, body?: string) {
  const answer = await send(`${site.controlUrl}${path}`, {
    method,
    body,
    contentType: 'application/json',
  });
  return { ...answer, json: JSON.parse(answer.body) as unknown };
}

describe('GET /sim/devices', () => {
  it('lists every device with its identity and its credentials (a simulator)', async () => {
    const { status, json, headers, body } = await call('GET', simRoutes.devices);
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(validator(SimDeviceList)(json).ok).toBe(true);
    const devices = json as SimDevice[];
    expect(devices.map((d) => d.id)).toEqual(['cam-01', 'cam-02', 'nvr-01']);
    expect(devices[2]).toMatchObject({ kind: 'nvr', channels: 3, faults: [] });
    expect(devices[0]?.xaddr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
    expect(devices[0]?.credentials).toEqual({ username: 'admin', password: 'top secret pw' });
    expect(body).toContain('"streams"');
  });

  it('GET /sim/devices/{id} answers one device, 404 for an unknown id', async () => {
    const one = await call('GET', simRoutes.device('cam-02'));
    expect(one.status).toBe(200);
    expect(one.json).toEqual(site.device('cam-02'));
    const missing = await call('GET', simRoutes.device('cam-99'));
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      code: 'VIGIL_NOT_FOUND',
      message: expect.stringContaining('cam-99'),
      details: ['known devices: cam-01, cam-02, nvr-01'],
    });
  });
});

describe('faults', () => {
  it('POST a fault: 201 with the device; the device goes offline; DELETE: 200, back', async () => {
    const xaddr = site.device('cam-01')?.xaddr ?? '';
    const created = await call('POST', simRoutes.faults('cam-01'), '{"kind":"offline"}');
    expect(created.status).toBe(201);
    expect(validator(SimDevice)(created.json).ok).toBe(true);
    expect(created.json).toMatchObject({ id: 'cam-01', faults: [{ kind: 'offline' }] });
    const probe = soapRequest('<tds:GetSystemDateAndTime/>');
    await expect(send(xaddr, { method: 'POST', body: probe })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });

    const cleared = await call('DELETE', simRoutes.faults('cam-01'));
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ id: 'cam-01', xaddr, faults: [] });
    expect((await send(xaddr, { method: 'POST', body: probe })).status).toBe(200);
  });

  it('a hang fault shows in the device list', async () => {
    await call('POST', simRoutes.faults('nvr-01'), '{"kind":"hang"}');
    const { json } = await call('GET', simRoutes.devices);
    expect((json as SimDevice[]).find((d) => d.id === 'nvr-01')?.faults).toEqual([
      { kind: 'hang' },
    ]);
    await call('DELETE', simRoutes.faults('nvr-01'));
  });

  it('an invalid body is 400 and says what is accepted', async () => {
    for (const body of ['{"kind":"meltdown"}', '{"kind":"offline","extra":1}', 'not json', '']) {
      const { status, json } = await call('POST', simRoutes.faults('cam-02'), body);
      expect(status).toBe(400);
      const error = json as ApiError;
      expect(error.code).toBe('VIGIL_BAD_REQUEST');
      expect(error.details).toEqual(
        expect.arrayContaining([
          expect.stringContaining('accepted: {"kind":"offline"}'),
          expect.stringContaining('accepted: {"kind":"hang"}'),
        ]),
      );
    }
    expect(site.device('cam-02')?.faults).toEqual([]);
  });

  it('faults of an unknown device: 404', async () => {
    expect((await call('POST', simRoutes.faults('nope'), '{"kind":"hang"}')).status).toBe(404);
    expect((await call('DELETE', simRoutes.faults('nope'))).status).toBe(404);
  });

  it('unknown routes are 404, wrong methods 405', async () => {
    expect((await call('GET', '/sim/nothing')).status).toBe(404);
    const wrong = await call('PUT', simRoutes.devices);
    expect(wrong.status).toBe(405);
    expect(wrong.headers['allow']).toBe('GET');
    expect((await call('GET', simRoutes.faults('cam-01'))).status).toBe(405);
  });
});

describe('request log, one-kind clear, reset', () => {
  it('logs what each device was asked, with operation, status and authentication', async () => {
    const xaddr = site.device('cam-02')?.xaddr ?? '';
    await send(xaddr, { method: 'POST', body: soapRequest('<tds:GetSystemDateAndTime/>') });
    await send(xaddr, { method: 'POST', body: soapRequest('<tds:GetDeviceInformation/>') });
    const { status, json } = await call('GET', simRoutes.requests('cam-02'));
    expect(status).toBe(200);
    expect(validator(SimRequestLog)(json).ok).toBe(true);
    expect((json as SimRequestLogEntry[]).slice(-2)).toMatchObject([
      { protocol: 'soap', operation: 'GetSystemDateAndTime', status: 200, authenticated: false },
      { protocol: 'soap', operation: 'GetDeviceInformation', status: 400, authenticated: false },
    ]);
  });

  it('DELETE /faults/{kind} clears that kind only', async () => {
    await call('POST', simRoutes.faults('cam-01'), '{"kind":"slow","delayMs":10}');
    await call('POST', simRoutes.faults('cam-01'), '{"kind":"tamper"}');
    const { status, json } = await call('DELETE', simRoutes.fault('cam-01', 'slow'));
    expect(status).toBe(200);
    expect((json as SimDevice).faults).toEqual([{ kind: 'tamper' }]);
    const unknown = await call('DELETE', simRoutes.fault('cam-01', 'meltdown'));
    expect(unknown.status).toBe(404);
  });

  it('a bad fault is refused with every error by path and the accepted list', async () => {
    const { status, json } = await call(
      'POST',
      simRoutes.faults('cam-01'),
      '{"kind":"clock-drift","offsetS":"ten"}',
    );
    expect(status).toBe(400);
    const details = (json as ApiError).details ?? [];
    expect(details[0]).toMatch(/^offsetS: /);
    expect(details).toEqual(
      expect.arrayContaining([expect.stringMatching(/^accepted: \{"kind":"reboot"/)]),
    );
  });

  it('POST /sim/reset clears every fault and log', async () => {
    await call('POST', simRoutes.faults('nvr-01'), '{"kind":"storage-full"}');
    const { status, json } = await call('POST', simRoutes.reset);
    expect(status).toBe(200);
    expect((json as SimDevice[]).every((d) => d.faults.length === 0)).toBe(true);
    expect((await call('GET', simRoutes.requests('cam-02'))).json).toEqual([]);
  });
});

describe('control API address', () => {
  it('listens on --control-host while the devices stay on --host (a container publishing 8090)', async () => {
    const published = new SimSite({
      siteId: 'it-control-host',
      cameras: 1,
      nvrs: 0,
      controlHost: '0.0.0.0',
      credentials: { username: 'admin', password: 'pw' },
    });
    await published.start();
    try {
      const port = new URL(published.controlUrl).port;
      // 127.0.0.2 is another loopback address: answered only when bound to every address.
      const answer = await fetch(`http://127.0.0.2:${port}/sim/devices`);
      expect(answer.status).toBe(200);
      const [device] = (await answer.json()) as { xaddr: string }[];
      expect(new URL(device!.xaddr).hostname).toBe('127.0.0.1');
    } finally {
      await published.stop();
    }
    // The default binds the control API to the devices' address only.
    const port = new URL(site.controlUrl).port;
    await expect(fetch(`http://127.0.0.2:${port}/sim/devices`)).rejects.toThrow();
  });
});
