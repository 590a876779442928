/**
 * The broker's policy as Aedes hooks, one named function each (the Aedes habit): every
 * client authenticates against the agent accounts, and then publishes and subscribes
 * only where broker/mqtt/topic-rights.ts allows. Every refusal is audited, and logged
 * saying who, what, when and why, never the password: at once the first time, then once
 * per client and cause and interval with a count (../log-limiter.ts), since a client can
 * repeat a refusal as fast as it can reconnect or send. A last will is published only while its
 * connection is the agent's last one (authorizeWill): a will of a connection the agent
 * already replaced would mark a connected agent offline.
 */
import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { AgentIdentity, AgentStore } from '../agents/store.js';
import type { Log } from '../log.js';
import { causeOf, hostOf, type LogLimiter } from '../log-limiter.js';
import { markAudited, type AuditLog } from './refusal-audit.js';
import { clientMayPublish, clientMaySubscribe } from './roles.js';
import { mayPublish, maySubscribe } from './topic-rights.js';

/** Agents by ./topic-rights.ts, console and internal accounts by ./roles.ts. */
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
  /** When it logged in (ms since the epoch), for the log of a will it made stale. */
  since: number;
}

/**
 * The authenticated connections, with each account's connections indexed so that a last
 * will can ask whether its agent is connected again (authorizeWill) without a scan.
 */
export class SessionTable {
  private readonly byClient = new Map<Client, Session>();
  private readonly byUsername = new Map<string, Set<Client>>();

  get size(): number {
    return this.byClient.size;
  }

  get(client: Client): Session | undefined {
    return this.byClient.get(client);
  }

  set(client: Client, session: Session): void {
    this.delete(client);
    this.byClient.set(client, session);
    const username = session.agent.username;
    const clients = this.byUsername.get(username);
    if (clients) clients.add(client);
    else this.byUsername.set(username, new Set([client]));
  }

  delete(client: Client): void {
    const session = this.byClient.get(client);
    if (!session) return;
    this.byClient.delete(client);
    const clients = this.byUsername.get(session.agent.username);
    clients?.delete(client);
    if (clients?.size === 0) this.byUsername.delete(session.agent.username);
  }

  clear(): void {
    this.byClient.clear();
    this.byUsername.clear();
  }

  [Symbol.iterator](): IterableIterator<[Client, Session]> {
    return this.byClient.entries();
  }

  /**
   * Another open connection of `username` than `client` that speaks for the agent now:
   * it has its own will stored (Aedes' storeWill, which runs before registerClient takes
   * over the old connection) or finished connecting. One only authenticated, still
   * connecting without a will yet, does not count: if it died then, nobody would say
   * the agent is offline.
   */
  successorOf(client: Client, username: string): [Client, Session] | undefined {
    for (const other of this.byUsername.get(username) ?? []) {
      if (other === client || other.closed) continue;
      if (!other.connected && !(other as WillHolder).will) continue;
      const session = this.byClient.get(other);
      if (session) return [other, session];
    }
    return undefined;
  }
}

/** Aedes keeps the CONNECT's will on the client; not in its type declarations. */
interface WillHolder {
  will?: unknown;
}

/** Stale wills of one account this often within the window: likely two gateways on it. */
const REPLACED_WARN_COUNT = 3;
const REPLACED_WINDOW_MS = 60_000;
const REPLACED_WARN_EVERY_MS = 10 * 60_000;

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
  sessions: SessionTable;
  /** Who a client was after its session ended (its last will is published then). */
  identityOf?: (client: Client) => AgentIdentity | undefined;
  log: Log;
  /**
   * The lines that can repeat per connection or message (refusals, a journal that cannot
   * take messages): one per client and cause and interval. Its owner flushes it on stop.
   */
  limited: LogLimiter;
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
  /**
   * False while this node does not serve clients (a standby of an active/standby pair,
   * docs/HA.md): the last wills of the connections it closes when it steps down are not
   * published. Unset: always serving (a single node).
   */
  serving?: () => boolean;
  now?: () => Date;
}

