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
 * Limits: the largest packet, checked on its fixed header before its body is read
 * (./packet-limit.ts); the largest payload accepted; the topic depth (Aedes'
 * maxTopicLevels); and new connections per second (a token bucket in preConnect: after a
 * broker restart the whole fleet reconnects at once, and each login costs a scrypt;
 * beyond the rate a CONNECT is closed and the agent retries with its backoff).
 *
 * Every refusal is audited: the hooks audit theirs, preConnect the rate limit, the packet
 * guard an oversize packet, the TLS listener a refused client certificate, and the
 * clientError handler whatever Aedes refused on its own (./refusals.ts). Every refusal is
 * logged too, but the lines a client can repeat (per connection or per packet) are
 * limited to one per client and cause and interval, with a count (../log-limiter.ts,
 * STYLE habit 16): the audit and the refusal counters still take every one.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { AgentIdentity, AgentStore } from '../agents/store.js';
import type { Log } from '../log.js';
import { causeOf, hostOf, LogLimiter } from '../log-limiter.js';
import type { Envelope } from '../pipeline/types.js';
import { isAudited, markAudited, type AuditEntry, type AuditLog } from './refusal-audit.js';
import { createHooks, remoteAddressOf, SessionTable } from './hooks.js';
import { PacketSizeGuard, type Oversize } from './packet-limit.js';
import { refusalOf, tlsRefusal, type PacketInHand } from './refusals.js';

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
  /**
   * Largest packet, fixed header included, refused on its header before its body is
   * read; default the payload limit plus PACKET_OVERHEAD_BYTES.
   */
  maxPacketBytes?: number;
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
  /**
   * Whether this node serves clients now. False on a standby of an active/standby pair
   * (docs/HA.md): every CONNECT is refused with CONNACK 3, server unavailable (MQTT 3.1.1
   * section 3.2.2.3), before the password is checked, so an agent with several broker
   * URLs moves to the next one at once instead of being accepted and dropped at its first
   * PUBLISH. Aedes speaks MQTT 3.1.1 and 3.1 only, so there is no MQTT 5 reason code
   * (0x88) to send. Unset: always serving (a single node).
   */
  serving?: () => boolean;
  /** Repeated lines of one client and cause are written at most this often; default 60 s. */
  logIntervalMs?: number;
}

/** A message the broker itself retains for its subscribers (`MqttServer.retain`). */
export interface RetainedMessage {
  topic: string;
  payload: Buffer;
}

export interface MqttStats {
  clients: number;
  /** Connected clients logged in with an agent account. */
  agents: number;
  messagesIn: number;
  /** QoS 1 deliveries to subscribers that they acknowledged. */
  messagesOut: number;
  refusedConnections: number;
  /** CONNECTs refused with CONNACK 3 while this node did not serve (a standby). */
  refusedUnavailable: number;
}

/**
 * Room above the payload limit for the rest of a PUBLISH: fixed header (up to 5 bytes),
 * topic (2 + its length; the tree's topics are under 200 bytes) and packet id (2).
 */
export const PACKET_OVERHEAD_BYTES = 1024;

// CONNACK return code 3, MQTT 3.1.1 section 3.2.2.3 (Aedes declares the codes as a const
// enum, which isolatedModules cannot read).
const SERVER_UNAVAILABLE = 3 as AuthenticateError['returnCode'];

/** The action an oversize packet is audited under. */
function actionOf(oversize: Oversize): AuditEntry['action'] {
  if (oversize.packet === 'PUBLISH') return 'publish';
  if (oversize.packet === 'SUBSCRIBE' || oversize.packet === 'UNSUBSCRIBE') return 'subscribe';
  return 'connect';
}

