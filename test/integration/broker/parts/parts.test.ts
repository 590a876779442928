/**
 * Spare parts and warranty through the HTTP API (issue 16 part 7) on the real desk:
 * depots and stock, a replacement that takes a part from a depot (and the refusal that
 * names the depots that still have it), the spare-part clocks from the customer's
 * contract (warning and breach by the desk's own clock beat), the agent's new serial
 * number on a device with an open ticket (fed through the broker's pipeline as the
 * agent's state message), the warranty restart of a warranty repair, and the
 * customer's expiry list.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CustomerWarranty,
  Replacement,
  type ReplacementRequest,
} from '../../../../shared/api/parts.js';
import type { Site } from '../../../../shared/api/sites.js';
import { Ticket } from '../../../../shared/api/tickets.js';
import { validator } from '../../../../shared/validate.js';
import type { Message } from '../../../../shared/wording/messages.js';
import { say } from '../../../../shared/wording/render.js';
import { resolveDeskConfig } from '../../../../broker/wiring/desk-config.js';
import { camera, deskApi, deskUsers, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';

const MINUTE = 60_000;
const users = deskUsers;
type Who = keyof typeof users;
const checkReplacement = validator(Replacement);
const checkTicket = validator(Ticket);
const checkWarranty = validator(CustomerWarranty);
const MODEL = 'DS-2CD2143G2-I';

describe('spare parts and warranty over the API', () => {
  let f: DeskFixture;
  let app: FastifyInstance;
  let tokens: Record<Who, string>;

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    url: string,
    body?: object,
    who: Who = 'operator',
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}` },
      ...(body !== undefined ? { payload: body } : {}),
    });
  const ok = async <T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    url: string,
    body?: object,
    who: Who = 'operator',
  ): Promise<T> => {
    const res = await call(method, url, body, who);
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json<T>();
  };
  const ticket = (id: number) => ok<Ticket>('GET', `/api/tickets/${id}`);

  /** cam-03 down: one open emergency ticket. */
  async function openTicket(): Promise<Ticket> {
    f.report('cam-03', 'down');
    const [opened] = await f.open();
    if (!opened) throw new Error('no ticket opened');
    return opened;
  }

  beforeEach(async () => {
    f = await makeDesk(resolveDeskConfig({}), [camera('cam-03'), camera('cam-04')]);
    ({ app, tokens } = await deskApi(f, users));
    // A customer whose contract differs from the template, so the numbers come from it.
    await ok(
      'POST',
      '/api/customers',
      {
        id: 'acme',
        name: 'Acme 物业',
        timeZone: 'Asia/Shanghai',
        locale: 'zh-CN',
        contract: { warrantyYears: 5, spareParts: { stockedHours: 4, unstockedHours: 24 } },
      },
      'admin',
    );
    await ok(
      'PUT',
      '/api/sites/demo-site',
      { customerId: 'acme', acceptedOn: '2022-01-10' },
      'admin',
    );
    await ok('POST', '/api/depots', { id: 'sh-pudong', name: '浦东备件库', region: '上海' });
    await ok('POST', '/api/depots', { id: 'sh-minhang', name: '闵行备件库' });
  });
  afterEach(async () => {
    await app?.close();
    await f?.cleanup();
  });

  it('keeps stock per depot; a viewer reads it and cannot change it; bad input names the field', async () => {
    await ok('PUT', `/api/depots/sh-pudong/stock/${MODEL}`, { count: 3 });
    const stock = await ok<{ partModel: string; count: number }[]>(
      'GET',
      '/api/depots/sh-pudong/stock',
      undefined,
      'viewer',
    );
    expect(stock.map((s) => [s.partModel, s.count])).toEqual([[MODEL, 3]]);
    expect(
      (await call('PUT', `/api/depots/sh-pudong/stock/${MODEL}`, { count: 1 }, 'viewer'))
        .statusCode,
    ).toBe(403);
    const negative = await call('PUT', `/api/depots/sh-pudong/stock/${MODEL}`, { count: -1 });
    expect(negative.statusCode).toBe(400);
    expect(negative.body).toContain('count');
    const unknown = await call('GET', '/api/depots/nowhere/stock');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ message: string }>().message).toContain('POST /api/depots');
    const depots = await ok<{ id: string; region: string | null }[]>('GET', '/api/depots');
    expect(depots).toEqual([
      { id: 'sh-minhang', name: '闵行备件库', region: null },
      { id: 'sh-pudong', name: '浦东备件库', region: '上海' },
    ]);
  });

  it('records a replacement from a depot, takes one off its stock, and refuses an empty depot naming the ones that have it', async () => {
    await ok('PUT', `/api/depots/sh-pudong/stock/${MODEL}`, { count: 1 });
    await ok('PUT', `/api/depots/sh-minhang/stock/${MODEL}`, { count: 2 });
    const t = await openTicket();
    const body: ReplacementRequest = {
      partModel: MODEL,
      oldSerial: 'SN-cam-03',
      newSerial: 'SN-NEW-1',
      depotId: 'sh-pudong',
      warrantyRepair: false,
    };
    const first = await call('POST', `/api/tickets/${t.id}/replacements`, body);
    expect(first.statusCode, first.body).toBe(201);
    expect(checkReplacement(first.json()).ok).toBe(true);
    const stock = await ok<{ count: number }[]>('GET', '/api/depots/sh-pudong/stock');
    expect(stock[0]?.count).toBe(0);

    const again = await call('POST', `/api/tickets/${t.id}/replacements`, body);
    expect(again.statusCode).toBe(409);
    const said = again.json<{ message: string }>().message;
    expect(said).toContain('sh-pudong has no');
    expect(said).toContain('sh-minhang (2)');

    const after = await ticket(t.id);
    const entry = after.timeline.find((e) => e.kind === 'replaced');
    expect(entry?.message).toEqual({
      code: 'part.replaced',
      params: {
        part: MODEL,
        warranty: false,
        oldSerial: 'SN-cam-03',
        newSerial: 'SN-NEW-1',
        depot: 'sh-pudong',
      },
    });
    expect(say(entry!.message as Message, 'zh-CN')).toContain('取自备件库 sh-pudong');
    const list = await ok<Replacement[]>(
      'GET',
      `/api/tickets/${t.id}/replacements`,
      undefined,
      'viewer',
    );
    expect(list).toHaveLength(1);

    const noDepot = await call('POST', `/api/tickets/${t.id}/replacements`, {
      ...body,
      depotId: 'nowhere',
    });
    expect(noDepot.statusCode).toBe(400);
    expect(noDepot.body).toContain('depotId');
    const noField = await call('POST', `/api/tickets/${t.id}/replacements`, { partModel: MODEL });
    expect(noField.statusCode).toBe(400);
    expect(noField.body).toContain('warrantyRepair');
  });

  it('runs the stocked part clock from the customer contract: warns, breaches, stops at the replacement', async () => {
    await ok('PUT', `/api/depots/sh-minhang/stock/${MODEL}`, { count: 1 });
    const t = await openTicket();
    const needed = await ok<Ticket>('POST', `/api/tickets/${t.id}/part-needed`, {
      partModel: MODEL,
    });
    expect(checkTicket(needed).ok).toBe(true);
    const clock = needed.sla.find((c) => c.deadline === 'part-replaced');
    expect(clock).toMatchObject({ state: 'running', allowedMin: 4 * 60 });
    expect(needed.timeline.at(-1)?.message).toEqual({
      code: 'part.needed',
      params: { part: MODEL, stocked: true, depots: ['sh-minhang'], hours: 4 },
    });

    await f.advance(4 * 60 * MINUTE * 0.8);
    expect(f.alerts.some((a) => a.deadline === 'part-replaced' && a.kind === 'warning')).toBe(true);
    await f.advance(4 * 60 * MINUTE * 0.2 + MINUTE);
    expect(f.alerts.some((a) => a.deadline === 'part-replaced' && a.kind === 'breach')).toBe(true);

    await ok('POST', `/api/tickets/${t.id}/replacements`, {
      partModel: MODEL,
      depotId: 'sh-minhang',
      warrantyRepair: false,
    });
    const after = await ticket(t.id);
    const done = after.sla.find((c) => c.deadline === 'part-replaced');
    expect(done?.doneAt).not.toBeNull();
    expect(done?.state).toBe('breached');
  });

  it('runs the unstocked part clock (shipped within the contract hours) and stops it when shipped', async () => {
    const t = await openTicket();
    const needed = await ok<Ticket>('POST', `/api/tickets/${t.id}/part-needed`, {
      partModel: 'NVR-PSU-12V',
    });
    expect(needed.sla.find((c) => c.deadline === 'part-shipped')).toMatchObject({
      state: 'running',
      allowedMin: 24 * 60,
    });
    expect(needed.sla.some((c) => c.deadline === 'part-replaced')).toBe(false);
    await f.advance(60 * MINUTE);
    const shipped = await ok<Ticket>('POST', `/api/tickets/${t.id}/part-shipped`, {
      note: 'SF Express 1234',
    });
    expect(shipped.sla.find((c) => c.deadline === 'part-shipped')?.state).toBe('met');
    expect(say(shipped.timeline.at(-1)!.message as Message, 'en')).toBe(
      'Spare part shipped: SF Express 1234',
    );
    const twice = await call('POST', `/api/tickets/${t.id}/part-shipped`, {});
    expect(twice.statusCode).toBe(409);
    expect(twice.json<{ message: string }>().message).toContain('part-needed');
  });

  it('links a new serial number to the open ticket, and a warranty repair restarts the warranty for the contract years', async () => {
    const t = await openTicket();
    await f.advance(30 * MINUTE);
    const base = camera('cam-03');
    f.report('cam-03', 'up', {
      serialNumber: 'SN-SWAPPED',
      identity: { ...base.identity!, serialNumber: 'SN-SWAPPED' },
    });
    // The check follows the device state through the store (async): wait for it.
    const list = await vi.waitFor(async () => {
      const now = await ok<Replacement[]>('GET', `/api/tickets/${t.id}/replacements`);
      expect(now).toHaveLength(1);
      return now;
    });
    expect(list[0]).toMatchObject({
      source: 'detected',
      by: 'system',
      oldSerial: 'SN-cam-03',
      newSerial: 'SN-SWAPPED',
      warrantyRepair: false,
      warrantyStartsOn: null,
    });
    const after = await ticket(t.id);
    const entry = after.timeline.find((e) => e.message.code === 'part.detected');
    expect(entry && say(entry.message as Message, 'en')).toBe(
      'Device replaced: serial SN-cam-03 → SN-SWAPPED',
    );
    expect(entry && say(entry.message as Message, 'zh-CN')).toBe(
      '设备已更换：序列号 SN-cam-03 → SN-SWAPPED',
    );

    // The same serial again is no second replacement.
    f.report('cam-03', 'up', { serialNumber: 'SN-SWAPPED' });
    expect(await ok<Replacement[]>('GET', `/api/tickets/${t.id}/replacements`)).toHaveLength(1);

    // The engineer says it was a warranty repair (the seal failed, not the customer).
    const patched = await ok<Replacement>(
      'PATCH',
      `/api/tickets/${t.id}/replacements/${list[0]!.id}`,
      { warrantyRepair: true },
    );
    // 2026-11-26 08:30 UTC is 16:30 in Shanghai: the same day; 5 years from the contract.
    expect(patched).toMatchObject({
      warrantyRepair: true,
      warrantyStartsOn: '2026-11-26',
      warrantyEndsOn: '2031-11-26',
    });
    const site = await ok<Site>('GET', '/api/sites/demo-site');
    expect(site.devices.find((d) => d.deviceId === 'cam-03')).toMatchObject({
      replacedOn: '2026-11-26',
      warrantyEndsOn: '2031-11-26',
    });
    const restarted = (await ticket(t.id)).timeline.find((e) => e.kind === 'warranty');
    expect(restarted?.message).toEqual({
      code: 'part.warranty-restarted',
      params: { startsOn: '2026-11-26', endsOn: '2031-11-26', years: 5 },
    });
  });

  it('links a new serial number to the open ticket of the NVR that covers the camera', async () => {
    await f.desk.sites.putDevice('demo-site', 'cam-03', { recorderId: 'nvr-01' });
    f.report('nvr-01', 'down', { kind: 'nvr', name: 'NVR 1' });
    f.report('cam-03', 'down');
    await f.advance(3_000);
    const [nvrTicket] = await f.open();
    expect(nvrTicket).toMatchObject({ deviceId: 'nvr-01', covers: ['cam-03'] });
    const base = camera('cam-03');
    f.report('cam-03', 'down', {
      serialNumber: 'SN-OTHER',
      identity: { ...base.identity!, serialNumber: 'SN-OTHER' },
    });
    const list = await vi.waitFor(async () => {
      const now = await ok<Replacement[]>('GET', `/api/tickets/${nvrTicket!.id}/replacements`);
      expect(now).toHaveLength(1);
      return now;
    });
    expect(list).toMatchObject([
      { deviceId: 'cam-03', oldSerial: 'SN-cam-03', newSerial: 'SN-OTHER', source: 'detected' },
    ]);
  });

  it("lists the customer's devices leaving warranty within the days asked, by the same rule as the report", async () => {
    // Accepted 2022-01-10 with 5 years: cam-04 ends 2027-01-10, 45 days after 2026-11-26.
    await ok('PUT', '/api/sites/demo-site/devices/cam-03', { acceptedOn: '2025-06-01' }, 'admin');
    const list = await ok<CustomerWarranty>(
      'GET',
      '/api/customers/acme/warranty',
      undefined,
      'viewer',
    );
    expect(checkWarranty(list).ok).toBe(true);
    expect(list.warrantyYears).toBe(5);
    expect(list.days).toBe(90);
    expect(list.devices.map((d) => [d.deviceId, d.endsOn, d.daysLeft])).toEqual([
      ['cam-04', '2027-01-10', 45],
    ]);
    const short = await ok<CustomerWarranty>('GET', '/api/customers/acme/warranty?days=30');
    expect(short.devices).toEqual([]);
    expect((await call('GET', '/api/customers/nobody/warranty')).statusCode).toBe(404);
    expect((await call('GET', '/api/customers/acme/warranty?days=-1')).statusCode).toBe(400);
  });
});
