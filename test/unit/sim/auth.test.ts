import { describe, expect, it } from 'vitest';
import { checkUsernameToken, NonceCache, passwordDigest } from '../../../sim/soap/auth.js';
import { parseEnvelope, type UsernameToken } from '../../../sim/soap/envelope.js';
import { securityHeader, soapRequest, type TokenOptions } from '../../helpers/soap-requests.js';

const credentials = { username: 'admin', password: 'S3cret!' };
const deviceNow = Date.parse('2026-11-26T08:00:00.000Z');

function tokenOf(options: TokenOptions): UsernameToken | null {
  const parsed = parseEnvelope(soapRequest('<tds:GetDeviceInformation/>', securityHeader(options)));
  if (!parsed.ok) throw new Error(parsed.fault.reason);
  return parsed.request.usernameToken;
}

describe('WS-UsernameToken PasswordDigest check', () => {
  it('computes Base64(SHA1(nonce + Created + password)) over the decoded nonce', () => {
    // Reference value from Python: b64encode(sha1(bytes([1,2,3]) + created + b'pw')).
    const digest = passwordDigest(Buffer.from('AQID', 'base64'), '2026-01-01T00:00:00Z', 'pw');
    expect(digest).toBe('41RvtPgm9M/qveMfB9yX1lEYCtM=');
  });

  it('accepts the right password with a fresh Created and a new nonce', () => {
    const token = tokenOf({ password: 'S3cret!', created: '2026-11-26T07:58:30.000Z' });
    expect(checkUsernameToken(token, { credentials, deviceNow, nonces: new NonceCache() })).toEqual(
      {
        ok: true,
      },
    );
  });

  it('refuses a wrong password and a wrong username', () => {
    const created = '2026-11-26T08:00:00.000Z';
    const nonces = new NonceCache();
    const wrongPassword = checkUsernameToken(tokenOf({ password: 'guess', created }), {
      credentials,
      deviceNow,
      nonces,
    });
    expect(wrongPassword).toEqual({ ok: false, reason: 'wrong username or password' });
    const wrongUser = checkUsernameToken(
      tokenOf({ username: 'root', password: 'S3cret!', created }),
      { credentials, deviceNow, nonces },
    );
    expect(wrongUser.ok).toBe(false);
  });

  it('refuses a Created more than 5 minutes from the device clock, either way', () => {
    const nonces = new NonceCache();
    for (const created of ['2026-11-26T07:54:59.000Z', '2026-11-26T08:05:01.000Z']) {
      const result = checkUsernameToken(tokenOf({ password: 'S3cret!', created }), {
        credentials,
        deviceNow,
        nonces,
      });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(/more than 5 min from the device clock/);
    }
  });

  it('refuses a replayed nonce, even with the right password', () => {
    const nonces = new NonceCache();
    const token = tokenOf({ password: 'S3cret!', created: '2026-11-26T08:00:00.000Z' });
    expect(checkUsernameToken(token, { credentials, deviceNow, nonces }).ok).toBe(true);
    expect(checkUsernameToken(token, { credentials, deviceNow: deviceNow + 1000, nonces })).toEqual(
      {
        ok: false,
        reason: 'the nonce was already used (replay)',
      },
    );
  });

  it('refuses a missing token, a plain-text password and a token without nonce', () => {
    const nonces = new NonceCache();
    expect(checkUsernameToken(null, { credentials, deviceNow, nonces }).ok).toBe(false);
    const token = tokenOf({ password: 'S3cret!', created: '2026-11-26T08:00:00.000Z' });
    if (!token) throw new Error('no token');
    const asText = { ...token, passwordType: null, password: 'S3cret!' };
    expect(checkUsernameToken(asText, { credentials, deviceNow, nonces })).toEqual({
      ok: false,
      reason: 'the password must be sent as a PasswordDigest',
    });
    const noNonce = { ...token, nonce: null };
    expect(checkUsernameToken(noNonce, { credentials, deviceNow, nonces }).ok).toBe(false);
  });
});

describe('NonceCache', () => {
  it('forgets nonces after their time to live', () => {
    const cache = new NonceCache(100, 1000);
    expect(cache.remember('a', 0)).toBe(true);
    expect(cache.remember('a', 999)).toBe(false);
    expect(cache.remember('a', 1000)).toBe(true);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new NonceCache(3, 60_000);
    for (const nonce of ['a', 'b', 'c', 'd']) cache.remember(nonce, 0);
    expect(cache.size).toBe(3);
    expect(cache.remember('a', 1)).toBe(true);
    expect(cache.remember('d', 1)).toBe(false);
  });
});
