/**
 * The RTSP side of media credentials on a socket of our own: what a camera sees. The
 * answer to a 401 goes on the same connection with CSeq 2 (RFC 2326 section 12.17), the
 * digest covers DESCRIBE and the Request-URI, and a response is read whole (headers and
 * Content-Length body, however the bytes are split) before the next request is sent. An
 * answer counts only with the CSeq just sent; no Basic after Digest; IPv6 literals.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAuthorization } from '../../../agent/onvif/http-auth.js';
import type { AuthMemory } from '../../../agent/onvif/http-exchange.js';
import {
  readRtspResponse,
  rtspDescribe,
  RtspConnections,
  RTSP_IDLE_MS,
} from '../../../agent/onvif/media-probe.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { Secret } from '../../../agent/secret.js';

interface Seen {
  connection: number;
  head: string;
}

let server: Server | null = null;

afterEach(async () => {
  const s = server;
  server = null;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/**
 * A camera that answers each request with the next of `answers` (split in two writes);
 * one given as `{ close }` closes the connection after it.
 */
async function camera(
  answers: (string | { close: string })[],
  host = '127.0.0.1',
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  let connections = 0;
  server = createServer((socket: Socket) => {
    const connection = ++connections;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        seen.push({ connection, head: buffered.slice(0, end) });
        buffered = buffered.slice(end + 4);
        const next = answers.shift() ?? 'RTSP/1.0 500 Internal Server Error\r\n\r\n';
        const answer = typeof next === 'string' ? next : next.close;
        const half = Math.floor(answer.length / 2);
        socket.write(answer.slice(0, half));
        setImmediate(() => {
          socket.write(answer.slice(half));
          if (typeof next !== 'string') socket.end();
        });
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, host, resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, seen };
}

const credentials = { username: 'admin', password: new Secret('pa:ss "word"') };

function header(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

describe('RTSP DESCRIBE with credentials', () => {
  it('answers the Digest challenge on the same connection with CSeq 2', async () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\n';
    const { port, seen } = await camera([
      // A 401 with a body of its own, which must be read before the next answer.
      'RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="IP Camera(C1)", nonce="abc123", stale="FALSE"\r\nWWW-Authenticate: Basic realm="IP Camera(C1)"\r\nContent-Length: 5\r\n\r\nnope!',
      `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
    ]);
    const uri = `rtsp://127.0.0.1:${port}/Streaming/Channels/101`;
    expect(await rtspDescribe(uri, { timeoutMs: 2000, credentials })).toBe(200);
    expect(seen.map((s) => s.connection)).toEqual([1, 1]);
    expect(seen.map((s) => header(s.head, 'CSeq'))).toEqual(['1', '2']);
    expect(header(seen[0]!.head, 'Authorization')).toBeUndefined();
    const auth = parseAuthorization(header(seen[1]!.head, 'Authorization'));
    // Digest is stronger than Basic; no qop offered, so none sent (RFC 2617).
    expect(auth?.scheme).toBe('digest');
    expect(auth?.params).toMatchObject({ uri, realm: 'IP Camera(C1)', nonce: 'abc123' });
    expect(auth?.params).not.toHaveProperty('nc');
    expect(seen[1]!.head.startsWith(`DESCRIBE ${uri} RTSP/1.0`)).toBe(true);
  });

  it('a 401 after credentials is auth-failed naming the URI, not the password', async () => {
    const challenge =
      'RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n';
    const { port } = await camera([challenge, challenge.replace('CSeq: 1', 'CSeq: 2')]);
    const uri = `rtsp://127.0.0.1:${port}/live`;
    const error = await rtspDescribe(uri, { timeoutMs: 2000, credentials }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OnvifError);
    expect((error as OnvifError).kind).toBe('auth-failed');
    expect((error as OnvifError).message).toContain(uri);
    expect((error as OnvifError).message).not.toContain('pa:ss');
  });
});

describe('RTSP answers, addresses and downgrades', () => {
  const digest =
    'RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="cam", nonce="abc"\r\n\r\n';

  it('takes only the answer with the CSeq just sent, passing over a late one', async () => {
    const { port, seen } = await camera([
      digest,
      // A stray 200 to request 1, then the refusal of request 2 (the one that counts).
      'RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n' +
        'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="cam", nonce="abc"\r\n\r\n',
    ]);
    const error = await rtspDescribe(`rtsp://127.0.0.1:${port}/live`, {
      timeoutMs: 2000,
      credentials,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnvifError);
    expect((error as OnvifError).kind).toBe('auth-failed');
    expect(seen).toHaveLength(2);
  });

  it('describes a stream at an IPv6 literal address (rtsp://[::1]:port/)', async () => {
    const { port, seen } = await camera(['RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n'], '::1');
    expect(await rtspDescribe(`rtsp://[::1]:${port}/live`, { timeoutMs: 2000 })).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('refuses Basic from a camera that offered Digest before, sending no password', async () => {
    const { port, seen } = await camera([
      digest,
      'RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n',
      'RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n',
      'RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n',
    ]);
    const uri = `rtsp://127.0.0.1:${port}/live`;
    const auth: AuthMemory = { authorizer: null };
    expect(await rtspDescribe(uri, { timeoutMs: 2000, credentials, auth })).toBe(200);
    const error = await rtspDescribe(uri, { timeoutMs: 2000, credentials, auth }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OnvifError);
    expect((error as OnvifError).message).toMatch(/refused this downgrade/);
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => header(s.head, 'Authorization') ?? '')).not.toContainEqual(
      expect.stringMatching(/^Basic/),
    );
  });
});

describe('reading an RTSP response', () => {
  it('waits for the whole Content-Length body and keeps what follows', () => {
    const whole = Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 4\r\n\r\nabcdRTSP');
    expect(readRtspResponse(whole.subarray(0, 40))).toBeNull();
    const read = readRtspResponse(whole);
    expect(read?.response.status).toBe(200);
    expect(read?.response.body.toString()).toBe('abcd');
    expect(read?.rest.toString()).toBe('RTSP');
  });

  it('refuses what is not RTSP', () => {
    expect(() => readRtspResponse(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(
      /not an RTSP answer/,
    );
  });
});

describe("a device's DESCRIBEs on its kept RTSP connection (RtspConnections)", () => {
  const sdp = 'v=0\r\n';
  const ok = (cseq: number) =>
    `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
  const challenge = (cseq: number, nonce: string) =>
    `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Digest realm="nvr", nonce="${nonce}"\r\n\r\n`;
  const nonceOf = (seen: Seen) =>
    parseAuthorization(header(seen.head, 'Authorization'))?.params.nonce;

  it("describes a poll's channels on one connection, answering the challenge once", async () => {
    const { port, seen } = await camera([challenge(1, 'n1'), ok(2), ok(3), ok(4)]);
    const connections = new RtspConnections();
    const options = { timeoutMs: 2000, credentials, connections };
    for (const channel of [101, 201, 301]) {
      const uri = `rtsp://127.0.0.1:${port}/Streaming/Channels/${channel}`;
      expect(await rtspDescribe(uri, options)).toBe(200);
    }
    // 4 requests on 1 connection; without the kept connection: 6 requests on 3.
    expect(seen.map((s) => s.connection)).toEqual([1, 1, 1, 1]);
    expect(seen.map((s) => header(s.head, 'CSeq'))).toEqual(['1', '2', '3', '4']);
    expect(seen.slice(1).map(nonceOf)).toEqual(['n1', 'n1', 'n1']);
    // Each request's digest covers its own Request-URI.
    expect(parseAuthorization(header(seen[3]!.head, 'Authorization'))?.params.uri).toContain(
      '/Streaming/Channels/301',
    );
  });

  it('goes to a new connection, unauthenticated first, when the device closed the kept one', async () => {
    const { port, seen } = await camera([
      challenge(1, 'n1'),
      { close: ok(2) },
      challenge(1, 'n2'),
      ok(2),
    ]);
    const connections = new RtspConnections();
    const options = { timeoutMs: 2000, credentials, connections };
    expect(await rtspDescribe(`rtsp://127.0.0.1:${port}/ch1`, options)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await rtspDescribe(`rtsp://127.0.0.1:${port}/ch2`, options)).toBe(200);
    expect(seen.map((s) => s.connection)).toEqual([1, 1, 2, 2]);
    expect(header(seen[2]!.head, 'Authorization')).toBeUndefined();
    expect(nonceOf(seen[3]!)).toBe('n2');
  });

  it('answers a renewed challenge on the kept connection once, without calling the password wrong', async () => {
    const { port, seen } = await camera([challenge(1, 'n1'), ok(2), challenge(3, 'n2'), ok(4)]);
    const connections = new RtspConnections();
    const options = { timeoutMs: 2000, credentials, connections };
    expect(await rtspDescribe(`rtsp://127.0.0.1:${port}/ch1`, options)).toBe(200);
    expect(await rtspDescribe(`rtsp://127.0.0.1:${port}/ch2`, options)).toBe(200);
    expect(seen.map(nonceOf)).toEqual([undefined, 'n1', 'n1', 'n2']);
  });

  it('is auth-failed when the fresh challenge is refused too', async () => {
    const { port } = await camera([
      challenge(1, 'n1'),
      ok(2),
      challenge(3, 'n2'),
      challenge(4, 'n3'),
    ]);
    const connections = new RtspConnections();
    const options = { timeoutMs: 2000, credentials, connections };
    expect(await rtspDescribe(`rtsp://127.0.0.1:${port}/ch1`, options)).toBe(200);
    const error = await rtspDescribe(`rtsp://127.0.0.1:${port}/ch2`, options).catch((e) => e);
    expect((error as OnvifError).kind).toBe('auth-failed');
  });

  it('closes the kept connection after it waited idle, holding no slot of the device between polls', async () => {
    let closed = false;
    const { port } = await camera([ok(1)]);
    server!.on('connection', (socket: Socket) => socket.on('close', () => (closed = true)));
    const connections = new RtspConnections();
    expect(
      await rtspDescribe(`rtsp://127.0.0.1:${port}/ch1`, { timeoutMs: 2000, connections }),
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, RTSP_IDLE_MS / 2));
    expect(closed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, RTSP_IDLE_MS / 2 + 300));
    expect(closed).toBe(true);
  });
});
