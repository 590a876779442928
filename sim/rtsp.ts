/**
 * The site's RTSP server (RTSP 1.0, RFC 2326) on one TCP port: it answers OPTIONS and
 * DESCRIBE for every profile's stream URI (rtsp://HOST:PORT/<device>/<profile>) with an
 * SDP (RFC 4566) describing an H.264 stream (RFC 6184). No media is sent: SETUP and PLAY
 * get 501, which is all a health check needs to tell a live stream from a dead one.
 * DESCRIBE, SETUP and PLAY demand the device's credentials as real cameras do (RFC 2326
 * section 12.5 uses HTTP's schemes: 401 and a challenge, sim/http-auth.ts), before they
 * say whether the stream exists: a camera answers 401 to any path, so a client without
 * the password learns nothing of its streams. A request without CSeq is 400 Bad Request
 * (RFC 2326 section 12.17: CSeq is required in every request), as real servers answer.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { listen } from './listen.js';

export interface RtspStream {
  /** 1-based channel, for per-channel faults. */
  channel: number;
  width: number;
  height: number;
  frameRate: number;
  bitrateKbps: number;
  h264Profile: 'Main' | 'High';
  title: string;
}

/** What the server needs of a device; SimulatedDevice implements it. */
export interface RtspDevice {
  /** up: answers; offline: the connection drops; hang: no answer, ever. */
  rtspState(): 'up' | 'offline' | 'hang';
  /** Added before each answer (slow fault). */
  rtspDelayMs(): number;
  stream(profileToken: string): RtspStream | undefined;
  streamDown(channel: number): boolean;
  /**
   * Checks the Authorization of a request for `requestUri` (the digest-uri must equal it)
   * from the client address `from` (the device's account lockout counts per address).
   */
  rtspAuthorize(
    method: string,
    requestUri: string,
    authorization: string | undefined,
    from: string,
  ): { ok: true } | { ok: false; reason: string; challenges: string[] };
  logRtsp(entry: RtspLogEntry): void;
}

/** One RTSP request as the device's request log keeps it. */
export interface RtspLogEntry {
  path: string;
  method: string;
  status: number;
  from: string;
  authenticated?: boolean;
  detail?: string;
}

export interface RtspServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  lookup(deviceId: string): RtspDevice | undefined;
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN';
const MAX_HEADER_BYTES = 8192;

interface RtspRequest {
  method: string;
  uri: string;
  /** Absent when the request had no CSeq header (then it is answered 400). */
  cseq?: string;
  authorization?: string;
}

/** Methods a camera answers only to an authenticated client. */
const PROTECTED = new Set(['DESCRIBE', 'SETUP', 'PLAY']);

export class RtspServer {
  private readonly options: RtspServerOptions;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  constructor(options: RtspServerOptions) {
    this.options = options;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.onConnection(socket));
    const { host, port } = this.options;
    this.boundPort = await listen(
      server,
      host,
      port,
      'RTSP server',
      '--rtsp-port (0 = a free port)',
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffered.length > MAX_HEADER_BYTES) socket.destroy();
          return;
        }
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        const request = parseRequest(head);
        // Answers leave in request order (RFC 2326 section 10: CSeq pairs them anyway).
        chain = chain.then(() => this.answer(socket, request));
      }
    });
  }

  private async answer(socket: Socket, request: RtspRequest | null): Promise<void> {
    if (socket.destroyed) return;
    if (!request) {
      // Not even a request line: no CSeq to echo (RFC 2326 section 12.17 pairs by it).
      socket.end(reply(400, 'Bad Request', undefined));
      return;
    }
    const { path, deviceId, profileToken } = splitUri(request.uri);
    const device = deviceId === undefined ? undefined : this.options.lookup(deviceId);
    const from = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!device) {
      if (request.cseq === undefined) socket.write(reply(400, 'Bad Request', undefined));
      else if (request.method === 'OPTIONS' && path === '*') {
        socket.write(reply(200, 'OK', request.cseq, { Public: PUBLIC }));
      } else socket.write(reply(404, 'Not Found', request.cseq));
      return;
    }
    const state = device.rtspState();
    if (state === 'offline') {
      device.logRtsp({ path, method: request.method, status: 0, from });
      socket.destroy();
      return;
    }
    if (state === 'hang') {
      device.logRtsp({ path, method: request.method, status: 0, from });
      return;
    }
    const delay = device.rtspDelayMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (socket.destroyed) return;
    const stream = profileToken === undefined ? undefined : device.stream(profileToken);
    let authenticated = false;
    const send = (
      status: number,
      text: string,
      headers: Record<string, string | string[]> = {},
      body = '',
      detail?: string,
    ) => {
      device.logRtsp({
        path,
        method: request.method,
        status,
        from,
        authenticated,
        ...(detail === undefined ? {} : { detail }),
      });
      socket.write(reply(status, text, request.cseq, headers, body));
    };
    if (request.cseq === undefined) {
      return send(400, 'Bad Request', {}, '', 'no CSeq header (RFC 2326 section 12.17)');
    }
    if (PROTECTED.has(request.method)) {
      const checked = device.rtspAuthorize(
        request.method,
        request.uri,
        request.authorization,
        from,
      );
      if (!checked.ok) {
        return send(
          401,
          'Unauthorized',
          { 'WWW-Authenticate': checked.challenges },
          '',
          checked.reason,
        );
      }
      authenticated = true;
    }
    if (!stream) return send(404, 'Not Found');
    if (device.streamDown(stream.channel)) return send(503, 'Service Unavailable');
    switch (request.method) {
      case 'OPTIONS':
        return send(200, 'OK', { Public: PUBLIC });
      case 'DESCRIBE': {
        const host = socket.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
        const sdp = sessionDescription(stream, host);
        return send(
          200,
          'OK',
          {
            'Content-Base': `${request.uri.replace(/\/$/, '')}/`,
            'Content-Type': 'application/sdp',
          },
          sdp,
        );
      }
      case 'TEARDOWN':
        return send(200, 'OK');
      default:
        return send(501, 'Not Implemented', { Public: PUBLIC });
    }
  }
}

