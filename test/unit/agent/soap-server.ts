/**
 * A tiny ONVIF-ish HTTP server for unit tests of the adapter: it answers each SOAP
 * operation with a real captured answer from test/fixtures/onvif-agsh, or with
 * whatever a test sets (a fault, broken XML, silence). Listens on 127.0.0.1, port 0.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/onvif-agsh/', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}.xml`, 'utf8');
}

export type Answer =
  | { status?: number; body: string; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | 'hang';

export interface SeenRequest {
  operation: string;
  path: string;
  authenticated: boolean;
  created: string | null;
}

/** The local name of the first element inside <Body>. */
function operationOf(xml: string): string {
  const match = /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?([\w]+)/.exec(xml);
  return match?.[1] ?? '';
}

export const notAuthorizedFault = `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error">
  <env:Body><env:Fault>
    <env:Code><env:Value>env:Sender</env:Value>
      <env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code>
    <env:Reason><env:Text xml:lang="en">Sender not Authorized</env:Text></env:Reason>
  </env:Fault></env:Body>
</env:Envelope>`;

export class SoapServer {
  readonly answers = new Map<string, Answer>();
  readonly seen: SeenRequest[] = [];
  /** Sockets the server holds open, to prove that a client closed its side. */
  readonly openSockets = new Set<Socket>();
  #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(chunks).toString('utf8');
      const operation = operationOf(xml);
      this.seen.push({
        operation,
        path: req.url ?? '',
        authenticated: xml.includes('UsernameToken'),
        created: /<(?:\w+:)?Created[^>]*>([^<]+)</.exec(xml)?.[1] ?? null,
      });
      const answer = this.answers.get(operation) ?? this.#fixtureAnswer(operation);
      if (answer === 'hang') return;
      res.writeHead(answer.status ?? 200, {
        'Content-Type': 'application/soap+xml; charset=utf-8',
        ...answer.headers,
      });
      res.end(answer.body);
    });
  });

  #fixtureAnswer(operation: string): Answer {
    try {
      return { body: fixture(operation) };
    } catch {
      return {
        status: 400,
        body: notAuthorizedFault.replace('NotAuthorized', 'ActionNotSupported'),
      };
    }
  }

  async start(): Promise<void> {
    this.#server.on('connection', (socket: Socket) => {
      this.openSockets.add(socket);
      socket.on('close', () => this.openSockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get xaddr(): string {
    return `http://127.0.0.1:${this.port}/onvif/device_service`;
  }

  async stop(): Promise<void> {
    for (const socket of this.openSockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
