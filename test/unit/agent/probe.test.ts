/**
 * The liveness probe's request (agent/onvif/probe.ts) against real servers on loopback:
 * a TCP server that writes exactly the bytes a test scripts (chunks, split packets,
 * close-delimited answers, a device closing the kept connection, a hang, garbage), and
 * the SOAP test server with a recorded answer, where the probe must judge every answer
 * as OnvifDeviceClient.clock() judges it (the question the probe asked before).
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { ProbeConnection, sameButDigits } from '../../../agent/onvif/probe.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { Secret } from '../../../agent/secret.js';
import type { ExchangeTls } from '../../../agent/onvif/http-exchange.js';
import { makeCerts } from '../../helpers/certs.js';
import { fixture, notAuthorizedFault, SoapServer, type Answer } from './soap-server.js';

/** How the scripted device answers the n-th request (from 0) on a connection. */
type Script = (socket: Socket, onConnection: number, connection: number) => void;

/** A device that reads whole requests (head and Content-Length body) and runs `script`. */
class RawDevice {
  connections = 0;
  requests = 0;
  /** Connections the device saw closed by the other side. */
  closedByClient = 0;
  script: Script = () => undefined;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((socket) => {
      const connection = this.connections++;
      this.#sockets.add(socket);
      let served = 0;
      let buffer = Buffer.alloc(0);
      let ended = false;
      socket.on('end', () => {
        ended = true;
        this.closedByClient += 1;
      });
      socket.on('close', () => {
        if (!ended) this.closedByClient += 1;
        this.#sockets.delete(socket);
      });
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(
            /content-length: (\d+)/i.exec(buffer.toString('latin1', 0, end))?.[1],
          );
          if (buffer.length < end + 4 + length) return;
          buffer = buffer.subarray(end + 4 + length);
          this.requests += 1;
          this.script(socket, served++, connection);
        }
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/onvif/device_service`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const body = fixture('GetSystemDateAndTime');
const ok = (extra = ''): string =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const chunkedOk = (): string => {
  const half = Math.floor(body.length / 2);
  const a = body.slice(0, half);
  const b = body.slice(half);
  return (
    'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n\r\n' +
    `${Buffer.byteLength(a).toString(16)}\r\n${a}\r\n${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n0\r\n\r\n`
  );
};

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let device: RawDevice;
let probe: ProbeConnection;

beforeEach(async () => {
  device = new RawDevice();
  await device.start();
  probe = new ProbeConnection(
    device.url,
    { 'Content-Type': 'application/soap+xml' },
    Buffer.from('<x/>'),
  );
});

afterEach(async () => {
  probe.close();
  await device.stop();
});

async function failure(promise: Promise<unknown>): Promise<OnvifError> {
  const error = await promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnvifError);
  return error as OnvifError;
}

describe('the probe connection', () => {
  it('sends the composed request and keeps one connection for successive probes', async () => {
    let request = '';
    device.script = (socket) => socket.write(ok());
    for (let i = 0; i < 3; i++) {
      const answer = await probe.ask(1000);
      expect(answer.status).toBe(200);
      expect(answer.body.toString()).toBe(body);
    }
    expect(device.connections).toBe(1);
    expect(device.requests).toBe(3);
    // What went out: a request line, Host, the fields, the length, the body.
    const seen = createServer((socket) =>
      socket.once('data', (chunk: Buffer) => {
        request = chunk.toString('latin1');
        socket.end(ok('Connection: close\r\n'));
      }),
    );
    await new Promise<void>((resolve) => seen.listen(0, '127.0.0.1', resolve));
    const port = (seen.address() as AddressInfo).port;
    const other = new ProbeConnection(
      `http://127.0.0.1:${port}/onvif/device_service?x=1`,
      { 'Content-Type': 'application/soap+xml' },
      Buffer.from('<x/>'),
    );
    await other.ask(1000);
    seen.close();
    expect(request).toBe(
      `POST /onvif/device_service?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        'Content-Type: application/soap+xml\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n<x/>',
    );
  });

  it('reads a chunked answer sent in pieces, a few bytes at a time, and keeps the connection', async () => {
    device.script = (socket) => {
      const text = chunkedOk();
      void (async () => {
        for (let at = 0; at < text.length; at += 7) {
          socket.write(text.slice(at, at + 7));
          if (at % 70 === 0) await wait(1);
        }
      })();
    };
    expect((await probe.ask(2000)).body.toString()).toBe(body);
    expect((await probe.ask(2000)).body.toString()).toBe(body);
    expect(device.connections).toBe(1);
  });

  it('reads an answer delimited by the close, then opens a new connection for the next', async () => {
    device.script = (socket) =>
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n\r\n${body}`);
    expect((await probe.ask(1000)).body.toString()).toBe(body);
    expect((await probe.ask(1000)).body.toString()).toBe(body);
    expect(device.connections).toBe(2);
  });

  it('does not keep a connection the device says it closes, nor an HTTP/1.0 one', async () => {
    device.script = (socket, n, connection) =>
      socket.write(
        connection === 0 ? ok('Connection: close\r\n') : ok().replace('HTTP/1.1', 'HTTP/1.0'),
      );
    await probe.ask(1000);
    await probe.ask(1000);
    await probe.ask(1000);
    expect(device.connections).toBe(3);
  });

  it('opens a new connection when the device closed the kept one while it was idle', async () => {
    device.script = (socket) => {
      socket.write(ok());
      setTimeout(() => socket.end(), 20);
    };
    await probe.ask(1000);
    await wait(100);
    expect((await probe.ask(1000)).status).toBe(200);
    expect(device.connections).toBe(2);
  });

  it('sends the request once more on a new connection when the device closes the kept one as it arrives', async () => {
    // The device's idle close and our request cross: it reads the request and closes
    // without a byte of answer (RFC 9112 section 9.3.1).
    device.script = (socket, n) => (n === 0 ? socket.write(ok()) : socket.destroy());
    await probe.ask(1000);
    expect((await probe.ask(1000)).status).toBe(200);
    expect(device.connections).toBe(2);
    expect(device.requests).toBe(3);
  });

  it('retries once only: a fresh connection closed without an answer is unreachable', async () => {
    device.script = (socket, n, connection) =>
      connection === 0 && n === 0 ? socket.write(ok()) : socket.destroy();
    await probe.ask(1000);
    const error = await failure(probe.ask(1000));
    expect(error.kind).toBe('unreachable');
    expect(device.connections).toBe(2);
  });

  it('gives up at the deadline on a device that hangs, and closes the connection', async () => {
    device.script = () => undefined;
    const started = Date.now();
    const error = await failure(probe.ask(300));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await vi_eventually(() => device.closedByClient === 1);
    // A late answer on that connection is never read: the next probe has its own.
    device.script = (socket) => socket.write(ok());
    await probe.ask(1000);
    expect(device.connections).toBe(2);
  });

  it('gives up when the caller aborts, as a cancelled question', async () => {
    device.script = () => undefined;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(probe.ask(5000, controller.signal));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/cancelled/);
  });

  it('gives a 401 or a 500 as the answer it is', async () => {
    device.script = (socket, n) =>
      socket.write(
        n === 0
          ? 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="x", nonce="1"\r\nContent-Length: 0\r\n\r\n'
          : 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!',
      );
    expect((await probe.ask(1000)).status).toBe(401);
    const answer = await probe.ask(1000);
    expect(answer.status).toBe(500);
    expect(answer.body.toString()).toBe('oops!');
    expect(device.connections).toBe(1);
  });

  it('calls garbage a protocol error at once, not at the deadline', async () => {
    device.script = (socket) => socket.write('SSH-2.0-dropbear_2019.78\r\n');
    const started = Date.now();
    const error = await failure(probe.ask(5000));
    expect(error.kind).toBe('protocol-error');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('calls a refused connection unreachable', async () => {
    const url = device.url;
    await device.stop();
    const closed = new ProbeConnection(url, {}, Buffer.from('<x/>'));
    expect((await failure(closed.ask(1000))).kind).toBe('unreachable');
    device = new RawDevice();
    await device.start();
  });
});

