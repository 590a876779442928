/**
 * The agent's one connection to the NOC broker, and the only importer of mqtt in agent/.
 *
 * - clientId `<siteId>.<agentId>`; MQTT 3.1.1 with a persistent session (CleanSession 0),
 *   because only then must both sides re-send unacknowledged QoS 1 PUBLISH packets after
 *   a reconnect [MQTT-4.4.0-1], and the broker keeps the agent's subscriptions (NOC
 *   commands, a later issue) and queues their messages while the site link is down.
 * - Last will: AgentOffline { reason 'connection-lost' }, retained, QoS 1, on the agent
 *   status topic (MQTT 3.1.1 section 3.1.2.5); the broker publishes it when the link
 *   breaks. A clean stop publishes AgentOffline { reason 'shutdown' } and then DISCONNECT,
 *   which makes the broker drop the will [MQTT-3.14.4-3].
 * - Birth: AgentOnline, retained, on every connection.
 * - Every message goes out at QoS 1; retained or not as shared/contract.ts says. While
 *   the broker is unreachable mqtt.js keeps them in memory and sends them on reconnect
 *   (the durable spool is a later issue). Each message carries `seq`, one higher than the
 *   previous one, and is checked against its shared schema before it leaves.
 * - Reconnects with exponential backoff and jitter; a refused CONNECT (bad credentials)
 *   is logged with what to do, never with the password.
 */
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { contract, type PayloadOf, type PublishedKind } from '../shared/contract.js';
import { errorCodes } from '../shared/errors.js';
import type { AgentOffline } from '../shared/messages/agent-status.js';
import { topics } from '../shared/topics.js';
import { validator, type Validator } from '../shared/validate.js';
import type { MqttConfig } from './config.js';
import type { Logger } from './log.js';

type HeaderField = 'v' | 'siteId' | 'agentId' | 'seq' | 'ts';
/** A payload as the agent writes it; the uplink adds the header. */
export type Body<K extends PublishedKind> = Omit<
  Extract<PayloadOf<K>, { seq: number }>,
  HeaderField
>;

export interface UplinkOptions {
  siteId: string;
  agentId: string;
  mqtt: MqttConfig;
  log: Logger;
  /** The birth message's content, asked for on every connection. */
  birth: () => Body<'agentStatus'>;
  /**
   * Called after the birth when the broker had no session for us (first connection, or a
   * broker that lost its state): retained messages may be gone and should be sent again.
   */
  onSessionLost?: () => void;
  /** Reconnect delays; the first retry waits minMs, then twice as long each time up to maxMs. */
  reconnect?: { minMs: number; maxMs: number };
  keepaliveS?: number;
}

/** MQTT 3.1.1 section 3.2.2.3: CONNACK return codes 4 and 5 refuse the client's credentials. */
const REFUSED_CREDENTIALS = new Set([4, 5]);

