import { describe, expect, it } from 'vitest';
import { httpsLocation } from '../../../../broker/api/https.js';
import { clientKey } from '../../../../broker/api/login-limits.js';
import { resolveConfig } from '../../../../broker/config.js';
import { VigilError } from '../../../../shared/errors.js';

describe('the address a login is counted under', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    // IPv4-mapped (RFC 4291 section 2.5.5.2): the IPv4 client it is.
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    // IPv6: the /64 (one host commonly holds all of it).
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s is counted as %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe('the redirect to HTTPS', () => {
  it('keeps the host asked for and the path, on the HTTPS port', () => {
    expect(httpsLocation('vigil.example.com', '/a?b=1', 443)).toBe(
      'https://vigil.example.com/a?b=1',
    );
    expect(httpsLocation('vigil.example.com:80', '/', 8443)).toBe(
      'https://vigil.example.com:8443/',
    );
    expect(httpsLocation('[2001:db8::1]:80', '/x', 8443)).toBe('https://[2001:db8::1]:8443/x');
    // A proxy-style absolute target is not followed elsewhere.
    expect(httpsLocation('vigil.example.com', 'http://evil.example/', 443)).toBe(
      'https://vigil.example.com/',
    );
  });

  it('gives no redirect for a missing or malformed Host', () => {
    expect(httpsLocation(undefined, '/', 443)).toBeUndefined();
    expect(httpsLocation('evil.example/path', '/', 443)).toBeUndefined();
    expect(httpsLocation('a b', '/', 443)).toBeUndefined();
  });
});

describe('http config keys', () => {
  const errorsOf = (http: unknown) => {
    try {
      resolveConfig({ http }, { env: {} });
    } catch (error) {
      if (error instanceof VigilError) return error.details;
      throw error;
    }
    return [];
  };

  it('fills the login limits and HSTS defaults', () => {
    const config = resolveConfig(
      { http: { port: 443, tls: { cert: 'c.pem', key: 'k.pem', redirectPort: 80 } } },
      { env: {}, baseDir: '/etc/vigil' },
    );
    expect(config.http).toEqual({
      host: '0.0.0.0',
      port: 443,
      tls: {
        certFile: '/etc/vigil/c.pem',
        keyFile: '/etc/vigil/k.pem',
        redirectPort: 80,
        hstsMaxAgeS: 31536000,
      },
      trustProxy: null,
      loginLimits: { failuresPerAccount: 20, failuresPerAddress: 100, windowMin: 15, lockMin: 15 },
    });
  });

  it('names each wrong key with its path', () => {
    expect(
      errorsOf({
        port: 443,
        tls: { cert: 'c', key: 'k', redirectPort: 443 },
        trustProxy: ['x', '10.0.0.0/8', 'loopback', '10.0.0.0/33'],
      }),
    ).toEqual([
      'http/tls/redirectPort: 443 is the HTTPS port itself; give the plain HTTP port to redirect from (80), or leave it out',
      'http/trustProxy/0: "x" is not an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal',
      'http/trustProxy/3: "10.0.0.0/33" is not an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal',
    ]);
    expect(errorsOf({ loginLimits: { lockMin: 0 } })).toEqual([
      expect.stringMatching(/^http\/loginLimits\/lockMin: /),
    ]);
  });
});
