/**
 * Alibaba Cloud SMS flow control through the outbox (broker/notify/outbox.ts) and the real
 * driver (channels/alibaba.ts, Alibaba's SDK) against the stand-in answering the documented
 * codes (test/standins/aliyun-sms.ts): a number held at minute level waits a minute, not an
 * hour, and only that number; an emergency held at hour level is given up at once, to go
 * through other channels (review 15, finding 6; issue 15 part 4); neither makes the channel
 * a failing one.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { silentLog } from '../../../../broker/log.js';
import { createDriver } from '../../../../broker/notify/channels/index.js';
import type {
  ChannelInfo,
  ChannelRegistry,
  OutgoingMessage,
  Recipient,
} from '../../../../broker/notify/deps.js';
import { Outbox, type Outcome } from '../../../../broker/notify/outbox.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';
import { AliyunSmsStandin } from '../../../standins/aliyun-sms.js';

const options = {
  accessKeyId: 'LTAI5tQ8example0Id',
  accessKeySecret: 'kZ3y8example0Secret0Value0000',
  signName: '维吉尔运维',
  templateCode: 'SMS_468000001',
  variables: ['priority', 'site', 'device', 'fault', 'deadline', 'count', 'ticket'],
};

const person = (name: string, phone: string): Recipient => ({
  name,
  phone,
  email: null,
  dingtalkUserId: null,
  wecomUserId: null,
  feishuOpenId: null,
});
const zhang = person('张伟', '13900139000');
const li = person('李娜', '13800138000');

const text = (n: number, to: Recipient, urgent = false): OutgoingMessage => ({
  kind: 'ticket',
  language: 'zh-CN',
  title: `工单 #${n}`,
  markdown: `**工单 #${n}**`,
  text: `工单 #${n}`,
  to: [to],
  sms: {
    priority: urgent ? 'emergency' : 'general',
    site: 'plant-7',
    device: `cam-${n}`,
    fault: 'device-down',
    deadline: '2026-12-07 03:10 (UTC+08:00)',
    count: '1',
    ticket: String(n),
  },
  ticketIds: [n],
  ...(urgent ? { urgent } : {}),
});

let dir: TempDir;
let db: SqliteDatabase;
let sms: AliyunSmsStandin;
// The stand-in checks the SDK's x-acs-date against its clock: both start now.
let clock = Date.now();

beforeEach(async () => {
  dir = await tempDir('vigil-sms-flow-');
  db = openSqlite(join(dir.path, 'vigil.db'));
  clock = Date.now();
  sms = await new AliyunSmsStandin({
    ...options,
    perNumberPerMinute: 1,
    perNumberPerHour: 2,
    clock: () => clock,
  }).start();
});
afterEach(async () => {
  await sms.stop();
  await db.close();
  await dir.remove();
});

function outboxWith(outcomes: string[]): Outbox {
  const info: ChannelInfo = { id: 'sms', name: '短信', type: 'sms', default: false, enabled: true };
  const driver = createDriver('sms', { ...options, endpoint: sms.endpoint });
  const channels: ChannelRegistry = {
    list: async () => [info],
    get: async (id) => (id === 'sms' ? info : undefined),
    driver: async (id) => (id === 'sms' ? driver : undefined),
    defaults: async () => [],
  };
  return new Outbox({
    db,
    channels,
    log: silentLog,
    now: () => new Date(clock),
    // The outbox's own pace out of the way: the service's flow control is under test.
    settings: { smsPerMinute: 100 },
    // The step's robot carries the page too (the escalation answers this from its channels).
    handOver: () => true,
    onOutcome: (row, o: Outcome) =>
      outcomes.push(
        `#${row.ticketIds.join(',')} ${o.delivered ? 'delivered' : `${o.code} final=${o.final}`}`,
      ),
  });
}

describe('SMS flow control through the outbox', () => {
  it('waits a minute for a number at minute level, texts the others, and hands an emergency on at hour level', async () => {
    const outcomes: string[] = [];
    const outbox = outboxWith(outcomes);
    await outbox.start();
    await outbox.enqueue('sms', text(1, zhang));
    await outbox.idle();
    const held = await outbox.enqueue('sms', text(2, zhang));
    await outbox.enqueue('sms', text(3, li));
    await outbox.idle();
    expect(outcomes).toEqual([
      '#1 delivered',
      '#2 isv.BUSINESS_LIMIT_CONTROL final=false',
      '#3 delivered',
    ]);
    // Its minute, not an hour (the wait before this change).
    expect(await outbox.get(held)).toMatchObject({ state: 'pending', nextAt: clock + 60_000 });
    expect((await outbox.stats()).failing).toEqual([]);

    // An emergency for the same number waits behind the hold, then goes with #2's retry.
    const emergency = await outbox.enqueue('sms', text(4, zhang, true));
    await outbox.runDue();
    await outbox.idle();
    expect(outcomes).toHaveLength(3);
    clock += 60_000;
    await outbox.runDue();
    await outbox.idle();
    // #2 takes the minute; the emergency meets the minute level (a wait it may sit out) ...
    expect(outcomes.slice(3)).toEqual([
      '#2 delivered',
      '#4 isv.BUSINESS_LIMIT_CONTROL final=false',
    ]);
    clock += 60_000;
    await outbox.runDue();
    await outbox.idle();
    // ... then the hour level, two texts this hour: given up at once, for other channels.
    expect(outcomes.slice(5)).toEqual(['#4 isv.BUSINESS_LIMIT_CONTROL final=true']);
    expect(await outbox.get(emergency)).toMatchObject({ state: 'failed' });
    expect((await outbox.get(emergency))!.errorMessage).toMatch(
      /触发小时级流控Permits:2.*handed to other channels/,
    );
    expect((await outbox.stats()).failing).toEqual([]);
    expect(sms.sent.map((s) => s.params.ticket)).toEqual(['1', '3', '2']);
    await outbox.stop();
  });
});
