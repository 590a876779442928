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

interface DigestOptions {
  password?: string;
  nc?: number;
  qop?: false | 'auth' | 'auth-int';
  uri?: string;
  /** The body qop=auth-int digests. */
  entity?: string;
  username?: string;
  /** Send the name as username* (RFC 7616 section 3.4.4) instead of username. */
  extendedName?: boolean;
  /** Rewrites the finished header (to break one rule). */
  edit?: (header: string) => string;
}

/** An Authorization header as RFC 7616 section 3.4 writes it (qop, nc, algorithm unquoted). */
function digest(challenge: string, options: DigestOptions = {}): string {
  const { password = account.password, nc = 1, qop = 'auth', uri = URI, entity = '' } = options;
  const username = options.username ?? account.username;
  const nonce = param(challenge, 'nonce');
  const ha1 = md5(`${username}:${REALM}:${password}`);
  const ha2 = qop === 'auth-int' ? md5(`GET:${uri}:${md5(entity)}`) : md5(`GET:${uri}`);
  const count = nc.toString(16).padStart(8, '0');
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const response = qop
    ? md5(`${ha1}:${nonce}:${count}:${cnonce}:${qop}:${ha2}`)
    : md5(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    options.extendedName
      ? `username*=UTF-8''${encodeURIComponent(username)}`
      : `username="${username}"`,
    `realm="${REALM}"`,
    `uri="${uri}"`,
    'algorithm=MD5',
    `nonce="${nonce}"`,
  ];
  if (qop) {
    parts.push(`nc=${count}`, `cnonce="${cnonce}"`, `qop=${qop}`);
    parts.push(`opaque="${param(challenge, 'opaque')}"`);
  }
  parts.push(`response="${response}"`);
  const header = `Digest ${parts.join(', ')}`;
  return options.edit ? options.edit(header) : header;
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
      const right = guard.verify(
        digest(challenge, { qop: policy.qop && 'auth' }),
        'GET',
        URI,
        account,
      );
      expect(right).toEqual({ ok: false, reason: 'the nonce expired', stale: true });
      // The same old nonce with a wrong password is a wrong password, never "stale": a
      // client told "stale" would retry as if only the timing had been wrong.
      const wrong = guard.verify(
        digest(challenge, { qop: policy.qop && 'auth', password: 'guess', nc: 2 }),
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

describe('Digest credentials read strictly (RFC 7616 section 3.4)', () => {
  it.each([
    ['qop quoted', (h: string) => h.replace('qop=auth', 'qop="auth"'), /qop must not be quoted/],
    ['nc quoted', (h: string) => h.replace(/nc=(\w+)/, 'nc="$1"'), /nc must not be quoted/],
    [
      'algorithm quoted',
      (h: string) => h.replace('algorithm=MD5', 'algorithm="MD5"'),
      /algorithm must not be quoted/,
    ],
    [
      'username unquoted',
      (h: string) => h.replace('username="admin"', 'username=admin'),
      /username must be a quoted string/,
    ],
    [
      'realm unquoted',
      (h: string) => h.replace(`realm="${REALM}"`, 'realm=cam'),
      /realm must be a quoted string/,
    ],
    [
      'uri unquoted',
      (h: string) => h.replace(`uri="${URI}"`, `uri=${URI}`),
      /uri must be a quoted string|no value/,
    ],
    [
      'nonce unquoted',
      (h: string) => h.replace(/nonce="(\w+)"/, 'nonce=$1'),
      /nonce must be a quoted string/,
    ],
    [
      'response unquoted',
      (h: string) => h.replace(/response="(\w+)"/, 'response=$1'),
      /response must be a quoted string/,
    ],
    ['a parameter twice', (h: string) => `${h}, nc=00000009`, /nc appears twice/],
    [
      'no comma between parameters',
      (h: string) => h.replace(', realm=', ' realm='),
      /a comma expected/,
    ],
    ['a quoted string left open', (h: string) => h.replace(/"$/, ''), /not closed/],
  ])('refuses %s as malformed, with the right password', (_case, edit, said) => {
    const { guard } = guardAt(qopAuth);
    const result = guard.verify(digest(challengeOf(guard), { edit }), 'GET', URI, account);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^malformed Digest credentials: /),
    });
    expect(result.ok ? '' : result.reason).toMatch(said);
  });

  it('accepts the same header written as the RFC says, and username* for a name that is not ASCII', () => {
    const { guard } = guardAt(qopAuth);
    expect(guard.verify(digest(challengeOf(guard)), 'GET', URI, account)).toEqual({ ok: true });
    const user = { username: 'Jäsøn Doe', password: account.password };
    const named = digest(challengeOf(guard), { username: user.username, extendedName: true });
    expect(named).toContain("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe");
    expect(guard.verify(named, 'GET', URI, user)).toEqual({ ok: true });
    const both = digest(challengeOf(guard), {
      username: user.username,
      extendedName: true,
      edit: (h) => h.replace('Digest ', 'Digest username="Jason", '),
    });
    expect(guard.verify(both, 'GET', URI, user)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/username and username\* both given/),
    });
  });

  it('a malformed header is no guess of the password: the lockout does not count it', () => {
    const { guard } = guardAt(qopAuth);
    const counted: string[] = [];
    const gate = {
      locked: () => null,
      failed: (user: string) => void counted.push(`failed ${user}`),
      succeeded: (user: string) => void counted.push(`ok ${user}`),
    };
    const quoted = digest(challengeOf(guard), { edit: (h) => h.replace('qop=auth', 'qop="auth"') });
    guard.verify(quoted, 'GET', URI, account, gate);
    guard.verify(digest(challengeOf(guard), { password: 'guess' }), 'GET', URI, account, gate);
    guard.verify(digest(challengeOf(guard)), 'GET', URI, account, gate);
    expect(counted).toEqual(['failed admin', 'ok admin']);
  });
});