export function createHooks(deps: HookDeps): Hooks {
  const { agents, sessions, log, limited, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const maxPayloadBytes = deps.maxPayloadBytes ?? 256 * 1024;
  /** Per account, its recent stale wills (only wills touch these). */
  const replacements = new Map<string, { at: number; from: string; to: string }[]>();
  const warned = new Map<string, number>();
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
      const message = error instanceof Error ? error.message : String(error);
      limited.error(`audit log|${causeOf(message)}`, `cannot write the audit log: ${message}`);
    }
  };

  function who(client: Client): string {
    const session = sessions.get(client);
    const name = session ? session.agent.username : '(not authenticated)';
    return `${name} (client ${quoted(client.id)} from ${remoteAddressOf(client)})`;
  }

  /** The client part of a log key: its account once logged in, else its address (not the port). */
  function keyOf(client: Client): string {
    return sessions.get(client)?.agent.username ?? hostOf(remoteAddressOf(client));
  }

  function authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const remoteAddress = remoteAddressOf(client);
    const refuse = (code: AuthenticateError['returnCode'], reason: string): void => {
      // Keyed by address: the client id and username are the client's to make up.
      limited.warn(
        `refused connection|${hostOf(remoteAddress)}|${reason}`,
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
    // Why a refusal was refused is read in the same step, so an unreachable store is one
    // answer (server unavailable), never an unhandled rejection.
    agents
      .verify(username, password.toString('utf8'))
      .then(async (agent) => ({ agent, status: agent ? null : await agents.status(username) }))
      .then(
        ({ agent, status }) => {
          if (agent) {
            const { generation, ...identity } = agent;
            sessions.set(client, {
              agent: identity,
              generation,
              remoteAddress,
              since: now().getTime(),
            });
            done(null, true);
            return;
          }
          if (status === 'revoked') refuse(NOT_AUTHORIZED, 'the account was revoked');
          else if (status === 'unknown') refuse(BAD_USERNAME_OR_PASSWORD, 'no such account');
          else refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password');
        },
        (error: unknown) => {
          limited.error(
            `credentials|${causeOf(String(error))}`,
            `cannot check the credentials of client ${quoted(client.id)}: ${String(error)}`,
          );
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
    // A closed client publishes nothing but its last will (Aedes lib/client.js close():
    // authorizePublish(client, client.will)); the one flag read is all a message pays.
    if (client.closed && packet === (client as WillHolder).will) {
      // Closed because this node stepped down (MqttServer.closeAll): the agent is alive and
      // on its way to the leader, whose own view of it counts; here the journal would
      // refuse the will anyway, one error line per agent.
      if (deps.serving?.() === false) {
        done(markAudited(new Error('last will not published: this node no longer leads')));
        return;
      }
      authorizeWill(client, packet, done);
      return;
    }
    authorizeMessage(client, packet, done);
  }

  function dropStaleWill(
    client: Client,
    identity: AgentIdentity,
    [successor, session]: [Client, Session],
    /** '' or what happened first, with a leading space. */
    when: string,
    done: (error?: Error | null) => void,
  ): void {
    log.info(
      `last will of ${identity.username} (client ${quoted(client.id)} from ${remoteAddressOf(client)}) ` +
        `not published${when}: the agent is connected again as client ${quoted(successor.id)} ` +
        `from ${session.remoteAddress} since ${new Date(session.since).toISOString()}, so the ` +
        `will of its old connection would mark it offline while it is online`,
    );
    const replaced = replacements.get(identity.username) ?? [];
    const at = now().getTime();
    const recent = replaced.filter((r) => at - r.at < REPLACED_WINDOW_MS);
    recent.push({ at, from: remoteAddressOf(client), to: session.remoteAddress });
    replacements.set(identity.username, recent);
    const warnedAt = warned.get(identity.username) ?? -Infinity;
    if (recent.length >= REPLACED_WARN_COUNT && at - warnedAt > REPLACED_WARN_EVERY_MS) {
      warned.set(identity.username, at);
      const hosts = new Set(recent.flatMap((r) => [hostOf(r.from), hostOf(r.to)]));
      log.warn(
        `the connection of ${identity.username} was replaced ${recent.length} times within ` +
          `${REPLACED_WINDOW_MS / 1000} s (from ${[...hosts].join(', ')}): two gateways may be ` +
          `using the same agent credentials and taking over each other's connection; give ` +
          `each gateway its own account (vigil broker add-agent --site SITE --name NAME)`,
      );
    }
    // Aedes drops a will whose authorizePublish fails, and does nothing else with it
    // (lib/client.js close()): no clientError, the new connection is untouched.
    done(new Error(`stale last will of ${identity.username}`));
  }

  /**
   * A last will. MQTT 3.1.1 section 3.1.2.5 publishes it when "the network connection is
   * closed" without DISCONNECT; Aedes does that late in two cases that are not the agent
   * going away: the agent reconnected with the same client id and took over the old
   * connection [MQTT-3.1.4-2] (Aedes' registerClient closes it then), or the old
   * connection's keep-alive ran out [MQTT-3.1.2-24] after the agent had reconnected under
   * another client id. Published, that will would make the retained status offline, after
   * the new birth in the second case, and the detector count a connected agent as gone.
   * So a will is published only while its connection is the agent's last one; the one
   * that replaced it has a will of its own for when the agent does go.
   */
  function authorizeWill(
    client: Client,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    // Aedes asks before it unregisters the client, so its session is still there.
    const identity = sessions.get(client)?.agent ?? deps.identityOf?.(client);
    if (!identity) {
      authorizeMessage(client, packet, done);
      return;
    }
    const successor = sessions.successorOf(client, identity.username);
    if (successor) {
      dropStaleWill(client, identity, successor, '', done);
      return;
    }
    // The agent's only connection ended: the will is true, and goes the usual way (journal,
    // then published retained). If the agent connects again while the journal writes it,
    // its new birth may be published first: the will is then not published, so that it
    // cannot overwrite the birth's retained status. (The journal has it; the pipeline
    // sees it before the new birth, which tells the detector the agent is back.)
    authorizeMessage(client, packet, (error) => {
      const late = error ? undefined : sessions.successorOf(client, identity.username);
      if (late) dropStaleWill(client, identity, late, ' after it was journaled', done);
      else done(error);
    });
  }

  function authorizeMessage(
    client: Client,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
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
          // Per message while the journal cannot take any (a full disk).
          limited.error(
            `cannot take|${keyOf(client)}|${causeOf(reason)}`,
            `cannot take a message of ${who(client)}: ${reason}`,
          );
          done(new Error(reason));
        },
      );
      return;
    }
    limited.warn(
      `refused publish|${keyOf(client)}|${causeOf(decision.reason)}`,
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
    // A client may send SUBSCRIBE after SUBSCRIBE: the connection stays (below).
    limited.warn(
      `refused subscription|${keyOf(client)}|${causeOf(decision.reason)}`,
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
