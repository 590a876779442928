/**
 * The simulator's HTTP authentication (sim/http-auth.ts) held to the RFCs a real device
 * follows. The client side here is written out by hand from RFC 7616 section 3.4.1 (and
 * RFC 2617 section 3.2.2.1 without qop), apart from both the simulator and the agent, and
 * the guard's clock is moved instead of waited for.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpAuthGuard, type HttpAuthPolicy } from '../../../sim/http-auth.js';

const account = { username: 'admin', password: 'S3cret!' };
const REALM = 'Vigil Sim cam-01';
const URI = '/snapshot/main.jpg';
const qopAuth: HttpAuthPolicy = { offer: ['digest'], algorithm: 'MD5', qop: true };
const noQop: HttpAuthPolicy = { offer: ['digest'], algorithm: 'MD5', qop: false };

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** The quoted parameter `name` of a challenge. */
function param(challenge: string, name: string): string {
  return new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
}

/** An Authorization header as RFC 7616 section 3.4 writes it (qop, nc, algorithm unquoted). */
function digest(
  challenge: string,
  options: { password?: string; nc?: number; qop?: boolean; uri?: string } = {},
): string {
  const { password = account.password, nc = 1, qop = true, uri = URI } = options;
  const nonce = param(challenge, 'nonce');
  const ha1 = md5(`${account.username}:${REALM}:${password}`);
  const ha2 = md5(`GET:${uri}`);
  const count = nc.toString(16).padStart(8, '0');
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const response = qop
    ? md5(`${ha1}:${nonce}:${count}:${cnonce}:auth:${ha2}`)
    : md5(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    `username="${account.username}"`,
    `realm="${REALM}"`,
    `uri="${uri}"`,
    'algorithm=MD5',
    `nonce="${nonce}"`,
  ];
  if (qop) {
    parts.push(`nc=${count}`, `cnonce="${cnonce}"`, 'qop=auth');
    parts.push(`opaque="${param(challenge, 'opaque')}"`);
  }
  parts.push(`response="${response}"`);
  return `Digest ${parts.join(', ')}`;
}

/** A guard whose clock the test moves. */
function guardAt(policy: HttpAuthPolicy): { guard: HttpAuthGuard; clock: { now: number } } {
  const clock = { now: Date.parse('2026-12-06T12:00:00Z') };
  return { guard: new HttpAuthGuard(REALM, policy, () => clock.now), clock };
}

function challengeOf(guard: HttpAuthGuard): string {
  return guard.challenges()[0] ?? '';
}

describe('HTTP Digest as a device checks it', () => {
  it('accepts the right password, once per nc (a repeated nc is a replay)', () => {
    const { guard } = guardAt(qopAuth);
    const challenge = challengeOf(guard);
    expect(guard.verify(digest(challenge), 'GET', URI, account)).toEqual({ ok: true });
    expect(guard.verify(digest(challenge), 'GET', URI, account)).toMatchObject({ ok: false });
    expect(guard.verify(digest(challenge, { nc: 2 }), 'GET', URI, account)).toEqual({ ok: true });
  });

  it('says stale=true only for a valid digest whose nonce expired (RFC 7616 section 3.3)', () => {
    for (const policy of [qopAuth, noQop]) {
      const { guard, clock } = guardAt(policy);
      const challenge = challengeOf(guard);
      clock.now += 6 * 60_000;
      const right = guard.verify(digest(challenge, { qop: policy.qop }), 'GET', URI, account);
      expect(right).toEqual({ ok: false, reason: 'the nonce expired', stale: true });
      // The same old nonce with a wrong password is a wrong password, never "stale": a
      // client told "stale" would retry as if only the timing had been wrong.
      const wrong = guard.verify(
        digest(challenge, { qop: policy.qop, password: 'guess', nc: 2 }),
        'GET',
        URI,
        account,
      );
      expect(wrong).toEqual({ ok: false, reason: 'wrong username or password (Digest)' });
      expect(wrong).not.toHaveProperty('stale');
    }
  });

  it('a nonce within its lifetime is not stale', () => {
    const { guard, clock } = guardAt(noQop);
    const challenge = challengeOf(guard);
    clock.now += 4 * 60_000;
    const header = digest(challenge, { qop: false });
    expect(guard.verify(header, 'GET', URI, account)).toEqual({ ok: true });
  });
});
