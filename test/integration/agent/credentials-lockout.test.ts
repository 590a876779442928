/**
 * Refused credentials counted where a device counts them: on the simulator's wire, every
 * request that carried credentials and was refused (its request log), per poll and over
 * hours of polls on a clock the test moves (agent/poll.ts). Cameras that lock an account
 * (Hikvision, Dahua: 5 failed logins, for 30 min) must never get there from the agent,
 * and the simulator's own lockout (sim/lockout.ts) never locks the account.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimRequestLogEntry } from '../../../shared/api/sim.js';
import type { SimSite } from '../../../sim/site.js';
import { codes, fakeClockSite, simPoller } from './sim-poller.js';

/** Seconds between two polls on the test's clock. */
const INTERVAL_S = 30;
/** The lockout window of Hikvision and Dahua, and their threshold in it. */
const LOCKOUT_WINDOW_S = 30 * 60;
const LOCKOUT_AFTER = 5;

let site: SimSite;
let stopSite: () => Promise<void>;

beforeAll(async () => {
  ({ site, stop: stopSite } = await fakeClockSite('lockout', [
    // The UsernameToken alone authenticates SOAP.
    { kind: 'camera', channels: 1 },
    // HTTP Digest on SOAP beside the UsernameToken: a remembered Digest refused, then a
    // fresh challenge answered and refused, is two failed logins in one request.
    { kind: 'camera', channels: 1, personality: 'digest-only' },
  ]));
});

afterAll(async () => {
  await stopSite();
});

afterEach(async () => {
  for (const device of site.devices()) await site.clearFaults(device.id);
});

function idOf(personality: string): string {
  return site.devices().find((d) => d.personality === personality)!.id;
}

/** A request that carried credentials the device refused: one failed login for a lockout. */
const failedLogin = (r: SimRequestLogEntry): boolean =>
  !r.authenticated && /wrong username or password/.test(r.detail ?? '');

describe('a password changed on the device: failed logins on the wire', () => {
  for (const personality of ['standard', 'digest-only']) {
    it(`${personality}: at most 2 a poll, never ${LOCKOUT_AFTER} in any ${LOCKOUT_WINDOW_S / 60} min, and the right password is taken up at the next try`, async () => {
      const id = idOf(personality);
      const device = simPoller(site, id, INTERVAL_S);
      // The password works first: a Digest device remembers the answer that worked.
      expect(codes((await device.poll()).result)).toEqual([]);
      await site.setFault(id, { kind: 'auth-changed', password: 'rotated-by-someone' });

      // Two hours of polls (the simulator keeps the last 500 requests: 240 polls fit).
      const failedAt: number[] = [];
      const perPoll: number[] = [];
      for (let poll = 0; poll < (2 * 3600) / INTERVAL_S; poll++) {
        const { result, requests } = await device.poll();
        expect(codes(result)).toEqual(['auth-failed']);
        const failed = requests.filter(failedLogin).length;
        perPoll.push(failed);
        for (let i = 0; i < failed; i++) failedAt.push(poll * INTERVAL_S);
      }
      expect(Math.max(...perPoll)).toBeLessThanOrEqual(2);
      // Tried at the first two polls, then every 30 min: 2 + 3 tries in 2 hours.
      const tried = perPoll.flatMap((n, poll) => (n > 0 ? [poll * INTERVAL_S] : []));
      expect(tried).toEqual([0, 30, 1830, 3630, 5430]);
      if (personality === 'digest-only') {
        // The first try after the change: the remembered Digest, then a fresh one.
        expect(perPoll[0]).toBe(2);
      }
      // The simulator locks as Hikvision does (sim/lockout.ts, on by default): it never did.
      expect(site.device(id)!.lockouts).toEqual([]);
      for (const start of failedAt) {
        const inWindow = failedAt.filter((t) => t >= start && t < start + LOCKOUT_WINDOW_S);
        expect(inWindow.length).toBeLessThan(LOCKOUT_AFTER);
      }

      // Someone puts the old password back: up again at the next try, within 30 min.
      await site.clearFaults(id, 'auth-changed');
      let upAfter = 0;
      for (;;) {
        const { result } = await device.poll();
        if (codes(result).length === 0) break;
        upAfter += INTERVAL_S;
        expect(upAfter).toBeLessThanOrEqual(LOCKOUT_WINDOW_S);
      }
      expect(device.memory.refused).toBeNull();
    });
  }
});
