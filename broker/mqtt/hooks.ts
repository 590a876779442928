/**
 * The broker's policy as Aedes hooks, one named function each (the Aedes habit): every
 * client authenticates against the agent accounts, and then publishes and subscribes
 * only where broker/mqtt/rules.ts allows. Every refusal is one log line saying who,
 * what, when and why; never the password.
 */
import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { AgentIdentity, AgentStore } from '../agents/store.js';
import type { Log } from '../log.js';
import { markAudited, type AuditLog } from './audit.js';
import { clientMayPublish, clientMaySubscribe } from './roles.js';
import { mayPublish, maySubscribe } from './rules.js';

/** Agents by ./rules.ts, console and internal accounts by ./roles.ts. */
function publishDecision(identity: AgentIdentity, topic: string) {
  return identity.role && identity.role !== 'agent'
    ? clientMayPublish(identity, topic)
    : mayPublish(identity, topic);
}

function subscribeDecision(identity: AgentIdentity, filter: string) {
  return identity.role && identity.role !== 'agent'
    ? clientMaySubscribe(identity, filter)
    : maySubscribe(identity, filter);
}

/** An authenticated connection: who it is and which credentials it used. */
export interface Session {
  agent: AgentIdentity;
  /** The account's generation at login; a different one now means revoked or replaced. */
  generation: number;
  remoteAddress: string;
}

// CONNACK return codes, MQTT 3.1.1 section 3.2.2.3 (Aedes declares them as a const enum,
// which isolatedModules cannot read).
const BAD_USERNAME_OR_PASSWORD = 4 as AuthenticateError['returnCode'];
const NOT_AUTHORIZED = 5 as AuthenticateError['returnCode'];
const SERVER_UNAVAILABLE = 3 as AuthenticateError['returnCode'];

function refusal(returnCode: AuthenticateError['returnCode'], message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

/** Where a client connects from, for the log. */
export function remoteAddressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string; remotePort?: number };
  // Over WebSocket the connection is a stream; the address is on the HTTP request's socket.
  const peer = conn.remoteAddress ? conn : (client.req?.socket ?? {});
  return peer.remoteAddress ? `${peer.remoteAddress}:${peer.remotePort ?? '?'}` : 'unknown address';
}

/** Quoted and bounded: a username or topic from the wire cannot forge log lines. */
function quoted(value: string | undefined | null): string {
  if (value === undefined || value === null) return '(none)';
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
}

export interface Hooks {
  authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void;
  authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void;
  authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void;
}

export interface HookDeps {
  agents: AgentStore;
  sessions: Map<Client, Session>;
  /** Who a client was after its session ended (its last will is published then). */
  identityOf?: (client: Client) => AgentIdentity | undefined;
  log: Log;
  audit?: AuditLog;
  /**
   * Takes an authorized message; resolves once it is durable (the journal fsynced it).
   * Only then does Aedes send the PUBACK. A rejection refuses the message (journal full).
   */
  ingest?: (
    client: Client,
    identity: AgentIdentity | undefined,
    packet: PublishPacket,
  ) => Promise<void>;
  /** Larger payloads are refused and audited; default 256 KiB. */
  maxPayloadBytes?: number;
  now?: () => Date;
}

