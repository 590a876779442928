/**
 * The MQTT front door: Aedes behind three listeners (TCP, TLS with optional client
 * certificates, WebSocket), with the hooks of ./hooks.ts. This folder is the only
 * importer of `aedes` and `ws` (STYLE habit 7); the rest of the broker sees an
 * `Envelope` per accepted message, handed over by `ingest` before the PUBACK.
 *
 * Revoking an agent, or replacing its password, ends its open connections: at once when
 * it happens in this process, and within `sweepIntervalMs` when another process changed
 * the accounts (`vigil broker revoke-agent` while the broker runs).
 *
 * Limits: the largest payload accepted, the topic depth (Aedes' maxTopicLevels), and new
 * connections per second (a token bucket in preConnect: after a broker restart the whole
 * fleet reconnects at once, and each login costs a scrypt; beyond the rate a CONNECT is
 * closed and the agent retries with its backoff).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { AgentIdentity, AgentStore } from '../agents/store.js';
import type { Log } from '../log.js';
import type { Envelope } from '../pipeline/types.js';
import type { AuditLog } from './audit.js';
import { createHooks, remoteAddressOf, type Session } from './hooks.js';

export interface TlsListenerOptions {
  host: string;
  port: number;
  /** PEM text of the server certificate chain and key. */
  cert: string;
  key: string;
  /** PEM text of the CA that signs client certificates; with it, clients may present one. */
  ca?: string;
  /** Refuse a TLS client without a certificate signed by `ca`. */
  requireClientCert?: boolean;
}

export interface MqttLimits {
  /** Largest PUBLISH payload accepted; default 256 KiB. */
  maxPayloadBytes?: number;
  /** Topic levels at most; default 16 (the tree has 6). */
  maxTopicLevels?: number;
  /** New connections per second, bursts up to twice that; default 200. */
  connectionsPerSecond?: number;
}

export interface MqttServerOptions {
  host: string;
  /** 0: any free port; read the bound one from `port` after start(). */
  port: number;
  tls?: TlsListenerOptions | null;
  /** MQTT over WebSocket (path /mqtt and /), for tools and browsers. */
  ws?: { host: string; port: number } | null;
  agents: AgentStore;
  log: Log;
  audit?: AuditLog;
  limits?: MqttLimits;
  /**
   * Every message a client published and the broker accepted, in the order they came.
   * Resolve once it is durable: the PUBACK waits for it. Reject to refuse the message.
   */
  ingest: (envelope: Envelope) => Promise<void>;
  /** How often open sessions are checked against the accounts; default 5 s. */
  sweepIntervalMs?: number;
}

export interface MqttStats {
  clients: number;
  /** Connected clients logged in with an agent account. */
  agents: number;
  messagesIn: number;
  /** QoS 1 deliveries to subscribers that they acknowledged. */
  messagesOut: number;
  refusedConnections: number;
}

/** A token bucket: `rate` per second, up to `burst` at once. */
class RateLimit {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class MqttServer {
  private aedes: Aedes | null = null;
  private servers: (Server | HttpServer)[] = [];
  private wss: WebSocketServer | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly sessions = new Map<Client, Session>();
  // Who each client was, kept after its session ends: its last will is published after
  // Aedes has already unregistered it, and the pipeline still needs to know whose it is.
  private readonly identities = new WeakMap<Client, AgentIdentity>();
  private readonly counts = { messagesIn: 0, messagesOut: 0, refusedConnections: 0 };
  private readonly onInvalidated = (username: string): void => {
    this.disconnect(username, 'its credentials were revoked or replaced');
  };

  constructor(private readonly options: MqttServerOptions) {}

