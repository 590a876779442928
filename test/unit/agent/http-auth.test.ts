import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  digestResponse,
  HttpAuthorizer,
  isStale,
  parseAuthorization,
  parseChallenges,
  strongest,
} from '../../../agent/onvif/http-auth.js';
import { Secret } from '../../../agent/secret.js';

/** The `name=value` pairs of an Authorization header we built. */
function paramsOf(header: string): Record<string, string> {
  return parseAuthorization(header)?.params ?? {};
}

/**
 * The auth-params of a Digest header exactly as written, quotes included, in any order:
 * what tells `qop=auth` (RFC 7616 section 3.4) from a quoted `qop="auth"`.
 */
function rawParams(header: string): string[] {
  return (
    header.replace(/^Digest /, '').match(/[^=,\s]+=(?:"(?:[^"\\]|\\.)*"|[^,]*)/g) ?? []
  ).sort();
}

describe('RFC 2617 section 3.5 worked example', () => {
  it('gives the response of the RFC (MD5, qop=auth)', () => {
    expect(
      digestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        password: 'Circle Of Life',
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        method: 'GET',
        uri: '/dir/index.html',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('answers the RFC challenge with the RFC Authorization header', () => {
    const [challenge] = parseChallenges(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const authorizer = new HttpAuthorizer(
      challenge!,
      { username: 'Mufasa', password: new Secret('Circle Of Life') },
      () => '0a4f113b',
    );
    const header = authorizer.authorization('GET', '/dir/index.html');
    expect(paramsOf(header)).toEqual({
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
    // nc counts up with every request on the same nonce.
    expect(paramsOf(authorizer.authorization('GET', '/dir/index.html')).nc).toBe('00000002');
  });

  it('writes the header of the RFC as written there: qop and nc unquoted, the rest quoted', () => {
    const [challenge] = parseChallenges(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const header = new HttpAuthorizer(
      challenge!,
      { username: 'Mufasa', password: new Secret('Circle Of Life') },
      () => '0a4f113b',
    ).authorization('GET', '/dir/index.html');
    // RFC 2617 section 3.5, line by line (its order differs from RFC 7616's, which we keep).
    const rfc = [
      'username="Mufasa"',
      'realm="testrealm@host.com"',
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"',
      'uri="/dir/index.html"',
      'qop=auth',
      'nc=00000001',
      'cnonce="0a4f113b"',
      'response="6629fae49393a05397450978507c4ef1"',
      'opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ];
    expect(header.startsWith('Digest ')).toBe(true);
    expect(rawParams(header)).toEqual([...rfc].sort());
  });

  it('computes the RTSP form without qop: H(HA1:nonce:HA2) over DESCRIBE and the Request-URI', () => {
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const uri = 'rtsp://192.0.2.7:554/Streaming/Channels/101';
    const expected = md5(
      `${md5('admin:IP Camera(12345):pa ss')}:4e6f6e6365:${md5(`DESCRIBE:${uri}`)}`,
    );
    const authorizer = new HttpAuthorizer(
      parseChallenges('Digest realm="IP Camera(12345)", nonce="4e6f6e6365", stale="FALSE"')[0]!,
      { username: 'admin', password: new Secret('pa ss') },
    );
    const params = paramsOf(authorizer.authorization('DESCRIBE', uri));
    expect(params.response).toBe(expected);
    expect(params.uri).toBe(uri);
    // RFC 2617: no qop offered, so no nc or cnonce sent.
    expect(params).not.toHaveProperty('nc');
    expect(params).not.toHaveProperty('cnonce');
    expect(params).not.toHaveProperty('qop');
  });
});

describe('RFC 7616 section 3.9.1 worked example', () => {
  const base = {
    username: 'Mufasa',
    password: 'Circle of Life',
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('gives the MD5 response of the RFC', () => {
    expect(digestResponse({ ...base, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('gives the SHA-256 response of the RFC', () => {
    expect(digestResponse({ ...base, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('writes the Authorization headers of the RFC, byte for byte (MD5 and SHA-256)', () => {
    const challenge = (algorithm: string): string =>
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const header = (algorithm: string): string =>
      new HttpAuthorizer(
        parseChallenges(challenge(algorithm))[0]!,
        { username: 'Mufasa', password: new Secret('Circle of Life') },
        () => base.cnonce,
      ).authorization('GET', '/dir/index.html');
    // RFC 7616 section 3.9.1, its lines joined; algorithm, nc and qop are unquoted tokens.
    const rfc = (algorithm: string, response: string): string =>
      [
        'Digest username="Mufasa"',
        'realm="http-auth@example.org"',
        'uri="/dir/index.html"',
        `algorithm=${algorithm}`,
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"',
        'nc=00000001',
        'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"',
        'qop=auth',
        `response="${response}"`,
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      ].join(', ');
    expect(header('MD5')).toBe(rfc('MD5', '8ca523f5e9506fed4657c9700eebdbec'));
    expect(header('SHA-256')).toBe(
      rfc('SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'),
    );
  });

  it('chooses SHA-256 from the RFC challenge pair and echoes algorithm and opaque', () => {
    const header =
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const md5 = header.replace('algorithm=SHA-256', 'algorithm=MD5');
    const challenge = strongest(parseChallenges([md5, header]));
    expect(challenge?.params.algorithm).toBe('SHA-256');
    const authorizer = new HttpAuthorizer(
      challenge!,
      { username: 'Mufasa', password: new Secret('Circle of Life') },
      () => base.cnonce,
    );
    const params = paramsOf(authorizer.authorization('GET', '/dir/index.html'));
    expect(params).toMatchObject({
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      algorithm: 'SHA-256',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      nc: '00000001',
      qop: 'auth',
    });
  });

  it('computes MD5-sess from the session key H(HA1:nonce:cnonce)', () => {
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const ha1 = md5(
      `${md5('Mufasa:http-auth@example.org:Circle of Life')}:${base.nonce}:${base.cnonce}`,
    );
    const expected = md5(
      `${ha1}:${base.nonce}:00000001:${base.cnonce}:auth:${md5('GET:/dir/index.html')}`,
    );
    expect(digestResponse({ ...base, algorithm: 'MD5-sess' })).toBe(expected);
  });

  it('keeps the -sess session key of the first request for the requests after it', () => {
    const cnonces = ['first-cnonce', 'second-cnonce', 'third-cnonce'];
    const authorizer = new HttpAuthorizer(
      parseChallenges(
        `Digest realm="${base.realm}", qop="auth", algorithm=SHA-256-sess, nonce="${base.nonce}"`,
      )[0]!,
      { username: base.username, password: new Secret(base.password) },
      () => cnonces.shift() ?? 'more',
    );
    const first = paramsOf(authorizer.authorization('GET', '/a'));
    const second = paramsOf(authorizer.authorization('GET', '/b'));
    // RFC 7616 section 3.4.2: H(H(user:realm:password):nonce:cnonce) once, from the first cnonce.
    expect([first.cnonce, second.cnonce]).toEqual(['first-cnonce', 'first-cnonce']);
    expect(second.nc).toBe('00000002');
    expect(second.response).toBe(
      digestResponse({
        ...base,
        algorithm: 'SHA-256-sess',
        uri: '/b',
        nc: '00000002',
        cnonce: 'first-cnonce',
      }),
    );
  });

  it('does not answer -sess without qop: it would need the cnonce RFC 2617 forbids there', () => {
    const sess = 'Digest realm="r", nonce="n", algorithm=MD5-sess';
    expect(strongest(parseChallenges(sess))).toBeNull();
    expect(strongest(parseChallenges([sess, 'Basic realm="r"']))?.scheme).toBe('basic');
    expect(strongest(parseChallenges(`${sess}, qop="auth"`))?.params.algorithm).toBe('MD5-sess');
  });
});

describe('WWW-Authenticate parsing', () => {
  it('reads several challenges in one header, case-insensitive, with escapes in quoted strings', () => {
    const challenges = parseChallenges(
      'BASIC realm="a \\"quoted\\" realm, with comma", DiGeSt Realm="cam", NONCE=abc, qop="auth", Newauth',
    );
    expect(challenges).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm, with comma' } },
      { scheme: 'digest', params: { realm: 'cam', nonce: 'abc', qop: 'auth' } },
      { scheme: 'newauth', params: {} },
    ]);
  });

  it('reads challenges spread over several headers and token68 credentials', () => {
    expect(
      parseChallenges(['Basic realm="x"', 'Digest realm="y", nonce="n"']).map((c) => c.scheme),
    ).toEqual(['basic', 'digest']);
    expect(parseAuthorization('Basic dXNlcjpwYXNz')).toEqual({
      scheme: 'basic',
      params: {},
      token68: 'dXNlcjpwYXNz',
    });
  });

  it('prefers Digest SHA-256 over Digest MD5 over Basic, and skips what it cannot answer', () => {
    const offered = parseChallenges([
      'Basic realm="r"',
      'Digest realm="r", nonce="1"',
      'Digest realm="r", nonce="2", algorithm=SHA-256',
      'Digest realm="r", nonce="3", algorithm=UNKNOWN-HASH',
      'Digest realm="r", nonce="4", algorithm=SHA-256, qop="auth-int"',
    ]);
    expect(strongest(offered)?.params.nonce).toBe('2');
    expect(strongest(offered.slice(0, 2))?.params.nonce).toBe('1');
    expect(strongest(offered.slice(0, 1))?.scheme).toBe('basic');
    expect(strongest(parseChallenges('Negotiate, NTLM'))).toBeNull();
  });

  it('answers Basic with base64 of UTF-8 user:password', () => {
    const authorizer = new HttpAuthorizer(parseChallenges('Basic realm="cam"')[0]!, {
      username: 'Aladdin',
      password: new Secret('open sesame'),
    });
    // RFC 7617 section 2 example.
    expect(authorizer.authorization('GET', '/')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('reads an unquoted base64 nonce whole, / + and = included', () => {
    expect(
      parseChallenges('Digest realm="r", nonce=7ypf/xlj+XXw==, qop=auth, Basic realm="b"'),
    ).toEqual([
      { scheme: 'digest', params: { realm: 'r', nonce: '7ypf/xlj+XXw==', qop: 'auth' } },
      { scheme: 'basic', params: { realm: 'b' } },
    ]);
  });

  it('sends a name a quoted-string cannot carry as username* (RFC 7616 section 3.4.4)', () => {
    const authorizer = new HttpAuthorizer(
      parseChallenges('Digest realm="api@example.org", nonce="n", qop="auth"')[0]!,
      { username: 'Jäsøn Doe', password: new Secret('Secret, or not?') },
      () => 'c',
    );
    const header = authorizer.authorization('GET', '/doe.json');
    // Section 3.9.2's encoding of the same name.
    expect(header).toContain(`username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, `);
    expect(header).not.toContain('username=');
    // The hash covers the name itself, in UTF-8.
    expect(paramsOf(header).response).toBe(
      digestResponse({
        algorithm: 'MD5',
        username: 'Jäsøn Doe',
        password: 'Secret, or not?',
        realm: 'api@example.org',
        nonce: 'n',
        method: 'GET',
        uri: '/doe.json',
        qop: 'auth',
        nc: '00000001',
        cnonce: 'c',
      }),
    );
  });

  it('tells a stale nonce from a rejected password', () => {
    expect(isStale('Digest realm="r", nonce="n2", stale=TRUE')).toBe(true);
    expect(isStale('Digest realm="r", nonce="n2"')).toBe(false);
  });
});
