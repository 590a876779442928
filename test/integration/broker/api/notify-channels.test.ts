/**
 * /api/notify/channels*: an admin adds, changes, tests and deletes channels over a real
 * SQLite file; secrets never come back; the test-send button reaches a local DingTalk
 * robot (test/standins/dingtalk.ts) and shows the service's own refusal.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { ChannelStore } from '../../../../broker/notify/channels/store.js';
import { ApiClient } from '../../../../console/src/data/api.js';
import { channelBody, testChannel } from '../../../../console/src/data/channels.js';
import { UserStore } from '../../../../broker/api/users.js';
import { DingTalkStandin } from '../../../standins/dingtalk.js';
import { buildApi, login, makeFixture, type Fixture } from './fixture.js';

const ADMIN = { username: 'ada', password: 'admin password 1' };
const TOKEN = 'b6f0c1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8';
const SECRET = 'SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc';

describe('notification channels API', () => {
  let fx: Fixture;
  let app: FastifyInstance;
  let robot: DingTalkStandin;
  let channels: ChannelStore;
  let admin: Record<string, string>;

  beforeEach(async () => {
    fx = await makeFixture();
    await new UserStore(fx.store).setUser(ADMIN.username, 'admin', ADMIN.password);
    channels = new ChannelStore(fx.store, { secretsKey: 'a key only this test knows' });
    await channels.start();
    app = await buildApi({ ...fx.deps, channels });
    robot = await new DingTalkStandin(TOKEN, SECRET).start();
    admin = { authorization: `Bearer ${(await login(app, ADMIN)).token}` };
  });
  afterEach(async () => {
    await robot.stop();
    await app.close();
    fx.cleanup();
  });

  const create = (payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/api/notify/channels', headers: admin, payload });

  it('adds a DingTalk robot and never shows its token or secret', async () => {
    const res = await create({
      name: 'NOC 钉钉群',
      type: 'dingtalk',
      url: robot.url,
      secret: SECRET,
      default: true,
    });
    expect(res.statusCode).toBe(201);
    const channel = res.json<{ id: string; url: string; secret: string; perMinute: number }>();
    expect(channel.url).toBe(`${robot.origin}/robot/send?access_token=b6f0…f7a8`);
    expect(channel.secret).toBe('SEC5…a9dc');
    expect(channel.perMinute).toBe(20);
    const list = await app.inject({ url: '/api/notify/channels', headers: admin });
    expect(list.statusCode).toBe(200);
    for (const body of [res.body, list.body]) {
      expect(body).not.toContain(TOKEN);
      expect(body).not.toContain(SECRET);
    }
    // Encrypted at rest with the key: the token is not in the database file's row either.
    const row = (await fx.store.get<{ secrets: string }>('SELECT secrets FROM notify_channels'))!;
    expect(row.secrets).not.toContain(TOKEN);
    expect((await channels.defaults()).map((c) => c.id)).toEqual([channel.id]);
  });

  it('lists every missing setting of a type', async () => {
    const res = await create({ name: 'SMS', type: 'sms', accessKeyId: 'LTAI5t' });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ details: string[] }>().details).toEqual([
      'accessKeySecret: required for a sms channel',
      'signName: required for a sms channel',
      'templateCode: required for a sms channel',
    ]);
  });

  it('is for admins only', async () => {
    const operator = { authorization: `Bearer ${(await login(app)).token}` };
    expect((await app.inject({ url: '/api/notify/channels', headers: operator })).statusCode).toBe(
      403,
    );
    const res = await app.inject({
      method: 'POST',
      url: '/api/notify/channels',
      headers: operator,
      payload: {
        name: 'x',
        type: 'wecom',
        url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
      },
    });
    expect(res.statusCode).toBe(403);
  });

  it("test-sends: 200 delivered, with the @-mention; 502 with the service's code and message", async () => {
    const id = (
      await create({ name: '钉钉', type: 'dingtalk', url: robot.url, secret: SECRET })
    ).json<{
      id: string;
    }>().id;
    const ok = await app.inject({
      method: 'POST',
      url: `/api/notify/channels/${id}/test`,
      headers: admin,
      payload: { phone: '13800138000' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ delivered: true });
    expect(robot.messages[0]).toMatchObject({
      title: 'Vigil 测试消息',
      mentioned: ['13800138000'],
    });

    // The console sends the masked URL back unchanged with a new secret: the URL stays.
    const shown = (await app.inject({ url: '/api/notify/channels', headers: admin })).json<
      { url: string }[]
    >()[0]!;
    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/notify/channels/${id}`,
      headers: admin,
      payload: {
        url: shown.url,
        secret: 'SECffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      },
    });
    expect(patched.statusCode).toBe(200);
    const refused = await app.inject({
      method: 'POST',
      url: `/api/notify/channels/${id}/test`,
      headers: admin,
      payload: {},
    });
    expect(refused.statusCode).toBe(502);
    expect(refused.json()).toEqual({
      delivered: false,
      code: '310000',
      message: 'sign not match',
      retryable: false,
    });
  });

  it('disables and deletes; a disabled channel has no driver, a deleted one is gone', async () => {
    const id = (
      await create({
        name: 'WeCom',
        type: 'wecom',
        url: `${robot.origin}/cgi-bin/webhook/send?key=abc`,
      })
    ).json<{
      id: string;
    }>().id;
    expect((await channels.driver(id))?.type).toBe('wecom');
    await app.inject({
      method: 'PATCH',
      url: `/api/notify/channels/${id}`,
      headers: admin,
      payload: { enabled: false },
    });
    expect(await channels.driver(id)).toBeUndefined();
    expect(await channels.get(id)).toMatchObject({ enabled: false, type: 'wecom' });
    const gone = await app.inject({
      method: 'DELETE',
      url: `/api/notify/channels/${id}`,
      headers: admin,
    });
    expect(gone.statusCode).toBe(200);
    expect(await channels.list()).toEqual([]);
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/notify/channels/${id}`,
      headers: admin,
    });
    expect(again.statusCode).toBe(404);
  });

  it("the console's data layer adds a channel from its form and shows the service's refusal", async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const client = new ApiClient(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    await client.login(ADMIN);
    const form = new FormData();
    form.set('url', robot.url);
    form.set('secret', 'SEC0000000000000000000000000000000000000000000000000000000000000000');
    const channel = await client.createChannel({
      name: '钉钉',
      type: 'dingtalk',
      ...channelBody('dingtalk', form),
    });
    expect((await client.fetchChannels()).map((c) => c.id)).toEqual([channel.id]);
    expect(await testChannel(client, channel.id, {})).toEqual({
      delivered: false,
      code: '310000',
      message: 'sign not match',
      retryable: false,
    });
  });
});