/** The broker URL for a log line: never with credentials. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

const validators = {
  agentStatus: validator(contract.agentStatus.schema),
  agentHealth: validator(contract.agentHealth.schema),
  deviceState: validator(contract.deviceState.schema),
  deviceMetrics: validator(contract.deviceMetrics.schema),
} satisfies { [K in PublishedKind]: Validator<(typeof contract)[K]['schema']> };

export class Uplink {
  readonly #options: UplinkOptions;
  readonly #url: string;
  #client: MqttClient | null = null;
  #seq = 0;
  #pending = 0;
  #invalid = 0;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #stopping = false;
  #everConnected = false;

  constructor(options: UplinkOptions) {
    this.#options = options;
    this.#url = safeUrl(options.mqtt.url);
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Messages handed to MQTT and not yet acknowledged by the broker (PUBACK). */
  get queueDepth(): number {
    return this.#pending;
  }

  /** Messages refused by their own schema (a bug in the agent): never sent. */
  get invalidMessages(): number {
    return this.#invalid;
  }

  /** Starts connecting in the background: the agent polls and queues while the broker is away. */
  start(): void {
    if (this.#client) return;
    this.#stopping = false;
    const { mqtt: config, siteId, agentId } = this.#options;
    const options: IClientOptions = {
      clientId: `${siteId}.${agentId}`,
      username: config.username,
      password: config.password.reveal(),
      protocolVersion: 4,
      clean: false,
      keepalive: this.#options.keepaliveS ?? 30,
      connectTimeout: 10_000,
      // Reconnects are ours (backoff); mqtt.js's own retry runs at a fixed period.
      reconnectPeriod: 0,
      will: this.#will(),
      rejectUnauthorized: true,
    };
    if (config.ca) options.ca = config.ca;
    if (config.cert) options.cert = config.cert;
    if (config.key) options.key = config.key.reveal();
    const client = mqtt.connect(config.url, options);
    this.#client = client;
    client.on('connect', (connack) => this.#onConnect(connack));
    client.on('error', (error) => this.#onError(error));
    client.on('close', () => this.#onClose());
  }

  publishDeviceState(deviceId: string, body: Body<'deviceState'>): boolean {
    return this.#publish('deviceState', topics.deviceState(this.#options.siteId, deviceId), body);
  }

  publishDeviceMetrics(deviceId: string, body: Body<'deviceMetrics'>): boolean {
    return this.#publish(
      'deviceMetrics',
      topics.deviceMetrics(this.#options.siteId, deviceId),
      body,
    );
  }

  publishHealth(body: Body<'agentHealth'>): boolean {
    const { siteId, agentId } = this.#options;
    return this.#publish('agentHealth', topics.agentHealth(siteId, agentId), body);
  }

  /**
   * Publishes AgentOffline { reason 'shutdown' } and disconnects cleanly when connected
   * (waiting at most `timeoutMs` for the broker); otherwise just closes the socket.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    this.#stopping = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const client = this.#client;
    if (!client) return;
    this.#client = null;
    const within = <T>(promise: Promise<T>): Promise<T | 'late'> =>
      Promise.race([promise, new Promise<'late'>((r) => setTimeout(r, timeoutMs, 'late').unref())]);
    if (client.connected) {
      const { siteId, agentId } = this.#options;
      const offline: AgentOffline = {
        v: 1,
        siteId,
        agentId,
        ts: new Date().toISOString(),
        state: 'offline',
        reason: 'shutdown',
      };
      const sent = within(
        client.publishAsync(topics.agentStatus(siteId, agentId), JSON.stringify(offline), {
          qos: 1,
          retain: true,
        }),
      ).catch(() => 'late' as const);
      if ((await sent) === 'late')
        this.#options.log.warn('the broker did not acknowledge the offline message');
      if ((await within(client.endAsync().catch(() => undefined))) !== 'late') return;
    }
    await client.endAsync(true).catch(() => undefined);
  }

  #will(): NonNullable<IClientOptions['will']> {
    const { siteId, agentId } = this.#options;
    // A will is fixed at CONNECT, so its ts is the moment of this connection attempt.
    const payload: AgentOffline = {
      v: 1,
      siteId,
      agentId,
      ts: new Date().toISOString(),
      state: 'offline',
      reason: 'connection-lost',
    };
    this.#check('agentStatus', payload);
    return {
      topic: topics.agentStatus(siteId, agentId),
      payload: Buffer.from(JSON.stringify(payload)),
      qos: 1,
      retain: true,
    };
  }

  #check<K extends PublishedKind>(kind: K, payload: unknown): payload is PayloadOf<K> {
    const result = validators[kind](payload);
    if (result.ok) return true;
    this.#invalid += 1;
    this.#options.log.error(
      `VIGIL_MESSAGE_INVALID: a ${kind} message of the agent does not match its schema and was not sent: ${result.errors.join('; ')}`,
    );
    return false;
  }

  #publish<K extends PublishedKind>(kind: K, topic: string, body: object): boolean {
    const { siteId, agentId } = this.#options;
    const payload = {
      v: 1,
      siteId,
      agentId,
      seq: this.#seq,
      ts: new Date().toISOString(),
      ...body,
    };
    if (!this.#check(kind, payload)) return false;
    const client = this.#client;
    if (!client || this.#stopping) return false;
    this.#seq += 1;
    this.#pending += 1;
    client.publish(
      topic,
      JSON.stringify(payload),
      { qos: 1, retain: contract[kind].retained },
      () => {
        this.#pending -= 1;
      },
    );
    return true;
  }

  #onConnect(connack: IConnackPacket): void {
    this.#attempt = 0;
    this.#options.log.info(
      `${this.#everConnected ? 'reconnected' : 'connected'} to ${this.#url} as ${this.#options.mqtt.username}`,
    );
    this.#everConnected = true;
    const { siteId, agentId } = this.#options;
    this.#publish('agentStatus', topics.agentStatus(siteId, agentId), this.#options.birth());
    if (!connack.sessionPresent) this.#options.onSessionLost?.();
  }

  #onError(error: Error & { code?: string | number }): void {
    if (typeof error.code === 'number' && REFUSED_CREDENTIALS.has(error.code)) {
      this.#options.log.error(
        `VIGIL_MQTT_BAD_CREDENTIALS: ${errorCodes.VIGIL_MQTT_BAD_CREDENTIALS} (broker ${this.#url}, username "${this.#options.mqtt.username}"; ${error.message})`,
      );
      return;
    }
    this.#options.log.warn(`cannot reach the broker ${this.#url}: ${error.code ?? error.message}`);
  }

  #onClose(): void {
    const client = this.#client;
    if (this.#stopping || !client || this.#reconnectTimer) return;
    const { minMs, maxMs } = this.#options.reconnect ?? { minMs: 1000, maxMs: 60_000 };
    const base = Math.min(maxMs, minMs * 2 ** this.#attempt);
    // +-20 %: agents of many sites do not all come back in the same second after a broker restart.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#attempt += 1;
    if (this.#everConnected && this.#attempt === 1) {
      this.#options.log.warn(`lost the connection to ${this.#url}; reconnecting`);
    }
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#stopping || this.#client !== client) return;
      client.options.will = this.#will();
      // Keep the stores: they hold the QoS 1 messages published while offline.
      client.reconnect({
        incomingStore: client.incomingStore,
        outgoingStore: client.outgoingStore,
      });
    }, delay);
  }
}
