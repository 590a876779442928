/** The account lockout of sim/lockout.ts, with a clock the test moves (no waiting). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCKOUT, Lockout } from '../../../sim/lockout.js';
import { checkSiteOptions } from '../../../sim/site.js';

function lockoutAt(policy = DEFAULT_LOCKOUT) {
  const clock = { now: Date.parse('2026-12-06T12:00:00Z') };
  return { lockout: new Lockout(policy, () => clock.now), clock };
}

describe('account lockout (5 wrong passwords in a row lock the user for 30 min)', () => {
  it('locks at the fifth wrong password, for that user from that address only', () => {
    const { lockout } = lockoutAt();
    const gate = lockout.gate('10.0.0.5');
    for (let n = 0; n < 4; n++) gate.failed('admin');
    expect(gate.locked('admin')).toBeNull();
    gate.failed('admin');
    expect(gate.locked('admin')).toMatch(
      /^user admin is locked for 10\.0\.0\.5 until 2026-12-06T12:30:00\.000Z/,
    );
    expect(lockout.gate('10.0.0.6').locked('admin')).toBeNull();
    expect(gate.locked('operator')).toBeNull();
    expect(lockout.locked()).toEqual([
      { username: 'admin', from: '10.0.0.5', until: '2026-12-06T12:30:00.000Z' },
    ]);
  });

  it('the right password starts the count again ("in a row")', () => {
    const { lockout } = lockoutAt();
    const gate = lockout.gate('10.0.0.5');
    for (let n = 0; n < 4; n++) gate.failed('admin');
    gate.succeeded('admin');
    for (let n = 0; n < 4; n++) gate.failed('admin');
    expect(gate.locked('admin')).toBeNull();
  });

  it('forgets failures older than 30 min; the lock ends by itself after 30 min', () => {
    const { lockout, clock } = lockoutAt();
    const gate = lockout.gate('10.0.0.5');
    for (let n = 0; n < 4; n++) gate.failed('admin');
    clock.now += 30 * 60_000;
    gate.failed('admin');
    expect(gate.locked('admin')).toBeNull();
    for (let n = 0; n < 4; n++) gate.failed('admin');
    expect(gate.locked('admin')).not.toBeNull();
    // Attempts while locked do not make the lock longer.
    clock.now += 29 * 60_000;
    gate.failed('admin');
    expect(gate.locked('admin')).not.toBeNull();
    clock.now += 60_000;
    expect(gate.locked('admin')).toBeNull();
    expect(lockout.locked()).toEqual([]);
  });

  it('clear() lifts every lock (a reboot); a null policy never locks', () => {
    const { lockout } = lockoutAt();
    const gate = lockout.gate('10.0.0.5');
    for (let n = 0; n < 5; n++) gate.failed('admin');
    lockout.clear();
    expect(gate.locked('admin')).toBeNull();
    const none = new Lockout(null).gate('10.0.0.5');
    for (let n = 0; n < 50; n++) none.failed('admin');
    expect(none.locked('admin')).toBeNull();
  });

  it('a site with a lockout that cannot work is refused, saying what to give', () => {
    const credentials = { username: 'admin', password: 'pw' };
    const errors = checkSiteOptions({
      credentials,
      lockout: { attempts: 0, windowS: 60, lockS: 60 },
    });
    expect(errors).toEqual([
      expect.stringMatching(/^lockout: attempts must be a whole number >= 1/),
    ]);
    expect(checkSiteOptions({ credentials, lockout: false })).toEqual([]);
    expect(
      checkSiteOptions({ credentials, lockout: { attempts: 3, windowS: 60, lockS: 90 } }),
    ).toEqual([]);
  });
});
