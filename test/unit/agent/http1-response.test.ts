/**
 * The probe's HTTP/1.1 response reader (agent/onvif/http1-response.ts), fed bytes as a
 * connection gives them: every way of delimiting a body of RFC 9112 section 6.3, every
 * split of an answer into packets, and what is not an answer. Against real servers, with
 * the kept connection: probe.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Http1ResponseReader, type ReadResult } from '../../../agent/onvif/http1-response.js';

const MAX = 4 * 1024 * 1024;

/** Feeds `parts` in order, then the close when `close`; the first result that is not 'more'. */
function read(parts: (string | Buffer)[], close = false, head = false): ReadResult {
  const reader = new Http1ResponseReader({ maxBody: MAX, head });
  for (const part of parts) {
    const result = reader.feed(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
    if (result.state !== 'more') return result;
  }
  return close ? reader.end() : { state: 'more' };
}

function done(result: ReadResult) {
  if (result.state !== 'done') throw new Error(`not done: ${JSON.stringify(result)}`);
  return { ...result.response, body: result.response.body.toString('latin1') };
}

const soap = '<?xml version="1.0"?><a>1</a>';
const withLength = `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: ${soap.length}\r\n\r\n${soap}`;
const chunked =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;name=value\r\n<?xml\r\n' +
  `${(soap.length - 5).toString(16)}\r\n${soap.slice(5)}\r\n` +
  '0\r\nX-Trailer: yes\r\n\r\n';

describe('a response delimited', () => {
  it('by Content-Length: kept connection, headers in lower case', () => {
    const r = done(read([withLength]));
    expect(r.status).toBe(200);
    expect(r.body).toBe(soap);
    expect(r.headers.get('content-type')).toBe('application/soap+xml');
    expect(r.reusable).toBe(true);
  });

  it('by chunks, with an extension and a trailer', () => {
    const r = done(read([chunked]));
    expect(r.body).toBe(soap);
    expect(r.reusable).toBe(true);
  });

  it('by the close (no length): the body ends with the connection, which is not kept', () => {
    const text = `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n${soap}`;
    expect(read([text]).state).toBe('more');
    const r = done(read([text], true));
    expect(r.body).toBe(soap);
    expect(r.reusable).toBe(false);
  });

  it('in every split into two packets, and byte by byte', () => {
    for (const text of [withLength, chunked]) {
      for (let at = 1; at < text.length; at++) {
        expect(done(read([text.slice(0, at), text.slice(at)])).body).toBe(soap);
      }
      expect(done(read([...text])).body).toBe(soap);
    }
  });

  it('without a body where the status or the method says so (1xx skipped, 204, 304, HEAD)', () => {
    expect(done(read(['HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n'])).body).toBe('');
    expect(done(read(['HTTP/1.1 304 Not Modified\r\n\r\n'])).body).toBe('');
    expect(done(read(['HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n'], false, true)).body).toBe('');
    const r = done(read([`HTTP/1.1 100 Continue\r\n\r\n${withLength}`]));
    expect(r.status).toBe(200);
    expect(r.body).toBe(soap);
  });
});

describe('whether the connection is kept (RFC 9112 section 9.3)', () => {
  it('not after Connection: close, whatever the case', () => {
    const text = withLength.replace('\r\n\r\n', '\r\nConnection: Keep-Alive, CLOSE\r\n\r\n');
    expect(done(read([text])).reusable).toBe(false);
  });

  it('HTTP/1.0: only with Connection: keep-alive', () => {
    const old = withLength.replace('HTTP/1.1', 'HTTP/1.0');
    expect(done(read([old])).reusable).toBe(false);
    const kept = old.replace('\r\n\r\n', '\r\nConnection: keep-alive\r\n\r\n');
    expect(done(read([kept])).reusable).toBe(true);
  });

  it('not with Transfer-Encoding beside Content-Length (section 6.3 item 3): chunked wins', () => {
    const text = chunked.replace('\r\n\r\n', '\r\nContent-Length: 3\r\n\r\n');
    const r = done(read([text]));
    expect(r.body).toBe(soap);
    expect(r.reusable).toBe(false);
  });

  it('bytes after the answer are left over for the caller to see', () => {
    const reader = new Http1ResponseReader({ maxBody: MAX });
    expect(reader.feed(Buffer.from(`${withLength}HTTP/1.1 200`, 'latin1')).state).toBe('done');
    expect(reader.leftover).toBeGreaterThan(0);
  });
});

describe('what real devices send that the standard allows', () => {
  it('bare LF line ends, no reason phrase, folded header lines, a repeated equal length', () => {
    const text = `HTTP/1.1 200\nX-Long: one\n two\nContent-Length: ${soap.length}, ${soap.length}\n\n${soap}`;
    const r = done(read([text]));
    expect(r.body).toBe(soap);
    expect(r.headers.get('x-long')).toBe('one two');
  });
});

describe('what is not an answer', () => {
  it('garbage, said at the first bytes and not at the deadline', () => {
    expect(read(['SSH-2.0-OpenSSH_8.9\r\n'])).toMatchObject({ state: 'error' });
    expect(read(['<html>'])).toMatchObject({ state: 'error' });
    expect(read(['HTTP/2 200\r\n\r\n'])).toMatchObject({ state: 'error' });
  });

  it('a header line without a colon, conflicting lengths, a bad length or chunk size', () => {
    expect(read(['HTTP/1.1 200 OK\r\nbroken line\r\n\r\n'])).toMatchObject({ state: 'error' });
    expect(
      read(['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n']),
    ).toMatchObject({ state: 'error' });
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'])).toMatchObject({
      state: 'error',
    });
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'])).toMatchObject({
      state: 'error',
    });
  });

  it('an answer cut off by the close, or no answer at all', () => {
    expect(read([withLength.slice(0, -3)], true)).toMatchObject({
      state: 'error',
      message: expect.stringContaining('middle'),
    });
    expect(read([], true)).toMatchObject({
      state: 'error',
      message: expect.stringContaining('without an answer'),
    });
  });

  it('larger than the limit: refused from its Content-Length, or as chunks come', () => {
    const small = new Http1ResponseReader({ maxBody: 10 });
    expect(small.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n'))).toMatchObject({
      state: 'error',
      message: expect.stringContaining('larger'),
    });
    const chunks = new Http1ResponseReader({ maxBody: 10 });
    expect(
      chunks.feed(
        Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n0123456789a'),
      ),
    ).toMatchObject({ state: 'error', message: expect.stringContaining('larger') });
  });
});
