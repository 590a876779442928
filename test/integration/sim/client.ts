/**
 * A small ONVIF client of our own for the simulator's tests: raw SOAP with a
 * UsernameToken, RTSP over a plain socket, event pull points. It reads answers the way
 * a strict client would (namespaces resolved, no prefix trusted).
 */
import { connect } from 'node:net';
import { authorizerFor } from '../../../agent/onvif/http-auth.js';
import { Secret } from '../../../agent/secret.js';
import { NS } from '../../../sim/soap/namespaces.js';
import { child, childrenNamed, parseXml, textAt, type XmlElement } from '../../../sim/soap/xml.js';
import type { SimSite } from '../../../sim/site.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';
import { send, type HttpAnswer } from './http.js';

export interface SoapOptions {
  /** The password to sign with; null: no UsernameToken. Default: the device's current one. */
  password?: string | null;
  created?: string;
  timeoutMs?: number;
}

export interface PulledMessage {
  topic: string;
  operation: string;
  source: Record<string, string>;
  data: Record<string, string>;
}

export class SimClient {
  constructor(private readonly site: SimSite) {}

  info(id: string) {
    const device = this.site.device(id);
    if (!device) throw new Error(`no simulated device ${id}`);
    return device;
  }

  url(id: string, path: string): string {
    return new URL(path, this.info(id).xaddr).toString();
  }

  soapTo(url: string, id: string, body: string, options: SoapOptions = {}): Promise<HttpAnswer> {
    const { username, password: current } = this.info(id).credentials;
    const password = options.password === undefined ? current : options.password;
    const header =
      password === null ? '' : securityHeader({ username, password, created: options.created });
    return send(url, {
      method: 'POST',
      body: soapRequest(body, header),
      timeoutMs: options.timeoutMs ?? 3000,
    });
  }

  soap(id: string, path: string, body: string, options: SoapOptions = {}): Promise<HttpAnswer> {
    return this.soapTo(this.url(id, path), id, body, options);
  }

  async deviceInformation(id: string): Promise<Record<string, string>> {
    const answer = await this.soap(id, '/onvif/device_service', '<tds:GetDeviceInformation/>');
    if (answer.status !== 200) throw new Error(`GetDeviceInformation: ${answer.status}`);
    const result = bodyOf(answer.body);
    return Object.fromEntries(result.children.map((c) => [c.name, c.text]));
  }

  /**
   * A snapshot GET as a camera client makes it: without credentials first, then answering
   * the 401's challenge with the device's current credentials (or `password`, or none).
   */
  async snapshot(id: string, token: string, password?: string | null): Promise<HttpAnswer> {
    const url = this.url(id, `/snapshot/${token}.jpg`);
    const first = await send(url, { timeoutMs: 3000 });
    const { username, password: current } = this.info(id).credentials;
    const secret = password === undefined ? current : password;
    if (first.status !== 401 || secret === null) return first;
    const authorizer = authorizerFor(first.headers['www-authenticate'], {
      username,
      password: new Secret(secret),
    });
    if (!authorizer) return first;
    const path = new URL(url).pathname;
    return send(url, {
      timeoutMs: 3000,
      headers: { Authorization: authorizer.authorization('GET', path) },
    });
  }

  async subscribe(id: string): Promise<string> {
    const answer = await this.soap(
      id,
      '/onvif/events_service',
      '<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT60S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>',
    );
    if (answer.status !== 200) throw new Error(`CreatePullPointSubscription: ${answer.body}`);
    const address = textAt(bodyOf(answer.body), 'SubscriptionReference', 'Address');
    if (!address) throw new Error('no subscription address');
    return address;
  }

  async pull(id: string, address: string, timeout = 'PT1S', limit = 100): Promise<PulledMessage[]> {
    const answer = await this.soapTo(
      address,
      id,
      `<tev:PullMessages><tev:Timeout>${timeout}</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit></tev:PullMessages>`,
      { timeoutMs: 65_000 },
    );
    if (answer.status !== 200) throw new Error(`PullMessages ${answer.status}: ${answer.body}`);
    return childrenNamed(bodyOf(answer.body), 'NotificationMessage').map(readMessage);
  }

