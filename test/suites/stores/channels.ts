/**
 * The channel store (broker/notify/channels/store.ts) on SQLite and on PostgreSQL
 * (test/suites/stores/backends.ts): what the other node of a pair sees, and when the
 * broker's VIGIL_SECRETS_KEY is not the one that sealed a channel's secrets: the channel
 * is still listed, with what to do and none of its secrets, and the start says it once;
 * a broker without a key says that its secrets are kept unencrypted.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ChannelStore } from '../../../broker/notify/channels/store.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

const TOKEN = 'b6f0c1c2d3e4f5a6b7c8d9e0f1a2b3c4';
const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const URL_ = `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`;

export function channelStoreSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  beforeEach(async () => {
    db = await backend.open();
  });

  describe('channel secrets under another key', () => {
    it('lists the channel with what to do, says it at start, and refuses to open it clearly', async () => {
      const before = new ChannelStore(db, { secretsKey: 'key-one' });
      await before.start();
      const robot = await before.create({
        name: '值班群',
        type: 'dingtalk',
        url: URL_,
        secret: SECRET,
      });
      expect(await before.problems()).toEqual([]);

      const after = new ChannelStore(db, { secretsKey: 'key-two' });
      await after.start();
      const [listed] = await after.views();
      expect(listed).toMatchObject({ id: robot.id, name: '值班群', type: 'dingtalk' });
      expect(listed?.problem).toMatch(/VIGIL_SECRETS_KEY is not the key they were sealed with/);
      expect(JSON.stringify(listed)).not.toContain(TOKEN.slice(4, -4));
      expect(JSON.stringify(listed)).not.toContain(SECRET.slice(4, -4));
      const problems = await after.problems();
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        new RegExp(`^channel ${robot.id} \\(值班群\\): Channel secrets cannot be decrypted`),
      );
      await expect(after.driver(robot.id)).rejects.toThrow(
        /enter the channel's token and secret again/,
      );
    });

    it('without a key, says that the tokens are kept unencrypted', async () => {
      const store = new ChannelStore(db, {});
      await store.start();
      await store.create({ name: 'robot', type: 'dingtalk', url: URL_, secret: SECRET });
      expect(await store.problems()).toEqual([
        expect.stringMatching(
          /^1 channel\(s\) keep their tokens and secrets unencrypted .*set VIGIL_SECRETS_KEY/,
        ),
      ]);
      expect((await store.problems()).join('')).not.toContain(TOKEN);
    });
  });

  describe('one table for both nodes', () => {
    it('a channel made, changed and removed through one connection is what the other sends through', async () => {
      const one = new ChannelStore(db, { secretsKey: 'key-one' });
      await one.start();
      const other = new ChannelStore(await backend.reopen(db), { secretsKey: 'key-one' });
      await other.start();
      const robot = await one.create({
        name: '值班群',
        type: 'dingtalk',
        url: URL_,
        secret: SECRET,
        default: true,
      });
      expect(await other.get(robot.id)).toEqual({
        id: robot.id,
        name: '值班群',
        type: 'dingtalk',
        default: true,
        enabled: true,
      });
      expect((await other.defaults()).map((c) => c.id)).toEqual([robot.id]);
      expect((await other.driver(robot.id))?.type).toBe('dingtalk');
      await one.update(robot.id, { enabled: false, secret: '…masked…' });
      expect(await other.driver(robot.id)).toBeUndefined();
      expect(await other.defaults()).toEqual([]);
      // A masked secret sent back keeps the stored one: the other node still opens it.
      expect((await other.testDriver(robot.id)).name).toBe('值班群');
      await other.remove(robot.id);
      expect(await one.list()).toEqual([]);
      await expect(one.one(robot.id)).rejects.toThrow(/No notification channel/);
    });
  });
}
