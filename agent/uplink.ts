/**
 * The agent's one connection to the NOC broker, and the only importer of mqtt in agent/.
 *
 * - clientId `<siteId>.<agentId>`; MQTT 3.1.1 with a persistent session (CleanSession 0),
 *   so the broker keeps the agent's command subscription and queues commands while the
 *   site link is down (MQTT 3.1.1 section 3.1.2.4).
 * - Last will: AgentOffline { reason 'connection-lost' }, retained, QoS 1, on the agent
 *   status topic (MQTT 3.1.1 section 3.1.2.5); the broker publishes it when the link
 *   breaks. A clean stop publishes AgentOffline { reason 'shutdown' } and then DISCONNECT,
 *   which makes the broker drop the will [MQTT-3.14.4-3].
 * - Every message goes into the spool (./spool/) first: it counts as sent once it is on
 *   disk, and leaves the spool when the broker acknowledged it (PUBACK, section 3.4).
 *   mqtt.js's own store is not used for that: it holds at most 65,535 message ids and
 *   replays one message per round trip. Here the spool is read in order and sent with a
 *   window of several PUBLISH packets in flight; consecutive non-retained records go out
 *   together as one batch (shared/messages/agent-batch.ts), each keeping its own `seq`
 *   and `ts`. Retained messages (device state, birth) go alone on their own topic, since
 *   retain is a property of one PUBLISH.
 * - After a lost connection everything not acknowledged is sent again from the spool
 *   on a new client (the broker drops what it already has by seq).
 * - Birth: AgentOnline, retained, appended on every connection (after the backlog, so the
 *   broker sees the sequence in order).
 * - Reconnects with exponential backoff and jitter; a refused CONNECT (bad credentials)
 *   is logged with what to do, never with the password. With several broker nodes, one
 *   that answers CONNACK 3 (a standby) or cannot be reached is passed over at once, and
 *   while a pair takes over the backoff stays short (TAKEOVER_WINDOW_MS).
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { carriers, contract, type PayloadOf, type PublishedKind } from '../shared/contract.js';
import { errorCodes } from '../shared/errors.js';
import type { AgentCommand, AgentCommandResponse } from '../shared/messages/agent-command.js';
import type { AgentOffline } from '../shared/messages/agent-status.js';
import { topics } from '../shared/topics.js';
import { validator, type Validator } from '../shared/validate.js';
import type { MqttConfig } from './config.js';
import type { Logger } from './log.js';
import type { Spool, SpoolRecord } from './spool/types.js';

type HeaderField = 'v' | 'siteId' | 'agentId' | 'seq' | 'ts';
/** A payload as the agent writes it; the uplink adds the header. */
export type Body<K extends PublishedKind> = Omit<
  Extract<PayloadOf<K>, { seq: number }>,
  HeaderField
>;
export type ResponseBody = Omit<AgentCommandResponse, HeaderField>;

export interface UplinkWindow {
  /** PUBLISH packets awaiting their PUBACK at once. */
  inFlight: number;
  /** Records per batch at most. */
  batchRecords: number;
  /** Bytes per batch at most (the broker's payload limit is 256 KiB). */
  batchBytes: number;
}

export const defaultWindow: UplinkWindow = {
  inFlight: 8,
  batchRecords: 500,
  batchBytes: 192 * 1024,
};

export interface UplinkOptions {
  siteId: string;
  agentId: string;
  mqtt: MqttConfig;
  log: Logger;
  /** Where messages wait for the broker; started and stopped by the caller. */
  spool: Spool;
  /** The birth message's content, asked for on every connection. */
  birth: () => Body<'agentStatus'>;
  /**
   * Called after the birth when the broker had no session for us (first connection, or a
   * broker that lost its state): retained messages may be gone and should be sent again.
   */
  onSessionLost?: () => void;
  /** A command from the NOC (already checked against its schema). */
  onCommand?: (command: AgentCommand) => void;
  /** Reconnect delays; the first retry waits minMs, then twice as long each time up to maxMs. */
  reconnect?: { minMs: number; maxMs: number };
  keepaliveS?: number;
  window?: Partial<UplinkWindow>;
}

