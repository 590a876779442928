/**
 * The outbox's pace against a robot that limits each second as well as each minute:
 * Feishu's custom robot takes 100 requests a minute and 5 a second (code 11232 past
 * either; test/standins/feishu.ts). A burst of tickets at one instant must not become more
 * than 5 requests in that second (review 15, finding 8): the first go alone, the rest as a
 * digest, and everything arrives.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { silentLog } from '../../../../broker/log.js';
import { FeishuDriver } from '../../../../broker/notify/channels/feishu.js';
import type { ChannelInfo, ChannelRegistry } from '../../../../broker/notify/deps.js';
import { Outbox } from '../../../../broker/notify/outbox.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';
import { FeishuStandin } from '../../../standins/feishu.js';
import { message } from '../../../suites/channel.js';

let dir: TempDir;
let db: SqliteDatabase;
let robot: FeishuStandin;
// One instant for the robot and the outbox: the burst goes within the same second.
const clock = Date.parse('2026-12-06T18:00:00Z');

beforeEach(async () => {
  dir = await tempDir('vigil-outbox-pace-');
  db = openSqlite(join(dir.path, 'vigil.db'));
  robot = await new FeishuStandin(
    '5e3d587e-d78e-4a07-bd07-265f269f86fd',
    null,
    () => clock,
  ).start();
});
afterEach(async () => {
  await robot.stop();
  await db.close();
  await dir.remove();
});

describe('the pace of a robot with a limit per second', () => {
  it('sends a burst of 20 tickets at one instant as at most 5 requests, all accepted', async () => {
    const info: ChannelInfo = {
      id: 'fs',
      name: 'Feishu',
      type: 'feishu',
      default: false,
      enabled: true,
    };
    const driver = new FeishuDriver({ url: robot.url });
    const channels: ChannelRegistry = {
      list: async () => [info],
      get: async (id) => (id === 'fs' ? info : undefined),
      driver: async (id) => (id === 'fs' ? driver : undefined),
      defaults: async () => [],
    };
    const outbox = new Outbox({ db, channels, log: silentLog, now: () => new Date(clock) });
    await outbox.start();
    for (let n = 1; n <= 20; n++)
      await outbox.enqueue('fs', {
        ...message([]),
        title: `ticket ${n}`,
        ticketIds: [n],
        sms: undefined,
      });
    await outbox.idle();
    expect(robot.requests.length).toBeGreaterThan(0);
    expect(robot.requests.length).toBeLessThanOrEqual(5);
    // Every request accepted: no 11232.
    expect(robot.messages).toHaveLength(robot.requests.length);
    const carried = (await outbox.list('fs'))
      .filter((r) => r.state === 'delivered')
      .flatMap((r) => r.ticketIds);
    expect(carried.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await outbox.stop();
  });
});
