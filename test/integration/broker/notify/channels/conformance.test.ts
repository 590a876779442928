/**
 * Every channel driver through the one conformance suite (test/suites/channel.ts),
 * each against the local stand-in of its service (test/standins/), on loopback port 0.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { AlibabaSms } from '../../../../../broker/notify/channels/alibaba.js';
import { DingTalkDriver } from '../../../../../broker/notify/channels/dingtalk.js';
import { EmailDriver } from '../../../../../broker/notify/channels/email.js';
import { FeishuDriver } from '../../../../../broker/notify/channels/feishu.js';
import { SmsDriver } from '../../../../../broker/notify/channels/sms.js';
import type { Recipient } from '../../../../../broker/notify/channels/types.js';
import { WebhookDriver } from '../../../../../broker/notify/channels/webhook.js';
import { WeComDriver } from '../../../../../broker/notify/channels/wecom.js';
import { tempDir, type TempDir } from '../../../../helpers/temp.js';
import { AliyunSmsStandin } from '../../../../standins/aliyun-sms.js';
import { DingTalkStandin } from '../../../../standins/dingtalk.js';
import { FeishuStandin } from '../../../../standins/feishu.js';
import { SmtpStandin } from '../../../../standins/smtp.js';
import { WebhookStandin } from '../../../../standins/webhook.js';
import { WeComStandin } from '../../../../standins/wecom.js';
import { channelSuite } from '../../../../suites/channel.js';

export const zhangWei: Recipient = {
  name: '张伟',
  phone: '13800138000',
  email: 'zhang.wei@example.cn',
  dingtalkUserId: null,
  wecomUserId: null,
  feishuOpenId: 'ou_7d8a6e6df7621556ce0d21922b676706',
};

const DING_TOKEN = 'b6f0c1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0';
const DING_SECRET = 'SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc';

channelSuite('DingTalk', {
  // Two under the service's 20 a minute (dingtalk.ts DINGTALK_PER_MINUTE).
  perMinute: 18,
  start: async () => {
    const robot = await new DingTalkStandin(DING_TOKEN, DING_SECRET).start();
    const wrong = 'SECffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';
    return {
      driver: (o) => new DingTalkDriver({ url: robot.url, secret: DING_SECRET }, o),
      refusedDriver: (o) => new DingTalkDriver({ url: robot.url, secret: wrong }, o),
      refusal: { code: '310000', message: 'sign not match' },
      accepted: () => robot.messages.length,
      hang: (on) => (robot.hang = on),
      stop: () => robot.stop(),
      secrets: [DING_TOKEN, DING_SECRET, wrong],
      recipient: zhangWei,
    };
  },
});

const WECOM_KEY = '693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa';

channelSuite('WeCom', {
  perMinute: 18,
  start: async () => {
    const robot = await new WeComStandin(WECOM_KEY).start();
    const wrongKey = '00000000-7aoc-4bc4-97a0-0ec2sifa5bbb';
    return {
      driver: (o) => new WeComDriver({ url: robot.url }, o),
      refusedDriver: (o) => new WeComDriver({ url: robot.url.replace(WECOM_KEY, wrongKey) }, o),
      refusal: { code: '93000', message: /^invalid webhook url/ },
      accepted: () => robot.messages.length,
      hang: (on) => (robot.hang = on),
      stop: () => robot.stop(),
      secrets: [WECOM_KEY, wrongKey],
      recipient: zhangWei,
    };
  },
});

const FEISHU_HOOK = '5e3d587e-d78e-4a07-bd07-265f269f86fd';
const FEISHU_SECRET = 'nIMtb7r3N9pkXyXdtAbx6e';

channelSuite('Feishu', {
  perMinute: 100,
  start: async () => {
    const robot = await new FeishuStandin(FEISHU_HOOK, FEISHU_SECRET).start();
    const wrong = 'wrongwrongwrongwrong00';
    return {
      driver: (o) => new FeishuDriver({ url: robot.url, secret: FEISHU_SECRET }, o),
      refusedDriver: (o) => new FeishuDriver({ url: robot.url, secret: wrong }, o),
      refusal: {
        code: '19021',
        message: 'sign match fail or timestamp is not within one hour from current time',
      },
      accepted: () => robot.messages.length,
      hang: (on) => (robot.hang = on),
      stop: () => robot.stop(),
      secrets: [FEISHU_HOOK, FEISHU_SECRET, wrong],
      recipient: zhangWei,
    };
  },
});

const AK_ID = 'LTAI5tQ8example0Id';
const AK_SECRET = 'kZ3y8example0Secret0Value0000';

channelSuite('Alibaba Cloud SMS', {
  perMinute: null,
  start: async () => {
    const sms = await new AliyunSmsStandin({
      accessKeyId: AK_ID,
      accessKeySecret: AK_SECRET,
      signName: '维吉尔运维',
      templateCode: 'SMS_468000001',
      variables: ['priority', 'site', 'device', 'fault', 'deadline'],
    }).start();
    const wrong = 'wrong0example0Secret0Value000';
    const settings = {
      accessKeyId: AK_ID,
      accessKeySecret: AK_SECRET,
      signName: '维吉尔运维',
      templateCode: 'SMS_468000001',
      endpoint: sms.endpoint,
    };
    return {
      driver: (o) => new SmsDriver(new AlibabaSms(settings, o)),
      refusedDriver: (o) =>
        new SmsDriver(new AlibabaSms({ ...settings, accessKeySecret: wrong }, o)),
      refusal: {
        code: 'SignatureDoesNotMatch',
        message: 'Specified signature is not matched with our calculation.',
      },
      accepted: () => sms.sent.length,
      hang: (on) => (sms.hang = on),
      stop: () => sms.stop(),
      secrets: [AK_SECRET, wrong],
      recipient: zhangWei,
    };
  },
});

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir('vigil-channels-');
  await writeFile(join(dir.path, 'smtp-password'), 'mail-Pa55word-0f-the-relay\n');
  await writeFile(join(dir.path, 'wrong-password'), 'not-the-password-at-all\n');
});
afterAll(() => dir.remove());

channelSuite('email (SMTP)', {
  perMinute: null,
  start: async () => {
    const smtp = await new SmtpStandin('vigil', 'mail-Pa55word-0f-the-relay').start();
    const settings = (passwordFile: string) => ({
      host: '127.0.0.1',
      port: smtp.port,
      tls: 'none' as const,
      user: 'vigil',
      passwordFile: join(dir.path, passwordFile),
      from: 'Vigil <vigil@example.cn>',
    });
    return {
      driver: (o) => new EmailDriver(settings('smtp-password'), o),
      refusedDriver: (o) => new EmailDriver(settings('wrong-password'), o),
      refusal: { code: '535', message: /Authentication credentials invalid/ },
      accepted: () => smtp.mails.length,
      hang: (on) => (smtp.hang = on),
      stop: () => smtp.stop(),
      secrets: ['mail-Pa55word-0f-the-relay', 'not-the-password-at-all'],
      recipient: zhangWei,
    };
  },
});

const HOOK_SECRET = 'a-webhook-secret-of-32-characters';

channelSuite('signed webhook', {
  perMinute: null,
  start: async () => {
    const receiver = await new WebhookStandin(HOOK_SECRET).start();
    const wrong = 'another-secret-of-enough-length!';
    return {
      driver: (o) => new WebhookDriver({ url: receiver.url, secret: HOOK_SECRET }, o),
      refusedDriver: (o) => new WebhookDriver({ url: receiver.url, secret: wrong }, o),
      refusal: { code: 'http-401', message: /HTTP 401/ },
      accepted: () => receiver.bodies.length,
      hang: (on) => (receiver.hang = on),
      stop: () => receiver.stop(),
      secrets: [HOOK_SECRET, wrong],
      recipient: zhangWei,
    };
  },
});
