/**
 * The outbox (broker/notify/outbox.ts) over the real ChannelStore on a real SQLite file,
 * delivering through the real webhook driver to a local HTTP server: a channel whose
 * secrets no longer decrypt (VIGIL_SECRETS_KEY changed or missing since it was saved)
 * must leave the outbox running and the other channels delivering, and say what to do
 * without naming a secret. Before the fix the exception escaped as an unhandled
 * rejection, which ends the broker, at every start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { silentLog, type Log } from '../../../../broker/log.js';
import { ChannelStore } from '../../../../broker/notify/channels/store.js';
import type { OutgoingMessage } from '../../../../broker/notify/deps.js';
import { Outbox, type Outcome } from '../../../../broker/notify/outbox.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

const SECRET = 'whsec-do-not-log-0123456789';

const msg = (n: number): OutgoingMessage => ({
  kind: 'ticket',
  language: 'en',
  title: `ticket ${n}`,
  markdown: `**ticket ${n}**`,
  text: `ticket ${n}`,
  to: [],
  ticketIds: [n],
});

let dir: TempDir;
let db: SqliteDatabase;
let server: Server;
let received: string[];
let url: string;

beforeEach(async () => {
  dir = await tempDir('vigil-outbox-channels-');
  db = openSqlite(join(dir.path, 'vigil.db'));
  received = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterEach(async () => {
  await new Promise((done) => server.close(done));
  await db.close();
  await dir.remove();
});

it('keeps running and delivering through the other channels when one channel cannot be decrypted', async () => {
  // Saved under the old key ...
  const before = new ChannelStore(db, { secretsKey: 'key-one' });
  await before.start();
  const lost = await before.create({ name: 'old robot', type: 'webhook', url, secret: SECRET });
  // ... and the broker started with another one; a channel entered since then is readable.
  const store = new ChannelStore(db, { secretsKey: 'key-two' });
  await store.start();
  const fine = await store.create({ name: 'new hook', type: 'webhook', url, secret: SECRET });

  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const lines: string[] = [];
  const log: Log = {
    ...silentLog,
    error: (line) => lines.push(line),
    warn: (line) => lines.push(line),
  };
  const outcomes: { channelId: string; outcome: Outcome }[] = [];
  const outbox = new Outbox({
    db,
    channels: store,
    log,
    onOutcome: (row, outcome) => outcomes.push({ channelId: row.channelId, outcome }),
  });
  try {
    await outbox.start();
    const stuck = await outbox.enqueue(lost.id, msg(1));
    const sent = await outbox.enqueue(fine.id, msg(2));
    await outbox.idle();
    // Another pass after both: the outbox still runs.
    const later = await outbox.enqueue(fine.id, msg(3));
    await outbox.idle();
    await new Promise((done) => setTimeout(done, 50));

    expect(unhandled).toEqual([]);
    expect(await outbox.get(sent)).toMatchObject({ state: 'delivered' });
    expect(await outbox.get(later)).toMatchObject({ state: 'delivered' });
    expect(received).toHaveLength(2);
    // The unreadable channel is unavailable: its page fails at once (the escalation hands
    // it to other channels), saying what to do.
    expect(await outbox.get(stuck)).toMatchObject({
      state: 'failed',
      attempts: 1,
      errorCode: 'channel-unavailable',
    });
    expect((await outbox.get(stuck))!.errorMessage).toMatch(
      /VIGIL_SECRETS_KEY changed or is missing/,
    );
    expect(outcomes.find((o) => o.channelId === lost.id)?.outcome).toMatchObject({
      delivered: false,
      code: 'channel-unavailable',
      final: true,
    });
    // Said once, naming the channel and what to do, never its secret or address.
    // (Each notification given up has its own line as well.)
    const said = lines.filter((l) => l.startsWith(`channel "old robot" (${lost.id})`));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/cannot be opened.*VIGIL_SECRETS_KEY/);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain(url);
  } finally {
    await outbox.stop();
    process.off('unhandledRejection', onUnhandled);
  }
});

it('says that the broker has no secrets key when it was started without one', async () => {
  const original = new ChannelStore(db, { secretsKey: 'key-one' });
  await original.start();
  const robot = await original.create({ name: 'robot', type: 'webhook', url, secret: SECRET });
  const keyless = new Outbox({ db, channels: new ChannelStore(db, {}), log: silentLog });
  await keyless.start();
  const id = await keyless.enqueue(robot.id, msg(1));
  await keyless.idle();
  expect(await keyless.get(id)).toMatchObject({
    state: 'failed',
    errorCode: 'channel-unavailable',
  });
  expect((await keyless.get(id))!.errorMessage).toMatch(
    /no secrets key \(VIGIL_SECRETS_KEY missing\)/,
  );
  await keyless.stop();
  // The same channel opened with its key delivers.
  const right = new Outbox({ db, channels: original, log: silentLog });
  await right.start();
  const again = await right.enqueue(robot.id, msg(2));
  await right.idle();
  expect(await right.get(again)).toMatchObject({ state: 'delivered' });
  expect(received).toHaveLength(1);
  await right.stop();
});
