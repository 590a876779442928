/**
 * The plumbing the HTTP stand-ins share: a server on loopback port 0, the requests it
 * saw, a switch that makes it hang (a service that accepts and never answers, for the
 * drivers' timeout), and a clock the test sets (limits per minute, timestamp windows).
 * Each service's own rules are in its file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  status: number;
  body: unknown;
}

export interface Seen {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  raw: string;
}

export abstract class HttpStandin {
  /** http://127.0.0.1:<port> once started. */
  origin = '';
  /** Every request, in order, accepted or refused. */
  readonly requests: Seen[] = [];
  /** When set, requests are read and never answered. */
  hang = false;
  private server: Server | null = null;
  private readonly hung = new Set<ServerResponse>();

  constructor(protected readonly clock: () => number = Date.now) {}

  protected abstract answer(request: Seen): Answer;

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const seen: Seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(seen);
        if (this.hang) {
          this.hung.add(res);
          return;
        }
        const { status, body } = this.answer(seen);
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const res of this.hung) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages a second apart count in the minute before `at` (a sliding minute). */
  protected static inLastMinute(times: number[], at: number): number {
    return times.filter((t) => at - t < 60_000).length;
  }
}

export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