  /** Pulls until a message matches or `withinMs` passes. */
  async waitFor(
    id: string,
    address: string,
    match: (m: PulledMessage) => boolean,
    withinMs = 5000,
  ): Promise<PulledMessage> {
    const end = Date.now() + withinMs;
    while (Date.now() < end) {
      const found = (await this.pull(id, address, 'PT1S')).find(match);
      if (found) return found;
    }
    throw new Error(`no matching event within ${withinMs} ms`);
  }
}

export function bodyOf(xml: string): XmlElement {
  const body = child(parseXml(xml), 'Body', NS.env);
  const first = body?.children[0];
  if (!first) throw new Error('empty SOAP body');
  return first;
}

function items(parent: XmlElement | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of parent ? childrenNamed(parent, 'SimpleItem') : []) {
    out[item.attributes['Name'] ?? ''] = item.attributes['Value'] ?? '';
  }
  return out;
}

function readMessage(notification: XmlElement): PulledMessage {
  const message = child(child(notification, 'Message') ?? notification, 'Message');
  return {
    topic: textAt(notification, 'Topic') ?? '',
    operation: message?.attributes['PropertyOperation'] ?? '',
    source: items(message && child(message, 'Source')),
    data: items(message && child(message, 'Data')),
  };
}

export type RtspResult =
  | { status: number; headers: Record<string, string>; body: string }
  | { error: 'reset' | 'timeout' | 'refused' };

/**
 * The status and headers (names in lower case, the last of a name kept) of an RTSP
 * answer's head, and every WWW-Authenticate challenge in it.
 */
function answerHead(head: string): {
  status: number;
  headers: Record<string, string>;
  challenges: string[];
} {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  const challenges: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers[name] = line.slice(colon + 1).trim();
    if (name === 'www-authenticate') challenges.push(line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers, challenges };
}

/**
 * One RTSP request on a fresh connection (RFC 2326 section 6). With `credentials`, a 401
 * is answered on the same connection with CSeq 2, as a camera client does.
 */
export function rtsp(
  uri: string,
  method: string,
  timeoutMs = 2000,
  credentials?: { username: string; password: string },
): Promise<RtspResult> {
  const { hostname, port } = new URL(uri);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let data = '';
    let cseq = 1;
    const challenges: string[] = [];
    const done = (result: RtspResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ error: 'timeout' }), timeoutMs);
    socket.on('connect', () =>
      socket.write(`${method} ${uri} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: vigil-test\r\n\r\n`),
    );
    socket.on('error', (error: NodeJS.ErrnoException) =>
      done({ error: error.code === 'ECONNREFUSED' ? 'refused' : 'reset' }),
    );
    socket.on('close', () => done({ error: 'reset' }));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const { status, headers, challenges: offered } = answerHead(data.slice(0, end));
      challenges.splice(0, challenges.length, ...offered);
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return;
      if (status === 401 && credentials && cseq === 1) {
        const authorizer = authorizerFor(challenges, {
          username: credentials.username,
          password: new Secret(credentials.password),
        });
        if (authorizer) {
          data = data.slice(end + 4 + length);
          cseq = 2;
          socket.write(
            `${method} ${uri} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${authorizer.authorization(method, uri)}\r\nUser-Agent: vigil-test\r\n\r\n`,
          );
          return;
        }
      }
      done({
        status,
        headers,
        body: data.slice(end + 4, end + 4 + length),
      });
    });
  });
}

/**
 * One request written exactly as given (for malformed ones: no CSeq, say) on a fresh
 * connection; the status line and headers of the first answer, or how it failed.
 */
export function rtspRaw(uri: string, text: string, timeoutMs = 2000): Promise<RtspResult> {
  const { hostname, port } = new URL(uri);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let data = '';
    const done = (result: RtspResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ error: 'timeout' }), timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('error', () => done({ error: 'reset' }));
    socket.on('close', () => done({ error: 'reset' }));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const { status, headers } = answerHead(data.slice(0, end));
      done({ status, headers, body: '' });
    });
  });
}