/** Polls `condition` for up to 2 s. */
async function vi_eventually(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await wait(20);
  expect(condition()).toBe(true);
}

describe('the probe judges every answer as clock() does', () => {
  let server: SoapServer;
  beforeEach(async () => {
    server = new SoapServer();
    await server.start();
  });
  afterEach(async () => server.stop());

  const clientOf = (): OnvifDeviceClient =>
    new OnvifDeviceClient(
      { xaddr: server.xaddr, username: 'admin', password: new Secret('pw') },
      { timeoutMs: 1000 },
    );
  /** 'answers', or the kind of OnvifError. */
  const verdict = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      () => 'answers',
      (error: unknown) => (error instanceof OnvifError ? error.kind : String(error)),
    );

  const answers: [string, Answer, string][] = [
    ['the recorded answer of a real camera', { body }, 'answers'],
    [
      'a later answer, its clock moved on',
      { body: body.replace(/<tt:Second>\d+</, '<tt:Second>9<') },
      'answers',
    ],
    [
      'the same, its Second element renamed',
      { body: body.replace(/Second>/g, 'Secon9>') },
      'answers',
    ],
    [
      'no GetSystemDateAndTimeResponse',
      { body: body.replace(/GetSystemDateAndTimeResponse/g, 'GetSystemDateAndTimeRespons1') },
      'protocol-error',
    ],
    ['broken XML', { body: body.replace('</tt:Year>', '</tt:Yea>') }, 'protocol-error'],
    ['an empty 200', { body: '' }, 'protocol-error'],
    ['a NotAuthorized fault (400)', { status: 400, body: notAuthorizedFault }, 'auth-failed'],
    ['a 401 with an HTML page', { status: 401, body: '<html>no</html>' }, 'auth-failed'],
    ['a 403', { status: 403, body: '' }, 'auth-failed'],
    [
      'another fault (500)',
      {
        status: 500,
        body: notAuthorizedFault
          .replace('NotAuthorized', 'ActionNotSupported')
          .replace('not Authorized', 'unsupported'),
      },
      'protocol-error',
    ],
    ['a 500 with an HTML page', { status: 500, body: '<html>oops</html>' }, 'protocol-error'],
    ['a redirect', { status: 302, body: '', headers: { Location: '/x' } }, 'protocol-error'],
  ];

  it('for each answer a device may give, twice in a row (the second one known by its bytes)', async () => {
    const probing = clientOf();
    for (const [what, answer, expected] of answers) {
      server.answers.set('GetSystemDateAndTime', answer);
      const asked = await verdict(clientOf().clock());
      const first = await verdict(probing.probe());
      const second = await verdict(probing.probe());
      expect({ what, asked, first, second }).toEqual({
        what,
        asked: expected,
        first: expected,
        second: expected,
      });
    }
  });

  it('a known answer whose digits changed inside a name is judged again, not passed', async () => {
    const probing = clientOf();
    const numbered = body.replace(/tt:Year/g, 'tt:Yea1');
    server.answers.set('GetSystemDateAndTime', { body: numbered });
    expect(await verdict(probing.probe())).toBe('answers');
    // The same length, only a digit differs, but in a tag: the XML is broken now.
    server.answers.set('GetSystemDateAndTime', {
      body: numbered.replace('<tt:Yea1>', '<tt:Yea2>'),
    });
    expect(await verdict(probing.probe())).toBe('protocol-error');
  });
});

