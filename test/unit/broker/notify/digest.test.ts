/**
 * Digests and their acknowledge links (broker/notify/compose.ts digestMessage, merged by
 * the real Outbox): every ✓ link of a digest must acknowledge the ticket of its own line,
 * also in a digest of a digest and beside a line that carries no link (a channel alert).
 * The tokens are real ones of AckLinks, checked for their ticket claim.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ticketExample, type Ticket } from '../../../../shared/api/tickets.js';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { silentLog } from '../../../../broker/log.js';
import { AckLinks } from '../../../../broker/notify/ack-link.js';
import {
  channelAlertMessage,
  digestMessage,
  ticketMessage,
} from '../../../../broker/notify/compose.js';
import type { OutgoingMessage } from '../../../../broker/notify/deps.js';
import { Outbox } from '../../../../broker/notify/outbox.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';
import { fakeChannel, fakeRegistry } from './fakes.js';

const BASE = 'https://vigil.example.com';
let dir: TempDir;
let db: SqliteDatabase;
let acks: AckLinks;
const now = () => new Date('2026-12-06T18:00:00Z');

beforeEach(async () => {
  dir = await tempDir('vigil-digest-');
  db = openSqlite(join(dir.path, 'vigil.db'));
  acks = new AckLinks(db, { now });
  await acks.start();
});
afterEach(async () => {
  await db.close();
  await dir.remove();
});

function page(id: number): OutgoingMessage {
  const ticket: Ticket = { ...ticketExample, id, status: 'open', respondedAt: null };
  return ticketMessage({
    ticket,
    stage: 'opened',
    language: 'en',
    timeZone: 'Asia/Shanghai',
    customer: 'ACME',
    siteName: 'Demo',
    to: [],
    ticketUrl: `${BASE}/#/tickets/${id}`,
    ackUrl: `${BASE}/ack/${acks.issue(id, null)}`,
  });
}

/** Each list line of a digest: the ticket its title names, and the ticket its ✓ link acknowledges. */
async function pairs(
  markdown: string,
): Promise<{ titleTicket: number | null; linkTicket: number | null }[]> {
  const out: { titleTicket: number | null; linkTicket: number | null }[] = [];
  for (const line of markdown.split('\n').filter((l) => l.startsWith('- '))) {
    const title = /#(\d+) /.exec(line);
    const link = /\[✓\]\(https?:[^)]*\/ack\/([^)]*)\)/.exec(line);
    const checked = link ? await acks.check(link[1]!) : null;
    out.push({
      titleTicket: title ? Number(title[1]) : null,
      linkTicket: checked?.ok ? checked.claims.ticketId : null,
    });
  }
  return out;
}

it('pairs every ✓ link of a digest of a digest with its own ticket, through the outbox', async () => {
  const robot = fakeChannel('a', { perMinute: 2 });
  const make = () => new Outbox({ db, channels: fakeRegistry([robot]), log: silentLog, now });
  // Queued before start, as after a restart with a backlog: one pass sees them all.
  const first = make();
  await first.start();
  await first.stop();
  const outbox = make();
  // A digest already made (by the escalation's general-ticket digest) whose first line has
  // no link, then more pages than the robot's window takes: the outbox folds them all
  // into a digest of that digest.
  const earlier = digestMessage([
    channelAlertMessage('NOC robot', 10, '310000', 'sign not match', 'en'),
    page(2),
    page(3),
  ]);
  await outbox.enqueue('a', page(1));
  await outbox.enqueue('a', earlier);
  await outbox.enqueue('a', page(4));
  await outbox.enqueue('a', page(5));
  await outbox.start();
  await outbox.idle();
  // 2 a minute is paced as a burst of 1: the backlog goes as one digest.
  expect(robot.sent).toHaveLength(1);
  const digest = robot.sent[0]!;
  expect(digest.kind).toBe('digest');
  expect(digest.ticketIds).toEqual([1, 2, 3, 4, 5]);
  const lines = await pairs(digest.markdown);
  expect(lines).toEqual([
    { titleTicket: 1, linkTicket: 1 },
    { titleTicket: null, linkTicket: null }, // the channel alert: no link
    { titleTicket: 2, linkTicket: 2 },
    { titleTicket: 3, linkTicket: 3 },
    { titleTicket: 4, linkTicket: 4 },
    { titleTicket: 5, linkTicket: 5 },
  ]);
  expect(digest.title).toBe('6 notifications');
  await outbox.stop();
});

it('never moves a link to a line without one when a part has none (publicUrl unset)', async () => {
  const noLink = { ...page(7), data: undefined, markdown: '**#7 without link**' };
  const digest = digestMessage([noLink, page(8)]);
  expect(await pairs(digest.markdown)).toEqual([
    { titleTicket: 7, linkTicket: null },
    { titleTicket: 8, linkTicket: 8 },
  ]);
});