/** MQTT 3.1.1 section 3.2.2.3: CONNACK return codes 4 and 5 refuse the client's credentials. */
const REFUSED_CREDENTIALS = new Set([4, 5]);
/**
 * CONNACK 3, Server unavailable (MQTT 3.1.1 section 3.2.2.3): the node is there but not
 * serving, as a standby of an active/standby pair answers; the next node is asked.
 */
const SERVER_UNAVAILABLE = 3;
/** How soon the next node is asked after one refused or could not be reached. */
const NEXT_NODE_MS = 100;
/**
 * How long after losing an accepted connection a round in which a node answered "server
 * unavailable" keeps the shortest wait: the pair is taking over (the standby leads within
 * the lease's ttl + ttl/3, about 13 s, docs/HA.md), and a backoff grown meanwhile to 8 or
 * 16 s would add that much to the takeover. Afterwards (a database down, nobody leads) the
 * backoff grows as usual, so a fleet does not keep asking every second.
 */
const TAKEOVER_WINDOW_MS = 30_000;

/** OpenSSL's verdicts on a broker certificate the agent cannot trust (Node's tls error codes). */
const UNTRUSTED_SERVER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

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
const checkResponse = validator(carriers.agentResponses.schema);
const checkCommand = validator(carriers.agentCommands.schema);

/** One PUBLISH awaiting its PUBACK: the spool records first..last. */
interface Flight {
  first: number;
  last: number;
  acked: boolean;
}

/**
 * mqtt-packet (mqtt.js's encoder) builds, when it loads, one Buffer per 16-bit number
 * (65,536 of them: about 7 MiB of heap for the life of the process) to write packet ids
 * and lengths without allocating. The agent sends a few packets a second, so it writes
 * them per packet (`writeCache: false`) and empties the cache; mqtt-packet rebuilds it
 * should anything switch caching back on (its `cacheNumbers` setter).
 */
function releaseNumberCache(): void {
  try {
    const load = createRequire(createRequire(import.meta.url).resolve('mqtt'));
    const numbers = load('mqtt-packet/numbers.js') as { cache?: Record<number, Buffer> };
    const writer = load('mqtt-packet').writeToStream as { cacheNumbers: boolean };
    writer.cacheNumbers = false;
    const cache = numbers.cache;
    if (cache) for (const key of Object.keys(cache)) delete cache[Number(key)];
  } catch {
    // Another layout of mqtt.js: the cache stays, which costs memory, nothing else.
  }
}

export class Uplink {
  readonly #options: UplinkOptions;
  /** The broker nodes, in the config's order; `#at` is the one asked now. */
  readonly #urls: string[];
  #at = 0;
  /** The current client got a CONNACK that accepted it. */
  #accepted = false;
  /** A node answered CONNACK 3 (server unavailable) in this round of nodes. */
  #unavailable = false;
  /** When an accepted connection was last lost (performance.now()). */
  #lostAt = -Infinity;
  readonly #window: UplinkWindow;
  readonly #spool: Spool;
  #client: MqttClient | null = null;
  #invalid = 0;
  #failedAppends = 0;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #stopping = false;
  #everConnected = false;
  /** The next spool record to send on this connection. */
  #sendSeq = 0;
  #flights: Flight[] = [];
  #pumping = false;
  #pumpAgain = false;
  #drained: (() => void)[] = [];

  constructor(options: UplinkOptions) {
    this.#options = options;
    this.#urls = options.mqtt.urls ?? [options.mqtt.url];
    this.#window = { ...defaultWindow, ...options.window };
    this.#spool = options.spool;
  }

  /** The broker node asked now, without credentials, for logs. */
  get #url(): string {
    return safeUrl(this.#urls[this.#at]!);
  }