/** What a client claimed in its CONNECT, for the audit of a refusal before it logged in. */
interface Claim {
  clientId: string;
  username: string | null;
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
  /** Handed to retain() before start(): stored once Aedes exists, before a listener opens. */
  private early: RetainedMessage[] = [];
  private servers: (Server | HttpServer)[] = [];
  private wss: WebSocketServer | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private limited: LogLimiter | null = null;
  private maxPacketBytes = 0;
  private readonly sessions = new SessionTable();
  // Who each client was, kept after its session ends: Aedes asks about its last will
  // before it unregisters it (lib/client.js close()), but the sweep may have dropped the
  // closed client's session already, and the pipeline still needs to know whose it is.
  private readonly identities = new WeakMap<Client, AgentIdentity>();
  private readonly claims = new WeakMap<Client, Claim>();
  // Where each client connected from, kept: once Aedes destroyed the socket of a refused
  // connection, the socket no longer knows its peer, and the audit would say "unknown".
  private readonly addresses = new WeakMap<Client, string>();
  private readonly counts = {
    messagesIn: 0,
    messagesOut: 0,
    refusedConnections: 0,
    refusedUnavailable: 0,
  };
  /** Refusals of a standby: neither audited nor logged per client (one line per interval). */
  private readonly unavailable = new WeakSet<Error>();
  private readonly onInvalidated = (username: string): void => {
    this.disconnect(username, 'its credentials were revoked or replaced');
  };

  constructor(private readonly options: MqttServerOptions) {}