  async start(): Promise<void> {
    const { agents, log, limits = {} } = this.options;
    const hooks = createHooks({
      agents,
      sessions: this.sessions,
      identityOf: (client) => this.identities.get(client),
      log,
      ...(this.options.audit ? { audit: this.options.audit } : {}),
      ingest: (client, identity, packet) => this.ingest(client, identity, packet),
      maxPayloadBytes: limits.maxPayloadBytes ?? 256 * 1024,
    });
    const rate = limits.connectionsPerSecond ?? 200;
    const connections = new RateLimit(rate, rate * 2);
    const aedes = await Aedes.createBroker({
      maxTopicLevels: limits.maxTopicLevels ?? 16,
      preConnect: (client, packet, done) => {
        if (connections.take()) return done(null, true);
        this.counts.refusedConnections++;
        this.options.audit?.record({
          at: new Date(),
          action: 'connect',
          username: packet.username ?? null,
          clientId: packet.clientId ?? '',
          remoteAddress: remoteAddressOf(client),
          topic: null,
          reason: `over the limit of ${rate} new connections per second`,
        });
        done(new Error('too many new connections; retry later'), false);
      },
      authenticate: (client, username, password, done) => {
        hooks.authenticate(client, username, password, (error, success) => {
          if (!success) this.counts.refusedConnections++;
          done(error, success);
        });
      },
      authorizePublish: hooks.authorizePublish,
      authorizeSubscribe: hooks.authorizeSubscribe,
    });
    this.aedes = aedes;
    aedes.on('client', (client) => {
      const session = this.sessions.get(client);
      if (session) this.identities.set(client, session.agent);
    });
    aedes.on('ack', () => this.counts.messagesOut++);
    aedes.on('clientDisconnect', (client) => this.sessions.delete(client));
    aedes.on('clientError', (client, error) => {
      log.info(
        `client ${JSON.stringify(client.id)} from ${remoteAddressOf(client)} dropped: ${error.message}`,
      );
    });

    const tcp = createServer(aedes.handle);
    await this.listen(tcp, this.options.port, this.options.host);

    const tlsOptions = this.options.tls;
    if (tlsOptions) {
      const tls = createTlsServer(
        {
          cert: tlsOptions.cert,
          key: tlsOptions.key,
          ...(tlsOptions.ca ? { ca: tlsOptions.ca, requestCert: true } : {}),
          // Without requireClientCert a client may still log in with its password only.
          rejectUnauthorized: tlsOptions.requireClientCert === true,
          minVersion: 'TLSv1.2',
        },
        (socket: TLSSocket) => aedes.handle(socket),
      );
      await this.listen(tls, tlsOptions.port, tlsOptions.host);
    }

    if (this.options.ws) {
      const http = createHttpServer((_request, response) => {
        response.writeHead(426, { 'content-type': 'text/plain' });
        response.end('MQTT over WebSocket: connect with the "mqtt" subprotocol\n');
      });
      const wss = new WebSocketServer({ server: http });
      wss.on('connection', (socket, request) => {
        const stream = createWebSocketStream(socket);
        stream.on('error', () => socket.terminate());
        aedes.handle(stream, request);
      });
      this.wss = wss;
      await this.listen(http, this.options.ws.port, this.options.ws.host);
    }

    agents.on('invalidated', this.onInvalidated);
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 5000);
    this.sweepTimer.unref();
  }

  /** The bound TCP port (the real one when configured with 0). */
  get port(): number {
    return this.portOf(0);
  }

  /** The bound TLS port, or null without TLS. */
  get tlsPort(): number | null {
    return this.options.tls ? this.portOf(1) : null;
  }

  /** The bound WebSocket port, or null without it. */
  get wsPort(): number | null {
    return this.options.ws ? this.portOf(this.options.tls ? 2 : 1) : null;
  }

  get host(): string {
    return this.options.host;
  }

  /** Connected and authenticated clients, for /api/health. */
  get clients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  get stats(): MqttStats {
    return { clients: this.clients, agents: this.sessions.size, ...this.counts };
  }

  /** Publishes a broker figure under $SYS (MQTT 3.1.1 section 4.7.2: $-topics are the server's). */
  publishSys(topic: string, payload: string): void {
    this.aedes?.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true, dup: false },
      () => {},
    );
  }

  /**
   * Publishes at QoS 1, not retained, to the subscribers: the broker's own messages, such
   * as the NOC's commands to an agent. It does not pass authorizePublish, so it is not
   * journaled as an agent's reading.
   */
  publish(topic: string, payload: string): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('the MQTT server is not running'));
    return new Promise((resolve, reject) =>
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }

  /** Closes every connection of `username`; returns how many. */
  disconnect(username: string, reason: string): number {
    let closed = 0;
    for (const [client, session] of this.sessions) {
      if (session.agent.username !== username || client.closed) continue;
      this.options.log.warn(
        `closing the connection of ${username} (client ${JSON.stringify(client.id)} from ${session.remoteAddress}): ${reason}`,
      );
      // Not a DISCONNECT from the client, so its last will (status offline) is published
      // (MQTT 3.1.1 section 3.1.2.5) and the NOC sees the agent go.
      client.close();
      closed++;
    }
    return closed;
  }

  /** Stops accepting connections, closes the open ones, and releases the ports. */
  async stop(): Promise<void> {
    this.options.agents.off('invalidated', this.onInvalidated);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const servers = this.servers;
    const aedes = this.aedes;
    this.servers = [];
    this.aedes = null;
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    this.wss = null;
    // server.close() only stops new connections; it completes once Aedes closed the rest.
    const serversClosed = Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await serversClosed;
    this.sessions.clear();
  }

  private async listen(server: Server | HttpServer, port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.servers.push(server);
  }

  private portOf(index: number): number {
    const address = this.servers[index]?.address();
    if (!address || typeof address === 'string')
      throw new Error('the MQTT server is not listening');
    return (address as AddressInfo).port;
  }

  private ingest(
    client: Client,
    identity: AgentIdentity | undefined,
    packet: PublishPacket,
  ): Promise<void> {
    this.counts.messagesIn++;
    // Commands of an internal NOC service go to their agent, not into the readings.
    if (identity?.role && identity.role !== 'agent') return Promise.resolve();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    return this.options.ingest({
      topic: packet.topic,
      payload,
      clientId: client.id,
      ...(identity ? { agent: { siteId: identity.siteId, agentId: identity.agentId } } : {}),
      receivedAt: new Date(),
    });
  }

  /** Ends sessions whose account another process revoked or changed. */
  private sweep(): void {
    for (const [client, session] of this.sessions) {
      if (client.closed) {
        this.sessions.delete(client);
        continue;
      }
      if (this.options.agents.generation(session.agent.username) !== session.generation) {
        this.disconnect(session.agent.username, 'its credentials were revoked or replaced');
      }
    }
  }
}