describe('qop="auth,auth-int" and a short nonce lifetime (hardened-camera)', () => {
  const strict: HttpAuthPolicy = { ...qopAuth, authInt: true, nonceLifetimeS: 10 };

  it('offers both; auth passes, and auth-int digests the body (another body is refused)', () => {
    const { guard } = guardAt(strict);
    const challenge = challengeOf(guard);
    expect(challenge).toContain('qop="auth,auth-int"');
    expect(guard.verify(digest(challenge), 'GET', URI, account)).toEqual({ ok: true });
    const body = '<Envelope/>';
    const header = digest(challenge, { qop: 'auth-int', entity: body, nc: 2 });
    expect(guard.verify(header, 'GET', URI, account, undefined, body)).toEqual({ ok: true });
    const tampered = digest(challenge, { qop: 'auth-int', entity: body, nc: 3 });
    expect(guard.verify(tampered, 'GET', URI, account, undefined, '<Other/>')).toMatchObject({
      ok: false,
    });
    // A device offering only auth refuses auth-int.
    const { guard: plain } = guardAt(qopAuth);
    const refused = plain.verify(
      digest(challengeOf(plain), { qop: 'auth-int', entity: body }),
      'GET',
      URI,
      account,
      undefined,
      body,
    );
    expect(refused).toMatchObject({ ok: false, reason: expect.stringMatching(/qop=auth-int/) });
  });

  it('its nonces go stale after 10 s (the default is 5 min)', () => {
    const { guard, clock } = guardAt(strict);
    const challenge = challengeOf(guard);
    clock.now += 11_000;
    expect(guard.verify(digest(challenge), 'GET', URI, account)).toMatchObject({ stale: true });
    const { guard: usual, clock: later } = guardAt(qopAuth);
    const kept = challengeOf(usual);
    later.now += 11_000;
    expect(usual.verify(digest(kept), 'GET', URI, account)).toEqual({ ok: true });
  });
});
