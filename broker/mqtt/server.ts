/**
 * The MQTT front door: Aedes over a TCP listener, with the hooks of ./hooks.ts. This
 * folder is the only importer of `aedes` (STYLE habit 7); the rest of the broker sees
 * an `Envelope` per accepted message.
 *
 * Revoking an agent, or replacing its password, ends its open connections: at once when
 * it happens in this process, and within `sweepIntervalMs` when another process changed
 * the accounts (`vigil broker revoke-agent` while the broker runs).
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { AgentStore } from '../agents/store.js';
import type { Log } from '../log.js';
import type { Envelope } from '../pipeline/types.js';
import { createHooks, remoteAddressOf, type Session } from './hooks.js';

export interface MqttServerOptions {
  host: string;
  /** 0: any free port; read the bound one from `port` after start(). */
  port: number;
  agents: AgentStore;
  log: Log;
  /** Every message a client published and the broker accepted, in the order Aedes emits them. */
  onMessage: (envelope: Envelope) => void;
  /** How often open sessions are checked against the accounts; default 5 s. */
  sweepIntervalMs?: number;
}

export class MqttServer {
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly sessions = new Map<Client, Session>();
  // Who each client was, kept after its session ends: its last will is published after
  // Aedes has already unregistered it, and the pipeline still needs to know whose it is.
  private readonly identities = new WeakMap<Client, Session['agent']>();
  private readonly onInvalidated = (username: string): void => {
    this.disconnect(username, 'its credentials were revoked or replaced');
  };

  constructor(private readonly options: MqttServerOptions) {}

  async start(): Promise<void> {
    const { agents, log } = this.options;
    const hooks = createHooks({ agents, sessions: this.sessions, log });
    const aedes = await Aedes.createBroker({
      authenticate: hooks.authenticate,
      authorizePublish: hooks.authorizePublish,
      authorizeSubscribe: hooks.authorizeSubscribe,
    });
    this.aedes = aedes;
    aedes.on('publish', (packet, client) => this.accept(packet, client));
    aedes.on('client', (client) => {
      const session = this.sessions.get(client);
      if (session) this.identities.set(client, session.agent);
    });
    aedes.on('clientDisconnect', (client) => this.sessions.delete(client));
    aedes.on('clientError', (client, error) => {
      log.info(
        `client ${JSON.stringify(client.id)} from ${remoteAddressOf(client)} dropped: ${error.message}`,
      );
    });

    const server = createServer(aedes.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });

    agents.on('invalidated', this.onInvalidated);
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 5000);
    this.sweepTimer.unref();
  }

  /** The bound TCP port (the real one when configured with 0). */
  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string')
      throw new Error('the MQTT server is not listening');
    return (address as AddressInfo).port;
  }

  get host(): string {
    return this.options.host;
  }

  /** Connected and authenticated clients, for /api/health. */
  get clients(): number {
    return this.aedes?.connectedClients ?? 0;
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

  /** Stops accepting connections, closes the open ones, and releases the port. */
  async stop(): Promise<void> {
    this.options.agents.off('invalidated', this.onInvalidated);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const server = this.server;
    const aedes = this.aedes;
    this.server = null;
    this.aedes = null;
    // server.close() only stops new connections; it completes once Aedes closed the rest.
    const serverClosed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await serverClosed;
    this.sessions.clear();
  }

  private accept(packet: AedesPublishPacket, client: Client | null): void {
    // Messages of the broker itself ($SYS heartbeats) have no client and carry no data.
    if (!client || packet.topic.startsWith('$SYS/')) return;
    const agent = this.identities.get(client) ?? this.sessions.get(client)?.agent;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    this.options.onMessage({
      topic: packet.topic,
      payload,
      clientId: client.id,
      ...(agent ? { agent: { siteId: agent.siteId, agentId: agent.agentId } } : {}),
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