  /** The broker node connected to or asked now (for health and tests). */
  get broker(): string {
    return this.#url;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Records in the spool: not yet acknowledged by the broker. */
  get queueDepth(): number {
    return this.#spool.stats().depth;
  }

  /** PUBLISH packets sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#flights.length;
  }

  /** Messages refused by their own schema (a bug in the agent), or not written to disk. */
  get invalidMessages(): number {
    return this.#invalid + this.#failedAppends;
  }

  /** Starts connecting in the background: the agent polls and spools while the broker is away. */
  start(): void {
    if (this.#client) return;
    this.#stopping = false;
    releaseNumberCache();
    this.#connect();
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

  publishResponse(body: ResponseBody): boolean {
    const { siteId, agentId } = this.#options;
    const payload = this.#header(body);
    const result = checkResponse(payload);
    if (!result.ok) {
      this.#invalid += 1;
      this.#options.log.error(
        `VIGIL_MESSAGE_INVALID: a command response of the agent does not match its schema and was not sent: ${result.errors.join('; ')}`,
      );
      return false;
    }
    return this.#append(topics.agentResponses(siteId, agentId), false, payload);
  }

  /** Publishes the birth again (the device list changed after a reload). */
  announce(): void {
    const { siteId, agentId } = this.#options;
    this.#publish('agentStatus', topics.agentStatus(siteId, agentId), this.#options.birth());
  }

  /** Resolves once every record appended so far is acknowledged, or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    const target = this.#spool.nextSeq;
    const done = (): boolean => this.#spool.headSeq >= target;
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#drained.push(resolve);
        setTimeout(resolve, Math.min(200, Math.max(1, deadline - Date.now()))).unref();
      });
    }
    return done();
  }

  /**
   * Waits (at most `timeoutMs`) for the spool to drain while connected, publishes
   * AgentOffline { reason 'shutdown' } and disconnects; otherwise just closes the socket.
   * What is not acknowledged stays in the spool for the next start.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    if (this.#client?.connected && !this.#stopping) await this.flush(timeoutMs);
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

  #connect(): void {
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
      // Sending is paced by the spool's window; mqtt.js must not queue on its own.
      queueQoSZero: false,
      // Two-byte numbers are made per packet instead of read from the 65,536-buffer cache
      // (released by releaseNumberCache): a few packets a second do not need it.
      writeCache: false,
    };
    if (config.ca) options.ca = config.ca;
    if (config.cert) options.cert = config.cert;
    if (config.key) options.key = config.key.reveal();
    const client = mqtt.connect(this.#urls[this.#at]!, options);
    this.#client = client;
    this.#accepted = false;
    client.on('connect', (connack) => this.#onConnect(client, connack));
    client.on('error', (error) => this.#onError(error));
    client.on('close', () => this.#onClose(client));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
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

  /** The header with the seq the spool gives the next record (append numbers synchronously). */
  #header(body: object): Record<string, unknown> {
    const { siteId, agentId } = this.#options;
    return {
      v: 1,
      siteId,
      agentId,
      seq: this.#spool.nextSeq,
      ts: new Date().toISOString(),
      ...body,
    };
  }

  #publish<K extends PublishedKind>(kind: K, topic: string, body: object): boolean {
    const payload = this.#header(body);
    if (!this.#check(kind, payload)) return false;
    return this.#append(topic, contract[kind].retained, payload);
  }

  #append(topic: string, retain: boolean, payload: Record<string, unknown>): boolean {
    if (this.#stopping) return false;
    this.#spool
      .append(topic, retain, (seq) => JSON.stringify({ ...payload, seq }))
      .then(
        () => this.#pump(),
        (error: unknown) => {
          this.#failedAppends += 1;
          this.#options.log.error(
            `VIGIL_SPOOL_WRITE: a message could not be written to the spool and is lost: ${error instanceof Error ? error.message : String(error)}; check the disk of the data folder (space, permissions)`,
          );
        },
      );
    return true;
  }