  async start(): Promise<void> {
    const { agents, log, limits = {} } = this.options;
    const limited = new LogLimiter(log, { intervalMs: this.options.logIntervalMs });
    this.limited = limited;
    const hooks = createHooks({
      agents,
      sessions: this.sessions,
      identityOf: (client) => this.identities.get(client),
      log,
      limited,
      ...(this.options.audit ? { audit: this.options.audit } : {}),
      ingest: (client, identity, packet) => this.ingest(client, identity, packet),
      maxPayloadBytes: limits.maxPayloadBytes ?? 256 * 1024,
      ...(this.options.serving ? { serving: this.options.serving } : {}),
    });
    const rate = limits.connectionsPerSecond ?? 200;
    const connections = new RateLimit(rate, rate * 2);
    const maxTopicLevels = limits.maxTopicLevels ?? 16;
    const aedes = await Aedes.createBroker({
      maxTopicLevels,
      preConnect: (client, packet, done) => {
        this.claims.set(client, {
          clientId: packet.clientId ?? '',
          username: packet.username ?? null,
        });
        // A standby refuses in authenticate (the CONNACK needs it): no token spent on that.
        if (this.options.serving?.() === false) return done(null, true);
        if (connections.take()) return done(null, true);
        this.counts.refusedConnections++;
        this.audited({
          at: new Date(),
          action: 'connect',
          username: packet.username ?? null,
          clientId: packet.clientId ?? '',
          remoteAddress: this.addressOf(client),
          topic: null,
          reason: `over the limit of ${rate} new connections per second`,
        });
        done(markAudited(new Error('too many new connections; retry later')), false);
      },
      authenticate: (client, username, password, done) => {
        if (this.options.serving?.() === false) {
          this.refuseUnavailable(client, done);
          return;
        }
        hooks.authenticate(client, username, password, (error, success) => {
          if (!success) this.counts.refusedConnections++;
          done(error, success);
        });
      },
      authorizePublish: hooks.authorizePublish,
      authorizeSubscribe: hooks.authorizeSubscribe,
    });
    this.aedes = aedes;
    await this.retain(this.early.splice(0));
    aedes.on('client', (client) => {
      const session = this.sessions.get(client);
      if (session) this.identities.set(client, session.agent);
    });
    aedes.on('ack', () => this.counts.messagesOut++);
    aedes.on('clientDisconnect', (client) => this.sessions.delete(client));
    const onError = (client: Client, error: Error): void => {
      if (this.unavailable.has(error)) return;
      // Keyed by client only: the message may carry a topic the client chose.
      limited.info(
        `dropped|${this.keyOf(client)}`,
        `client ${JSON.stringify(client.id ?? null)} from ${this.addressOf(client)} dropped: ${error.message}`,
      );
      if (!isAudited(error)) this.auditAedesRefusal(client, error, maxTopicLevels);
    };
    aedes.on('clientError', onError);
    aedes.on('connectionError', onError);

    const maxPacketBytes =
      limits.maxPacketBytes ?? (limits.maxPayloadBytes ?? 256 * 1024) + PACKET_OVERHEAD_BYTES;
    this.maxPacketBytes = maxPacketBytes;
    const tcp = createServer((socket) => this.admit(socket, socket));
    await this.listen(tcp, this.options.port, this.options.host);

    const tlsOptions = this.options.tls;
    if (tlsOptions) {
      const required = tlsOptions.requireClientCert === true;
      // Without a CA of our own Node would accept any client certificate a public CA
      // signed: requiring one makes sense only with the agents' CA (config checks it too).
      if (required && !tlsOptions.ca)
        throw new Error(
          'mqtt.tls.requireClientCert needs mqtt.tls.ca, the CA that signs the agents',
        );
      const tls = createTlsServer(
        {
          cert: tlsOptions.cert,
          key: tlsOptions.key,
          ...(tlsOptions.ca ? { ca: tlsOptions.ca, requestCert: true } : {}),
          // Without requireClientCert a client may still log in with its password only.
          rejectUnauthorized: required,
          minVersion: 'TLSv1.2',
        },
        (socket: TLSSocket) => this.admit(socket, socket),
      );
      // A refused handshake never reaches Aedes: audit it here (who: the address only).
      tls.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
        // Typed as an Error, set by Node as the OpenSSL code (UNABLE_TO_VERIFY_LEAF_SIGNATURE).
        const verdict: unknown = socket.authorizationError;
        const reason = tlsRefusal(
          error,
          verdict instanceof Error ? verdict.message : verdict ? String(verdict) : undefined,
        );
        const remoteAddress = `${socket.remoteAddress ?? 'unknown address'}:${socket.remotePort ?? '?'}`;
        if (!reason) {
          limited.info(
            `TLS gave up|${hostOf(remoteAddress)}|${causeOf(error.message)}`,
            `TLS client from ${remoteAddress} gave up: ${error.message}`,
          );
          return;
        }
        this.counts.refusedConnections++;
        limited.warn(
          `refused TLS|${hostOf(remoteAddress)}|${causeOf(reason)}`,
          `refused TLS connection at ${new Date().toISOString()} from ${remoteAddress}: ${reason}`,
        );
        this.audited({
          at: new Date(),
          action: 'connect',
          username: null,
          clientId: '',
          remoteAddress,
          topic: null,
          reason,
        });
      });
      await this.listen(tls, tlsOptions.port, tlsOptions.host);
    }

    if (this.options.ws) {
      const http = createHttpServer((_request, response) => {
        response.writeHead(426, { 'content-type': 'text/plain' });
        response.end('MQTT over WebSocket: connect with the "mqtt" subprotocol\n');
      });
      // ws buffers a whole WebSocket message before the packet guard sees a byte of it,
      // so it gets a bound of its own: a message may carry a few packets (hence twice).
      const wss = new WebSocketServer({ server: http, maxPayload: maxPacketBytes * 2 });
      wss.on('connection', (socket, request) => {
        const stream = createWebSocketStream(socket);
        stream.on('error', (error: Error & { code?: string }) => {
          socket.terminate();
          // ws closed it with 1009 (RFC 6455 section 7.4.1) before the guard saw it.
          if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' && client)
            this.refuseOversize(client, stream, request.socket, {
              action: 'connect',
              topic: null,
              reason: `WebSocket message over the limit of ${maxPacketBytes * 2} bytes`,
            });
        });
        const client = this.admit(stream, request.socket, request);
      });
      this.wss = wss;
      await this.listen(http, this.options.ws.port, this.options.ws.host);
    }

    agents.on('invalidated', this.onInvalidated);
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? 5000);
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
   * Retains messages for the clients that subscribe from now on (MQTT 3.1.1 section
   * 3.3.1.3), at QoS 1 as the agents publish them, without passing authorizePublish (not
   * journaled): what a node rebuilds from the stores when it starts or takes over
   * (broker/devices/retained.ts). Before start() they wait and are stored before any
   * listener opens; resolves once Aedes holds them. Of several on one topic, the last.
   */
  async retain(messages: readonly RetainedMessage[]): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) {
      this.early.push(...messages);
      return;
    }
    // One per topic, the last: Aedes stores them concurrently.
    const last = new Map(messages.map(({ topic, payload }) => [topic, payload] as const));
    await Promise.all(
      [...last].map(
        ([topic, payload]) =>
          new Promise<void>((resolve, reject) =>
            aedes.publish(
              { cmd: 'publish', topic, payload, qos: 1, retain: true, dup: false },
              (error) => (error ? reject(error) : resolve()),
            ),
          ),
      ),
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

  /**
   * Closes every open connection: a leader that lost its lease (docs/HA.md) sends its
   * clients to find the new leader rather than keep them on a node that refuses their
   * messages. Their last wills are not published (hooks.ts: the agents are alive).
   * Returns how many.
   */
  closeAll(reason: string): number {
    let closed = 0;
    for (const [client] of this.sessions) {
      if (client.closed) continue;
      client.close();
      closed++;
    }
    if (closed > 0) this.options.log.warn(`closed ${closed} client connections: ${reason}`);
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
    // The counts of the last interval, once nothing more can come.
    this.limited?.flush();
    this.limited = null;
  }

  /** The client part of a log key: its account once logged in, else its address (not the port). */
  private keyOf(client: Client): string {
    return this.sessions.get(client)?.agent.username ?? hostOf(this.addressOf(client));
  }

  private addressOf(client: Client): string {
    return this.addresses.get(client) ?? remoteAddressOf(client);
  }

  /** A line that can repeat per connection or packet: limited once started. */
  private limitedWarn(key: string, line: string): void {
    if (this.limited) this.limited.warn(key, line);
    else this.options.log.warn(line);
  }

  /**
   * Hands a connection to Aedes, with the packet guard reading each chunk Aedes reads.
   * Aedes reads in paused mode (conn.read() on 'readable'); a 'data' listener added after
   * its 'readable' one does not switch the stream to flowing, it is called with each
   * chunk read() returns, before Aedes parses it (Node stream docs: "'readable' takes
   * precedence in controlling the flow").
   */
  private admit(conn: Duplex, socket: Socket, request?: IncomingMessage): Client | null {
    const aedes = this.aedes;
    if (!aedes) {
      conn.destroy();
      return null;
    }
    const client = aedes.handle(conn, request);
    this.addresses.set(client, remoteAddressOf(client));
    const guard = new PacketSizeGuard(this.maxPacketBytes);
    const onData = (chunk: Buffer): void => {
      const oversize = guard.scan(chunk);
      if (!oversize) return;
      conn.off('data', onData);
      // After Aedes parsed this chunk: a CONNECT in it has reached preConnect, so the
      // audit can say who the client claimed to be. No I/O happens before the tick.
      process.nextTick(() =>
        this.refuseOversize(client, conn, socket, {
          action: actionOf(oversize),
          topic: oversize.topic,
          reason: `${oversize.packet} of ${oversize.bytes} bytes announced, over the limit of ${oversize.limit}`,
        }),
      );
    };
    conn.on('data', onData);
    return client;
  }

  private refuseOversize(
    client: Client,
    conn: Duplex,
    socket: Socket,
    { action, topic, reason }: Pick<AuditEntry, 'action' | 'topic' | 'reason'>,
  ): void {
    const session = this.sessions.get(client);
    const claim = this.claims.get(client);
    const username = session?.agent.username ?? claim?.username ?? null;
    const clientId = client.id ?? claim?.clientId ?? '';
    const remoteAddress = `${socket.remoteAddress ?? 'unknown address'}:${socket.remotePort ?? '?'}`;
    this.limitedWarn(
      `packet too large|${session?.agent.username ?? hostOf(remoteAddress)}|${action}`,
      `VIGIL_MQTT_PACKET_TOO_LARGE: closed the connection of ${JSON.stringify(username)} ` +
        `(client ${JSON.stringify(clientId)} from ${remoteAddress}) before reading the body: ${reason}`,
    );
    this.audited({ at: new Date(), action, username, clientId, remoteAddress, topic, reason });
    // MQTT 3.1.1 has no way to say why (MQTT 5 would send DISCONNECT 0x95): close.
    conn.destroy();
  }

  /** Audits a refusal Aedes made before any hook of ours ran (./refusals.ts). */
  private auditAedesRefusal(client: Client, error: Error, maxTopicLevels: number): void {
    // Aedes refuses synchronously inside the parser's 'packet' event, so the parser still
    // holds the packet it refused (mqtt-packet resets it after the event). Private to
    // Aedes: the front-door tests fail if an upgrade changes it.
    const parser = (client as unknown as { _parser?: { packet?: PacketInHand; error?: Error } })
      ._parser;
    const info = (error as { info?: PacketInHand }).info;
    const refusal = refusalOf(
      error,
      info ?? parser?.packet ?? null,
      parser?.error === error,
      maxTopicLevels,
    );
    if (!refusal) return;
    const session = this.sessions.get(client);
    const claim = this.claims.get(client);
    this.audited({
      at: new Date(),
      action: refusal.action,
      username: session?.agent.username ?? claim?.username ?? null,
      clientId: client.id ?? claim?.clientId ?? '',
      remoteAddress: this.addressOf(client),
      topic: refusal.topic,
      reason: refusal.reason,
    });
    this.limitedWarn(
      `refused ${refusal.action}|${this.keyOf(client)}|${causeOf(refusal.reason)}`,
      `refused ${refusal.action} at ${new Date().toISOString()}: client ${JSON.stringify(client.id ?? null)} ` +
        `from ${this.addressOf(client)}${refusal.topic === null ? '' : ` to ${JSON.stringify(refusal.topic.slice(0, 200))}`}: ${refusal.reason}`,
    );
  }

  /**
   * CONNACK 3 for a node that does not serve (a standby). Not audited: nobody did
   * anything wrong, and a fleet asks every few seconds during a takeover; one log line
   * per interval with a count instead.
   */
  private refuseUnavailable(
    client: Client,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    this.counts.refusedUnavailable++;
    this.limited?.info(
      'standby refuses',
      `refused a connection with CONNACK 3 (server unavailable, MQTT 3.1.1 section 3.2.2.3) from ${this.addressOf(client)}: this node is a standby of the pair and does not serve; clients go to the leader`,
    );
    const error = markAudited(
      Object.assign(new Error('Server unavailable: this node is a standby'), {
        returnCode: SERVER_UNAVAILABLE,
      }),
    );
    this.unavailable.add(error);
    done(error, false);
  }

  private audited(entry: AuditEntry): void {
    try {
      this.options.audit?.record(entry);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const line = `cannot write the audit log: ${message}`;
      if (this.limited) this.limited.error(`audit log|${causeOf(message)}`, line);
      else this.options.log.error(line);
    }
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

  /**
   * Ends sessions whose account another process revoked or changed: one read of every
   * active account's generation per sweep, however many sessions there are. A store that
   * cannot be read keeps the sessions (and says so) until the next sweep.
   */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const generations = await this.options.agents.generations();
      for (const [client, session] of this.sessions) {
        if (client.closed) {
          this.sessions.delete(client);
          continue;
        }
        if (generations.get(session.agent.username) !== session.generation) {
          this.disconnect(session.agent.username, 'its credentials were revoked or replaced');
        }
      }
    } catch (error) {
      this.limited?.error(
        'sweep|store',
        `cannot read the accounts to close revoked sessions: ${error instanceof Error ? error.message : String(error)}; trying again at the next sweep`,
      );
    } finally {
      this.sweeping = false;
    }
  }
}
