/**
 * The channel store (broker/notify/channels/store.ts) on a real SQLite file when the
 * broker's VIGIL_SECRETS_KEY is not the one that sealed a channel's secrets: the channel
 * is still listed, with what to do and none of its secrets, and the start says it once;
 * a broker without a key says that its secrets are kept unencrypted.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { ChannelStore } from '../../../../broker/notify/channels/store.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

const TOKEN = 'b6f0c1c2d3e4f5a6b7c8d9e0f1a2b3c4';
const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const URL_ = `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`;

let dir: TempDir;
let db: Db;
beforeEach(async () => {
  dir = await tempDir('vigil-channel-keys-');
  db = openDatabase(join(dir.path, 'vigil.db'));
});
afterEach(async () => {
  db.close();
  await dir.remove();
});

describe('channel secrets under another key', () => {
  it('lists the channel with what to do, says it at start, and refuses to open it clearly', () => {
    const before = new ChannelStore(db, { secretsKey: 'key-one' });
    before.start();
    const robot = before.create({ name: '值班群', type: 'dingtalk', url: URL_, secret: SECRET });
    expect(before.problems()).toEqual([]);

    const after = new ChannelStore(db, { secretsKey: 'key-two' });
    after.start();
    const [listed] = after.views();
    expect(listed).toMatchObject({ id: robot.id, name: '值班群', type: 'dingtalk' });
    expect(listed?.problem).toMatch(/VIGIL_SECRETS_KEY is not the key they were sealed with/);
    expect(JSON.stringify(listed)).not.toContain(TOKEN.slice(4, -4));
    expect(JSON.stringify(listed)).not.toContain(SECRET.slice(4, -4));
    const problems = after.problems();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^channel ${robot.id} \\(值班群\\): Channel secrets cannot be decrypted`),
    );
    expect(() => after.driver(robot.id)).toThrow(/enter the channel's token and secret again/);
  });

  it('without a key, says that the tokens are kept unencrypted', () => {
    const store = new ChannelStore(db, {});
    store.start();
    store.create({ name: 'robot', type: 'dingtalk', url: URL_, secret: SECRET });
    expect(store.problems()).toEqual([
      expect.stringMatching(
        /^1 channel\(s\) keep their tokens and secrets unencrypted .*set VIGIL_SECRETS_KEY/,
      ),
    ]);
    expect(store.problems().join('')).not.toContain(TOKEN);
  });
});