  /** Sends spool records while the window has room. One pump runs at a time. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#pumpLoop()
      .catch((error: unknown) => {
        // A spool segment dropped (full) while it was read: the next pump reads on from the head.
        this.#options.log.warn(
          `reading the spool failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        setTimeout(() => this.#pump(), 1000).unref();
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      });
  }

  async #pumpLoop(): Promise<void> {
    while (!this.#stopping) {
      const client = this.#client;
      if (!client?.connected || this.#flights.length >= this.#window.inFlight) return;
      const from = Math.max(this.#sendSeq, this.#spool.headSeq);
      const records = await this.#spool.read(from, {
        records: this.#window.batchRecords,
        bytes: this.#window.batchBytes,
      });
      // The connection changed while reading: the new one starts from the spool's head.
      if (client !== this.#client || !client.connected) return;
      if (records.length === 0) return;
      this.#send(client, this.#group(records));
    }
  }

  /** The records that go in one PUBLISH: a retained one alone, else a run of non-retained ones. */
  #group(records: SpoolRecord[]): SpoolRecord[] {
    const first = records[0] as SpoolRecord;
    if (first.retain) return [first];
    const end = records.findIndex((r) => r.retain);
    return end === -1 ? records : records.slice(0, end);
  }

  #send(client: MqttClient, group: SpoolRecord[]): void {
    const first = group[0] as SpoolRecord;
    const last = group.at(-1) as SpoolRecord;
    const flight: Flight = { first: first.seq, last: last.seq, acked: false };
    this.#flights.push(flight);
    this.#sendSeq = last.seq + 1;
    let topic = first.topic;
    let payload = first.payload;
    if (group.length > 1) {
      const { siteId, agentId } = this.#options;
      topic = topics.agentBatch(siteId, agentId);
      // The payloads are JSON already: splice them in rather than parse and serialize again.
      const records = group
        .map((r) => `{"topic":${JSON.stringify(r.topic)},"message":${r.payload}}`)
        .join(',');
      payload = `{"v":1,"siteId":${JSON.stringify(siteId)},"agentId":${JSON.stringify(agentId)},"ts":"${new Date().toISOString()}","records":[${records}]}`;
    }
    client.publish(topic, payload, { qos: 1, retain: first.retain }, (error) => {
      // A failed or old connection's packet is sent again from the spool on the next one.
      if (error || client !== this.#client || !this.#flights.includes(flight)) return;
      flight.acked = true;
      let acked = -1;
      while (this.#flights[0]?.acked) acked = (this.#flights.shift() as Flight).last;
      if (acked >= 0) this.#spool.ack(acked);
      for (const resolve of this.#drained.splice(0)) resolve();
      this.#pump();
    });
  }

  #onConnect(client: MqttClient, connack: IConnackPacket): void {
    if (client !== this.#client) return;
    this.#attempt = 0;
    this.#accepted = true;
    this.#options.log.info(
      `${this.#everConnected ? 'reconnected' : 'connected'} to ${this.#url} as ${this.#options.mqtt.username}`,
    );
    this.#everConnected = true;
    this.#flights = [];
    this.#sendSeq = this.#spool.headSeq;
    const { siteId, agentId } = this.#options;
    if (this.#options.onCommand) {
      client.subscribe(topics.agentCommands(siteId, agentId), { qos: 1 }, (error) => {
        if (error) this.#options.log.warn(`cannot subscribe to NOC commands: ${error.message}`);
      });
    }
    this.#publish('agentStatus', topics.agentStatus(siteId, agentId), this.#options.birth());
    if (!connack.sessionPresent) this.#options.onSessionLost?.();
    this.#pump();
  }

  #onMessage(topic: string, payload: Buffer): void {
    const { siteId, agentId } = this.#options;
    if (topic !== topics.agentCommands(siteId, agentId) || !this.#options.onCommand) return;
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      this.#options.log.warn('ignored a NOC command that is not JSON');
      return;
    }
    const result = checkCommand(raw);
    if (!result.ok) {
      this.#options.log.warn(`ignored a NOC command: ${result.errors.join('; ')}`);
      return;
    }
    this.#options.onCommand(result.value as AgentCommand);
  }

  #onError(error: Error & { code?: string | number }): void {
    if (typeof error.code === 'number' && REFUSED_CREDENTIALS.has(error.code)) {
      this.#options.log.error(
        `VIGIL_MQTT_BAD_CREDENTIALS: ${errorCodes.VIGIL_MQTT_BAD_CREDENTIALS} (broker ${this.#url}, username "${this.#options.mqtt.username}"; ${error.message})`,
      );
      return;
    }
    // TLS 1.3 alert certificate_required (RFC 8446 section 6.2): the broker wants a client
    // certificate and got none it accepts. Retrying will not help; configuring will.
    if (error.code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
      const given = this.#options.mqtt.cert
        ? 'the certificate given (mqtt.cert) was not accepted'
        : 'no certificate is configured';
      this.#options.log.error(
        `VIGIL_MQTT_CLIENT_CERT: ${errorCodes.VIGIL_MQTT_CLIENT_CERT} (broker ${this.#url}: ${given})`,
      );
      return;
    }
    if (typeof error.code === 'string' && UNTRUSTED_SERVER.has(error.code)) {
      this.#options.log.error(
        `VIGIL_MQTT_SERVER_CERT: ${errorCodes.VIGIL_MQTT_SERVER_CERT} (broker ${this.#url}: ${error.code}` +
          (this.#options.mqtt.ca
            ? '; the mqtt.ca given did not sign it)'
            : '; no mqtt.ca is configured)'),
      );
      return;
    }
    if (error.code === SERVER_UNAVAILABLE) {
      this.#unavailable = true;
      this.#options.log.warn(
        `the broker ${this.#url} does not serve now (server unavailable: a standby node?)` +
          (this.#urls.length > 1 ? '; asking the next one' : '; asking again later'),
      );
      return;
    }
    this.#options.log.warn(`cannot reach the broker ${this.#url}: ${error.code ?? error.message}`);
  }

  #onClose(client: MqttClient): void {
    if (this.#stopping || client !== this.#client || this.#reconnectTimer) return;
    // What was in flight is sent again from the spool on the next connection.
    this.#flights = [];
    const { minMs, maxMs } = this.#options.reconnect ?? { minMs: 1000, maxMs: 60_000 };
    if (this.#everConnected && this.#accepted) {
      this.#options.log.warn(`lost the connection to ${this.#url}; reconnecting`);
    }
    if (this.#accepted) this.#lostAt = performance.now();
    // A node that refused or could not be reached: the next one, at once while the round
    // of nodes is not over; the backoff grows once per round, so a pair whose leader died
    // is left for its standby within one short wait. A node that had accepted us is asked
    // again first (a restart, a cut of the link).
    let delay = Math.min(minMs, NEXT_NODE_MS);
    if (!this.#accepted && this.#urls.length > 1) {
      this.#at = (this.#at + 1) % this.#urls.length;
    }
    if (this.#accepted || this.#at === 0 || this.#urls.length === 1) {
      // A pair taking over (TAKEOVER_WINDOW_MS): the shortest wait, and no growth.
      const takingOver = this.#unavailable && performance.now() - this.#lostAt < TAKEOVER_WINDOW_MS;
      const base = Math.min(maxMs, minMs * 2 ** (takingOver ? 0 : this.#attempt));
      // +-20 %: agents of many sites do not all come back in the same second after a broker restart.
      delay = Math.round(base * (0.8 + Math.random() * 0.4));
      if (!takingOver) this.#attempt += 1;
      this.#unavailable = false;
    }
    this.#accepted = false;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#stopping || this.#client !== client) return;
      // A new client: the old one's store may hold packets we send again from the spool.
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      this.#connect();
    }, delay);
  }
}