function parseRequest(head: string): RtspRequest | null {
  const [line = '', ...headerLines] = head.split('\r\n');
  const match = /^([A-Z_]+) (\S+) RTSP\/1\.0$/.exec(line);
  if (!match) return null;
  let cseq: string | undefined;
  let authorization: string | undefined;
  for (const header of headerLines) {
    const found = /^cseq:\s*(\S+)/i.exec(header);
    if (found?.[1]) cseq = found[1];
    const auth = /^authorization:\s*(.+)$/i.exec(header);
    if (auth?.[1]) authorization = auth[1].trim();
  }
  return {
    method: match[1] ?? '',
    uri: match[2] ?? '',
    ...(cseq === undefined ? {} : { cseq }),
    ...(authorization === undefined ? {} : { authorization }),
  };
}

function splitUri(uri: string): { path: string; deviceId?: string; profileToken?: string } {
  if (uri === '*') return { path: '*' };
  let path: string;
  try {
    path = new URL(uri).pathname;
  } catch {
    return { path: uri };
  }
  const [deviceId, profileToken] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, deviceId, profileToken };
}

function reply(
  status: number,
  text: string,
  cseq: string | undefined,
  headers: Record<string, string | string[]> = {},
  body = '',
): string {
  const lines = [`RTSP/1.0 ${status} ${text}`];
  if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
  lines.push('Server: Vigil Sim RTSP');
  lines.push(`Date: ${new Date().toUTCString()}`);
  for (const [name, value] of Object.entries(headers)) {
    for (const one of typeof value === 'string' ? [value] : value) lines.push(`${name}: ${one}`);
  }
  if (body !== '' || status === 200) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * RFC 4566 session description of one H.264 stream; the fmtp parameters are those of
 * RFC 6184 section 8.1 (profile-level-id: High 4.1 = 640029, Main 4.0 = 4d0028).
 */
export function sessionDescription(stream: RtspStream, host: string): string {
  const profileLevel = stream.h264Profile === 'High' ? '640029' : '4d0028';
  const session = Math.floor(Date.now() / 1000);
  return (
    [
      'v=0',
      `o=- ${session} 1 IN IP4 ${host}`,
      `s=${stream.title}`,
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=control:*',
      'a=range:npt=0-',
      'm=video 0 RTP/AVP 96',
      `b=AS:${stream.bitrateKbps}`,
      'a=rtpmap:96 H264/90000',
      `a=fmtp:96 packetization-mode=1;profile-level-id=${profileLevel}`,
      `a=framerate:${stream.frameRate}`,
      `a=x-dimensions:${stream.width},${stream.height}`,
      'a=control:trackID=1',
    ].join('\r\n') + '\r\n'
  );
}
