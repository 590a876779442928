/**
 * The hold before a camera's ticket (only when a site-wide event may be forming) and the
 * detector's state across a broker restart (flapping, a site outage, an agent gone), on
 * the real ticket desk (SQLite) with a clock the test moves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { camera, makeDesk, type DeskFixture } from './desk-fixture.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const id = (i: number) => `cam-${String(i).padStart(3, '0')}`;

/** A site of `n` cameras watched by agent gw-01. */
function cameras(n: number) {
  return Array.from({ length: n }, (_, i) => camera(id(i + 1)));
}

describe('hold only while a site-wide event may be forming', () => {
  let f: DeskFixture;
  afterEach(async () => {
    await f?.cleanup();
  });

  it('cameras failing one by one open their tickets at once, even with others down', async () => {
    f = await makeDesk({}, cameras(100));
    // One failure every 1.5 s, each back 20 s later: about 13 down at a time, far from
    // the 30 a site outage needs.
    const backAt = new Map<string, number>();
    for (let i = 1; i <= 40; i++) {
      f.report(id(i), 'down');
      expect((await f.open()).some((t) => t.deviceId === id(i))).toBe(true);
      backAt.set(id(i), f.clock.now.getTime() + 20 * SECOND);
      await f.advance(1.5 * SECOND);
      for (const [cam, at] of backAt) {
        if (f.clock.now.getTime() < at) continue;
        f.report(cam, 'up');
        backAt.delete(cam);
      }
    }
    expect((await f.all()).filter((t) => t.fault === 'site-outage')).toEqual([]);
    expect((await f.all()).filter((t) => t.fault === 'device-down')).toHaveLength(40);
  });

  it('a site-wide event still ends as one open ticket: the first tickets fold into it', async () => {
    f = await makeDesk({}, cameras(100));
    for (let i = 1; i <= 40; i++) {
      f.report(id(i), 'down');
      await f.advance(250);
    }
    await f.advance(3 * SECOND);
    const open = await f.open();
    expect(open.map((t) => t.fault)).toEqual(['site-outage']);
    expect(open[0]?.covers).toHaveLength(40);
    // Only those before 80 % of the threshold (30) opened; the rest were held; all folded.
    const deviceTickets = (await f.all()).filter((t) => t.fault === 'device-down');
    expect(deviceTickets.length).toBeLessThanOrEqual(23);
    for (const ticket of deviceTickets) {
      expect(ticket.status).toBe('resolved');
      expect(ticket.timeline.at(-1)?.text).toMatch(/Folded into the site ticket/);
    }
  });
});

describe('detector state across a broker restart', () => {
  let f: DeskFixture;
  afterEach(async () => {
    await f?.cleanup();
  });

  it('in the middle of a flapping episode: no new ticket for the next failure, and the flapping ticket resolves itself', async () => {
    f = await makeDesk({}, cameras(10));
    for (let i = 0; i < 3; i++) {
      f.report(id(7), 'down');
      await f.advance(5 * SECOND);
      f.report(id(7), 'up');
      await f.advance(2 * MINUTE);
    }
    expect((await f.open()).map((t) => t.fault)).toEqual(['flapping']);
    await f.restart();
    await f.advance(30 * SECOND);
    f.report(id(7), 'down'); // a 4th failure after the restart: still the same episode
    await f.advance(5 * SECOND);
    expect((await f.open()).map((t) => t.fault)).toEqual(['flapping']);
    expect((await f.all()).find((t) => t.fault === 'device-down')?.status).toBe('resolved');
    f.report(id(7), 'up');
    await f.advance(61 * MINUTE);
    expect(await f.open()).toEqual([]);
    expect((await f.all()).find((t) => t.fault === 'flapping')?.timeline.at(-1)?.text).toMatch(
      /no failure for 60 min/,
    );
  });

  it('in the middle of a site outage: the site ticket resolves when the cameras return, and those still down get their own', async () => {
    f = await makeDesk({}, cameras(10));
    for (let i = 1; i <= 4; i++) {
      f.report(id(i), 'down');
      await f.advance(200);
    }
    await f.advance(3 * SECOND);
    expect((await f.open()).map((t) => t.fault)).toEqual(['site-outage']);
    await f.restart();
    await f.advance(MINUTE);
    // Nothing new after the restart: the suppressed cameras stay suppressed.
    expect((await f.open()).map((t) => t.fault)).toEqual(['site-outage']);
    f.report(id(1), 'up');
    f.report(id(2), 'up');
    await f.advance(SECOND);
    expect((await f.open()).map((t) => t.deviceId).sort()).toEqual([id(3), id(4)]);
    expect((await f.all()).find((t) => t.fault === 'site-outage')?.status).toBe('resolved');
  });

  it('an agent gone before the restart stays gone (no device tickets) until it is back', async () => {
    f = await makeDesk({}, cameras(10));
    f.agentOnline('gw-01');
    f.agentOffline('gw-01', 'connection-lost');
    await f.advance(3 * SECOND, false);
    await f.restart();
    await f.advance(5 * MINUTE, false);
    expect((await f.open()).map((t) => t.fault)).toEqual(['site-unreachable']);
    f.agentOnline('gw-01');
    f.report(id(5), 'down');
    await f.advance(3 * SECOND);
    expect((await f.open()).map((t) => [t.fault, t.deviceId])).toEqual([['device-down', id(5)]]);
    expect((await f.all()).find((t) => t.fault === 'site-unreachable')?.status).toBe('resolved');
  });

  it('agents online before a long restart get a whole heartbeat timeout afresh', async () => {
    f = await makeDesk({}, cameras(10));
    f.agentOnline('gw-01');
    await f.advance(10 * SECOND);
    await f.desk.stop();
    f.clock.now = new Date(f.clock.now.getTime() + 10 * MINUTE); // the broker was down
    await f.restart();
    await f.advance(60 * SECOND, false);
    expect(await f.open()).toEqual([]);
    await f.advance(45 * SECOND, false); // 105 s of silence since the restart: past 90 s
    await f.advance(3 * SECOND, false); // and the 2 s hold
    expect((await f.open()).map((t) => t.fault)).toEqual(['site-unreachable']);
  });
});
