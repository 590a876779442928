/**
 * What each channel does beyond the conformance suite, against its stand-in: DingTalk's
 * mention rule, timestamp window and 10-minute block; WeCom's markdown or text with
 * mobiles and its 4,096 bytes; Feishu's mentions, window and hook; Alibaba SMS's
 * template and daily cap; email's recipients and password file; the webhook's signature.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlibabaSms } from '../../../../../broker/notify/channels/alibaba.js';
import { DingTalkDriver } from '../../../../../broker/notify/channels/dingtalk.js';
import { EmailDriver } from '../../../../../broker/notify/channels/email.js';
import { FeishuDriver } from '../../../../../broker/notify/channels/feishu.js';
import { SmsDriver } from '../../../../../broker/notify/channels/sms.js';
import { testMessage } from '../../../../../broker/notify/channels/test-message.js';
import { SMS_VARIABLES, type Recipient } from '../../../../../broker/notify/channels/types.js';
import { ticketMessage } from '../../../../../broker/notify/compose.js';
import { ticketExample, type Ticket } from '../../../../../shared/api/tickets.js';
import { WebhookDriver } from '../../../../../broker/notify/channels/webhook.js';
import { WeComDriver } from '../../../../../broker/notify/channels/wecom.js';
import { makeCerts } from '../../../../helpers/certs.js';
import { tempDir } from '../../../../helpers/temp.js';
import { AliyunSmsStandin } from '../../../../standins/aliyun-sms.js';
import { DingTalkStandin } from '../../../../standins/dingtalk.js';
import { FeishuStandin } from '../../../../standins/feishu.js';
import type { HttpStandin } from '../../../../standins/server.js';
import { SmtpStandin } from '../../../../standins/smtp.js';
import { WebhookStandin } from '../../../../standins/webhook.js';
import { WeComStandin } from '../../../../standins/wecom.js';
import { message } from '../../../../suites/channel.js';

const signal = new AbortController().signal;
const nobody: Recipient = {
  name: '',
  phone: null,
  email: null,
  dingtalkUserId: null,
  wecomUserId: null,
  feishuOpenId: null,
};
const person = (fields: Partial<Recipient>): Recipient => ({ ...nobody, name: '李娜', ...fields });

const running: { stop(): Promise<void> }[] = [];
async function up<T extends HttpStandin | SmtpStandin>(standin: T): Promise<T> {
  running.push(standin);
  await standin.start();
  return standin;
}
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

describe('DingTalk', () => {
  const token = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0';
  const secret = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';

  it('mentions by mobile in at.atMobiles and with @mobile in the text, so the mention shows', async () => {
    const robot = await up(new DingTalkStandin(token, secret));
    const driver = new DingTalkDriver({ url: robot.url, secret });
    const to = [person({ phone: '13900139000' }), person({ dingtalkUserId: 'manager4220' })];
    expect(await driver.send(message(to), signal)).toEqual({ delivered: true });
    expect(robot.messages[0]).toMatchObject({
      msgtype: 'markdown',
      title: '紧急工单 #42：cam-03 离线',
      mentioned: ['13900139000', 'manager4220'],
      notShown: [],
    });
  });

  it('is refused with 310000 when its clock is more than an hour off', async () => {
    const robot = await up(new DingTalkStandin(token, secret));
    const driver = new DingTalkDriver(
      { url: robot.url, secret },
      { now: () => Date.now() - 61 * 60_000 },
    );
    expect(await driver.send(message([]), signal)).toMatchObject({
      delivered: false,
      code: '310000',
      message: 'invalid timestamp',
      retryable: false,
    });
  });

  it('past 20 a minute the robot is blocked 10 minutes: 130101, retried after the block', async () => {
    let now = Date.parse('2026-12-06T02:00:00Z');
    const clock = () => now;
    const robot = await up(new DingTalkStandin(token, secret, clock));
    const driver = new DingTalkDriver({ url: robot.url, secret }, { now: clock });
    for (let i = 0; i < 20; i++) {
      expect(await driver.send(message([]), signal)).toEqual({ delivered: true });
      now += 1000;
    }
    expect(await driver.send(message([]), signal)).toMatchObject({
      delivered: false,
      code: '130101',
      retryable: true,
      retryAfterMs: 600_000,
    });
    now += 5 * 60_000; // a minute is long over, the block is not
    expect(robot.blocked).toBe(true);
    expect(await driver.send(message([]), signal)).toMatchObject({ code: '130101' });
    now += 5 * 60_000;
    expect(await driver.send(message([]), signal)).toEqual({ delivered: true });
  });

  it('a wrong token: 300005, with the token nowhere in the result', async () => {
    const robot = await up(new DingTalkStandin(token, null));
    const wrong = 'ffffffffffffffffffffffffffffffffffffffff';
    const result = await new DingTalkDriver({ url: robot.url.replace(token, wrong) }).send(
      message([]),
      signal,
    );
    expect(result).toMatchObject({ delivered: false, code: '300005', retryable: false });
    expect(JSON.stringify(result)).not.toContain(wrong);
  });
});

describe('WeCom', () => {
  const key = '693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa';

  it('markdown with <@userid> when everyone has a WeCom id', async () => {
    const robot = await up(new WeComStandin(key));
    const driver = new WeComDriver({ url: robot.url });
    await driver.send(message([person({ wecomUserId: 'LiNa', phone: '13900139000' })]), signal);
    expect(robot.messages[0]).toMatchObject({ msgtype: 'markdown', mentioned: ['LiNa'] });
  });

  it('text with mentioned_mobile_list when someone is known only by phone', async () => {
    const robot = await up(new WeComStandin(key));
    const driver = new WeComDriver({ url: robot.url });
    await driver.send(message([person({ phone: '13900139000' })]), signal);
    expect(robot.messages[0]).toMatchObject({ msgtype: 'text', mentioned: ['13900139000'] });
  });

  it('cuts a long digest to 4,096 bytes of UTF-8, which the robot accepts', async () => {
    const robot = await up(new WeComStandin(key));
    const driver = new WeComDriver({ url: robot.url });
    const long = '- 紧急工单 cam-03 离线\n'.repeat(400);
    expect(await driver.send(message([], { markdown: long }), signal)).toEqual({ delivered: true });
    expect(Buffer.byteLength(robot.messages[0]!.content)).toBeLessThanOrEqual(4096);
  });

  it('past 20 a minute: 45009, retried after a minute', async () => {
    let now = Date.parse('2026-12-06T02:00:00Z');
    const robot = await up(new WeComStandin(key, () => now));
    const driver = new WeComDriver({ url: robot.url });
    for (let i = 0; i < 20; i++) await driver.send(message([]), signal);
    expect(await driver.send(message([]), signal)).toMatchObject({
      code: '45009',
      retryable: true,
      retryAfterMs: 60_000,
    });
    now += 61_000;
    expect(await driver.send(message([]), signal)).toEqual({ delivered: true });
  });
});

describe('Feishu', () => {
  const hook = '5e3d587e-d78e-4a07-bd07-265f269f86fd';
  const secret = 'nIMtb7r3N9pkXyXdtAbx6e';

  it('a card with the title and <at id=open_id>', async () => {
    const robot = await up(new FeishuStandin(hook, secret));
    const openId = 'ou_7d8a6e6df7621556ce0d21922b676706';
    await new FeishuDriver({ url: robot.url, secret }).send(
      message([person({ feishuOpenId: openId })]),
      signal,
    );
    expect(robot.messages[0]).toMatchObject({
      msgType: 'interactive',
      title: '紧急工单 #42：cam-03 离线',
      mentioned: [openId],
    });
  });

  it('19021 when the timestamp is more than an hour off', async () => {
    const robot = await up(new FeishuStandin(hook, secret));
    const driver = new FeishuDriver(
      { url: robot.url, secret },
      { now: () => Date.now() + 2 * 3_600_000 },
    );
    expect(await driver.send(message([]), signal)).toMatchObject({
      code: '19021',
      retryable: false,
    });
  });

  it('stays under 20 KB with a long digest', async () => {
    const robot = await up(new FeishuStandin(hook, null));
    const long = '- 紧急工单 cam-03 离线 [打开](https://vigil.example/#/tickets/42)\n'.repeat(600);
    expect(
      await new FeishuDriver({ url: robot.url }).send(message([], { markdown: long }), signal),
    ).toEqual({
      delivered: true,
    });
  });

  it('past 5 a second: 11232, retried after a minute', async () => {
    let now = Date.parse('2026-12-06T02:00:00Z');
    const robot = await up(new FeishuStandin(hook, null, () => now));
    const driver = new FeishuDriver({ url: robot.url });
    for (let i = 0; i < 5; i++) {
      expect(await driver.send(message([]), signal)).toEqual({ delivered: true });
    }
    expect(await driver.send(message([]), signal)).toMatchObject({
      code: '11232',
      retryable: true,
      retryAfterMs: 60_000,
    });
    now += 1000;
    expect(await driver.send(message([]), signal)).toEqual({ delivered: true });
  });

  it('a wrong hook id: 19001, the id masked', async () => {
    const robot = await up(new FeishuStandin(hook, null));
    const wrong = '00000000-d78e-4a07-bd07-265f269f86fd';
    const result = await new FeishuDriver({ url: robot.url.replace(hook, wrong) }).send(
      message([]),
      signal,
    );
    expect(result).toMatchObject({ code: '19001', retryable: false });
    expect(JSON.stringify(result)).not.toContain(wrong);
  });
});

describe('Alibaba Cloud SMS', () => {
  const options = {
    accessKeyId: 'LTAI5tQ8example0Id',
    accessKeySecret: 'kZ3y8example0Secret0Value0000',
    signName: '维吉尔运维',
    templateCode: 'SMS_468000001',
    variables: ['priority', 'site', 'device', 'fault', 'deadline'],
  };
  const driver = (sms: AliyunSmsStandin) =>
    new SmsDriver(new AlibabaSms({ ...options, endpoint: sms.endpoint }));

  it("texts every recipient's phone with the template variables", async () => {
    const sms = await up(new AliyunSmsStandin(options));
    const to = [person({ phone: '13900139000' }), person({ phone: '13800138000' }), nobody];
    expect(await driver(sms).send(message(to), signal)).toEqual({ delivered: true });
    expect(sms.sent[0]).toMatchObject({
      phones: ['13900139000', '13800138000'],
      signName: '维吉尔运维',
      params: { priority: '紧急', site: '上海一号库', device: 'cam-03' },
    });
  });

  it("variables with characters encodeURIComponent keeps ( ) ! ' *: signed as Alibaba encodes them", async () => {
    // A deadline in the team's zone carries its offset in brackets: every page's text.
    const sms = await up(new AliyunSmsStandin(options));
    const variables = {
      priority: '紧急',
      site: "O'Neil (B1)!",
      device: 'cam-03*',
      fault: 'device-down',
      deadline: '2026-12-07 03:10 (UTC+06:00)',
    };
    const to = [person({ phone: '13900139000' })];
    expect(await driver(sms).send(message(to, { sms: variables }), signal)).toEqual({
      delivered: true,
    });
    expect(sms.sent[0]?.params).toMatchObject(variables);
  });

  it('texts the documented template with every variable given: a ticket, a reported one, the test', async () => {
    // The template of docs/NOTIFY.md names all seven; one a message lacks fails every text.
    const sms = await up(new AliyunSmsStandin({ ...options, variables: [...SMS_VARIABLES] }));
    const to = [person({ phone: '13900139000' })];
    const page = (ticket: Ticket, language: 'zh-CN' | 'en') =>
      ticketMessage({
        ticket,
        stage: 'opened',
        language,
        timeZone: 'Asia/Shanghai',
        customer: 'Acme',
        siteName: 'Demo',
        to,
        ticketUrl: null,
        ackUrl: null,
      });
    const detected: Ticket = { ...ticketExample, status: 'open' };
    const reported: Ticket = {
      ...detected,
      id: 43,
      fault: 'manual',
      source: 'manual',
      titleMessage: { code: 'text', params: { text: '大门画面模糊' } },
      reportedBy: 'olga',
      reportedVia: 'phone',
    };
    for (const m of [page(detected, 'zh-CN'), page(detected, 'en'), page(reported, 'zh-CN')])
      expect(await driver(sms).send(m, signal)).toEqual({ delivered: true });
    expect(
      await driver(sms).send(testMessage('值班短信', { phone: '13900139000' }), signal),
    ).toEqual({
      delivered: true,
    });
    // The fault in the team's language, a reported one in the reporter's words: never
    // its code ("device-down", or "manual" for every reported fault).
    expect(sms.sent.map((text) => text.params.fault)).toEqual([
      '设备离线',
      'device down',
      '大门画面模糊',
      'Vigil 测试消息',
    ]);
    expect(sms.sent[0]!.params).toMatchObject({ ticket: String(detected.id), count: '1' });
  });

  it('nobody with a phone: not sent, and said why', async () => {
    const sms = await up(new AliyunSmsStandin(options));
    expect(await driver(sms).send(message([nobody]), signal)).toMatchObject({
      code: 'no-recipient',
      retryable: false,
    });
    expect(sms.requests).toHaveLength(0);
  });

  it("a template variable missing: the service's code, not retried", async () => {
    const sms = await up(new AliyunSmsStandin(options));
    const result = await driver(sms).send(
      message([person({ phone: '13900139000' })], { sms: { priority: '紧急' } }),
      signal,
    );
    expect(result).toMatchObject({ code: 'isv.TEMPLATE_MISSING_PARAMETERS', retryable: false });
  });

  it("the number's day-level flow control: isv.BUSINESS_LIMIT_CONTROL, given up (its day is too late)", async () => {
    const sms = await up(new AliyunSmsStandin({ ...options, perNumberPerDay: 2 }));
    const to = [person({ phone: '13900139000' })];
    await driver(sms).send(message(to), signal);
    await driver(sms).send(message(to), signal);
    expect(await driver(sms).send(message(to), signal)).toEqual({
      delivered: false,
      code: 'isv.BUSINESS_LIMIT_CONTROL',
      message: '触发天级流控Permits:2',
      retryable: false,
      perRecipient: true,
    });
  });

  it('minute-level flow control waits a minute, hour-level an hour, for that number only', async () => {
    // The stand-in checks x-acs-date against its clock: from now on.
    let clock = Date.now();
    const sms = await up(
      new AliyunSmsStandin({
        ...options,
        perNumberPerMinute: 1,
        perNumberPerHour: 2,
        clock: () => clock,
      }),
    );
    const zhang = [person({ phone: '13900139000' })];
    expect(await driver(sms).send(message(zhang), signal)).toEqual({ delivered: true });
    expect(await driver(sms).send(message(zhang), signal)).toEqual({
      delivered: false,
      code: 'isv.BUSINESS_LIMIT_CONTROL',
      message: '触发分钟级流控Permits:1',
      retryable: true,
      retryAfterMs: 60_000,
      perRecipient: true,
    });
    // Another number is not held.
    expect(await driver(sms).send(message([person({ phone: '13800138000' })]), signal)).toEqual({
      delivered: true,
    });
    clock += 60_000;
    expect(await driver(sms).send(message(zhang), signal)).toEqual({ delivered: true });
    clock += 60_000;
    expect(await driver(sms).send(message(zhang), signal)).toMatchObject({
      message: '触发小时级流控Permits:2',
      retryable: true,
      retryAfterMs: 3_600_000,
      perRecipient: true,
    });
  });

  it("the account's own daily total: isv.DAY_LIMIT_CONTROL, a refusal of the channel", async () => {
    const sms = await up(new AliyunSmsStandin({ ...options, accountPerDay: 1 }));
    expect(await driver(sms).send(message([person({ phone: '13900139000' })]), signal)).toEqual({
      delivered: true,
    });
    const result = await driver(sms).send(message([person({ phone: '13800138000' })]), signal);
    expect(result).toEqual({
      delivered: false,
      code: 'isv.DAY_LIMIT_CONTROL',
      message: '触发日发送限额',
      retryable: false,
    });
  });

  it('a variable past 35 characters is cut to fit, which the service accepts', async () => {
    const sms = await up(new AliyunSmsStandin(options));
    const long = {
      ...message([]).sms!,
      site: '上海市浦东新区张江高科技园区某某路一百二十三号地下二层停车场东侧出入口旁边',
    };
    const result = await driver(sms).send(
      message([person({ phone: '13900139000' })], { sms: long }),
      signal,
    );
    expect(result).toEqual({ delivered: true });
    expect([...sms.sent[0]!.params.site!]).toHaveLength(35);
  });
});

describe('email', () => {
  it("mails the recipients and the channel's own addresses, subject the title", async () => {
    const dir = await tempDir('vigil-email-');
    running.push({ stop: () => dir.remove() });
    await writeFile(join(dir.path, 'pw'), 'relay-password\n');
    const smtp = await up(new SmtpStandin('vigil', 'relay-password'));
    const driver = new EmailDriver({
      host: '127.0.0.1',
      port: smtp.port,
      tls: 'none',
      user: 'vigil',
      passwordFile: join(dir.path, 'pw'),
      from: 'vigil@example.cn',
      to: ['noc@example.cn'],
    });
    const to = [person({ email: 'li.na@example.cn' }), nobody];
    expect(await driver.send(message(to), signal)).toEqual({ delivered: true });
    expect(smtp.mails[0]!.to).toEqual(['li.na@example.cn', 'noc@example.cn']);
    expect(smtp.mails[0]!.raw).toMatch(/^Subject: /m);
  });

  it.each(['starttls', 'implicit'] as const)(
    'with TLS (%s): authenticates and mails over the encrypted session only',
    async (mode) => {
      const certs = await makeCerts();
      running.push({ stop: () => certs.remove() });
      const dir = await tempDir('vigil-email-');
      running.push({ stop: () => dir.remove() });
      await writeFile(join(dir.path, 'pw'), 'relay-password\n');
      const [key, cert] = await Promise.all([
        readFile(certs.keyFile, 'utf8'),
        readFile(certs.certFile, 'utf8'),
      ]);
      const smtp = await up(new SmtpStandin('vigil', 'relay-password', { mode, key, cert }));
      const driver = new EmailDriver({
        host: '127.0.0.1',
        port: smtp.port,
        tls: mode,
        user: 'vigil',
        passwordFile: join(dir.path, 'pw'),
        from: 'vigil@example.cn',
        allowSelfSigned: true,
      });
      expect(await driver.send(message([person({ email: 'li.na@example.cn' })]), signal)).toEqual({
        delivered: true,
      });
      expect(smtp.mails[0]!.secure).toBe(true);
    },
  );

  it('STARTTLS required but the server offers none: refused, not sent in clear', async () => {
    const smtp = await up(new SmtpStandin('vigil', 'relay-password'));
    const result = await new EmailDriver({
      host: '127.0.0.1',
      port: smtp.port,
      tls: 'starttls',
      from: 'vigil@example.cn',
    }).send(message([person({ email: 'li.na@example.cn' })]), signal);
    expect(result).toMatchObject({ delivered: false, code: 'starttls', retryable: false });
    expect(smtp.mails).toHaveLength(0);
  });

  it('a password file it cannot read: said, without its path', async () => {
    const smtp = await up(new SmtpStandin('vigil', 'relay-password'));
    const path = '/nonexistent/secret/relay-password';
    const result = await new EmailDriver({
      host: '127.0.0.1',
      port: smtp.port,
      tls: 'none',
      user: 'vigil',
      passwordFile: path,
      from: 'vigil@example.cn',
    }).send(message([person({ email: 'li.na@example.cn' })]), signal);
    expect(result).toMatchObject({ code: 'password-file', retryable: false });
    expect(JSON.stringify(result)).not.toContain(path);
  });
});

describe('signed webhook', () => {
  it('sends the payload signed as the config-file hooks are', async () => {
    const receiver = await up(new WebhookStandin('a-webhook-secret-of-32-characters'));
    const driver = new WebhookDriver({
      url: receiver.url,
      secret: 'a-webhook-secret-of-32-characters',
    });
    expect(await driver.send(message([], { data: { ticketId: 42 } }), signal)).toEqual({
      delivered: true,
    });
    expect(receiver.bodies[0]).toMatchObject({ kind: 'ticket', data: { ticketId: 42 } });
  });
});
