/** Faults as a client on the network notices them: no answer, refused connections. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { soapRequest } from '../../helpers/soap-requests.js';
import { send } from './http.js';

const site = new SimSite({
  siteId: 'it-faults',
  cameras: 3,
  nvrs: 1,
  nvrChannels: 2,
  credentials: { username: 'admin', password: 'pw' },
});
const dateAndTime = soapRequest('<tds:GetSystemDateAndTime/>');

function xaddrOf(id: string): string {
  const device = site.device(id);
  if (!device) throw new Error(`no ${id}`);
  return device.xaddr;
}

function ask(id: string, timeoutMs = 1500) {
  return send(xaddrOf(id), { method: 'POST', body: dateAndTime, timeoutMs });
}

beforeAll(() => site.start());
afterAll(() => site.stop());

describe('hang', () => {
  it('accepts the request and never answers, while another device answers at once', async () => {
    await site.setFault('cam-01', { kind: 'hang' });
    const started = Date.now();
    let gaveUp = false;
    const hung = ask('cam-01', 3000).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    void hung.finally(() => (gaveUp = true));
    const other = await ask('cam-02', 1500);
    expect(other.status).toBe(200);
    // Answered while cam-01 still held its request: the hang holds only its own device.
    expect(gaveUp).toBe(false);
    expect(await hung).toBe('no answer within 3000 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2990);
  });

  it('answers again once cleared, and the held request is let go', async () => {
    await site.setFault('cam-03', { kind: 'hang' });
    const held = ask('cam-03', 10_000).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const device = await site.clearFaults('cam-03');
    expect(device.faults).toEqual([]);
    // The held connection is closed rather than left open forever.
    expect(await held).toBe('ECONNRESET');
    expect((await ask('cam-03')).status).toBe(200);
    await site.clearFaults('cam-01');
    expect((await ask('cam-01')).status).toBe(200);
  });
});

describe('offline', () => {
  it('refuses connections, then answers again on the same xaddr once cleared', async () => {
    const xaddr = xaddrOf('nvr-01');
    expect((await ask('nvr-01')).status).toBe(200);
    const device = await site.setFault('nvr-01', { kind: 'offline' });
    expect(device.faults).toEqual([{ kind: 'offline' }]);
    expect(device.xaddr).toBe(xaddr);
    await expect(ask('nvr-01')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await ask('cam-02')).status).toBe(200);

    const back = await site.clearFaults('nvr-01');
    expect(back.xaddr).toBe(xaddr);
    const answer = await send(xaddr, { method: 'POST', body: dateAndTime });
    expect(answer.status).toBe(200);
  });

  it('offline and hang together: refused; clearing brings it back', async () => {
    await site.setFault('cam-02', { kind: 'hang' });
    await site.setFault('cam-02', { kind: 'offline' });
    await expect(ask('cam-02')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await site.clearFaults('cam-02');
    expect((await ask('cam-02')).status).toBe(200);
  });
});

describe('stop', () => {
  it('closes held connections, so stopping a hung device does not wait for clients', async () => {
    const local = new SimSite({
      siteId: 'it-stop',
      cameras: 1,
      nvrs: 0,
      credentials: { username: 'admin', password: 'pw' },
    });
    await local.start();
    const xaddr = local.device('cam-01')?.xaddr ?? '';
    await local.setFault('cam-01', { kind: 'hang' });
    const held = send(xaddr, { method: 'POST', body: dateAndTime, timeoutMs: 10_000 }).catch(
      (error: NodeJS.ErrnoException) => error.code,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await local.stop();
    // Stopping lets the held request go rather than waiting for it (its client waits 10 s).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await held).toBe('ECONNRESET');
    await expect(send(xaddr, { method: 'POST', body: dateAndTime })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