describe('over https', () => {
  it('connects through the device’s TLS policy once, and keeps that connection', async () => {
    const certs = await makeCerts();
    const [cert, key] = await Promise.all([
      readFile(certs.certFile, 'utf8'),
      readFile(certs.keyFile, 'utf8'),
    ]);
    const secure = createHttpsServer({ cert, key }, (req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/soap+xml' }).end(body);
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    try {
      const port = (secure.address() as AddressInfo).port;
      let handshakes = 0;
      const policy: ExchangeTls = {
        connect: (host, p) => {
          handshakes += 1;
          return new Promise((resolve, reject) => {
            const socket = tlsConnect({ host, port: p, rejectUnauthorized: false });
            socket.once('secureConnect', () => resolve(socket));
            socket.once('error', reject);
          });
        },
      };
      const secureProbe = new ProbeConnection(
        `https://127.0.0.1:${port}/onvif/device_service`,
        {},
        Buffer.from('<x/>'),
        policy,
      );
      for (let i = 0; i < 3; i++) expect((await secureProbe.ask(2000)).body.toString()).toBe(body);
      expect(handshakes).toBe(1);
      secureProbe.close();
    } finally {
      secure.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
      await certs.remove();
    }
  });

  it('gives the policy’s refusal as it is: a changed certificate stays certificate-changed', async () => {
    const refusing: ExchangeTls = {
      connect: () =>
        Promise.reject(
          new OnvifError('certificate-changed', 'the device presents another certificate'),
        ),
    };
    const secureProbe = new ProbeConnection(
      'https://127.0.0.1:9/onvif/device_service',
      {},
      Buffer.from('<x/>'),
      refusing,
    );
    expect((await failure(secureProbe.ask(2000))).kind).toBe('certificate-changed');
  });
});

describe('sameButDigits', () => {
  const xml = Buffer.from('<?xml version="1.0"?><a x="1"><b2>12</b2>&#49;<c>7</c></a>');
  const changed = (from: string, to: string) => Buffer.from(xml.toString().replace(from, to));

  it('passes digits changed in character data', () => {
    expect(sameButDigits(xml, xml)).toBe(true);
    expect(sameButDigits(xml, changed('>12<', '>98<'))).toBe(true);
    expect(sameButDigits(xml, changed('<c>7', '<c>0'))).toBe(true);
  });

  it('refuses digits changed in a name, an attribute, a declaration or a reference', () => {
    expect(sameButDigits(xml, changed('<b2>', '<b3>'))).toBe(false);
    expect(sameButDigits(xml, changed('x="1"', 'x="2"'))).toBe(false);
    expect(sameButDigits(xml, changed('1.0', '1.1'))).toBe(false);
    expect(sameButDigits(xml, changed('&#49;', '&#00;'))).toBe(false);
  });

  it('refuses anything but a digit for a digit, another length, and UTF-16', () => {
    expect(sameButDigits(xml, changed('>12<', '>1x<'))).toBe(false);
    expect(sameButDigits(xml, changed('>12<', '>123<'))).toBe(false);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>1</a>', 'utf16le')]);
    expect(sameButDigits(utf16, utf16)).toBe(false);
  });
});