export function createHooks(deps: HookDeps): Hooks {
  const { agents, sessions, log, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const maxPayloadBytes = deps.maxPayloadBytes ?? 256 * 1024;
  const audited = (
    client: Client,
    action: 'connect' | 'publish' | 'subscribe',
    username: string | null,
    topic: string | null,
    reason: string,
  ): void => {
    try {
      audit?.record({
        at: now(),
        action,
        username,
        clientId: client.id,
        remoteAddress: remoteAddressOf(client),
        topic,
        reason,
      });
    } catch (error) {
      log.error(
        `cannot write the audit log: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };

  function who(client: Client): string {
    const session = sessions.get(client);
    const name = session ? session.agent.username : '(not authenticated)';
    return `${name} (client ${quoted(client.id)} from ${remoteAddressOf(client)})`;
  }

  function authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const remoteAddress = remoteAddressOf(client);
    const refuse = (code: AuthenticateError['returnCode'], reason: string): void => {
      log.warn(
        `refused connection at ${now().toISOString()}: client ${quoted(client.id)}, username ${quoted(username)}, ` +
          `from ${remoteAddress}: ${reason}`,
      );
      audited(client, 'connect', username ?? null, null, reason);
      done(
        markAudited(
          refusal(code, code === NOT_AUTHORIZED ? 'Not authorized' : 'Bad username or password'),
        ),
        false,
      );
    };
    // MQTT 3.1.1 section 3.1.3.4-5: the password is optional in the protocol, required here.
    if (!username || !password || password.length === 0) {
      refuse(BAD_USERNAME_OR_PASSWORD, 'no username or password given');
      return;
    }
    agents.verify(username, password.toString('utf8')).then(
      (agent) => {
        if (agent) {
          const { generation, ...identity } = agent;
          sessions.set(client, { agent: identity, generation, remoteAddress });
          done(null, true);
          return;
        }
        const status = agents.status(username);
        if (status === 'revoked') refuse(NOT_AUTHORIZED, 'the account was revoked');
        else if (status === 'unknown') refuse(BAD_USERNAME_OR_PASSWORD, 'no such account');
        else refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password');
      },
      (error: unknown) => {
        log.error(`cannot check the credentials of client ${quoted(client.id)}: ${String(error)}`);
        done(refusal(SERVER_UNAVAILABLE, 'Server unavailable'), false);
      },
    );
  }

  function authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    // No client: the broker itself (its $SYS heartbeats, a will it publishes later).
    if (!client) {
      done(null);
      return;
    }
    const identity = sessions.get(client)?.agent ?? deps.identityOf?.(client);
    let decision = identity
      ? publishDecision(identity, packet.topic)
      : { allowed: false as const, reason: 'not authenticated' };
    const size = packet.payload.length;
    if (decision.allowed && size > maxPayloadBytes)
      decision = {
        allowed: false,
        reason: `payload of ${size} bytes over the limit of ${maxPayloadBytes}`,
      };
    if (decision.allowed) {
      if (!deps.ingest) {
        done(null);
        return;
      }
      // PUBACK only once the message is on disk (the journal); Aedes sends it after done().
      deps.ingest(client, identity, packet).then(
        () => done(null),
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          log.error(`cannot take a message of ${who(client)}: ${reason}`);
          done(new Error(reason));
        },
      );
      return;
    }
    log.warn(
      `refused publish at ${now().toISOString()}: ${who(client)} to ${quoted(packet.topic)}: ${decision.reason}`,
    );
    audited(client, 'publish', identity?.username ?? null, packet.topic, decision.reason);
    // MQTT 3.1.1 [MQTT-3.3.5-2]: a server that does not authorize a PUBLISH cannot tell
    // the client; it acknowledges or closes the connection. Aedes closes on an error,
    // which makes a misconfigured agent visible instead of losing its data quietly.
    done(markAudited(new Error(`not authorized to publish to ${packet.topic}`)));
  }

  function authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const session = sessions.get(client);
    const decision = session
      ? subscribeDecision(session.agent, subscription.topic)
      : { allowed: false as const, reason: 'not authenticated' };
    if (decision.allowed) {
      done(null, subscription);
      return;
    }
    log.warn(
      `refused subscription at ${now().toISOString()}: ${who(client)} to ${quoted(subscription.topic)}: ${decision.reason}`,
    );
    audited(
      client,
      'subscribe',
      session?.agent.username ?? null,
      subscription.topic,
      decision.reason,
    );
    // MQTT 3.1.1 section 3.9.3: return code 0x80 (failure) for this filter; the
    // connection and the client's other subscriptions stay.
    done(null, null);
  }

  return { authenticate, authorizePublish, authorizeSubscribe };
}
