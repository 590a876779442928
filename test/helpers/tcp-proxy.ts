/**
 * A TCP proxy a test puts between one broker node and PostgreSQL, to cut that node off
 * while the other keeps its own path: `blackhole()` stops forwarding in both directions
 * and keeps the connections open (a partition: packets dropped, nothing reset, so the
 * node's statements hang until its own timeouts), `sever()` resets every connection and
 * refuses new ones (the database seen as down), `heal()` forwards again.
 *
 * `upstreamPorts` are the local ports of the proxy's connections to the database: what
 * PostgreSQL sees as the client port (inet_client_port()) of that node's sessions, so a
 * test can tell which rows that node wrote.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

type Mode = 'forward' | 'blackhole' | 'sever';

interface Link {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  readonly upstreamPorts = new Set<number>();
  private mode: Mode = 'forward';
  private readonly links = new Set<Link>();
  private server: Server | null = null;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** Packets dropped both ways, connections left open (new ones accepted, never answered). */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const link of this.links) this.hold(link);
  }

  /** Every connection reset; new ones refused at once. */
  sever(): void {
    this.mode = 'sever';
    for (const link of this.links) this.drop(link);
  }

  /** Forwards again; what was held during a blackhole flows on. */
  heal(): void {
    this.mode = 'forward';
    for (const { client, upstream } of this.links) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  async stop(): Promise<void> {
    for (const link of this.links) this.drop(link);
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'sever') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const link: Link = { client, upstream };
    this.links.add(link);
    upstream.once('connect', () => {
      if (upstream.localPort !== undefined) this.upstreamPorts.add(upstream.localPort);
    });
    if (this.mode === 'blackhole') this.hold(link);
    else {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    const close = () => this.drop(link);
    client.once('close', close);
    upstream.once('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  /** Unpiped as well as paused: a pipe resumes its source on the other side's 'drain'. */
  private hold({ client, upstream }: Link): void {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
  }
}
